// Loading synthetic kernels into guest memory: what each boot protocol
// hands the guest, and one clear error for every bad input.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "tests/unit/vmm/test_images.h"
#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/loader.h"
#include "vmm/arch/x86_64/page_tables.h"
#include "vmm/arch/x86_64/start_info.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::x86_64 {
namespace {

using memory::GuestMemory;
using memory::kMiB;
using memory::MemoryLayout;
using testing::make_bzimage;
using testing::make_elf;

std::string load_error(const GuestMemory& memory, const BootFiles& files) {
  try {
    load_kernel(memory, files);
  } catch (const VmmError& e) {
    return e.what();
  }
  return "";
}

// How many pages of guest memory [address, +size) are allocated (mincore).
size_t resident_pages(const GuestMemory& memory, uint64_t address, uint64_t size) {
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> pages((size + page - 1) / page);
  EXPECT_EQ(::mincore(memory.slice(address, size).data(), size, pages.data()), 0);
  size_t resident = 0;
  for (unsigned char flags : pages) resident += flags & 1;
  return resident;
}

BootFiles files_for(const std::vector<uint8_t>& kernel, const std::string& cmdline = "console=ttyS0") {
  return BootFiles{"vmlinuz", kernel, "initrd.img", std::nullopt, cmdline};
}

TEST(Loader, BzImageGetsZeroPageCmdlineAndE820) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  auto kernel = make_bzimage({});
  BootSetup setup = load_kernel(memory, files_for(kernel, "console=ttyS0 quiet"));
  EXPECT_EQ(setup.mode, EntryMode::kLongMode);
  EXPECT_EQ(setup.entry, 0x1000200u);
  EXPECT_EQ(setup.boot_info_address, memory::kZeroPageAddress);
  EXPECT_EQ(setup.kernel_start, 0x1000000u);
  EXPECT_EQ(setup.kernel_end, 0x1100000u);

  auto params = memory.read_object<BootParams>(memory::kZeroPageAddress);
  EXPECT_EQ(+params.hdr.header, kHeaderMagic);
  EXPECT_EQ(+params.hdr.version, 0x020f);
  EXPECT_EQ(+params.hdr.type_of_loader, kLoaderTypeUndefined);
  EXPECT_EQ(+params.hdr.cmd_line_ptr, memory::kCmdlineAddress);
  EXPECT_EQ(+params.hdr.ramdisk_image, 0u);
  EXPECT_EQ(+params.hdr.ramdisk_size, 0u);
  EXPECT_TRUE(+params.hdr.loadflags & kCanUseHeap);
  ASSERT_EQ(+params.e820_entries, 3);
  EXPECT_EQ(+params.e820_table[2].address, memory::kHighMemoryStart);
  EXPECT_EQ(+params.e820_table[2].size, 63 * kMiB);
  EXPECT_EQ(+params.e820_table[2].type, 1u);
  auto cmdline = memory.slice(memory::kCmdlineAddress, 20);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(cmdline.data())), "console=ttyS0 quiet");

  // The protected-mode kernel sits at its load address, byte for byte.
  auto loaded = memory.slice(0x1000000, 0x1000);
  EXPECT_TRUE(std::equal(loaded.begin(), loaded.end(), kernel.begin() + 1024));
  EXPECT_EQ(memory.read_object<uint8_t>(0x1001000), 0);  // the rest of init_size is cleared
}

TEST(Loader, InitrdGoesHighestBelowInitrdAddrMax) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::BzImageSpec spec;
  spec.initrd_addr_max = 0x2ffffff;  // 48 MiB - 1
  auto kernel = make_bzimage(spec);
  std::vector<uint8_t> initrd(10000, 0xab);
  BootFiles files = files_for(kernel);
  files.initrd = initrd;
  BootSetup setup = load_kernel(memory, files);
  EXPECT_EQ(setup.initrd_address, (0x3000000u - 10000) & ~0xfffu);
  EXPECT_EQ(setup.initrd_size, 10000u);
  auto params = memory.read_object<BootParams>(memory::kZeroPageAddress);
  EXPECT_EQ(+params.hdr.ramdisk_image, setup.initrd_address);
  EXPECT_EQ(+params.hdr.ramdisk_size, 10000u);
  EXPECT_EQ(memory.read_object<uint8_t>(setup.initrd_address + 9999), 0xab);
}

