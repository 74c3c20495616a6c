#pragma once
// Per-vCPU CPUID from what KVM supports (KVM_GET_SUPPORTED_CPUID), made
// consistent with the VM's shape: vCPU i has APIC ID i, the VM is one socket
// of `count` single-threaded cores, and the hypervisor bit is set.
#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

namespace shelter::vmm::x86_64 {

inline constexpr uint32_t kCpuid1EcxHypervisor = 1u << 31;
inline constexpr uint32_t kCpuid1EdxHtt = 1u << 28;

// The highest vCPU count whose APIC IDs fit the 8-bit xAPIC ID the boot
// protocols' guests read from CPUID leaf 1.
inline constexpr unsigned kMaxVcpus = 254;

std::vector<kvm_cpuid_entry2> normalized_cpuid(std::span<const kvm_cpuid_entry2> supported, unsigned vcpu_index,
                                               unsigned vcpu_count);

}  // namespace shelter::vmm::x86_64
