#include "vmm/arch/x86_64/gdt.h"

namespace shelter::vmm::x86_64 {

kvm_segment segment_from_gdt_entry(uint16_t selector, uint64_t entry) {
  kvm_segment s{};
  s.base = ((entry >> 16) & 0x00ffffff) | ((entry >> 32) & 0xff000000);
  uint32_t limit = static_cast<uint32_t>((entry & 0xffff) | ((entry >> 32) & 0xf0000));
  s.g = (entry >> 55) & 1;
  // With 4 KiB granularity the limit counts pages; KVM wants it in bytes.
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  s.selector = selector;
  s.type = (entry >> 40) & 0xf;
  s.s = (entry >> 44) & 1;
  s.dpl = (entry >> 45) & 3;
  s.present = (entry >> 47) & 1;
  s.avl = (entry >> 52) & 1;
  s.l = (entry >> 53) & 1;
  s.db = (entry >> 54) & 1;
  s.unusable = s.present ? 0 : 1;
  return s;
}

void write_boot_gdt(const memory::GuestMemory& memory) {
  memory.write_object(memory::kGdtAddress, kBootGdt);
}

}  // namespace shelter::vmm::x86_64
