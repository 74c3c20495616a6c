// MRTD against every case of the public TDX measurement vectors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/error.h"
#include "attest/firmware/ovmf.h"
#include "attest/tdx/mrtd.h"
#include "common/hex.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::tdx {
namespace {

using testing::read_vector;

TEST(TdxMrtd, ReproducesEveryPublishedCase) {
  SHELTER_REQUIRE_VECTORS();
  auto text = read_vector("tdx-measure/cases.json");
  auto cases = nlohmann::json::parse(text.begin(), text.end())["cases"];
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["id"].get<std::string>());
    auto firmware = read_vector("tdx-measure/" + c["firmware"].get<std::string>());
    EXPECT_EQ(to_hex(mrtd(describe_tdvf_launch(firmware))), c["expected_mrtd"].get<std::string>());
  }
}

TEST(TdxMrtd, TdvfMetadataSectionsAreRead) {
  SHELTER_REQUIRE_VECTORS();
  auto sections = firmware::parse_tdvf_sections(read_vector("tdx-measure/synth_tdvf.fd"));
  ASSERT_EQ(sections.size(), 5u);
  EXPECT_EQ(sections[0].memory_address, 0xFFFE0000u);
  EXPECT_EQ(sections[0].attributes, firmware::kTdvfAttributeMrExtend);
  EXPECT_EQ(sections[4].attributes & firmware::kTdvfAttributePageAug, firmware::kTdvfAttributePageAug);
  EXPECT_EQ(describe_tdvf_launch(read_vector("tdx-measure/synth_tdvf.fd")).regions.size(), 4u);
}

TEST(TdxMrtd, MeasuredBytesAddressesAndOrderAllMatter) {
  TdLaunchDescription base{{{0x1000, 0x2000, std::vector<uint8_t>(100, 7), true}, {0x8000, 0x1000, {}, false}}};
  const auto reference = mrtd(base);
  auto changed = [&](auto adjust) {
    TdLaunchDescription launch = base;
    adjust(launch);
    return mrtd(launch) != reference;
  };
  EXPECT_TRUE(changed([](TdLaunchDescription& l) { l.regions[0].contents[99] = 8; }));
  EXPECT_TRUE(changed([](TdLaunchDescription& l) { l.regions[1].gpa = 0x9000; }));
  EXPECT_TRUE(changed([](TdLaunchDescription& l) { l.regions[0].extend = false; }));
  EXPECT_TRUE(changed([](TdLaunchDescription& l) { std::swap(l.regions[0], l.regions[1]); }));
  // Unmeasured contents do not change MRTD; only their pages' addresses do.
  EXPECT_FALSE(changed([](TdLaunchDescription& l) { l.regions[1].contents.assign(10, 1); }));
  TdLaunchDescription bad{{{0x1001, 0x1000, {}, false}}};
  EXPECT_THROW(mrtd(bad), EvidenceError);
}

TEST(TdxMrtd, FirmwareWithoutTdvfMetadataIsRefused) {
  EXPECT_THROW(describe_tdvf_launch(std::vector<uint8_t>(8192, 0)), EvidenceError);
  EXPECT_THROW(describe_tdvf_launch(std::vector<uint8_t>(3, 0)), EvidenceError);
}

}  // namespace
}  // namespace shelter::attest::tdx
