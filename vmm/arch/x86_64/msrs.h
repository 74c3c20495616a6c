#pragma once
// The boot MSRs and the local APIC's LINT wiring every vCPU starts with.
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shelter::vmm::x86_64 {

inline constexpr uint32_t kMsrSysenterCs = 0x174;
inline constexpr uint32_t kMsrSysenterEsp = 0x175;
inline constexpr uint32_t kMsrSysenterEip = 0x176;
inline constexpr uint32_t kMsrTsc = 0x10;
inline constexpr uint32_t kMsrMiscEnable = 0x1a0;
inline constexpr uint32_t kMsrMtrrDefType = 0x2ff;
inline constexpr uint32_t kMsrStar = 0xc0000081;
inline constexpr uint32_t kMsrLstar = 0xc0000082;
inline constexpr uint32_t kMsrCstar = 0xc0000083;
inline constexpr uint32_t kMsrSyscallMask = 0xc0000084;
inline constexpr uint32_t kMsrKernelGsBase = 0xc0000102;
inline constexpr uint64_t kMiscEnableFastString = 1;
// MTRRs enabled, default memory type write-back.
inline constexpr uint64_t kMtrrDefTypeEnabledWriteBack = (1u << 11) | 6;

std::vector<kvm_msr_entry> boot_msrs();

// LAPIC register offsets and delivery modes (Intel SDM vol. 3, 10.5.1).
inline constexpr size_t kLapicLvtLint0 = 0x350;
inline constexpr size_t kLapicLvtLint1 = 0x360;
inline constexpr uint32_t kDeliveryModeNmi = 4;
inline constexpr uint32_t kDeliveryModeExtInt = 7;

// LINT0 takes the legacy PIC's interrupts (ExtINT) and LINT1 is the NMI
// line, as a PC's BIOS leaves them.
kvm_lapic_state with_legacy_lint_wiring(const kvm_lapic_state& lapic);
uint32_t lapic_register(const kvm_lapic_state& lapic, size_t offset);

}  // namespace shelter::vmm::x86_64
