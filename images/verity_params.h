#pragma once
// The dm-verity parameters of an image: what the launcher puts on the
// measured kernel command line and what guest-init hands to the kernel.
// Offsets and sizes are bytes from the start of the image file.
#include <cstdint>
#include <string>
#include <vector>

namespace shelter::images {

struct VerityParams {
  std::string algorithm = "sha256";
  uint32_t data_block_size = 4096;
  uint32_t hash_block_size = 4096;
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  uint64_t hash_offset = 0;
  std::vector<uint8_t> root_hash;
  std::vector<uint8_t> salt;

  uint64_t data_blocks() const { return data_size / data_block_size; }
  bool operator==(const VerityParams&) const = default;
};

}  // namespace shelter::images
