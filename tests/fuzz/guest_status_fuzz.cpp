#include <cstddef>
#include <cstdint>
#include <span>

#include "guest-init/status.h"

// The launcher decodes whatever the guest writes on its status port.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shelter::guest;
  StatusDecoder decoder;
  try {
    decoder.feed(std::span<const uint8_t>(data, size));
    if (decoder.final_status() && !(decode_status_line(encode_status(*decoder.final_status())) ==
                                    *decoder.final_status()))
      __builtin_trap();
  } catch (const ProtocolError&) {
  }
  return 0;
}
