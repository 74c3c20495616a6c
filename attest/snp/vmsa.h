#pragma once
// The initial VMSA of a vCPU as QEMU/KVM set it up for an SEV-SNP launch
// (the SEV-ES save area of AMD APM vol. 2, appendix B), so that its page
// can be measured.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace shelter::attest::snp {

// CPUID(1).EAX for a QEMU CPU model name ("EPYC-v4", "EPYC-Milan", ...).
std::optional<uint32_t> vcpu_signature(std::string_view cpu_type);

// The 4 KiB VMSA page of a vCPU starting at eip (the BSP at the reset vector
// 0xFFFFFFF0, APs at the firmware's SEV-ES reset EIP).
std::array<uint8_t, 4096> qemu_vmsa_page(uint32_t eip, uint32_t vcpu_signature, uint64_t sev_features);

}  // namespace shelter::attest::snp
