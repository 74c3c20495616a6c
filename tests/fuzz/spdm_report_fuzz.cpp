// The NVIDIA SPDM measurement report parser (hex or binary input).
#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/error.h"
#include "attest/nvgpu/spdm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto bytes = shelter::attest::nvgpu::decode_report_file(std::span<const uint8_t>(data, size));
    auto report = shelter::attest::nvgpu::parse_report(bytes);
    (void)shelter::attest::nvgpu::report_claims(report).dump();
  } catch (const shelter::attest::EvidenceError&) {
  }
  return 0;
}
