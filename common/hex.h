#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shelter {

std::string to_hex(std::span<const uint8_t> bytes);
// Lower- or upper-case hex with an even number of digits; nullopt otherwise.
std::optional<std::vector<uint8_t>> from_hex(std::string_view text);

}  // namespace shelter
