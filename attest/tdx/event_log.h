#pragma once
// RTMR replay from a TDX event log (the ACPI CCEL area: a TCG crypto-agile
// log whose first event is the "Spec ID Event03" header). Each SHA-384 digest
// logged for CC measurement register 1..4 extends RTMR0..3:
// RTMR = SHA-384(RTMR || digest), starting from zeros.
#include <array>
#include <cstddef>
#include <span>

#include "attest/crypto.h"

namespace shelter::attest::tdx {

struct RtmrReplay {
  std::array<Sha384Digest, 4> rtmrs{};
  size_t extended_events = 0;
};

// Throws EvidenceError on a malformed or truncated log, or one without SHA-384.
RtmrReplay replay_rtmrs(std::span<const uint8_t> log);

}  // namespace shelter::attest::tdx
