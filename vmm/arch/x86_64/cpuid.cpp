#include "vmm/arch/x86_64/cpuid.h"

#include <algorithm>
#include <bit>

namespace shelter::vmm::x86_64 {
namespace {

constexpr uint32_t kTopologyLevelSmt = 1;
constexpr uint32_t kTopologyLevelCore = 2;

// Bits of an APIC ID that number `count` items.
uint32_t id_bits(unsigned count) { return count <= 1 ? 0 : std::bit_width(count - 1); }

void set_bits(uint32_t& reg, unsigned low, unsigned width, uint32_t value) {
  uint32_t mask = ((width == 32 ? 0 : (1u << width)) - 1) << low;
  reg = (reg & ~mask) | ((value << low) & mask);
}

// Leaves 0xB and 0x1F: SMT level (one thread per core), then core level.
void normalize_topology_leaf(kvm_cpuid_entry2& e, unsigned apic_id, unsigned count) {
  e.edx = apic_id;
  switch (e.index) {
    case 0:
      e.eax = 0;
      e.ebx = 1;
      e.ecx = (kTopologyLevelSmt << 8) | e.index;
      break;
    case 1:
      e.eax = id_bits(count);
      e.ebx = count;
      e.ecx = (kTopologyLevelCore << 8) | e.index;
      break;
    default:
      e.eax = 0;
      e.ebx = 0;
      e.ecx = e.index;  // level type 0: no further levels
  }
}

// KVM lists leaf 0xB only where the host CPU has it (not every AMD host
// does), while the guest still sees a maximum basic leaf above it; without
// entries KVM answers zeros, and a guest reads zero cores. The three
// sub-leaves (SMT, core, end) are synthesised where missing.
void add_missing_topology_leaf(std::vector<kvm_cpuid_entry2>& entries, uint32_t function) {
  for (uint32_t index = 0; index < 3; ++index) {
    bool present = std::any_of(entries.begin(), entries.end(),
                               [&](const kvm_cpuid_entry2& e) { return e.function == function && e.index == index; });
    if (present) continue;
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    entries.push_back(e);
  }
}

uint32_t max_basic_leaf(std::span<const kvm_cpuid_entry2> entries) {
  for (const kvm_cpuid_entry2& e : entries)
    if (e.function == 0) return e.eax;
  return 0;
}

}  // namespace

std::vector<kvm_cpuid_entry2> normalized_cpuid(std::span<const kvm_cpuid_entry2> supported, unsigned vcpu_index,
                                               unsigned vcpu_count) {
  std::vector<kvm_cpuid_entry2> entries(supported.begin(), supported.end());
  if (max_basic_leaf(supported) >= 0xb) add_missing_topology_leaf(entries, 0xb);
  const unsigned apic_id = vcpu_index;
  for (kvm_cpuid_entry2& e : entries) {
    switch (e.function) {
      case 0x1:
        set_bits(e.ebx, 24, 8, apic_id);
        set_bits(e.ebx, 16, 8, vcpu_count);
        if (vcpu_count > 1) e.edx |= kCpuid1EdxHtt; else e.edx &= ~kCpuid1EdxHtt;
        e.ecx |= kCpuid1EcxHypervisor;
        break;
      case 0x4:
        // Deterministic cache parameters (Intel): cores per package, and
        // each cache shared by one thread except the L3, shared by all.
        if ((e.eax & 0x1f) == 0) break;  // no more caches
        set_bits(e.eax, 26, 6, vcpu_count - 1);
        set_bits(e.eax, 14, 12, ((e.eax >> 5) & 0x7) == 3 ? vcpu_count - 1 : 0);
        break;
      case 0xb:
      case 0x1f:
        normalize_topology_leaf(e, apic_id, vcpu_count);
        break;
      case 0x80000008:
        // AMD: number of cores - 1 and the APIC ID bits that count them.
        set_bits(e.ecx, 0, 8, vcpu_count - 1);
        set_bits(e.ecx, 12, 4, id_bits(vcpu_count));
        break;
      case 0x8000001e:
        // AMD extended APIC ID, core ID, one thread per core, node 0.
        e.eax = apic_id;
        e.ebx = apic_id & 0xff;
        e.ecx = 0;
        break;
      default:
        break;
    }
  }
  return entries;
}

}  // namespace shelter::vmm::x86_64