TEST(Loader, InitrdAboveInitrdAddrMaxIsRejected) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::BzImageSpec spec;
  spec.initrd_addr_max = 0x1100fff;  // just one page past the kernel's init_size
  auto kernel = make_bzimage(spec);
  std::vector<uint8_t> initrd(0x2000, 1);
  BootFiles files = files_for(kernel);
  files.initrd = initrd;
  std::string error = load_error(memory, files);
  EXPECT_NE(error.find("initrd initrd.img: 8192 bytes do not fit"), std::string::npos) << error;
  EXPECT_NE(error.find("initrd_addr_max"), std::string::npos) << error;
}

TEST(Loader, InitrdLargerThanMemoryIsRejected) {
  GuestMemory memory(MemoryLayout(32 * kMiB));
  auto kernel = make_bzimage({});
  std::vector<uint8_t> initrd(20 * kMiB, 1);
  BootFiles files = files_for(kernel);
  files.initrd = initrd;
  std::string error = load_error(memory, files);
  EXPECT_NE(error.find("initrd initrd.img"), std::string::npos) << error;
  EXPECT_NE(error.find("--memory"), std::string::npos) << error;
}

TEST(Loader, MemoryTooSmallForKernelIsRejected) {
  GuestMemory memory(MemoryLayout(16 * kMiB));  // the kernel loads at 16 MiB
  auto kernel = make_bzimage({});
  std::string error = load_error(memory, files_for(kernel));
  EXPECT_EQ(error, "kernel vmlinuz: needs memory up to 0x1100000 (17 MiB) but the VM has 16 MiB (use a larger --memory)");
}

TEST(Loader, CmdlineLongerThanTheKernelAcceptsIsRejected) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::BzImageSpec spec;
  spec.cmdline_size = 8;
  auto kernel = make_bzimage(spec);
  EXPECT_EQ(load_error(memory, files_for(kernel, "123456789")),
            "the kernel command line is 9 bytes, the kernel accepts 8");
  EXPECT_EQ(load_error(memory, files_for(kernel, "12345678")), "");
}

TEST(Loader, NotAKernelIsOneClearLine) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  std::vector<uint8_t> text(5000, 'x');
  EXPECT_EQ(load_error(memory, files_for(text)), "kernel vmlinuz: not a kernel (neither a bzImage nor an ELF file)");
  std::vector<uint8_t> empty;
  EXPECT_EQ(load_error(memory, files_for(empty)), "kernel vmlinuz: not a kernel (neither a bzImage nor an ELF file)");
}

TEST(Loader, BzImageErrorsNameTheFile) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::BzImageSpec spec;
  spec.version = 0x0200;
  EXPECT_EQ(load_error(memory, files_for(make_bzimage(spec))),
            "kernel vmlinuz: boot protocol 2.0 is too old (need 2.12 or later)");
  auto truncated = make_bzimage({});
  truncated.resize(2000);
  EXPECT_NE(load_error(memory, files_for(truncated)).find("kernel vmlinuz: truncated"), std::string::npos);
}

TEST(Loader, PvhElfGetsStartInfoWithMemmapAndModule) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::ElfSpec spec;
  spec.pvh_entry = 0x1000010;
  auto kernel = make_elf(spec);
  std::vector<uint8_t> initrd(5000, 0x42);
  BootFiles files = files_for(kernel, "pvh test");
  files.initrd = initrd;
  BootSetup setup = load_kernel(memory, files);
  EXPECT_EQ(setup.mode, EntryMode::kProtectedMode32);
  EXPECT_EQ(setup.entry, 0x1000010u);
  EXPECT_EQ(setup.boot_info_address, memory::kPvhStartInfoAddress);

  auto info = memory.read_object<HvmStartInfo>(memory::kPvhStartInfoAddress);
  EXPECT_EQ(+info.magic, kHvmStartMagic);
  EXPECT_EQ(+info.version, 1u);
  EXPECT_EQ(+info.cmdline_paddr, memory::kCmdlineAddress);
  ASSERT_EQ(+info.memmap_entries, 3u);
  auto ram = memory.read_object<HvmMemmapEntry>(info.memmap_paddr + 2 * sizeof(HvmMemmapEntry));
  EXPECT_EQ(+ram.addr, memory::kHighMemoryStart);
  EXPECT_EQ(+ram.size, 63 * kMiB);
  EXPECT_EQ(+ram.type, 1u);
  ASSERT_EQ(+info.nr_modules, 1u);
  auto module = memory.read_object<HvmModlistEntry>(info.modlist_paddr);
  EXPECT_EQ(+module.paddr, setup.initrd_address);
  EXPECT_EQ(+module.size, 5000u);
  EXPECT_LE(module.paddr + module.size, 64 * kMiB);
  EXPECT_GE(+module.paddr, setup.kernel_end);
  EXPECT_EQ(memory.read_object<uint8_t>(module.paddr), 0x42);

  // The segment is loaded and its bss cleared.
  EXPECT_EQ(memory.read_object<uint8_t>(0x1000001), 1 ^ 0x5a);
  EXPECT_EQ(memory.read_object<uint8_t>(0x1001fff), 0);
}

