#pragma once
// The launch QEMU performs for an SEV-SNP guest booting OVMF (optionally
// with measured direct boot: the SEV kernel-hashes table), as a launch
// description for launch_digest(). Matches sev-snp-measure's QEMU mode.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/snp/launch_digest.h"

namespace shelter::attest::snp {

struct DirectBoot {
  std::vector<uint8_t> kernel;
  std::vector<uint8_t> initrd;  // empty when there is none
  std::string cmdline;          // without the terminating NUL
};

struct OvmfLaunch {
  std::vector<uint8_t> firmware;  // mapped so that it ends at 4 GiB
  std::optional<DirectBoot> direct_boot;
  uint32_t vcpus = 1;
  uint32_t vcpu_signature = 0;
  uint64_t guest_features = 0;  // SEV_FEATURES of every VMSA
};

// The 4 KiB page holding the SEV hashes table (cmdline, initrd, kernel
// SHA-256) at offset_in_page, zeros elsewhere, as QEMU fills it in.
std::array<uint8_t, 4096> sev_hashes_page(const DirectBoot& boot, size_t offset_in_page);

// Throws EvidenceError when the firmware cannot be launched that way (no SEV
// metadata, no hashes section for a direct boot, no AP reset vector...).
LaunchDescription describe_ovmf_launch(const OvmfLaunch& launch);

}  // namespace shelter::attest::snp
