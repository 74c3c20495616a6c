#pragma once
// NVIDIA GPU (Hopper) attestation reports: an SPDM 1.1 GET_MEASUREMENTS
// request followed by its MEASUREMENTS response (DMTF DSP0274), whose
// P-384 signature covers every byte before it. NVIDIA's opaque data carries
// the driver and VBIOS versions.
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace shelter::attest::nvgpu {

inline constexpr uint8_t kSpdmVersion11 = 0x11;
inline constexpr uint8_t kGetMeasurements = 0xE0;
inline constexpr uint8_t kMeasurements = 0x60;
inline constexpr size_t kRequestSize = 37;
inline constexpr size_t kSignatureSize = 96;  // ECDSA P-384 r || s
inline constexpr size_t kMaxReportSize = 64 * 1024;

struct MeasurementBlock {
  uint8_t index;
  uint8_t value_type;  // DMTF measurement value type
  std::vector<uint8_t> value;
};

struct Report {
  std::array<uint8_t, 32> request_nonce;
  uint8_t slot_id;
  std::vector<MeasurementBlock> blocks;
  std::array<uint8_t, 32> response_nonce;
  std::map<uint16_t, std::vector<uint8_t>> opaque_fields;  // NVIDIA TLVs by type
  std::span<const uint8_t> signed_bytes;                   // request and response up to the signature
  std::span<const uint8_t> signature;
};

// The report keeps spans into bytes. Throws EvidenceError on malformed,
// truncated, oversized or wrong-version input.
Report parse_report(std::span<const uint8_t> bytes);

// Reports come as hex text (as NVIDIA's tools write them) or raw bytes.
std::vector<uint8_t> decode_report_file(std::span<const uint8_t> file);

nlohmann::ordered_json report_claims(const Report& report);

}  // namespace shelter::attest::nvgpu
