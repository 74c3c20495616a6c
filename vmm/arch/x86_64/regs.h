#pragma once
// The boot vCPU's first register state for each entry mode, computed as
// plain data so that it is checked without KVM: long mode with identity
// paging for the Linux 64-bit protocol, flat 32-bit protected mode for PVH.
#include <linux/kvm.h>

#include "vmm/arch/x86_64/loader.h"

namespace shelter::vmm::x86_64 {

inline constexpr uint64_t kCr0ProtectionEnable = 1ull << 0;
inline constexpr uint64_t kCr0ExtensionType = 1ull << 4;
inline constexpr uint64_t kCr0Paging = 1ull << 31;
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kEferLme = 1ull << 8;
inline constexpr uint64_t kEferLma = 1ull << 10;
inline constexpr uint64_t kRflagsReserved = 1ull << 1;

kvm_regs boot_regs(const BootSetup& setup);
// current: the vCPU's state from KVM_GET_SREGS (its APIC base and
// interrupt bitmap are kept).
kvm_sregs boot_sregs(const BootSetup& setup, const kvm_sregs& current);
// x87 control word and MXCSR at their reset values.
kvm_fpu boot_fpu();

}  // namespace shelter::vmm::x86_64
