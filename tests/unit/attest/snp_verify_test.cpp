// SEV-SNP evidence: the real Milan report and its chain, every signed byte
// flipped, malformed inputs, bad chains, and the checks behind a valid
// signature exercised with a forged PKI whose root the test pins itself.
#include <gtest/gtest.h>

#include <cstring>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/snp/verify.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::snp {
namespace {

using testing::read_vector;

std::time_t at(const char* when) { return *parse_rfc3339(when); }

std::vector<X509Ptr> certs_from(std::initializer_list<const char*> files) {
  std::vector<X509Ptr> out;
  for (const char* file : files) {
    for (auto& cert : parse_certificates(read_vector(file))) out.push_back(std::move(cert));
  }
  return out;
}

Evidence real_evidence() {
  Evidence evidence;
  evidence.report = read_vector("sev-snp/attestation.bin");
  evidence.certificates = certs_from({"sev-snp/vcek.testcer", "sev-snp/ask_ark_milan.pem"});
  return evidence;
}

SnpPolicy debug_allowed() {
  SnpPolicy policy;
  policy.allow_debug = true;
  return policy;
}

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

TEST(SnpVerify, RealMilanReportVerifiesWhenPolicyAllowsDebug) {
  SHELTER_REQUIRE_VECTORS();
  Verdict verdict = verify(real_evidence(), debug_allowed(), at("2024-01-01T00:00:00Z"));
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(verdict.claims["product"], "Milan");
  EXPECT_EQ(verdict.claims["measurement"].get<std::string>().substr(0, 8), "b07af962");
  EXPECT_EQ(verdict.claims["report_data"].get<std::string>().substr(0, 12), "010203040500");
  EXPECT_EQ(verdict.claims["reported_tcb"]["snp"], 5);
  EXPECT_EQ(verdict.claims["reported_tcb"]["microcode"], 0x44);
  EXPECT_EQ(verdict.claims["policy"]["debug"], true);
}

TEST(SnpVerify, DefaultPolicyForbidsDebug) {
  SHELTER_REQUIRE_VECTORS();
  Verdict verdict = verify(real_evidence(), SnpPolicy{}, at("2024-01-01T00:00:00Z"));
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(contains(verdict.reason, "debug")) << verdict.reason;
}

TEST(SnpVerify, EveryFlippedSignedByteIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  const std::vector<uint8_t> original = evidence.report;
  int signature_failures = 0;
  for (size_t offset = 0; offset < kSignedSize; ++offset) {
    evidence.report = original;
    evidence.report[offset] ^= static_cast<uint8_t>(1u << (offset % 8));
    Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
    ASSERT_FALSE(verdict.accepted) << "flip at offset " << offset << " was accepted";
    if (contains(verdict.reason, "signature does not verify")) ++signature_failures;
  }
  // Only version, signature algorithm and signing-key bytes fail earlier, on parsing.
  EXPECT_GE(signature_failures, static_cast<int>(kSignedSize) - 12);
}

TEST(SnpVerify, FlippedSignatureBytesAreRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  const std::vector<uint8_t> original = evidence.report;
  for (size_t offset : {0x2A0ul, 0x2A0ul + 17, 0x2A0ul + 47, 0x2E8ul, 0x2E8ul + 30, 0x2E8ul + 47}) {
    evidence.report = original;
    evidence.report[offset] ^= 0x01;
    Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
    EXPECT_FALSE(verdict.accepted) << offset;
    EXPECT_TRUE(contains(verdict.reason, "signature")) << verdict.reason;
  }
}

TEST(SnpVerify, MalformedReportsAreRejectedWithTheReason) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  const std::vector<uint8_t> original = evidence.report;
  evidence.report.resize(original.size() - 1);
  EXPECT_TRUE(contains(verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z")).reason, "must be 1184 bytes"));
  evidence.report = original;
  evidence.report.push_back(0);
  EXPECT_TRUE(contains(verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z")).reason, "must be 1184 bytes"));
  for (uint32_t version : {0u, 1u, 4u, 0xffffffffu}) {
    evidence.report = original;
    std::memcpy(evidence.report.data(), &version, 4);
    Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
    EXPECT_TRUE(contains(verdict.reason, "unsupported SNP report version")) << verdict.reason;
  }
  evidence.report.clear();
  EXPECT_FALSE(verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z")).accepted);
}

TEST(SnpVerify, ChainInWrongOrderIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  std::swap(evidence.certificates[1], evidence.certificates[2]);  // VCEK, ARK, ASK
  Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(contains(verdict.reason, "out of order")) << verdict.reason;
}

TEST(SnpVerify, ChainWithoutRootOrOfAnotherProductIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  evidence.certificates.pop_back();
  Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
  EXPECT_TRUE(contains(verdict.reason, "self-signed root")) << verdict.reason;

  evidence.certificates = certs_from({"sev-snp/vcek.testcer", "sev-snp/ask_ark_genoa.pem"});
  verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
  EXPECT_TRUE(contains(verdict.reason, "out of order")) << verdict.reason;
}

TEST(SnpVerify, CertificatesAreJudgedAtThePinnedTime) {
  SHELTER_REQUIRE_VECTORS();
  Verdict expired = verify(real_evidence(), debug_allowed(), at("2030-01-01T00:00:00Z"));
  EXPECT_FALSE(expired.accepted);
  EXPECT_TRUE(contains(expired.reason, "expired")) << expired.reason;
  Verdict early = verify(real_evidence(), debug_allowed(), at("2022-01-01T00:00:00Z"));
  EXPECT_FALSE(early.accepted);
  EXPECT_TRUE(contains(early.reason, "not yet valid")) << early.reason;
}

TEST(SnpVerify, CertificateTableFromExtendedReportGivesTheChain) {
  SHELTER_REQUIRE_VECTORS();
  auto vcek = read_vector("sev-snp/vcek.testcer");
  auto ask_ark = certs_from({"sev-snp/ask_ark_milan.pem"});
  auto ask = testing::to_der(ask_ark[0].get());
  auto ark = testing::to_der(ask_ark[1].get());
  // ARK entry first: the table's order must not matter.
  const uint8_t ark_guid[] = {0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49,
                              0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
  const uint8_t ask_guid[] = {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f,
                              0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
  const uint8_t vcek_guid[] = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                               0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
  std::vector<uint8_t> table(4 * 24, 0);
  auto add = [&](size_t index, const uint8_t* guid, const std::vector<uint8_t>& der) {
    uint32_t offset = static_cast<uint32_t>(table.size());
    uint32_t length = static_cast<uint32_t>(der.size());
    std::memcpy(&table[index * 24], guid, 16);
    std::memcpy(&table[index * 24 + 16], &offset, 4);
    std::memcpy(&table[index * 24 + 20], &length, 4);
    table.insert(table.end(), der.begin(), der.end());
  };
  add(0, ark_guid, ark);
  add(1, ask_guid, ask);
  add(2, vcek_guid, vcek);
  ASSERT_TRUE(looks_like_certificate_table(table));
  Evidence evidence;
  evidence.report = read_vector("sev-snp/attestation.bin");
  evidence.certificates = parse_certificate_table(table);
  Verdict verdict = verify(evidence, debug_allowed(), at("2024-01-01T00:00:00Z"));
  EXPECT_TRUE(verdict.accepted) << verdict.reason;

  auto broken = table;
  uint32_t outside = static_cast<uint32_t>(table.size());
  std::memcpy(&broken[16], &outside, 4);
  EXPECT_THROW(parse_certificate_table(broken), EvidenceError);
  broken = table;
  broken.resize(3 * 24 + 10);  // no terminating entry
  EXPECT_THROW(parse_certificate_table(broken), EvidenceError);
}

// A forged but internally consistent PKI: an ARK, an ASK and a VCEK carrying
// the TCB and chip id of the report it signs.
class ForgedSnp : public ::testing::Test {
 protected:
  void SetUp() override {
    ark_key_ = testing::generate_ec_key("P-384");
    ask_key_ = testing::generate_ec_key("P-384");
    vcek_key_ = testing::generate_ec_key("P-384");
    ark_ = testing::make_certificate({"ARK-Milan", kStart, kEnd, true, {}}, ark_key_.get(), nullptr, nullptr);
    ask_ = testing::make_certificate({"SEV-Milan", kStart, kEnd, true, {}}, ask_key_.get(), ark_.get(), ark_key_.get());
    std::memset(&report_, 0, sizeof(report_));
    report_.version = 3;
    report_.policy = kPolicyReservedMustBeOne | kPolicySmt;
    report_.reported_tcb = encode_tcb(kTcb, Product::kMilan);
    for (size_t i = 0; i < sizeof(report_.chip_id); ++i) report_.chip_id[i] = static_cast<uint8_t>(i * 3);
    for (size_t i = 0; i < sizeof(report_.measurement); ++i) report_.measurement[i] = static_cast<uint8_t>(i);
    report_.report_data[0] = 0xAA;
    report_.host_data[0] = 0xBB;
    roots_ = {PinnedRoot{certificate_fingerprint(ark_.get()), Product::kMilan}};
  }

  X509Ptr make_leaf(const char* cn, TcbVersion tcb, bool with_hwid) {
    std::vector<testing::Extension> extensions = {
        {"1.3.6.1.4.1.3704.1.3.1", testing::der_integer(tcb.bootloader)},
        {"1.3.6.1.4.1.3704.1.3.2", testing::der_integer(tcb.tee)},
        {"1.3.6.1.4.1.3704.1.3.3", testing::der_integer(tcb.snp)},
        {"1.3.6.1.4.1.3704.1.3.8", testing::der_integer(tcb.microcode)},
    };
    if (with_hwid) {
      extensions.push_back({"1.3.6.1.4.1.3704.1.4",
                            std::vector<uint8_t>(std::begin(report_.chip_id), std::end(report_.chip_id))});
    }
    return testing::make_certificate({cn, kStart, kEnd, false, extensions}, vcek_key_.get(), ask_.get(),
                                     ask_key_.get());
  }

  Evidence evidence(X509Ptr leaf) {
    sign_report(report_, vcek_key_.get());
    Evidence out;
    const auto* bytes = reinterpret_cast<const uint8_t*>(&report_);
    out.report.assign(bytes, bytes + sizeof(report_));
    out.certificates.push_back(std::move(leaf));
    out.certificates.push_back(X509Ptr(X509_dup(ask_.get())));
    out.certificates.push_back(X509Ptr(X509_dup(ark_.get())));
    return out;
  }

  Verdict check(Evidence e, const SnpPolicy& policy = {}) { return verify(e, policy, kNow, roots_); }

  static constexpr std::time_t kStart = 1600000000;
  static constexpr std::time_t kNow = 1700000000;
  static constexpr std::time_t kEnd = 1900000000;
  static constexpr TcbVersion kTcb{0, 3, 0, 8, 115};
  EvpPkeyPtr ark_key_, ask_key_, vcek_key_;
  X509Ptr ark_, ask_;
  AttestationReport report_;
  std::vector<PinnedRoot> roots_;
};

TEST_F(ForgedSnp, ConsistentEvidenceIsAcceptedUnderItsOwnRoot) {
  Verdict verdict = check(evidence(make_leaf("SEV-VCEK", kTcb, true)));
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(verdict.claims["reported_tcb"]["snp"], 8);
}

TEST_F(ForgedSnp, SelfSignedImpostorRootIsRejectedAgainstAmdRoots) {
  Verdict verdict = verify(evidence(make_leaf("SEV-VCEK", kTcb, true)), SnpPolicy{}, kNow);
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(contains(verdict.reason, "is not a trusted root")) << verdict.reason;
}

TEST_F(ForgedSnp, CertificateTcbMustEqualReportedTcb) {
  TcbVersion other = kTcb;
  other.snp = 7;
  Verdict verdict = check(evidence(make_leaf("SEV-VCEK", other, true)));
  EXPECT_TRUE(contains(verdict.reason, "snp TCB 7 differs")) << verdict.reason;
}

TEST_F(ForgedSnp, ChipIdMustMatchTheVcek) {
  auto leaf = make_leaf("SEV-VCEK", kTcb, true);
  report_.chip_id[5] ^= 1;
  Verdict verdict = check(evidence(std::move(leaf)));
  EXPECT_TRUE(contains(verdict.reason, "chip_id")) << verdict.reason;
  auto no_hwid = make_leaf("SEV-VCEK", kTcb, false);
  EXPECT_TRUE(contains(check(evidence(std::move(no_hwid))).reason, "hwID")) << verdict.reason;
}

TEST_F(ForgedSnp, VlekSignedReportNeedsTheVlek) {
  report_.flags = 1u << 2;  // SIGNING_KEY = VLEK
  Verdict accepted = check(evidence(make_leaf("SEV-VLEK", kTcb, false)));
  EXPECT_TRUE(accepted.accepted) << accepted.reason;
  EXPECT_EQ(accepted.claims["signing_key"], "vlek");
  Verdict wrong_leaf = check(evidence(make_leaf("SEV-VCEK", kTcb, true)));
  EXPECT_TRUE(contains(wrong_leaf.reason, "signed by the VLEK")) << wrong_leaf.reason;
}

TEST_F(ForgedSnp, PolicyChecksNameWhatFailed) {
  auto run = [&](auto adjust) {
    SnpPolicy policy;
    adjust(policy);
    return check(evidence(make_leaf("SEV-VCEK", kTcb, true)), policy).reason;
  };
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.allow_smt = false; }), "SMT"));
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.minimum_tcb = SnpTcbMinimum{0, 0, 0, 9, 0}; }), "snp 8 < 9"));
  EXPECT_EQ(run([](SnpPolicy& p) { p.minimum_tcb = SnpTcbMinimum{0, 3, 0, 8, 115}; }), "");
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.vmpl = 1; }), "VMPL"));
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.measurements = {Bytes(48, 0)}; }), "measurement"));
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.report_data = Bytes(64, 0); }), "report_data"));
  EXPECT_TRUE(contains(run([](SnpPolicy& p) { p.host_data = Bytes(32, 0); }), "host_data"));
  Bytes measurement(std::begin(report_.measurement), std::end(report_.measurement));
  EXPECT_EQ(run([&](SnpPolicy& p) { p.measurements = {Bytes(48, 0), measurement}; }), "");
  report_.policy |= kPolicyMigrateMa;
  EXPECT_TRUE(contains(run([](SnpPolicy&) {}), "migration agent"));
}

TEST(SnpTcb, EncodingFollowsTheProductLayout) {
  EXPECT_EQ(encode_tcb(decode_tcb(0x4405000000000002, Product::kMilan), Product::kMilan), 0x4405000000000002u);
  TcbVersion turin = decode_tcb(0x1d00000000090401, Product::kTurin);
  EXPECT_EQ(turin.fmc, 1);
  EXPECT_EQ(turin.bootloader, 4);
  EXPECT_EQ(turin.tee, 9);
  EXPECT_EQ(turin.microcode, 0x1d);
}

}  // namespace
}  // namespace shelter::attest::snp
