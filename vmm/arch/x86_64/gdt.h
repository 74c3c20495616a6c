#pragma once
// The boot GDT both entry modes share, and the conversion of its descriptors
// into the KVM segment registers the vCPU starts with.
#include <linux/kvm.h>

#include <array>
#include <cstdint>

#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::x86_64 {

// Selectors: 0x08 flat 32-bit code (PVH), 0x10 64-bit code and 0x18 flat data
// (the Linux boot protocol's __BOOT_CS and __BOOT_DS), 0x20 the TSS.
inline constexpr uint16_t kCode32Selector = 0x08;
inline constexpr uint16_t kCode64Selector = 0x10;
inline constexpr uint16_t kDataSelector = 0x18;
inline constexpr uint16_t kTssSelector = 0x20;

// A segment descriptor from its parts (Intel SDM vol. 3, 3.4.5). flags holds
// the access byte in bits 0-7 and G, D/B, L, AVL in bits 12-15.
constexpr uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((uint64_t{base} & 0xff000000) << 32) | ((uint64_t{base} & 0x00ffffff) << 16) |
         (uint64_t{limit} & 0x0000ffff) | ((uint64_t{limit} & 0x000f0000) << 32) |
         ((uint64_t{flags} & 0xf0ff) << 40);
}

inline constexpr std::array<uint64_t, 5> kBootGdt = {
    0,
    gdt_entry(0xc09b, 0, 0xfffff),  // 32-bit code, read/execute, accessed, 4 GiB
    gdt_entry(0xa09b, 0, 0xfffff),  // 64-bit code (L=1)
    gdt_entry(0xc093, 0, 0xfffff),  // data, read/write, accessed, 4 GiB
    gdt_entry(0x008b, 0, 0x67),     // busy 32-bit TSS, byte granular
};

// The hidden segment-register state KVM wants for a descriptor.
kvm_segment segment_from_gdt_entry(uint16_t selector, uint64_t entry);

void write_boot_gdt(const memory::GuestMemory& memory);

}  // namespace shelter::vmm::x86_64
