#pragma once
// Puts a kernel, its initrd and command line into guest memory and describes
// how the boot vCPU must start. Three kernel kinds:
//  - bzImage: 64-bit Linux boot protocol; long mode, RSI = zero page;
//  - ELF with a PVH note: 32-bit protected mode at the note's entry, EBX =
//    hvm_start_info;
//  - plain ELF64 (vmlinux): long mode at e_entry, RSI = zero page.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::x86_64 {

enum class EntryMode { kLongMode, kProtectedMode32 };

struct BootSetup {
  EntryMode mode;
  uint64_t entry;
  // The zero page (long mode) or hvm_start_info (PVH).
  uint64_t boot_info_address;
  uint64_t kernel_start;
  uint64_t kernel_end;
  uint64_t initrd_address;  // 0 without an initrd
  uint64_t initrd_size;
};

struct BootFiles {
  std::string kernel_name;  // for error messages
  std::span<const uint8_t> kernel;
  std::string initrd_name;
  std::optional<std::span<const uint8_t>> initrd;
  std::string cmdline;
  uint64_t acpi_rsdp_address = 0;  // passed to the kernel; 0: no ACPI tables
};

// Loads everything and writes the boot GDT and identity page tables. Throws
// VmmError with one line naming the file and the reason. memory must be new
// guest memory, which reads zero: the loader writes the file's bytes only and
// leaves the kernel's bss and the rest of its init_size alone, so those pages
// are not allocated (nor counted in the VMM's RSS) until the guest uses them.
BootSetup load_kernel(const memory::GuestMemory& memory, const BootFiles& files);

}  // namespace shelter::vmm::x86_64
