// The real probe guests (tests/guests/) through the loaders: what lands in
// guest memory and the first register state, checked without KVM.
#include <gtest/gtest.h>

#include "common/file.h"
#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/kernel_image.h"
#include "vmm/arch/x86_64/loader.h"
#include "vmm/arch/x86_64/regs.h"
#include "vmm/arch/x86_64/start_info.h"

namespace shelter::vmm::x86_64 {
namespace {

using memory::GuestMemory;
using memory::kMiB;
using memory::MemoryLayout;

std::vector<uint8_t> probe(const std::string& name) {
  return read_file(std::string(SHELTER_PROBE_DIR) + "/" + name, 16 * kMiB);
}

TEST(ProbeGuests, BzImageProbeHasARealSetupHeader) {
  auto file = probe("bzimage-probe.bin");
  BzImage image = parse_bzimage(file);
  EXPECT_EQ(+image.header.version, 0x020f);
  EXPECT_EQ(image.load_address, 0x1000000u);
  EXPECT_EQ(image.header.setup_sects, 1);
  EXPECT_EQ(+image.header.cmdline_size, 4095u);
  // The 64-bit entry at +0x200 starts with cli (0xfa).
  EXPECT_EQ(image.protected_mode_kernel[kEntry64Offset], 0xfa);
  EXPECT_GE(image.init_size, image.protected_mode_kernel.size());
}

TEST(ProbeGuests, BzImageProbeLoadsWithZeroPageInitrdAndLongModeState) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  auto kernel = probe("bzimage-probe.bin");
  std::vector<uint8_t> initrd(3000);
  for (size_t i = 0; i < initrd.size(); ++i) initrd[i] = static_cast<uint8_t>(i * 13);
  BootFiles files{"bzimage-probe.bin", kernel, "initrd", initrd, "cpus=1 mem_mib=64"};
  BootSetup setup = load_kernel(memory, files);
  EXPECT_EQ(setup.entry, 0x1000200u);
  EXPECT_EQ(memory.read_object<uint8_t>(setup.entry), 0xfa);
  auto params = memory.read_object<BootParams>(setup.boot_info_address);
  EXPECT_EQ(+params.hdr.version, 0x020f);
  EXPECT_EQ(+params.hdr.ramdisk_size, 3000u);
  // Highest page-aligned place below the end of RAM (initrd_addr_max is 2 GiB).
  EXPECT_EQ(+params.hdr.ramdisk_image, (64 * kMiB - 3000) & ~0xfffull);
  EXPECT_EQ(memory.read_object<uint8_t>(params.hdr.ramdisk_image + 2999), static_cast<uint8_t>(2999 * 13));
  kvm_regs regs = boot_regs(setup);
  EXPECT_EQ(regs.rsi, memory::kZeroPageAddress);
  EXPECT_EQ(regs.rip, 0x1000200u);
}

TEST(ProbeGuests, PvhProbeLoadsWithStartInfo) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  auto kernel = probe("pvh-probe.elf");
  ElfImage image = parse_elf(kernel);
  ASSERT_TRUE(image.pvh_entry);
  BootFiles files{"pvh-probe.elf", kernel, "", std::nullopt, "cpus=2"};
  BootSetup setup = load_kernel(memory, files);
  EXPECT_EQ(setup.mode, EntryMode::kProtectedMode32);
  EXPECT_EQ(setup.entry, *image.pvh_entry);
  EXPECT_EQ(memory.read_object<uint8_t>(setup.entry), 0xfa);  // cli
  auto info = memory.read_object<HvmStartInfo>(setup.boot_info_address);
  EXPECT_EQ(+info.magic, kHvmStartMagic);
  EXPECT_EQ(+info.nr_modules, 0u);
  EXPECT_EQ(boot_regs(setup).rbx, memory::kPvhStartInfoAddress);
  EXPECT_EQ(boot_sregs(setup, {}).cs.db, 1);
}

TEST(ProbeGuests, ForeignPvhGuestLoads) {
  GuestMemory memory(MemoryLayout(16 * kMiB + 64 * 1024));
  auto kernel = probe("foreign-pvh.elf");
  BootFiles files{"foreign-pvh.elf", kernel, "", std::nullopt, ""};
  BootSetup setup = load_kernel(memory, files);
  EXPECT_EQ(setup.mode, EntryMode::kProtectedMode32);
  EXPECT_EQ(setup.entry, 0x1000000u);
}

}  // namespace
}  // namespace shelter::vmm::x86_64
