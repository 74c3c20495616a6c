#include "vmm/arch/x86_64/msrs.h"

#include <cstring>

namespace shelter::vmm::x86_64 {
namespace {

kvm_msr_entry msr(uint32_t index, uint64_t value) {
  kvm_msr_entry e{};
  e.index = index;
  e.data = value;
  return e;
}

void set_lapic_register(kvm_lapic_state& lapic, size_t offset, uint32_t value) {
  std::memcpy(lapic.regs + offset, &value, sizeof value);
}

uint32_t with_delivery_mode(uint32_t lvt, uint32_t mode) { return (lvt & ~0x700u) | (mode << 8); }

}  // namespace

std::vector<kvm_msr_entry> boot_msrs() {
  return {
      msr(kMsrSysenterCs, 0),   msr(kMsrSysenterEsp, 0), msr(kMsrSysenterEip, 0),
      msr(kMsrStar, 0),         msr(kMsrCstar, 0),       msr(kMsrKernelGsBase, 0),
      msr(kMsrSyscallMask, 0),  msr(kMsrLstar, 0),       msr(kMsrTsc, 0),
      msr(kMsrMiscEnable, kMiscEnableFastString),       msr(kMsrMtrrDefType, kMtrrDefTypeEnabledWriteBack),
  };
}

uint32_t lapic_register(const kvm_lapic_state& lapic, size_t offset) {
  uint32_t value;
  std::memcpy(&value, lapic.regs + offset, sizeof value);
  return value;
}

kvm_lapic_state with_legacy_lint_wiring(const kvm_lapic_state& lapic) {
  kvm_lapic_state wired = lapic;
  set_lapic_register(wired, kLapicLvtLint0, with_delivery_mode(lapic_register(lapic, kLapicLvtLint0), kDeliveryModeExtInt));
  set_lapic_register(wired, kLapicLvtLint1, with_delivery_mode(lapic_register(lapic, kLapicLvtLint1), kDeliveryModeNmi));
  return wired;
}

}  // namespace shelter::vmm::x86_64
