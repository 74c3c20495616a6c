// The image reader on arbitrary bytes: as given, and again with the header
// checksum recomputed so that mutations reach the field checks behind it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "images/format.h"
#include "images/reader.h"

namespace {

void read(const std::vector<uint8_t>& bytes) {
  try {
    shelter::images::read_image(shelter::images::MemoryImageSource(bytes));
  } catch (const shelter::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using shelter::images::ImageHeader;
  std::vector<uint8_t> bytes(data, data + size);
  read(bytes);
  if (bytes.size() >= sizeof(ImageHeader)) {
    ImageHeader header{};
    std::memcpy(&header, bytes.data(), sizeof header);
    auto checksum = shelter::images::header_checksum(header);
    std::memcpy(bytes.data() + offsetof(ImageHeader, header_sha256), checksum.data(), checksum.size());
    read(bytes);
  }
  return 0;
}
