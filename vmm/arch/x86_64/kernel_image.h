#pragma once
// Parsers of the kernel file the user hands to `shelter vm`: a Linux bzImage
// (64-bit boot protocol), or an ELF64 executable with or without a PVH entry
// note. They take untrusted bytes: every offset and size is bounds-checked,
// and a malformed file throws KernelFormatError with the reason.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::x86_64 {

class KernelFormatError : public VmmError {
 public:
  using VmmError::VmmError;
};

struct BzImage {
  // The setup header as the file holds it (fields past its end read as 0).
  SetupHeader header;
  // How many bytes of the header the file defines, from offset 0x1f1.
  size_t header_length;
  // The protected-mode kernel, loaded at load_address.
  std::span<const uint8_t> protected_mode_kernel;
  uint64_t load_address;
  // Memory the kernel needs from load_address while it boots.
  uint64_t init_size;
};

// True when file carries the "HdrS" setup-header magic.
bool has_bzimage_header(std::span<const uint8_t> file);
// Checks a bzImage for the 64-bit boot protocol: boot flag, protocol >= 2.12,
// XLF_KERNEL_64, LOADED_HIGH, sizes, alignment.
BzImage parse_bzimage(std::span<const uint8_t> file);

struct ElfSegment {
  uint64_t physical_address;
  std::span<const uint8_t> data;
  uint64_t memory_size;  // >= data.size(); the rest is zero-filled
};

struct ElfImage {
  uint64_t entry;
  std::vector<ElfSegment> segments;
  // The 32-bit entry from a Xen PHYS32_ENTRY note, when the kernel has one.
  std::optional<uint32_t> pvh_entry;
  uint64_t lowest_address() const;
  uint64_t highest_address() const;  // one past the last loaded byte
};

bool has_elf_magic(std::span<const uint8_t> file);
// An x86-64 ELF executable: headers, PT_LOAD segments, PT_NOTE notes.
ElfImage parse_elf(std::span<const uint8_t> file);

}  // namespace shelter::vmm::x86_64
