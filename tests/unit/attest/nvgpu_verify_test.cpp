// NVIDIA Hopper SPDM measurement reports: the real report and chain, flips
// across the signed transcript, malformed input, nonce, chain order, an
// impostor root, and reference measurements.
#include <gtest/gtest.h>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/nvgpu/spdm.h"
#include "attest/nvgpu/verify.h"
#include "common/hex.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::nvgpu {
namespace {

using testing::read_vector;

const std::time_t kNow = *parse_rfc3339("2024-06-01T00:00:00Z");
const char* kNonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

Evidence real_evidence() {
  Evidence evidence;
  evidence.report = decode_report_file(read_vector("nvidia-gpu/hopperAttestationReport.txt"));
  evidence.chain = parse_certificates(read_vector("nvidia-gpu/hopperCertChain.txt"));
  evidence.expected_nonce = *from_hex(kNonce);
  return evidence;
}

TEST(NvgpuVerify, HopperReportVerifiesToTheDeviceRoot) {
  SHELTER_REQUIRE_VECTORS();
  Verdict verdict = verify(real_evidence(), NvgpuPolicy{}, kNow);
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(verdict.claims["driver_version"], "550.90.07");
  EXPECT_EQ(verdict.claims["measurement_blocks"], 64);
  EXPECT_EQ(verdict.claims["nonce"], kNonce);
  EXPECT_EQ(verdict.claims["nonce_checked"], true);
}

TEST(NvgpuVerify, ChangedNonceOrSignedByteFails) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  evidence.expected_nonce->at(0) ^= 1;
  EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "nonce does not match"));

  evidence = real_evidence();
  const auto original = evidence.report;
  Report parsed = parse_report(original);
  const size_t signed_size = parsed.signed_bytes.size();
  for (size_t offset = 0; offset < original.size(); offset += (offset < signed_size ? 7 : 5)) {
    evidence.report = original;
    evidence.report[offset] ^= static_cast<uint8_t>(1u << (offset % 8));
    Verdict verdict = verify(evidence, NvgpuPolicy{}, kNow);
    ASSERT_FALSE(verdict.accepted) << "flip at " << offset;
  }
}

TEST(NvgpuVerify, MalformedReportsAreRejectedWithTheReason) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  const auto original = evidence.report;
  for (size_t length : {0ul, 36ul, 37ul, 45ul, 1000ul, original.size() - 1}) {
    evidence.report.assign(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "malformed GPU report")) << length;
  }
  evidence.report = original;
  evidence.report.push_back(0);
  EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "96-byte signature"));
  evidence.report.resize(kMaxReportSize + 1);
  EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "oversized"));
  for (uint8_t version : {0x10, 0x12}) {
    evidence.report = original;
    evidence.report[0] = version;
    EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "unsupported SPDM version"));
  }
  EXPECT_THROW(decode_report_file(std::vector<uint8_t>{'a', 'b', 'c'}), EvidenceError);
}

TEST(NvgpuVerify, ChainMustBeInOrderAndEndAtThePinnedRoot) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  std::swap(evidence.chain[1], evidence.chain[2]);
  EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "out of order"));
  evidence = real_evidence();
  evidence.chain.pop_back();
  EXPECT_TRUE(contains(verify(evidence, NvgpuPolicy{}, kNow).reason, "self-signed root"));
}

TEST(NvgpuVerify, SelfSignedImpostorRootIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  auto root_key = testing::generate_ec_key("P-384");
  auto leaf_key = testing::generate_ec_key("P-384");
  auto root = testing::make_certificate({"NVIDIA Device Identity CA", 1600000000, 1900000000, true, {}},
                                        root_key.get(), nullptr, nullptr);
  auto leaf = testing::make_certificate({"GH100 A01 GSP FMC LF", 1600000000, 1900000000, false, {}}, leaf_key.get(),
                                        root.get(), root_key.get());
  Report parsed = parse_report(evidence.report);
  auto signature = sign_ecdsa(leaf_key.get(), "SHA384", parsed.signed_bytes, 48);
  std::copy(signature.begin(), signature.end(), evidence.report.end() - kSignatureSize);
  evidence.chain.clear();
  evidence.chain.push_back(std::move(leaf));
  evidence.chain.push_back(X509Ptr(X509_dup(root.get())));
  Verdict impostor = verify(evidence, NvgpuPolicy{}, kNow);
  EXPECT_TRUE(contains(impostor.reason, "is not a trusted root")) << impostor.reason;
  std::vector<Sha256Digest> own_root = {certificate_fingerprint(root.get())};
  EXPECT_TRUE(verify(evidence, NvgpuPolicy{}, kNow, own_root).accepted);
}

TEST(NvgpuVerify, ReferenceMeasurementsAreCompared) {
  SHELTER_REQUIRE_VECTORS();
  Evidence evidence = real_evidence();
  Report parsed = parse_report(evidence.report);
  NvgpuPolicy policy;
  policy.measurements[2] = parsed.blocks[1].value;
  EXPECT_TRUE(verify(evidence, policy, kNow).accepted);
  policy.measurements[2][0] ^= 1;
  EXPECT_TRUE(contains(verify(evidence, policy, kNow).reason, "measurement 2 does not match"));
  policy.measurements.clear();
  policy.measurements[200] = Bytes(48, 0);
  EXPECT_TRUE(contains(verify(evidence, policy, kNow).reason, "no measurement 200"));
}

}  // namespace
}  // namespace shelter::attest::nvgpu
