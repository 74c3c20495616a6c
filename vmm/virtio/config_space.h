#pragma once
// Reads of a device configuration structure at any offset and width the
// driver chooses: bytes past its end read as zero.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace shelter::vmm::virtio {

template <typename Config>
void read_config_bytes(const Config& config, uint64_t offset, std::span<uint8_t> data) {
  static_assert(std::is_trivially_copyable_v<Config>);
  std::fill(data.begin(), data.end(), 0);
  if (offset >= sizeof(Config)) return;
  size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), sizeof(Config) - offset));
  std::memcpy(data.data(), reinterpret_cast<const uint8_t*>(&config) + offset, n);
}

}  // namespace shelter::vmm::virtio
