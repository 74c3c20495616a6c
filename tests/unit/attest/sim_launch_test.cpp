#include "attest/sim/launch.h"

#include <gtest/gtest.h>

#include "attest/error.h"

namespace shelter::attest::sim {
namespace {

TEST(SimulatedLaunch, LaysOutCmdlineKernelInitramfsAndOneVmsaPerVcpu) {
  std::vector<uint8_t> kernel(5000, 0x11), initramfs(100, 0x22);
  snp::LaunchDescription d = describe_direct_launch({kernel, initramfs, "console=ttyS0", 2});
  ASSERT_EQ(d.regions.size(), 5u);
  EXPECT_EQ(d.regions[0].gpa, 0x20000u);
  EXPECT_EQ(d.regions[0].contents.size(), 4096u);
  EXPECT_EQ(std::string(d.regions[0].contents.begin(), d.regions[0].contents.begin() + 14), std::string("console=ttyS0\0", 14));
  EXPECT_EQ(d.regions[1].gpa, 0x100000u);
  EXPECT_EQ(d.regions[1].contents.size(), 8192u);  // padded to whole pages
  EXPECT_EQ(d.regions[2].gpa, 0x102000u);
  for (int vmsa : {3, 4}) {
    EXPECT_EQ(d.regions[vmsa].type, snp::PageType::kVmsa);
    EXPECT_EQ(d.regions[vmsa].gpa, snp::kVmsaGpa);
  }
}

// Every input of the launch is in the digest, and nothing else is.
TEST(SimulatedLaunch, DigestChangesWithEachInputAndOnlyWithThem) {
  std::vector<uint8_t> kernel(5000, 0x11), initramfs(100, 0x22);
  DirectLaunch base{kernel, initramfs, "console=ttyS0 shelter.verity.root=aa", 1};
  Sha384Digest reference = direct_launch_digest(base);
  EXPECT_EQ(direct_launch_digest(base), reference);

  std::vector<uint8_t> other_kernel = kernel;
  other_kernel[4999] ^= 1;
  std::vector<uint8_t> other_initramfs = initramfs;
  other_initramfs[0] ^= 1;
  DirectLaunch changed = base;
  changed.kernel = other_kernel;
  EXPECT_NE(direct_launch_digest(changed), reference);
  changed = base;
  changed.initramfs = other_initramfs;
  EXPECT_NE(direct_launch_digest(changed), reference);
  changed = base;
  changed.cmdline += " tampered=1";
  EXPECT_NE(direct_launch_digest(changed), reference);
  changed = base;
  changed.vcpus = 2;
  EXPECT_NE(direct_launch_digest(changed), reference);
}

TEST(SimulatedLaunch, RejectsWhatCannotBeLaunched) {
  std::vector<uint8_t> kernel(10, 1);
  EXPECT_THROW(describe_direct_launch({{}, {}, "", 1}), EvidenceError);
  EXPECT_THROW(describe_direct_launch({kernel, {}, "", 0}), EvidenceError);
  EXPECT_THROW(describe_direct_launch({kernel, {}, std::string(4096, 'a'), 1}), EvidenceError);
}

}  // namespace
}  // namespace shelter::attest::sim
