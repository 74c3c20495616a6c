#include "attest/tdx/event_log.h"

#include <cstring>
#include <map>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

namespace shelter::attest::tdx {
namespace {

constexpr uint32_t kEvNoAction = 0x3;
constexpr uint16_t kAlgSha384 = 0x000C;
constexpr size_t kMaxAlgorithms = 16;
constexpr size_t kMaxEventSize = 16 << 20;

}  // namespace

RtmrReplay replay_rtmrs(std::span<const uint8_t> log) {
  ByteReader reader(log, "TDX event log");
  // The header event, in the SHA-1 TCG_PCR_EVENT layout.
  reader.le<uint32_t>();  // MR index
  if (reader.le<uint32_t>() != kEvNoAction) throw EvidenceError("event log does not start with a Spec ID event");
  reader.bytes(20);
  ByteReader header(reader.bytes(reader.le<uint32_t>()), "event log Spec ID event");
  auto signature = header.bytes(16);
  if (std::memcmp(signature.data(), "Spec ID Event03", 16) != 0) {
    throw EvidenceError("event log is not a crypto-agile log (no Spec ID Event03)");
  }
  header.bytes(8);  // platform class, spec version, errata, uintn size
  uint32_t algorithm_count = header.le<uint32_t>();
  if (algorithm_count == 0 || algorithm_count > kMaxAlgorithms) {
    throw EvidenceError("event log Spec ID event lists " + std::to_string(algorithm_count) + " algorithms");
  }
  std::map<uint16_t, uint16_t> digest_sizes;
  for (uint32_t i = 0; i < algorithm_count; ++i) {
    uint16_t algorithm = header.le<uint16_t>();
    digest_sizes[algorithm] = header.le<uint16_t>();
  }
  if (!digest_sizes.contains(kAlgSha384) || digest_sizes[kAlgSha384] != 48) {
    throw EvidenceError("event log carries no SHA-384 digests");
  }

  RtmrReplay replay;
  while (reader.remaining() >= 8) {
    uint32_t index = reader.le<uint32_t>();
    uint32_t type = reader.le<uint32_t>();
    if (index == 0xFFFFFFFF && type == 0xFFFFFFFF) break;  // unused space of the log area
    uint32_t count = reader.le<uint32_t>();
    if (count == 0 || count > kMaxAlgorithms) throw EvidenceError("event log event has " + std::to_string(count) + " digests");
    std::span<const uint8_t> sha384;
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t algorithm = reader.le<uint16_t>();
      auto size = digest_sizes.find(algorithm);
      if (size == digest_sizes.end()) throw EvidenceError("event log event uses an algorithm the header does not list");
      auto digest = reader.bytes(size->second);
      if (algorithm == kAlgSha384) sha384 = digest;
    }
    uint32_t event_size = reader.le<uint32_t>();
    if (event_size > kMaxEventSize) throw EvidenceError("event log event is oversized");
    reader.bytes(event_size);
    if (type == kEvNoAction) continue;
    if (index < 1 || index > 4) throw EvidenceError("event log event for MR index " + std::to_string(index));
    if (sha384.empty()) throw EvidenceError("event log event lacks its SHA-384 digest");
    Sha384Digest& rtmr = replay.rtmrs[index - 1];
    uint8_t buffer[96];
    std::memcpy(buffer, rtmr.data(), 48);
    std::memcpy(buffer + 48, sha384.data(), 48);
    rtmr = attest::sha384(buffer);
    ++replay.extended_events;
  }
  return replay;
}

}  // namespace shelter::attest::tdx
