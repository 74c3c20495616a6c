// The SNP report and its certificate table, as a verifier receives them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/error.h"
#include "attest/snp/report.h"
#include "attest/snp/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  try {
    auto report = shelter::attest::snp::parse_report(bytes);
    (void)shelter::attest::snp::report_claims(report).dump();
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)shelter::attest::snp::parse_certificate_table(bytes);
  } catch (const shelter::attest::EvidenceError&) {
  }
  return 0;
}
