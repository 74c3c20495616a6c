// The OVMF footer table and the SEV and TDVF metadata it points to, and the
// launch descriptions built from them.
#include <cstddef>
#include <cstdint>
#include <span>

#include "attest/error.h"
#include "attest/firmware/ovmf.h"
#include "attest/snp/ovmf_launch.h"
#include "attest/tdx/mrtd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> image(data, size);
  try {
    (void)shelter::attest::firmware::parse_sev_info(image);
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)shelter::attest::tdx::describe_tdvf_launch(image);
  } catch (const shelter::attest::EvidenceError&) {
  }
  if (size % 4096 == 0 && size <= 64 * 4096) {
    try {
      shelter::attest::snp::OvmfLaunch launch;
      launch.firmware.assign(data, data + size);
      launch.direct_boot = shelter::attest::snp::DirectBoot{{1, 2, 3}, {}, "console=hvc0"};
      launch.vcpus = 2;
      (void)shelter::attest::snp::describe_ovmf_launch(launch);
    } catch (const shelter::attest::EvidenceError&) {
    }
  }
  return 0;
}
