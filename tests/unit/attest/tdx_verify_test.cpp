// TDX quotes: the real Sapphire Rapids quote with Intel's collateral, every
// signed region flipped, malformed inputs, the Intel test-PKI quote against
// the production root, and bad chains.
#include <gtest/gtest.h>

#include <cstring>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/tdx/quote.h"
#include "attest/tdx/verify.h"
#include "common/hex.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::tdx {
namespace {

using testing::read_vector;

const std::time_t kCollateralTime = *parse_rfc3339("2023-07-01T00:00:00Z");

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

Evidence prod_evidence() {
  Evidence evidence;
  evidence.quote = read_vector("tdx/tdx_prod_quote_SPR_E4.dat");
  return evidence;
}

SignedCollateral collateral(const char* json, const char* chain) {
  auto text = read_vector(json);
  return SignedCollateral{std::string(text.begin(), text.end()), parse_certificates(read_vector(chain))};
}

TEST(TdxVerify, ProductionQuoteVerifiesToTheIntelRoot) {
  SHELTER_REQUIRE_VECTORS();
  Verdict verdict = verify(prod_evidence(), TdxPolicy{}, kCollateralTime);
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(verdict.claims["version"], 4);
  EXPECT_EQ(verdict.claims["mrtd"].get<std::string>().substr(0, 8), "6363b804");
  EXPECT_EQ(verdict.claims["fmspc"], "50806f000000");
  EXPECT_EQ(verdict.claims["debug"], false);
}

TEST(TdxVerify, SampleTcbInfoHasNoMatchingLevelAndQeIdentityIsUpToDate) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = prod_evidence();
  evidence.tcb_info = collateral("tdx/sample_tcbInfo_response", "tdx/tcbinfo_issuer_chain.pem");
  evidence.crls.push_back(parse_crl(read_vector("tdx/pckcrl")));
  evidence.crls.push_back(parse_crl(read_vector("tdx/rootcrl.der")));
  Verdict verdict = verify(evidence, TdxPolicy{}, kCollateralTime);
  EXPECT_FALSE(verdict.accepted);
  EXPECT_EQ(verdict.reason, "TCB info: no matching TCB level");

  evidence.tcb_info.reset();
  evidence.qe_identity = collateral("tdx/sample_qeIdentity_response", "tdx/qeidentity_issuer_chain.pem");
  verdict = verify(evidence, TdxPolicy{}, kCollateralTime);
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(verdict.claims["qe_status"], "UpToDate");
}

TEST(TdxVerify, CollateralIsCheckedForSignatureAndTime) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = prod_evidence();
  evidence.tcb_info = collateral("tdx/sample_tcbInfo_response", "tdx/tcbinfo_issuer_chain.pem");
  auto& json = evidence.tcb_info->json;
  json.replace(json.find("\"pcesvn\":11"), 11, "\"pcesvn\":10");
  Verdict tampered = verify(evidence, TdxPolicy{}, kCollateralTime);
  EXPECT_TRUE(contains(tampered.reason, "tcbInfo collateral signature does not verify")) << tampered.reason;

  evidence.tcb_info = collateral("tdx/sample_tcbInfo_response", "tdx/tcbinfo_issuer_chain.pem");
  Verdict stale = verify(evidence, TdxPolicy{}, *parse_rfc3339("2023-08-01T00:00:00Z"));
  EXPECT_TRUE(contains(stale.reason, "tcbInfo collateral expired")) << stale.reason;
  Verdict signer_expired = verify(evidence, TdxPolicy{}, *parse_rfc3339("2025-06-01T00:00:00Z"));
  EXPECT_TRUE(contains(signer_expired.reason, "tcbInfo issuer chain")) << signer_expired.reason;
  EXPECT_TRUE(contains(signer_expired.reason, "expired")) << signer_expired.reason;
}

TEST(TdxVerify, EveryFlippedByteOfTheSignedHeaderAndBodyIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = prod_evidence();
  const auto original = evidence.quote;
  for (size_t offset = 0; offset < 48 + kTdReportBody10Size; ++offset) {
    evidence.quote = original;
    evidence.quote[offset] ^= static_cast<uint8_t>(1u << (offset % 8));
    Verdict verdict = verify(evidence, TdxPolicy{}, kCollateralTime);
    ASSERT_FALSE(verdict.accepted) << "flip at " << offset;
  }
}

TEST(TdxVerify, FlipsInSignatureKeyQeReportAndAuthDataAreRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = prod_evidence();
  const auto original = evidence.quote;
  const size_t signature_data = 48 + kTdReportBody10Size + 4;
  const size_t qe_report = signature_data + 128 + 6;
  const size_t auth_data = qe_report + 384 + 64 + 2;
  struct Region {
    size_t begin, end;
    const char* reason;
  };
  for (const Region& region : {Region{signature_data, signature_data + 64, "quote signature"},
                               Region{signature_data + 64, signature_data + 128, ""},
                               Region{qe_report, qe_report + 384, "QE report"},
                               Region{qe_report + 384, qe_report + 448, "QE report signature"},
                               Region{auth_data, auth_data + 32, "bind"}}) {
    for (size_t offset = region.begin; offset < region.end; offset += 3) {
      evidence.quote = original;
      evidence.quote[offset] ^= 0x10;
      Verdict verdict = verify(evidence, TdxPolicy{}, kCollateralTime);
      ASSERT_FALSE(verdict.accepted) << "flip at " << offset;
      EXPECT_TRUE(contains(verdict.reason, region.reason)) << offset << ": " << verdict.reason;
    }
  }
}

