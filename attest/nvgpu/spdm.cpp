#include "attest/nvgpu/spdm.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "attest/bytes.h"
#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest::nvgpu {
namespace {

// NVIDIA opaque data field types (nvtrust local_gpu_verifier).
constexpr uint16_t kOpaqueDriverVersion = 3;
constexpr uint16_t kOpaqueVbiosVersion = 6;
constexpr uint8_t kDmtfSpecification = 0x01;

std::string text_field(const std::vector<uint8_t>& value) {
  std::string out(value.begin(), std::find(value.begin(), value.end(), uint8_t{0}));
  for (char& c : out) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return out;
}

// Eight little-endian bytes shown as NVIDIA does: "96.00.9F.00.01".
std::string vbios_version(const std::vector<uint8_t>& value) {
  if (value.size() != 8) return to_hex(value);
  char text[32];
  std::snprintf(text, sizeof(text), "%02X.%02X.%02X.%02X.%02X", value[3], value[2], value[1], value[0], value[4]);
  return text;
}

}  // namespace

std::vector<uint8_t> decode_report_file(std::span<const uint8_t> file) {
  std::string text;
  for (uint8_t c : file) {
    if (std::isxdigit(c)) {
      text.push_back(static_cast<char>(c));
    } else if (!std::isspace(c)) {
      return {file.begin(), file.end()};
    }
  }
  auto decoded = from_hex(text);
  if (!decoded) throw EvidenceError("GPU report hex text has an odd number of digits");
  return *decoded;
}

Report parse_report(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxReportSize) {
    throw EvidenceError("GPU attestation report is oversized: " + std::to_string(bytes.size()) + " bytes");
  }
  ByteReader reader(bytes, "GPU attestation report");
  Report report{};
  uint8_t version = reader.le<uint8_t>();
  if (version != kSpdmVersion11) {
    throw EvidenceError("unsupported SPDM version 0x" + to_hex(std::span(&version, 1)) + " (1.1 is understood)");
  }
  if (reader.le<uint8_t>() != kGetMeasurements) throw EvidenceError("report does not start with GET_MEASUREMENTS");
  uint8_t attributes = reader.le<uint8_t>();
  if ((attributes & 0x1) == 0) throw EvidenceError("GET_MEASUREMENTS did not ask for a signature");
  reader.le<uint8_t>();  // measurement operation
  auto nonce = reader.bytes(32);
  std::copy(nonce.begin(), nonce.end(), report.request_nonce.begin());
  report.slot_id = reader.le<uint8_t>();

  if (reader.le<uint8_t>() != version) throw EvidenceError("SPDM response version differs from the request's");
  if (reader.le<uint8_t>() != kMeasurements) throw EvidenceError("response is not MEASUREMENTS");
  reader.le<uint8_t>();  // param1
  uint8_t slot = reader.le<uint8_t>();
  if ((slot & 0xf) != (report.slot_id & 0xf)) throw EvidenceError("response slot differs from the request's");
  uint8_t block_count = reader.le<uint8_t>();
  auto length_bytes = reader.bytes(3);
  uint32_t record_length = static_cast<uint32_t>(length_bytes[0] | (length_bytes[1] << 8) | (length_bytes[2] << 16));
  ByteReader record(reader.bytes(record_length), "SPDM measurement record");
  std::set<uint8_t> seen;
  for (uint8_t i = 0; i < block_count; ++i) {
    MeasurementBlock block;
    block.index = record.le<uint8_t>();
    uint8_t specification = record.le<uint8_t>();
    uint16_t size = record.le<uint16_t>();
    if (specification != kDmtfSpecification) throw EvidenceError("measurement block is not in DMTF format");
    ByteReader measurement(record.bytes(size), "SPDM measurement block");
    block.value_type = measurement.le<uint8_t>();
    uint16_t value_size = measurement.le<uint16_t>();
    if (value_size != measurement.remaining()) throw EvidenceError("DMTF measurement size does not match its block");
    auto value = measurement.bytes(value_size);
    block.value.assign(value.begin(), value.end());
    if (!seen.insert(block.index).second) throw EvidenceError("measurement index repeated");
    report.blocks.push_back(std::move(block));
  }
  if (record.remaining() != 0) throw EvidenceError("measurement record holds more than its blocks");
  auto response_nonce = reader.bytes(32);
  std::copy(response_nonce.begin(), response_nonce.end(), report.response_nonce.begin());
  uint16_t opaque_length = reader.le<uint16_t>();
  ByteReader opaque(reader.bytes(opaque_length), "NVIDIA opaque data");
  while (opaque.remaining() > 0) {
    uint16_t type = opaque.le<uint16_t>();
    uint16_t size = opaque.le<uint16_t>();
    auto value = opaque.bytes(size);
    report.opaque_fields[type] = std::vector<uint8_t>(value.begin(), value.end());
  }
  report.signed_bytes = bytes.first(reader.offset());
  if (reader.remaining() != kSignatureSize) {
    throw EvidenceError("GPU report must end with a 96-byte signature, " + std::to_string(reader.remaining()) +
                        " bytes remain");
  }
  report.signature = reader.bytes(kSignatureSize);
  return report;
}

nlohmann::ordered_json report_claims(const Report& report) {
  nlohmann::ordered_json claims;
  claims["spdm_version"] = "1.1";
  claims["nonce"] = to_hex(report.request_nonce);
  if (auto it = report.opaque_fields.find(kOpaqueDriverVersion); it != report.opaque_fields.end()) {
    claims["driver_version"] = text_field(it->second);
  }
  if (auto it = report.opaque_fields.find(kOpaqueVbiosVersion); it != report.opaque_fields.end()) {
    claims["vbios_version"] = vbios_version(it->second);
  }
  claims["measurement_blocks"] = report.blocks.size();
  nlohmann::ordered_json measurements = nlohmann::ordered_json::object();
  for (const auto& block : report.blocks) measurements[std::to_string(block.index)] = to_hex(block.value);
  claims["measurements"] = measurements;
  return claims;
}

}  // namespace shelter::attest::nvgpu
