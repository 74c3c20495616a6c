#pragma once
// The SEV-SNP launch digest (SNP ABI spec, "PAGE_INFO" and SNP_LAUNCH_UPDATE):
// a SHA-384 chain over one PAGE_INFO per guest page, in launch order.
//
// Measurement takes one description of the launch: the regions a VMM hands
// to SNP_LAUNCH_UPDATE, in order, plus one VMSA page per vCPU. The offline
// calculator (`shelter measure`) builds that description from firmware,
// kernel, initrd and command line; a VMM builds it from what it loads.
#include <cstdint>
#include <vector>

#include "attest/crypto.h"

namespace shelter::attest::snp {

enum class PageType : uint8_t {
  kNormal = 0x01,
  kVmsa = 0x02,
  kZero = 0x03,
  kUnmeasured = 0x04,
  kSecrets = 0x05,
  kCpuid = 0x06,
};

inline constexpr uint64_t kPageSize = 4096;
// KVM and QEMU measure every VMSA at this GPA.
inline constexpr uint64_t kVmsaGpa = 0xFFFFFFFFF000;

struct LaunchRegion {
  uint64_t gpa;  // page-aligned
  PageType type;
  // Normal and VMSA regions: the bytes loaded (a whole number of pages).
  std::vector<uint8_t> contents;
  // Other types: the size in bytes (a whole number of pages).
  uint64_t size = 0;
};

struct LaunchDescription {
  std::vector<LaunchRegion> regions;
};

// The digest of every region in order, starting from an all-zero digest.
Sha384Digest launch_digest(const LaunchDescription& launch);

}  // namespace shelter::attest::snp
