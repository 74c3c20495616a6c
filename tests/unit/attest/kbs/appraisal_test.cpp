#include "attest/kbs/appraisal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "attest/kbs/jose.h"
#include "attest/sim/simulated_tee.h"
#include "common/hex.h"
#include "tests/support/test_scratch_dir.h"

namespace shelter::attest::kbs {
namespace {

namespace fs = std::filesystem;

class SimulatedEvidence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = shelter::testing::fresh_test_dir("kbs-sim");
    measurement_.fill(0x5A);
  }
  void TearDown() override { fs::remove_all(dir_); }

  nlohmann::json evidence(const sim::SimulatedTee& tee, std::span<const uint8_t> report_data) {
    sim::ReportInputs inputs;
    inputs.measurement = measurement_;
    std::copy(report_data.begin(), report_data.end(), inputs.report_data.begin());
    auto chain = tee.chain_der();
    return snp_evidence_json(tee.report(inputs), chain);
  }

  ResourcePolicy policy_for_measurement(bool allow_simulated) {
    return parse_resource_policy(nlohmann::json{{"allow_simulated", allow_simulated},
                                                {"snp", {{"measurements", {to_hex(measurement_)}}}}}
                                     .dump());
  }

  fs::path dir_;
  std::array<uint8_t, 48> measurement_{};
  TeeKeyPair key_ = TeeKeyPair::generate();
  std::vector<uint8_t> report_data_ = expected_report_data("nonce-1", key_.public_key(), HashAlgorithm::kSha384);
};

TEST_F(SimulatedEvidence, ChainIsKeptWithAPrivateKeyAndReused) {
  auto tee = sim::SimulatedTee::open(dir_ / "sim");
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "sim" / "vcek-key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "sim").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  auto again = sim::SimulatedTee::open(dir_ / "sim");
  EXPECT_EQ(again.root().fingerprint, tee.root().fingerprint);
  EXPECT_EQ(sim::load_simulated_root(dir_ / "sim" / "ark.pem").fingerprint, tee.root().fingerprint);

  ::chmod((dir_ / "sim" / "vcek-key.pem").c_str(), 0644);
  EXPECT_THROW(sim::SimulatedTee::open(dir_ / "sim"), EvidenceError);
}

TEST_F(SimulatedEvidence, ReportsAreMarkedSimulated) {
  auto tee = sim::SimulatedTee::open(dir_ / "sim");
  auto bytes = tee.report({});
  EXPECT_TRUE(sim::is_simulated(snp::parse_report(bytes)));
}

TEST_F(SimulatedEvidence, AcceptedOnlyWhenThePolicyAllowsSimulation) {
  auto tee = sim::SimulatedTee::open(dir_ / "sim");
  Appraiser appraiser({tee.root()});
  auto e = evidence(tee, report_data_);
  Verdict allowed = appraiser.appraise(Tee::kSnp, e, report_data_, policy_for_measurement(true), std::time(nullptr));
  EXPECT_TRUE(allowed.accepted) << allowed.reason;
  EXPECT_EQ(allowed.claims["simulated"], true);

  Verdict refused = appraiser.appraise(Tee::kSnp, e, report_data_, ResourcePolicy{}, std::time(nullptr));
  EXPECT_FALSE(refused.accepted);
  EXPECT_NE(refused.reason.find("allow_simulated"), std::string::npos) << refused.reason;
}

TEST_F(SimulatedEvidence, UnpinnedSimulatorIsRefusedEvenWhenSimulationIsAllowed) {
  auto tee = sim::SimulatedTee::open(dir_ / "sim");
  auto impostor = sim::SimulatedTee::open(dir_ / "other");
  Appraiser appraiser({tee.root()});
  Verdict verdict = appraiser.appraise(Tee::kSnp, evidence(impostor, report_data_), report_data_,
                                       policy_for_measurement(true), std::time(nullptr));
  EXPECT_FALSE(verdict.accepted);
  EXPECT_FALSE(verdict.reason.empty());
}

TEST_F(SimulatedEvidence, MeasurementAndBindingMismatchesAreRefused) {
  auto tee = sim::SimulatedTee::open(dir_ / "sim");
  Appraiser appraiser({tee.root()});
  auto e = evidence(tee, report_data_);
  ResourcePolicy other_measurement = parse_resource_policy(
      nlohmann::json{{"allow_simulated", true}, {"snp", {{"measurements", {std::string(96, 'a')}}}}}.dump());
  Verdict mismatch = appraiser.appraise(Tee::kSnp, e, report_data_, other_measurement, std::time(nullptr));
  EXPECT_FALSE(mismatch.accepted);
  EXPECT_NE(mismatch.reason.find("measurement"), std::string::npos) << mismatch.reason;

  auto other_binding = expected_report_data("nonce-2", key_.public_key(), HashAlgorithm::kSha384);
  Verdict unbound = appraiser.appraise(Tee::kSnp, e, other_binding, policy_for_measurement(true), std::time(nullptr));
  EXPECT_FALSE(unbound.accepted);
  EXPECT_NE(unbound.reason.find("nonce"), std::string::npos) << unbound.reason;

  ResourcePolicy tdx_only = parse_resource_policy(R"({"tees":["tdx"],"allow_simulated":true})");
  EXPECT_FALSE(appraiser.appraise(Tee::kSnp, e, report_data_, tdx_only, std::time(nullptr)).accepted);
}

TEST(KbsResourcePolicy, ParsesStrictlyWithSecureDefaults) {
  ResourcePolicy defaults = parse_resource_policy("{}");
  EXPECT_FALSE(defaults.allow_simulated);
  EXPECT_FALSE(defaults.appraisal.snp.allow_debug);
  ASSERT_EQ(defaults.tees.size(), 1u);
  EXPECT_THROW(parse_resource_policy(R"({"allow_simulated":"yes"})"), KbsProtocolError);
  EXPECT_THROW(parse_resource_policy(R"({"tees":["sgx"]})"), KbsProtocolError);
  EXPECT_THROW(parse_resource_policy(R"({"snp":{"measurements":["zz"]}})"), KbsProtocolError);
  EXPECT_THROW(parse_resource_policy(R"({"other":1})"), KbsProtocolError);
  EXPECT_THROW(parse_resource_policy("[1]"), KbsProtocolError);
}

}  // namespace
}  // namespace shelter::attest::kbs
