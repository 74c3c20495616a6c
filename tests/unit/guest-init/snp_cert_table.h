#pragma once
// Builds SNP certificate tables (GUID, offset, length entries ended by a zero
// entry) for the tests of both evidence paths, configfs-tsm and sev-guest.
#include <array>
#include <cstdint>
#include <vector>

namespace shelter::guest::testing {

inline void put_cert_table_entry(std::vector<uint8_t>& table, const std::array<uint8_t, 16>& guid, uint32_t offset,
                                 uint32_t length) {
  table.insert(table.end(), guid.begin(), guid.end());
  for (uint32_t v : {offset, length})
    for (int i = 0; i < 4; ++i) table.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// The GUIDs AMD gives the VCEK, ASK and ARK entries.
inline constexpr std::array<uint8_t, 16> kVcekGuid = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
inline constexpr std::array<uint8_t, 16> kAskGuid = {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f,
                                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
inline constexpr std::array<uint8_t, 16> kArkGuid = {0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49,
                                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

}  // namespace shelter::guest::testing
