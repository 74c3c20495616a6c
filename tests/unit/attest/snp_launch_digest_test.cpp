// The SNP launch digest against every case of the public measurement
// vectors (snp-measure/cases.json, produced by sev-snp-measure).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/error.h"
#include "attest/firmware/ovmf.h"
#include "attest/snp/launch_digest.h"
#include "attest/snp/ovmf_launch.h"
#include "attest/snp/vmsa.h"
#include "common/hex.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::snp {
namespace {

using testing::read_vector;

std::vector<uint8_t> input_file(const nlohmann::json& value) {
  std::string name = value.get<std::string>();
  if (name == "(empty file)") return {};
  return read_vector("snp-measure/" + name);
}

TEST(SnpLaunchDigest, ReproducesEveryPublishedCase) {
  SHELTER_REQUIRE_VECTORS();
  auto text = read_vector("snp-measure/cases.json");
  auto cases = nlohmann::json::parse(text.begin(), text.end())["cases"];
  ASSERT_GE(cases.size(), 4u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["id"].get<std::string>());
    OvmfLaunch launch;
    launch.firmware = input_file(c["ovmf"]);
    if (!c["kernel"].is_null()) {
      DirectBoot boot;
      boot.kernel = input_file(c["kernel"]);
      if (!c["initrd"].is_null()) boot.initrd = input_file(c["initrd"]);
      if (!c["append"].is_null()) boot.cmdline = c["append"].get<std::string>();
      launch.direct_boot = boot;
    }
    launch.vcpus = c["vcpus"].get<uint32_t>();
    auto by_type = vcpu_signature(c["vcpu_type"].get<std::string>());
    ASSERT_TRUE(by_type);
    if (c.contains("vcpu_sig")) {
      EXPECT_EQ(*by_type, std::stoul(c["vcpu_sig"].get<std::string>(), nullptr, 16));
    }
    launch.vcpu_signature = *by_type;
    launch.guest_features = std::stoull(c["guest_features"].get<std::string>(), nullptr, 16);
    EXPECT_EQ(to_hex(launch_digest(describe_ovmf_launch(launch))), c["expected"].get<std::string>());
  }
}

TEST(SnpLaunchDigest, EveryInputChangesTheDigest) {
  SHELTER_REQUIRE_VECTORS();
  OvmfLaunch base;
  base.firmware = read_vector("snp-measure/synth_ovmf.fd");
  base.direct_boot = DirectBoot{std::vector<uint8_t>(100, 'K'), std::vector<uint8_t>(10, 'I'), "console=hvc0"};
  base.vcpus = 2;
  base.vcpu_signature = *vcpu_signature("EPYC-Milan");
  base.guest_features = 1;
  const auto reference = launch_digest(describe_ovmf_launch(base));
  auto changed = [&](auto adjust) {
    OvmfLaunch launch = base;
    adjust(launch);
    return launch_digest(describe_ovmf_launch(launch)) != reference;
  };
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.firmware[5] ^= 1; }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.direct_boot->kernel[0] = 'k'; }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.direct_boot->initrd.push_back('I'); }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.direct_boot->cmdline += " x"; }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.vcpus = 3; }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.vcpu_signature = *vcpu_signature("EPYC-v4"); }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.guest_features = 0x21; }));
  EXPECT_TRUE(changed([](OvmfLaunch& l) { l.direct_boot.reset(); }));
}

TEST(SnpLaunchDigest, ParsesTheSynthesizedFirmwareMetadata) {
  SHELTER_REQUIRE_VECTORS();
  auto info = firmware::parse_sev_info(read_vector("snp-measure/synth_ovmf.fd"));
  ASSERT_EQ(info.sections.size(), 5u);
  EXPECT_EQ(info.sections[0].gpa, 0x800000u);
  EXPECT_EQ(info.sections[0].size, 0x9000u);
  EXPECT_EQ(info.sections[3].type, firmware::SevSectionType::kSnpKernelHashes);
  EXPECT_EQ(info.hashes_table_gpa, 0x80bc00u);
  EXPECT_EQ(info.sev_es_reset_eip, 0x80b004u);
}

TEST(SnpLaunchDigest, RejectsUnusableFirmwareAndLaunches) {
  OvmfLaunch launch;
  launch.firmware.assign(4096, 0);  // no footer table
  EXPECT_THROW(describe_ovmf_launch(launch), EvidenceError);
  launch.firmware.assign(4095, 0);
  EXPECT_THROW(describe_ovmf_launch(launch), EvidenceError);
  LaunchDescription unaligned{{{0x1001, PageType::kZero, {}, 4096}}};
  EXPECT_THROW(launch_digest(unaligned), EvidenceError);
  LaunchDescription partial{{{0x1000, PageType::kNormal, std::vector<uint8_t>(100), 0}}};
  EXPECT_THROW(launch_digest(partial), EvidenceError);
}

TEST(SnpLaunchDigest, PageInfoChainStartsFromZeroAndCoversTypeAndGpa) {
  LaunchDescription zero_page{{{0x1000, PageType::kZero, {}, 4096}}};
  LaunchDescription other_gpa{{{0x2000, PageType::kZero, {}, 4096}}};
  LaunchDescription secrets{{{0x1000, PageType::kSecrets, {}, 4096}}};
  EXPECT_NE(launch_digest(zero_page), Sha384Digest{});
  EXPECT_NE(launch_digest(zero_page), launch_digest(other_gpa));
  EXPECT_NE(launch_digest(zero_page), launch_digest(secrets));
  EXPECT_EQ(launch_digest(LaunchDescription{}), Sha384Digest{});
}

TEST(SnpVcpuTypes, KnownModelsGiveTheirCpuidSignature) {
  EXPECT_EQ(vcpu_signature("EPYC-v4"), 0x800f12u);
  EXPECT_EQ(vcpu_signature("EPYC-Milan"), 0xa00f11u);
  EXPECT_EQ(vcpu_signature("EPYC-Genoa"), 0xa10f10u);
  EXPECT_FALSE(vcpu_signature("Skylake"));
}

}  // namespace
}  // namespace shelter::attest::snp
