#include "vmm/arch/x86_64/regs.h"

#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/page_tables.h"

namespace shelter::vmm::x86_64 {

kvm_regs boot_regs(const BootSetup& setup) {
  kvm_regs regs{};
  regs.rflags = kRflagsReserved;
  regs.rip = setup.entry;
  if (setup.mode == EntryMode::kLongMode) {
    regs.rsi = setup.boot_info_address;
    regs.rsp = memory::kBootStackTop;
    regs.rbp = memory::kBootStackTop;
  } else {
    regs.rbx = setup.boot_info_address;
  }
  return regs;
}

kvm_sregs boot_sregs(const BootSetup& setup, const kvm_sregs& current) {
  kvm_sregs sregs = current;
  bool long_mode = setup.mode == EntryMode::kLongMode;
  uint16_t code = long_mode ? kCode64Selector : kCode32Selector;
  sregs.cs = segment_from_gdt_entry(code, kBootGdt[code / 8]);
  kvm_segment data = segment_from_gdt_entry(kDataSelector, kBootGdt[kDataSelector / 8]);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = segment_from_gdt_entry(kTssSelector, kBootGdt[kTssSelector / 8]);
  sregs.ldt = {};
  sregs.ldt.type = 2;  // an unused LDT, marked unusable as KVM expects
  sregs.ldt.unusable = 1;
  sregs.gdt.base = memory::kGdtAddress;
  sregs.gdt.limit = sizeof(kBootGdt) - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  sregs.cr0 = kCr0ProtectionEnable | kCr0ExtensionType;
  sregs.cr2 = 0;
  sregs.cr3 = 0;
  sregs.cr4 = 0;
  sregs.efer = 0;
  if (long_mode) {
    sregs.cr0 |= kCr0Paging;
    sregs.cr3 = memory::kPml4Address;
    sregs.cr4 = kCr4Pae;
    sregs.efer = kEferLme | kEferLma;
  }
  return sregs;
}

kvm_fpu boot_fpu() {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;
  fpu.mxcsr = 0x1f80;
  return fpu;
}

}  // namespace shelter::vmm::x86_64
