#include "vmm/arch/x86_64/loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/kernel_image.h"
#include "vmm/arch/x86_64/page_tables.h"
#include "vmm/arch/x86_64/start_info.h"

namespace shelter::vmm::x86_64 {
namespace {

using memory::GuestMemory;
using memory::kMiB;
using memory::kPageSize;

constexpr uint64_t kPvhMemmapAddress = memory::kPvhStartInfoAddress + 0x40;
constexpr uint64_t kPvhModlistAddress = memory::kPvhStartInfoAddress + 0x400;
constexpr size_t kPvhMemmapMax = (kPvhModlistAddress - kPvhMemmapAddress) / sizeof(HvmMemmapEntry);

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string mib(uint64_t bytes) { return std::to_string((bytes + kMiB - 1) / kMiB) + " MiB"; }

// The kernel's memory [start, end) must be RAM (above 1 MiB, below the hole).
void check_kernel_fits(const GuestMemory& memory, const std::string& name, uint64_t start, uint64_t end) {
  if (start < memory::kHighMemoryStart)
    throw VmmError("kernel " + name + ": loads at " + hex(start) + ", below 1 MiB");
  if (end > memory.layout().low_ram_end())
    throw VmmError("kernel " + name + ": needs memory up to " + hex(end) + " (" + mib(end) +
                   ") but the VM has " + mib(memory.layout().ram_bytes()) + " (use a larger --memory)");
}

void write_cmdline(const GuestMemory& memory, const std::string& cmdline, uint64_t limit) {
  if (cmdline.find('\0') != std::string::npos) throw VmmError("the kernel command line contains a NUL byte");
  if (cmdline.size() > limit)
    throw VmmError("the kernel command line is " + std::to_string(cmdline.size()) + " bytes, the kernel accepts " +
                   std::to_string(limit));
  memory.fill(memory::kCmdlineAddress, cmdline.size() + 1, 0);
  memory.write(memory::kCmdlineAddress, {reinterpret_cast<const uint8_t*>(cmdline.data()), cmdline.size()});
}

// Places the initrd as high as possible below max_end (exclusive) and above
// the kernel, page-aligned, as boot loaders do.
void load_initrd(const GuestMemory& memory, const BootFiles& files, uint64_t kernel_end, uint64_t max_end,
                 BootSetup& setup) {
  if (!files.initrd || files.initrd->empty()) return;
  uint64_t size = files.initrd->size();
  uint64_t top = std::min(max_end, memory.layout().low_ram_end());
  uint64_t address = top >= size ? (top - size) & ~(kPageSize - 1) : 0;
  if (top < size || address < kernel_end) {
    bool limited_by_kernel = max_end < memory.layout().low_ram_end();
    throw VmmError("initrd " + files.initrd_name + ": " + std::to_string(size) + " bytes do not fit between the kernel end " +
                   hex(kernel_end) + " and " + hex(top) +
                   (limited_by_kernel ? " (the kernel's initrd_addr_max)" : " (end of guest RAM below 4 GiB; use a larger --memory)"));
  }
  memory.write(address, *files.initrd);
  setup.initrd_address = address;
  setup.initrd_size = size;
}

void fill_e820(const GuestMemory& memory, BootParams& params) {
  auto map = memory.layout().e820();
  params.e820_entries = static_cast<uint8_t>(map.size());
  for (size_t i = 0; i < map.size(); ++i)
    params.e820_table[i] = {map[i].address, map[i].size, static_cast<uint32_t>(map[i].type)};
}

void write_zero_page(const GuestMemory& memory, const BootFiles& files, BootParams& params, const BootSetup& setup) {
  // Read by kernels of boot protocol 2.14 and later; older ones scan the
  // legacy ROM area, where the RSDP also is.
  params.acpi_rsdp_addr = files.acpi_rsdp_address;
  params.hdr.type_of_loader = kLoaderTypeUndefined;
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(memory::kCmdlineAddress);
  params.hdr.ramdisk_image = static_cast<uint32_t>(setup.initrd_address);
  params.hdr.ramdisk_size = static_cast<uint32_t>(setup.initrd_size);
  fill_e820(memory, params);
  memory.write_object(memory::kZeroPageAddress, params);
}

BootSetup load_bzimage(const GuestMemory& memory, const BootFiles& files) {
  BzImage image;
  try {
    image = parse_bzimage(files.kernel);
  } catch (const KernelFormatError& e) {
    throw VmmError("kernel " + files.kernel_name + ": " + e.what());
  }
  BootSetup setup{};
  setup.mode = EntryMode::kLongMode;
  setup.entry = image.load_address + kEntry64Offset;
  setup.boot_info_address = memory::kZeroPageAddress;
  setup.kernel_start = image.load_address;
  setup.kernel_end = image.load_address + image.init_size;
  check_kernel_fits(memory, files.kernel_name, setup.kernel_start, setup.kernel_end);
  // The rest of [kernel_start, +init_size) is zero already (see load_kernel).
  memory.write(image.load_address, image.protected_mode_kernel);
  // cmdline_size excludes the terminating NUL.
  write_cmdline(memory, files.cmdline, std::min<uint64_t>(image.header.cmdline_size, memory::kCmdlineMaxSize - 1));
  load_initrd(memory, files, setup.kernel_end, uint64_t{image.header.initrd_addr_max} + 1, setup);

  BootParams params{};
  std::memcpy(&params.hdr, &image.header, image.header_length);
  params.hdr.loadflags |= kCanUseHeap;
  params.hdr.heap_end_ptr = 0xfe00;  // the end of the real-mode heap, unused by the 64-bit entry
  write_zero_page(memory, files, params, setup);
  return setup;
}

void load_elf_segments(const GuestMemory& memory, const BootFiles& files, const ElfImage& image, BootSetup& setup) {
  setup.kernel_start = image.lowest_address();
  setup.kernel_end = image.highest_address();
  check_kernel_fits(memory, files.kernel_name, setup.kernel_start, setup.kernel_end);
  // A segment's bytes past its file bytes (bss) are zero already (see load_kernel).
  for (const ElfSegment& segment : image.segments) memory.write(segment.physical_address, segment.data);
}

void write_start_info(const GuestMemory& memory, const BootFiles& files, const BootSetup& setup) {
  HvmStartInfo info{};
  info.magic = kHvmStartMagic;
  info.version = kHvmStartInfoVersion;
  info.rsdp_paddr = files.acpi_rsdp_address;
  info.cmdline_paddr = memory::kCmdlineAddress;
  auto map = memory.layout().e820();
  static_assert(kPvhMemmapMax >= 8);
  info.memmap_paddr = kPvhMemmapAddress;
  info.memmap_entries = static_cast<uint32_t>(map.size());
  for (size_t i = 0; i < map.size(); ++i)
    memory.write_object(kPvhMemmapAddress + i * sizeof(HvmMemmapEntry),
                        HvmMemmapEntry{map[i].address, map[i].size, static_cast<uint32_t>(map[i].type), 0});
  if (setup.initrd_size != 0) {
    info.nr_modules = 1;
    info.modlist_paddr = kPvhModlistAddress;
    memory.write_object(kPvhModlistAddress, HvmModlistEntry{setup.initrd_address, setup.initrd_size, 0, 0});
  }
  memory.write_object(memory::kPvhStartInfoAddress, info);
}

BootSetup load_elf_kernel(const GuestMemory& memory, const BootFiles& files) {
  ElfImage image;
  try {
    image = parse_elf(files.kernel);
  } catch (const KernelFormatError& e) {
    throw VmmError("kernel " + files.kernel_name + ": " + e.what());
  }
  BootSetup setup{};
  load_elf_segments(memory, files, image, setup);
  write_cmdline(memory, files.cmdline, memory::kCmdlineMaxSize - 1);
  if (image.pvh_entry) {
    setup.mode = EntryMode::kProtectedMode32;
    setup.entry = *image.pvh_entry;
    setup.boot_info_address = memory::kPvhStartInfoAddress;
    load_initrd(memory, files, setup.kernel_end, memory::kPciHoleStart, setup);
    write_start_info(memory, files, setup);
  } else {
    setup.mode = EntryMode::kLongMode;
    setup.entry = image.entry;
    setup.boot_info_address = memory::kZeroPageAddress;
    load_initrd(memory, files, setup.kernel_end, uint64_t{kDefaultInitrdAddrMax} + 1, setup);
    BootParams params{};
    params.hdr.boot_flag = kBootFlag;
    params.hdr.header = kHeaderMagic;
    params.hdr.kernel_alignment = 0x1000000;
    write_zero_page(memory, files, params, setup);
  }
  return setup;
}

}  // namespace

BootSetup load_kernel(const GuestMemory& memory, const BootFiles& files) {
  BootSetup setup;
  if (has_bzimage_header(files.kernel)) {
    setup = load_bzimage(memory, files);
  } else if (has_elf_magic(files.kernel)) {
    setup = load_elf_kernel(memory, files);
  } else {
    throw VmmError("kernel " + files.kernel_name + ": not a kernel (neither a bzImage nor an ELF file)");
  }
  write_boot_gdt(memory);
  write_identity_page_tables(memory);
  return setup;
}

}  // namespace shelter::vmm::x86_64
