// The TDX quote parser, the PCK chain it carries, and the CCEL event log replay.
#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/tdx/event_log.h"
#include "attest/tdx/pck.h"
#include "attest/tdx/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto quote = shelter::attest::tdx::parse_quote(std::span<const uint8_t>(data, size));
    (void)shelter::attest::tdx::quote_claims(quote).dump();
    auto chain = shelter::attest::parse_certificates(quote.pck_data);
    (void)shelter::attest::tdx::parse_pck_extensions(chain.front().get());
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)shelter::attest::tdx::replay_rtmrs(std::span<const uint8_t>(data, size));
  } catch (const shelter::attest::EvidenceError&) {
  }
  return 0;
}
