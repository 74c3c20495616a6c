#include "attest/snp/ovmf_launch.h"

#include <cstring>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/firmware/ovmf.h"
#include "attest/snp/vmsa.h"

namespace shelter::attest::snp {
namespace {

using firmware::guid;
using firmware::SevSectionType;

constexpr firmware::Guid kHashTableHeaderGuid = guid("9438d606-4f22-4cc9-b479-a793d411fd21");
constexpr firmware::Guid kCmdlineEntryGuid = guid("97d02dd8-bd20-4c94-aa78-e7714d36ab2a");
constexpr firmware::Guid kInitrdEntryGuid = guid("44baf731-3a2f-4bd7-9af1-41e29169781d");
constexpr firmware::Guid kKernelEntryGuid = guid("4de79437-abd2-427f-b835-d5b172d2045b");
constexpr size_t kEntrySize = 16 + 2 + 32;
constexpr size_t kTableSize = 16 + 2 + 3 * kEntrySize;
constexpr size_t kPaddedTableSize = (kTableSize + 15) / 16 * 16;
constexpr uint32_t kBspResetEip = 0xfffffff0;
constexpr uint64_t kFourGiB = 1ull << 32;

uint8_t* put_entry(uint8_t* out, const firmware::Guid& entry_guid, const Sha256Digest& hash) {
  std::memcpy(out, entry_guid.data(), 16);
  store_le16(out + 16, kEntrySize);
  std::memcpy(out + 18, hash.data(), 32);
  return out + kEntrySize;
}

}  // namespace

std::array<uint8_t, 4096> sev_hashes_page(const DirectBoot& boot, size_t offset_in_page) {
  if (offset_in_page > 4096 - kPaddedTableSize) throw EvidenceError("SEV hashes table does not fit in its page");
  std::array<uint8_t, 4096> page{};
  uint8_t* out = page.data() + offset_in_page;
  std::memcpy(out, kHashTableHeaderGuid.data(), 16);
  store_le16(out + 16, kTableSize);
  std::vector<uint8_t> cmdline(boot.cmdline.begin(), boot.cmdline.end());
  cmdline.push_back(0);
  uint8_t* entry = put_entry(out + 18, kCmdlineEntryGuid, sha256(cmdline));
  entry = put_entry(entry, kInitrdEntryGuid, sha256(boot.initrd));
  put_entry(entry, kKernelEntryGuid, sha256(boot.kernel));
  return page;
}

LaunchDescription describe_ovmf_launch(const OvmfLaunch& launch) {
  const auto& image = launch.firmware;
  if (image.empty() || image.size() % kPageSize != 0 || image.size() > kFourGiB / 2) {
    throw EvidenceError("firmware size must be a non-zero multiple of 4 KiB");
  }
  if (launch.vcpus == 0 || launch.vcpus > 4096) throw EvidenceError("vCPU count must be 1..4096");
  firmware::OvmfSevInfo info = firmware::parse_sev_info(image);
  if (info.sections.empty()) throw EvidenceError("firmware has no SEV metadata (not an OVMF AmdSev/SNP build)");

  LaunchDescription description;
  description.regions.push_back({kFourGiB - image.size(), PageType::kNormal, image, 0});
  bool hashes_placed = false;
  for (const auto& section : info.sections) {
    switch (section.type) {
      case SevSectionType::kSnpSecMem:
      case SevSectionType::kSvsmCaa:
        description.regions.push_back({section.gpa, PageType::kZero, {}, section.size});
        break;
      case SevSectionType::kSnpSecrets:
        description.regions.push_back({section.gpa, PageType::kSecrets, {}, section.size});
        break;
      case SevSectionType::kCpuid:
        description.regions.push_back({section.gpa, PageType::kCpuid, {}, section.size});
        break;
      case SevSectionType::kSnpKernelHashes:
        if (launch.direct_boot) {
          if (!info.hashes_table_gpa) throw EvidenceError("firmware has a kernel-hashes section but no hashes table");
          if (section.size != kPageSize || (*info.hashes_table_gpa & ~0xfffull) != section.gpa) {
            throw EvidenceError("firmware hashes table is not inside its one-page kernel-hashes section");
          }
          auto page = sev_hashes_page(*launch.direct_boot, *info.hashes_table_gpa & 0xfff);
          description.regions.push_back({section.gpa, PageType::kNormal, {page.begin(), page.end()}, 0});
          hashes_placed = true;
        } else {
          description.regions.push_back({section.gpa, PageType::kZero, {}, section.size});
        }
        break;
      default:
        throw EvidenceError("firmware SEV metadata has an unknown section type " +
                            std::to_string(static_cast<uint32_t>(section.type)));
    }
  }
  if (launch.direct_boot && !hashes_placed) {
    throw EvidenceError("firmware cannot measure a kernel: it has no SNP kernel-hashes section");
  }
  if (launch.vcpus > 1 && !info.sev_es_reset_eip) throw EvidenceError("firmware has no SEV-ES AP reset vector");
  for (uint32_t cpu = 0; cpu < launch.vcpus; ++cpu) {
    uint32_t eip = cpu == 0 ? kBspResetEip : *info.sev_es_reset_eip;
    auto page = qemu_vmsa_page(eip, launch.vcpu_signature, launch.guest_features);
    description.regions.push_back({kVmsaGpa, PageType::kVmsa, {page.begin(), page.end()}, 0});
  }
  return description;
}

}  // namespace shelter::attest::snp
