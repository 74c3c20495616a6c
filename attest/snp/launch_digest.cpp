#include "attest/snp/launch_digest.h"

#include <cstring>
#include <string>

#include "attest/bytes.h"
#include "attest/error.h"

namespace shelter::attest::snp {
namespace {

// PAGE_INFO: the digest so far, the page's digest, then length, type,
// IMI flag, VMPL permissions and the GPA.
constexpr size_t kPageInfoSize = 0x70;

void extend(Sha384Digest& digest, PageType type, uint64_t gpa, const Sha384Digest& contents) {
  uint8_t page_info[kPageInfoSize] = {};
  std::memcpy(page_info, digest.data(), 48);
  std::memcpy(page_info + 48, contents.data(), 48);
  store_le16(page_info + 96, kPageInfoSize);
  page_info[98] = static_cast<uint8_t>(type);
  page_info[99] = 0;  // IS_IMI
  // bytes 100..103: VMPL3..VMPL1 permissions and reserved, all zero at launch
  store_le64(page_info + 104, gpa);
  digest = sha384(page_info);
}

}  // namespace

Sha384Digest launch_digest(const LaunchDescription& launch) {
  Sha384Digest digest{};
  for (const LaunchRegion& region : launch.regions) {
    if (region.gpa % kPageSize != 0) throw EvidenceError("launch region GPA is not page-aligned");
    bool has_contents = region.type == PageType::kNormal || region.type == PageType::kVmsa;
    uint64_t size = has_contents ? region.contents.size() : region.size;
    if (size % kPageSize != 0) throw EvidenceError("launch region size is not a whole number of pages");
    for (uint64_t offset = 0; offset < size; offset += kPageSize) {
      Sha384Digest contents{};
      if (has_contents) contents = sha384(std::span(region.contents).subspan(offset, kPageSize));
      extend(digest, region.type, region.gpa + offset, contents);
    }
  }
  return digest;
}

}  // namespace shelter::attest::snp
