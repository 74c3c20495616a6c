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

TEST_F(MeasureCommand, ImageFormTakesOnlyItsOwnOptions) {
  auto fw = (kVectors / "snp-measure/synth_ovmf.fd").string();
  std::string image = (dir_ / "missing.img").string();
  auto expect_error = [](const testing::CommandResult& r, const std::string& text) {
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  };
  expect_error(run_command(kShelter + " measure --tee sim --kbs-key k.pem"), "--tee sim measures a shelter run launch");
  expect_error(run_command(kShelter + " measure " + image + " --tee snp --kbs-key k.pem"), "use --tee sim");
  expect_error(run_command(kShelter + " measure " + image + " --tee sim"), "needs --kbs-key");
  expect_error(run_command(kShelter + " measure " + image + " --tee sim --kbs-key k.pem --firmware " + fw),
               "--firmware applies to the firmware form");
  expect_error(run_command(kShelter + " measure --tee snp --vcpu-type EPYC-v4 --firmware " + fw + " --kbs-key k.pem"),
               "--kbs-key applies to IMG only");
  expect_error(run_command(kShelter + " measure --tee tdx"), "--tee tdx needs --firmware");
  expect_error(run_command(kShelter + " measure " + image + " --tee sim --kbs-key k.pem"), "missing.img");
}

TEST_F(MeasureCommand, TdxPrintsTheMrtdOfEveryCase) {
  std::ifstream in(kVectors / "tdx-measure/cases.json");
  const nlohmann::json document = nlohmann::json::parse(in);
  for (const auto& c : document["cases"]) {
    auto r = run_command(kShelter + " measure --tee tdx --firmware " +
                         (kVectors / "tdx-measure" / c["firmware"].get<std::string>()).string());
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, c["expected_mrtd"].get<std::string>() + "\n");
  }
  auto snp_option = run_command(kShelter + " measure --tee tdx --vcpus 2 --firmware " +
                                (kVectors / "tdx-measure/synth_tdvf.fd").string());
  EXPECT_EQ(snp_option.status, 1);
  EXPECT_NE(snp_option.err.find("--vcpus applies to --tee snp only"), std::string::npos) << snp_option.err;
  auto not_tdvf = run_command(kShelter + " measure --tee tdx --firmware " +
                              (kVectors / "snp-measure/synth_ovmf.fd").string());
  EXPECT_EQ(not_tdvf.status, 1);
  EXPECT_NE(not_tdvf.err.find("no TDX metadata"), std::string::npos) << not_tdvf.err;
}

}  // namespace
}  // namespace shelter
