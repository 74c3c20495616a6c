#pragma once
// The PVH boot ABI's structures (Xen's public/arch-x86/hvm/start_info.h, as
// Linux and QEMU use them for direct PVH boot), with static_asserts on layout.
#include <cstddef>
#include <cstdint>

namespace shelter::vmm::x86_64 {

#pragma pack(push, 1)

struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};

struct HvmModlistEntry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;
  uint32_t reserved;
};

#pragma pack(pop)

static_assert(sizeof(HvmStartInfo) == 56);
static_assert(offsetof(HvmStartInfo, modlist_paddr) == 16);
static_assert(offsetof(HvmStartInfo, cmdline_paddr) == 24);
static_assert(offsetof(HvmStartInfo, rsdp_paddr) == 32);
static_assert(offsetof(HvmStartInfo, memmap_paddr) == 40);
static_assert(offsetof(HvmStartInfo, memmap_entries) == 48);
static_assert(sizeof(HvmModlistEntry) == 32);
static_assert(sizeof(HvmMemmapEntry) == 24);

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;
inline constexpr uint32_t kHvmStartInfoVersion = 1;  // version 1 carries the memory map
// ELF note of type XEN_ELFNOTE_PHYS32_ENTRY, owner "Xen": the 32-bit PVH entry.
inline constexpr uint32_t kXenElfNotePhys32Entry = 18;

}  // namespace shelter::vmm::x86_64
