#pragma once
// Base64 as the KBS protocol uses it: base64url without padding for JOSE
// objects (RFC 7515 section 2) and standard base64 for evidence blobs.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shelter::attest::kbs {

std::string base64_encode(std::span<const uint8_t> bytes);
std::string base64url_encode(std::span<const uint8_t> bytes);
inline std::string base64url_encode(std::string_view text) {
  return base64url_encode(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}
// Strict decoders: nullopt on any character outside the alphabet, on bad
// padding, or on non-zero trailing bits.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);
std::optional<std::vector<uint8_t>> base64url_decode(std::string_view text);

}  // namespace shelter::attest::kbs
