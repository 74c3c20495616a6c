// The chain cache must never widen what verify_chain accepts: a cached chain
// is still judged at each call's own time.
#include <gtest/gtest.h>

#include "attest/crypto.h"
#include "attest/snp/verify.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest {
namespace {

using testing::read_vector;

TEST(ChainCache, CachedChainIsStillJudgedAtEachTime) {
  SHELTER_REQUIRE_VECTORS();
  snp::Evidence evidence;
  evidence.report = read_vector("sev-snp/attestation.bin");
  evidence.certificates = parse_certificates(read_vector("sev-snp/vcek.testcer"));
  for (auto& cert : parse_certificates(read_vector("sev-snp/ask_ark_milan.pem"))) {
    evidence.certificates.push_back(std::move(cert));
  }
  SnpPolicy policy;
  policy.allow_debug = true;
  ChainCache cache;
  auto at = [](const char* when) { return *parse_rfc3339(when); };
  EXPECT_TRUE(snp::verify(evidence, policy, at("2024-01-01T00:00:00Z"), snp::amd_roots(), &cache).accepted);
  EXPECT_TRUE(snp::verify(evidence, policy, at("2025-01-01T00:00:00Z"), snp::amd_roots(), &cache).accepted);
  Verdict late = snp::verify(evidence, policy, at("2030-01-01T00:00:00Z"), snp::amd_roots(), &cache);
  EXPECT_FALSE(late.accepted);
  EXPECT_NE(late.reason.find("expired"), std::string::npos) << late.reason;
  Verdict early = snp::verify(evidence, policy, at("2022-01-01T00:00:00Z"), snp::amd_roots(), &cache);
  EXPECT_FALSE(early.accepted);
  // A cached chain is not trusted under other roots.
  std::vector<snp::PinnedRoot> none;
  EXPECT_FALSE(snp::verify(evidence, policy, at("2024-01-01T00:00:00Z"), none, &cache).accepted);
}

TEST(ChainCache, ParsedCertificatesAreReused) {
  SHELTER_REQUIRE_VECTORS();
  auto pem = read_vector("tdx/trusted_root.pem");
  ChainCache cache;
  const auto& first = cache.certificates(pem);
  const auto& second = cache.certificates(pem);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.front().get(), second.front().get());
}

}  // namespace
}  // namespace shelter::attest