TEST(Loader, PlainElfGetsZeroPageAndLongModeEntry) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::ElfSpec spec;
  spec.entry = 0x1000100;
  BootSetup setup = load_kernel(memory, files_for(make_elf(spec)));
  EXPECT_EQ(setup.mode, EntryMode::kLongMode);
  EXPECT_EQ(setup.entry, 0x1000100u);
  auto params = memory.read_object<BootParams>(memory::kZeroPageAddress);
  EXPECT_EQ(+params.hdr.boot_flag, kBootFlag);
  EXPECT_EQ(+params.hdr.cmd_line_ptr, memory::kCmdlineAddress);
  EXPECT_EQ(+params.e820_entries, 3);
}

TEST(Loader, ElfBelowOneMiBIsRejected) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::ElfSpec spec;
  spec.load_address = 0x8000;
  EXPECT_EQ(load_error(memory, files_for(make_elf(spec))), "kernel vmlinuz: loads at 0x8000, below 1 MiB");
}

TEST(Loader, WritesGdtAndIdentityPageTables) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  load_kernel(memory, files_for(make_bzimage({})));
  EXPECT_EQ(memory.read_object<uint64_t>(memory::kGdtAddress + kCode64Selector), kBootGdt[2]);
  EXPECT_EQ(memory.read_object<uint64_t>(memory::kPml4Address), kPdptAddress | 3);
  // Walk the tables for a few addresses: each maps to itself.
  for (uint64_t address : {0ull, 0x1000200ull, 0x3fffffffull, 0xbfe00000ull, 0xffffffffull}) {
    uint64_t pml4e = memory.read_object<uint64_t>(memory::kPml4Address + ((address >> 39) & 511) * 8);
    ASSERT_TRUE(pml4e & kPagePresent);
    uint64_t pdpte = memory.read_object<uint64_t>((pml4e & ~0xfffull) + ((address >> 30) & 511) * 8);
    ASSERT_TRUE(pdpte & kPagePresent);
    uint64_t pde = memory.read_object<uint64_t>((pdpte & ~0xfffull) + ((address >> 21) & 511) * 8);
    ASSERT_TRUE((pde & kPagePresent) && (pde & kPageHuge) && (pde & kPageWritable));
    EXPECT_EQ((pde & ~0x1fffffull) | (address & 0x1fffff), address);
  }
}


// Only the file's bytes are written: a kernel's init_size or bss beyond them
// stays unallocated until the guest touches it, and reads zero.
TEST(Loader, BzImageInitSizeBeyondTheFileIsLeftUntouched) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  auto kernel = make_bzimage({.init_size = 16 * kMiB});
  BootSetup setup = load_kernel(memory, files_for(kernel));
  EXPECT_EQ(resident_pages(memory, setup.kernel_start + kMiB, 15 * kMiB), 0u);
  EXPECT_EQ(memory.read_object<uint64_t>(setup.kernel_end - 8), 0u);
}

TEST(Loader, ElfBssIsLeftUntouched) {
  GuestMemory memory(MemoryLayout(64 * kMiB));
  testing::ElfSpec spec;
  spec.file_bytes = 0x1000;
  spec.memory_bytes = 8 * kMiB;
  auto kernel = make_elf(spec);
  BootSetup setup = load_kernel(memory, files_for(kernel));
  EXPECT_EQ(resident_pages(memory, setup.kernel_start + kMiB, 7 * kMiB), 0u);
  EXPECT_EQ(memory.read_object<uint64_t>(setup.kernel_end - 8), 0u);
}

}  // namespace
}  // namespace shelter::vmm::x86_64
