// The TDX quote parser, and the PCK chain it carries, as a verifier reads them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/crypto.h"
#include "attest/error.h"
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
  return 0;
}
