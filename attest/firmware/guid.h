#pragma once
// GUIDs as firmware stores them: the first three fields little-endian
// (the "bytes_le" layout of UEFI), parsed from their text form at compile time.
#include <array>
#include <cstdint>
#include <string>

namespace shelter::attest::firmware {

using Guid = std::array<uint8_t, 16>;

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" to the on-disk byte order.
consteval Guid guid(const char (&text)[37]) {
  auto nibble = [](char c) {
    return static_cast<uint8_t>(c <= '9' ? c - '0' : (c >= 'a' ? c - 'a' : c - 'A') + 10);
  };
  auto byte_at = [&](int pos) { return static_cast<uint8_t>(nibble(text[pos]) << 4 | nibble(text[pos + 1])); };
  // Positions of each byte of the text, in on-disk order.
  constexpr int order[16] = {6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34};
  Guid out{};
  for (int i = 0; i < 16; ++i) out[static_cast<size_t>(i)] = byte_at(order[i]);
  return out;
}

std::string guid_text(const Guid& value);

}  // namespace shelter::attest::firmware
