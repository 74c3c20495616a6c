#pragma once
// Bounds-checked little-endian reads from untrusted evidence.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "attest/error.h"

namespace shelter::attest {

class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

  std::span<const uint8_t> bytes(size_t count) {
    require(count);
    auto out = data_.subspan(offset_, count);
    offset_ += count;
    return out;
  }

  template <typename T>
    requires std::is_unsigned_v<T>
  T le() {
    auto raw = bytes(sizeof(T));
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(raw[i]) << (8 * i);
    return value;
  }

  size_t offset() const noexcept { return offset_; }
  size_t remaining() const noexcept { return data_.size() - offset_; }

 private:
  void require(size_t count) const {
    if (count > remaining()) {
      throw EvidenceError(what_ + " is truncated: " + std::to_string(count) + " bytes needed at offset " +
                          std::to_string(offset_) + ", " + std::to_string(remaining()) + " left");
    }
  }

  std::span<const uint8_t> data_;
  std::string what_;
  size_t offset_ = 0;
};

inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t load_le64(const uint8_t* p) {
  return static_cast<uint64_t>(load_le32(p)) | (static_cast<uint64_t>(load_le32(p + 4)) << 32);
}
inline void store_le16(uint8_t* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace shelter::attest
