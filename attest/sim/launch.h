#pragma once
// The launch digest of a simulated-TEE launch: what the launcher loads for
// a direct kernel boot (kernel, initramfs, command line, vCPUs), laid out as
// one SNP launch description and hashed with the SNP PAGE_INFO chain. The
// launcher computes it over exactly what it hands to the VMM, both for the
// reference value its embedded broker expects and for the MEASUREMENT the
// simulated security processor reports; `shelter measure` uses the same
// function.
#include <cstdint>
#include <span>
#include <string>

#include "attest/snp/launch_digest.h"

namespace shelter::attest::sim {

struct DirectLaunch {
  std::span<const uint8_t> kernel;     // the bzImage as loaded
  std::span<const uint8_t> initramfs;
  std::string cmdline;
  uint32_t vcpus = 1;
};

// Command line page at 0x20000, kernel at 1 MiB, initramfs after it (each
// zero-padded to whole pages), then one VMSA page per vCPU.
snp::LaunchDescription describe_direct_launch(const DirectLaunch& launch);

inline Sha384Digest direct_launch_digest(const DirectLaunch& launch) {
  return snp::launch_digest(describe_direct_launch(launch));
}

}  // namespace shelter::attest::sim
