#pragma once
// Synthetic kernel files for loader tests: a bzImage with a chosen setup
// header, and ELF64 executables with or without a PVH note.
#include <cstdint>
#include <optional>
#include <vector>

#include "vmm/arch/x86_64/boot_params.h"

namespace shelter::vmm::testing {

struct BzImageSpec {
  uint16_t version = 0x020f;
  uint8_t setup_sects = 1;
  uint16_t xloadflags = x86_64::kXlfKernel64;
  uint8_t loadflags = x86_64::kLoadedHigh;
  uint64_t pref_address = 0x1000000;
  uint32_t kernel_alignment = 0x200000;
  uint32_t init_size = 0x100000;
  uint32_t initrd_addr_max = 0x7fffffff;
  uint32_t cmdline_size = 2048;
  uint32_t kernel_bytes = 0x1000;  // syssize * 16
};

// Setup sectors, then kernel_bytes of protected-mode kernel whose byte i is i*7.
std::vector<uint8_t> make_bzimage(const BzImageSpec& spec);

struct ElfSpec {
  uint64_t entry = 0x1000000;
  uint64_t load_address = 0x1000000;
  uint64_t file_bytes = 0x800;
  uint64_t memory_bytes = 0x2000;
  std::optional<uint32_t> pvh_entry;  // adds a Xen PHYS32_ENTRY note
};

std::vector<uint8_t> make_elf(const ElfSpec& spec);

}  // namespace shelter::vmm::testing
