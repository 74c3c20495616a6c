// The attestation channel as each side reads it: frames from an untrusted
// peer, and the HTTP messages they carry.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "guest-init/attest_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace guest = shelter::guest;
  try {
    guest::FrameDecoder decoder;
    decoder.feed({data, size});
    while (auto frame = decoder.next()) {
      try {
        (void)guest::parse_http_request(frame->payload);
      } catch (const guest::ChannelError&) {
      }
      try {
        (void)guest::parse_http_response(frame->payload);
      } catch (const guest::ChannelError&) {
      }
    }
  } catch (const guest::ChannelError&) {
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)guest::parse_http_request(text);
  } catch (const guest::ChannelError&) {
  }
  return 0;
}
