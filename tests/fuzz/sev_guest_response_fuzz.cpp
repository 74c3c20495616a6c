// The MSG_REPORT_RSP guest-init reads from /dev/sev-guest (firmware output
// relayed through the host's memory).
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "guest-init/sev_guest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)shelter::guest::parse_msg_report_rsp({data, size});
  } catch (const shelter::Error&) {
  }
  return 0;
}
