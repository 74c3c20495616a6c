#include <gtest/gtest.h>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/policy.h"

namespace shelter::attest {
namespace {

TEST(Policy, EmptyDocumentGivesSecureDefaults) {
  Policy policy = parse_policy("{}");
  EXPECT_FALSE(policy.snp.allow_debug);
  EXPECT_FALSE(policy.snp.allow_migration_agent);
  EXPECT_FALSE(policy.tdx.allow_debug);
  EXPECT_EQ(policy.tdx.accepted_tcb_statuses, std::vector<std::string>{"UpToDate"});
}

TEST(Policy, ParsesEverySection) {
  Policy policy = parse_policy(R"({
    "snp": {"allow_debug": true, "minimum_tcb": {"snp": 8, "microcode": 115}, "vmpl": 0,
            "measurements": [")" + std::string(96, 'a') + R"("], "report_data": "0102", "host_data": "ff"},
    "tdx": {"mrtds": [")" + std::string(96, 'b') + R"("], "rtmrs": [null, null, ")" + std::string(96, 'c') +
                               R"(", null], "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"]},
    "nvgpu": {"measurements": {"2": "abcd"}}})");
  EXPECT_TRUE(policy.snp.allow_debug);
  EXPECT_EQ(policy.snp.minimum_tcb->snp, 8);
  EXPECT_EQ(policy.snp.report_data->size(), 64u);
  EXPECT_EQ((*policy.snp.report_data)[1], 2);
  EXPECT_EQ(policy.tdx.mrtds.size(), 1u);
  EXPECT_FALSE(policy.tdx.rtmrs[0]);
  EXPECT_TRUE(policy.tdx.rtmrs[2]);
  EXPECT_EQ(policy.nvgpu.measurements.at(2), (Bytes{0xab, 0xcd}));
}

TEST(Policy, RejectsUnknownKeysBadHexAndBadTypes) {
  EXPECT_THROW(parse_policy(R"({"snp": {"allow_debugging": true}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"sgx": {}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"snp": {"measurements": ["zz"]}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"snp": {"measurements": ["00"]}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"snp": {"allow_debug": 1}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"snp": {"vmpl": 4}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"tdx": {"rtmrs": [null]}})"), EvidenceError);
  EXPECT_THROW(parse_policy(R"({"nvgpu": {"measurements": {"x": "00"}}})"), EvidenceError);
  EXPECT_THROW(parse_policy("not json"), EvidenceError);
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(*parse_rfc3339("2023-07-01T00:00:00Z"), 1688169600);
  EXPECT_EQ(*parse_rfc3339("2023-07-01T02:00:00.123+02:00"), 1688169600);
  EXPECT_FALSE(parse_rfc3339("2023-07-01"));
  EXPECT_FALSE(parse_rfc3339("2023-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2023-07-01T00:00:00"));
  EXPECT_EQ(format_rfc3339(1688169600), "2023-07-01T00:00:00Z");
}

}  // namespace
}  // namespace shelter::attest
