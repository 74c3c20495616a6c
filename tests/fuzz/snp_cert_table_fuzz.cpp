// The SNP certificate table guest-init reads from configfs-tsm's auxblob
// (filled by the untrusted host).
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "guest-init/tsm_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)shelter::guest::parse_snp_cert_table({data, size});
  } catch (const shelter::Error&) {
  }
  return 0;
}
