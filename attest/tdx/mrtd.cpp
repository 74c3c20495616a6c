#include "attest/tdx/mrtd.h"

#include <algorithm>
#include <cstring>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/firmware/ovmf.h"

namespace shelter::attest::tdx {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kChunkSize = 256;
constexpr size_t kOperationSize = 128;

void add_operation(Hasher& hasher, const char* name, uint64_t gpa) {
  uint8_t buffer[kOperationSize] = {};
  std::memcpy(buffer, name, std::strlen(name));
  store_le64(buffer + 16, gpa);
  hasher.update(buffer);
}

}  // namespace

Sha384Digest mrtd(const TdLaunchDescription& launch) {
  Hasher hasher(Hasher::Algorithm::kSha384);
  std::vector<uint8_t> page(kPageSize);
  for (const TdLaunchRegion& region : launch.regions) {
    if (region.gpa % kPageSize != 0 || region.size % kPageSize != 0 || region.contents.size() > region.size) {
      throw EvidenceError("TD launch region is not page-aligned or its contents exceed its size");
    }
    for (uint64_t offset = 0; offset < region.size; offset += kPageSize) {
      add_operation(hasher, "MEM.PAGE.ADD", region.gpa + offset);
      if (!region.extend) continue;
      std::fill(page.begin(), page.end(), 0);
      if (offset < region.contents.size()) {
        size_t available = std::min<uint64_t>(kPageSize, region.contents.size() - offset);
        std::memcpy(page.data(), region.contents.data() + offset, available);
      }
      for (size_t chunk = 0; chunk < kPageSize; chunk += kChunkSize) {
        add_operation(hasher, "MR.EXTEND", region.gpa + offset + chunk);
        hasher.update(std::span(page).subspan(chunk, kChunkSize));
      }
    }
  }
  auto digest = hasher.finish();
  Sha384Digest out{};
  std::memcpy(out.data(), digest.data(), out.size());
  return out;
}

TdLaunchDescription describe_tdvf_launch(std::span<const uint8_t> firmware) {
  TdLaunchDescription launch;
  for (const auto& section : firmware::parse_tdvf_sections(firmware)) {
    if ((section.attributes & firmware::kTdvfAttributePageAug) != 0) continue;
    auto data = firmware.subspan(section.data_offset, section.raw_data_size);
    launch.regions.push_back({section.memory_address, section.memory_data_size, {data.begin(), data.end()},
                              (section.attributes & firmware::kTdvfAttributeMrExtend) != 0});
  }
  return launch;
}

}  // namespace shelter::attest::tdx
