#include "attest/sim/launch.h"

#include "attest/error.h"
#include "attest/snp/vmsa.h"

namespace shelter::attest::sim {
namespace {

constexpr uint64_t kCmdlineGpa = 0x20000;
constexpr uint64_t kKernelGpa = 0x100000;
constexpr uint32_t kResetVector = 0xFFFFFFF0;
// The VMSAs are those of an EPYC-v4 vCPU with SEV-SNP active: a fixed model,
// so that the digest depends on nothing but the launch itself.
constexpr uint64_t kSevFeatures = 0x1;
constexpr size_t kMaxCmdline = 4096;

uint64_t round_up(uint64_t size) { return (size + snp::kPageSize - 1) / snp::kPageSize * snp::kPageSize; }

snp::LaunchRegion normal_region(uint64_t gpa, std::span<const uint8_t> bytes) {
  std::vector<uint8_t> contents(bytes.begin(), bytes.end());
  contents.resize(round_up(std::max<size_t>(contents.size(), 1)), 0);
  return {gpa, snp::PageType::kNormal, std::move(contents)};
}

}  // namespace

snp::LaunchDescription describe_direct_launch(const DirectLaunch& launch) {
  if (launch.cmdline.size() >= kMaxCmdline) throw EvidenceError("simulated launch: command line too long");
  if (launch.kernel.empty()) throw EvidenceError("simulated launch: no kernel");
  if (launch.vcpus == 0) throw EvidenceError("simulated launch: no vCPU");
  snp::LaunchDescription description;
  std::vector<uint8_t> cmdline(launch.cmdline.begin(), launch.cmdline.end());
  cmdline.push_back(0);
  description.regions.push_back(normal_region(kCmdlineGpa, cmdline));
  description.regions.push_back(normal_region(kKernelGpa, launch.kernel));
  uint64_t initramfs_gpa = kKernelGpa + round_up(launch.kernel.size());
  if (!launch.initramfs.empty()) description.regions.push_back(normal_region(initramfs_gpa, launch.initramfs));
  const uint32_t signature = *snp::vcpu_signature("EPYC-v4");
  for (uint32_t i = 0; i < launch.vcpus; ++i) {
    auto page = snp::qemu_vmsa_page(kResetVector, signature, kSevFeatures);
    description.regions.push_back({snp::kVmsaGpa, snp::PageType::kVmsa, {page.begin(), page.end()}});
  }
  return description;
}

}  // namespace shelter::attest::sim