TEST(TdxVerify, MalformedQuotesAreRejectedWithTheReason) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = prod_evidence();
  const auto original = evidence.quote;
  for (size_t length : {0ul, 47ul, 48ul, 631ul, 636ul, 1000ul, 4000ul, 4934ul}) {
    evidence.quote.assign(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(length));
    Verdict verdict = verify(evidence, TdxPolicy{}, kCollateralTime);
    EXPECT_TRUE(contains(verdict.reason, "malformed quote")) << length << ": " << verdict.reason;
  }
  evidence.quote = original;
  evidence.quote.resize(kMaxQuoteSize + 1);
  EXPECT_TRUE(contains(verify(evidence, TdxPolicy{}, kCollateralTime).reason, "oversized"));
  for (uint16_t version : {3, 6}) {
    evidence.quote = original;
    std::memcpy(evidence.quote.data(), &version, 2);
    EXPECT_TRUE(contains(verify(evidence, TdxPolicy{}, kCollateralTime).reason, "unsupported TDX quote version"));
  }
  evidence.quote = original;
  evidence.quote[4] = 0x00;  // TEE type SGX
  EXPECT_TRUE(contains(verify(evidence, TdxPolicy{}, kCollateralTime).reason, "not TDX"));
}

TEST(TdxQuote, Version5BodiesOfBothTdxGenerationsParse) {
  SHELTER_REQUIRE_VECTORS();
  const auto v4 = read_vector("tdx/tdx_prod_quote_SPR_E4.dat");
  for (uint16_t type : {2, 3}) {
    const uint32_t body_size = type == 2 ? kTdReportBody10Size : kTdReportBody15Size;
    std::vector<uint8_t> v5(v4.begin(), v4.begin() + 48);
    v5[0] = 5;
    v5.push_back(static_cast<uint8_t>(type));
    v5.push_back(0);
    for (int i = 0; i < 4; ++i) v5.push_back(static_cast<uint8_t>(body_size >> (8 * i)));
    v5.insert(v5.end(), v4.begin() + 48, v4.begin() + 48 + kTdReportBody10Size);
    v5.resize(v5.size() + (body_size - kTdReportBody10Size), 0xAB);
    v5.insert(v5.end(), v4.begin() + 48 + kTdReportBody10Size, v4.end());
    Quote quote = parse_quote(v5);
    EXPECT_EQ(quote.body_type, type);
    EXPECT_EQ(quote.signed_bytes.size(), 48u + 6u + body_size);
    EXPECT_EQ(quote.body.mr_td[0], 0x63);
    EXPECT_EQ(quote.body.mr_service_td[0], type == 3 ? 0xAB : 0x00);
    // The v4 signature does not cover a v5 layout.
    Evidence evidence;
    evidence.quote = v5;
    EXPECT_TRUE(contains(verify(evidence, TdxPolicy{}, kCollateralTime).reason, "quote signature"));
    v5[48] = 1;  // an SGX enclave body is not a TD report
    EXPECT_THROW(parse_quote(v5), EvidenceError);
  }
}

std::vector<X509Ptr> test_pki_chain(bool in_order) {
  auto leaf = parse_certificates(read_vector("tdx-dcap-testroot/pckCert.pem"));
  auto sign_chain = parse_certificates(read_vector("tdx-dcap-testroot/pckSignChain.pem"));  // root, then CA
  std::vector<X509Ptr> chain;
  chain.push_back(std::move(leaf.front()));
  if (in_order) {
    chain.push_back(std::move(sign_chain[1]));
    chain.push_back(std::move(sign_chain[0]));
  } else {
    chain.push_back(std::move(sign_chain[0]));
    chain.push_back(std::move(sign_chain[1]));
  }
  return chain;
}

TEST(TdxVerify, TestPkiQuoteIsValidOnlyAgainstTheTestRoot) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence;
  evidence.quote = read_vector("tdx-dcap-testroot/quote.dat");
  evidence.pck_chain = test_pki_chain(true);
  const std::time_t now = *parse_rfc3339("2024-01-01T00:00:00Z");
  Verdict production = verify(evidence, TdxPolicy{}, now);
  EXPECT_FALSE(production.accepted);
  EXPECT_TRUE(contains(production.reason, "is not a trusted root")) << production.reason;

  auto test_root = parse_certificates(read_vector("tdx-dcap-testroot/trustedRootCaCert.pem"));
  std::vector<Sha256Digest> roots = {certificate_fingerprint(test_root.front().get())};
  Verdict under_test_root = verify(evidence, TdxPolicy{}, now, roots);
  EXPECT_TRUE(under_test_root.accepted) << under_test_root.reason;

  evidence.pck_chain = test_pki_chain(false);
  Verdict out_of_order = verify(evidence, TdxPolicy{}, now, roots);
  EXPECT_TRUE(contains(out_of_order.reason, "out of order")) << out_of_order.reason;
}

