// `shelter verify-evidence` as a user calls it on the public vectors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"

namespace shelter {
namespace {

using testing::run_command;

const std::string kShelter = SHELTER_BINARY;
const std::filesystem::path kVectors = SHELTER_VECTORS_DIR;

class VerifyEvidenceCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(kVectors)) GTEST_SKIP() << "public test vectors not found at " << kVectors;
    dir_ = std::filesystem::temp_directory_path() / ("shelter-verify-evidence-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return (dir_ / name).string();
  }
  std::string snp(const std::string& extra) {
    const auto v = kVectors / "sev-snp";
    return kShelter + " verify-evidence --tee snp " + (v / "attestation.bin").string() + " --certs " +
           (v / "vcek.testcer").string() + " --certs " + (v / "ask_ark_milan.pem").string() +
           " --at 2024-01-01T00:00:00Z " + extra;
  }
  std::filesystem::path dir_;
};

TEST_F(VerifyEvidenceCommand, SnpReportIsAcceptedUnderAPolicyAllowingDebug) {
  auto policy = write("policy.json", R"({"snp": {"allow_debug": true}})");
  auto r = run_command(snp("--policy " + policy));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: accepted"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("measurement: b07af962"), std::string::npos) << r.out;
}

TEST_F(VerifyEvidenceCommand, SnpDebugReportIsRejectedByDefaultWithTheReason) {
  auto r = run_command(snp("--json"));
  EXPECT_EQ(r.status, 1) << r.err;
  auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["verdict"], "rejected");
  EXPECT_NE(out["reason"].get<std::string>().find("debug"), std::string::npos);
  EXPECT_EQ(out["claims"]["reported_tcb"]["snp"], 5);
}

TEST_F(VerifyEvidenceCommand, ExpiredChainAtThePinnedTimeIsRejected) {
  const auto v = kVectors / "sev-snp";
  auto r = run_command(kShelter + " verify-evidence --tee snp " + (v / "attestation.bin").string() + " --certs " +
                       (v / "vcek.testcer").string() + " --certs " + (v / "ask_ark_milan.pem").string() +
                       " --at 2031-01-01T00:00:00Z");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("verdict: rejected: certificate chain rejected"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expired"), std::string::npos) << r.out;
}

TEST_F(VerifyEvidenceCommand, TruncatedReportIsRejectedAsMalformed) {
  auto file = write("short.bin", std::string(100, '\0'));
  auto r = run_command(kShelter + " verify-evidence --tee snp " + file);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("malformed report"), std::string::npos) << r.out;
}

TEST_F(VerifyEvidenceCommand, BadInputsGiveOneErrorLine) {
  auto missing = run_command(kShelter + " verify-evidence --tee snp " + (dir_ / "absent").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err.rfind("shelter: error: ", 0), 0u) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;

  auto bad_time = run_command(kShelter + " verify-evidence --tee snp x --at yesterday");
  EXPECT_EQ(bad_time.status, 2);
  EXPECT_NE(bad_time.err.find("--at"), std::string::npos) << bad_time.err;

  auto bad_policy = run_command(snp("--policy " + write("bad.json", R"({"snp": {"nope": 1}})")));
  EXPECT_EQ(bad_policy.status, 1);
  EXPECT_NE(bad_policy.err.find("unknown key 'snp.nope'"), std::string::npos) << bad_policy.err;

  auto bad_tee = run_command(kShelter + " verify-evidence --tee sgx x");
  EXPECT_EQ(bad_tee.status, 2);
}

}  // namespace
}  // namespace shelter
