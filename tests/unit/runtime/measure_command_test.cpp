// `shelter measure` as a user calls it, against the public measurement cases.
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

class MeasureCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::is_directory(kVectors)) GTEST_SKIP() << "public test vectors not found at " << kVectors;
    dir_ = std::filesystem::temp_directory_path() / ("shelter-measure-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "empty");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  nlohmann::json snp_case(const std::string& id) {
    std::ifstream in(kVectors / "snp-measure/cases.json");
    const nlohmann::json document = nlohmann::json::parse(in);
    for (const auto& c : document["cases"]) {
      if (c["id"] == id) return c;
    }
    ADD_FAILURE() << "no case " << id;
    return {};
  }
  std::string input(const nlohmann::json& value) {
    std::string name = value.get<std::string>();
    return name == "(empty file)" ? (dir_ / "empty").string() : (kVectors / "snp-measure" / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(MeasureCommand, SnpDirectBootCasesPrintTheExpectedDigest) {
  for (const char* id : {"c1", "c2"}) {
    auto c = snp_case(id);
    std::string line = kShelter + " measure --tee snp --firmware " + input(c["ovmf"]) + " --kernel " +
                       input(c["kernel"]) + " --initrd " + input(c["initrd"]) + " --append '" +
                       c["append"].get<std::string>() + "' --vcpus " + std::to_string(c["vcpus"].get<int>()) +
                       " --vcpu-sig " + c["vcpu_sig"].get<std::string>() + " --guest-features " +
                       c["guest_features"].get<std::string>();
    auto r = run_command(line);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, c["expected"].get<std::string>() + "\n") << id;
  }
}

TEST_F(MeasureCommand, SnpVcpuTypeAndJsonOutput) {
  auto c = snp_case("c3");
  auto r = run_command(kShelter + " measure --tee snp --firmware " + input(c["ovmf"]) + " --kernel " +
                       input(c["kernel"]) + " --initrd " + input(c["initrd"]) + " --append '" +
                       c["append"].get<std::string>() + "' --vcpus 2 --vcpu-type EPYC-Milan --guest-features 0x21 --json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["digest"], c["expected"]);
}

TEST_F(MeasureCommand, BadInputsAreRefusedWithOneLine) {
  auto fw = (kVectors / "snp-measure/synth_ovmf.fd").string();
  auto no_vcpu = run_command(kShelter + " measure --tee snp --firmware " + fw);
  EXPECT_EQ(no_vcpu.status, 1);
  EXPECT_NE(no_vcpu.err.find("--vcpu-type or --vcpu-sig"), std::string::npos) << no_vcpu.err;
  auto unknown = run_command(kShelter + " measure --tee snp --firmware " + fw + " --vcpu-type Pentium");
  EXPECT_EQ(unknown.status, 1);
  auto not_firmware = run_command(kShelter + " measure --tee snp --firmware " + (dir_ / "empty").string() +
                                  " --vcpu-type EPYC-v4");
  EXPECT_EQ(not_firmware.status, 1);
  EXPECT_EQ(not_firmware.err.rfind("shelter: error: ", 0), 0u) << not_firmware.err;
  EXPECT_EQ(run_command(kShelter + " measure --tee snp --firmware " + fw + " --initrd x --vcpu-type EPYC-v4").status,
            2);
  EXPECT_EQ(run_command(kShelter + " measure --tee snp --firmware " + fw + " --vcpu-type EPYC-v4 --vcpu-sig 1").status,
            2);
}

}  // namespace
}  // namespace shelter