TEST(TdxVerify, PolicyOnMeasurementsAndReportData) {
  SHELTER_REQUIRE_VECTORS();
  Quote quote = parse_quote(read_vector("tdx/tdx_prod_quote_SPR_E4.dat"));
  Bytes mrtd(std::begin(quote.body.mr_td), std::end(quote.body.mr_td));
  Bytes rtmr2(std::begin(quote.body.rtmr[2]), std::end(quote.body.rtmr[2]));
  TdxPolicy policy;
  policy.mrtds = {Bytes(48, 0), mrtd};
  policy.rtmrs[2] = rtmr2;
  EXPECT_TRUE(verify(prod_evidence(), policy, kCollateralTime).accepted);
  policy.mrtds = {Bytes(48, 0)};
  EXPECT_TRUE(contains(verify(prod_evidence(), policy, kCollateralTime).reason, "MRTD"));
  policy.mrtds = {mrtd};
  policy.rtmrs[0] = Bytes(48, 1);
  EXPECT_TRUE(contains(verify(prod_evidence(), policy, kCollateralTime).reason, "RTMR0"));
  policy.rtmrs[0].reset();
  policy.report_data = Bytes(64, 7);
  EXPECT_TRUE(contains(verify(prod_evidence(), policy, kCollateralTime).reason, "report_data"));
}

// TCB info signed by a test PKI whose root the test trusts beside Intel's.
TEST(TdxVerify, TdxModuleIdentityInTcbInfoIsChecked) {
  SHELTER_REQUIRE_VECTORS();
  auto root_key = testing::generate_ec_key("P-256");
  auto signer_key = testing::generate_ec_key("P-256");
  auto root = testing::make_certificate({"Test Root", 1600000000, 1900000000, true, {}}, root_key.get(), nullptr,
                                        nullptr);
  auto signer = testing::make_certificate({"Test TCB Signing", 1600000000, 1900000000, false, {}}, signer_key.get(),
                                          root.get(), root_key.get());
  std::vector<Sha256Digest> roots(intel_roots().begin(), intel_roots().end());
  roots.push_back(certificate_fingerprint(root.get()));
  auto signed_tcb_info = [&](const std::string& original, const std::string& from, const std::string& to) {
    std::string text = original;
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
    std::string body = text.substr(std::string("{\"tcbInfo\":").size());
    body = body.substr(0, body.rfind(",\"signature\":\""));
    auto signature = sign_ecdsa(signer_key.get(), "SHA256",
                                std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size()), 32);
    SignedCollateral collateral;
    collateral.json = "{\"tcbInfo\":" + body + ",\"signature\":\"" + to_hex(signature) + "\"}";
    collateral.chain.emplace_back(X509_dup(signer.get()));
    collateral.chain.emplace_back(X509_dup(root.get()));
    return collateral;
  };
  auto original = read_vector("tdx/sample_tcbInfo_response");
  const std::string text(original.begin(), original.end());
  Evidence evidence = prod_evidence();
  evidence.tcb_info = signed_tcb_info(text, "\"mrsigner\":\"0000", "\"mrsigner\":\"0100");
  EXPECT_EQ(verify(evidence, TdxPolicy{}, kCollateralTime, roots).reason,
            "TDX module MRSIGNERSEAM does not match the TCB info");
  evidence.tcb_info = signed_tcb_info(text, "\"attributes\":\"0000000000000000", "\"attributes\":\"0000000000000001");
  EXPECT_EQ(verify(evidence, TdxPolicy{}, kCollateralTime, roots).reason,
            "TDX module SEAM attributes do not match the TCB info");
  // Re-signed but unchanged, the module identity matches and evaluation goes on
  // to the TCB levels (the PCK's SGX components and TEE_TCB_SVN[2] fall short).
  evidence.tcb_info = signed_tcb_info(text, "\"id\":\"TDX\"", "\"id\":\"TDX\"");
  EXPECT_EQ(verify(evidence, TdxPolicy{}, kCollateralTime, roots).reason, "TCB info: no matching TCB level");
}

TEST(TdxVerify, PckCertificateExpiryIsJudgedAtThePinnedTime) {
  SHELTER_REQUIRE_VECTORS();
  Verdict verdict = verify(prod_evidence(), TdxPolicy{}, *parse_rfc3339("2030-01-01T00:00:00Z"));
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(contains(verdict.reason, "expired")) << verdict.reason;
}

}  // namespace
}  // namespace shelter::attest::tdx
