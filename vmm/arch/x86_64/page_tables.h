#pragma once
// Identity page tables for the 64-bit entry: the first 4 GiB mapped with
// 2 MiB pages, which covers the kernel, the zero page, the command line and
// the initrd wherever the loader placed them below 4 GiB.
#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::x86_64 {

inline constexpr uint64_t kPdptAddress = memory::kPml4Address + 0x1000;
inline constexpr uint64_t kPageDirectoriesAddress = kPdptAddress + 0x1000;
inline constexpr unsigned kIdentityMappedGiB = 4;
inline constexpr uint64_t kPagePresent = 1 << 0;
inline constexpr uint64_t kPageWritable = 1 << 1;
inline constexpr uint64_t kPageHuge = 1 << 7;

// Writes the PML4, the PDPT and four page directories; returns CR3.
uint64_t write_identity_page_tables(const memory::GuestMemory& memory);

}  // namespace shelter::vmm::x86_64
