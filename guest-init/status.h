#pragma once
// The status channel from guest-init to the launcher: one text line per
// message on its own serial port (never mixed with console text). The
// launcher decodes what a possibly hostile guest sends, so the decoder is
// strict and bounded.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"

namespace shelter::guest {

// Serial ports as the guest sees them; the launcher attaches its channels in
// this order (ttyS0 is the kernel console).
inline constexpr const char* kStdoutPort = "/dev/ttyS1";
inline constexpr const char* kStderrPort = "/dev/ttyS2";
inline constexpr const char* kStatusPort = "/dev/ttyS3";

enum class StatusKind {
  kStarted,        // the workload was executed
  kExited,         // value: its exit code
  kKilled,         // value: the signal that ended it
  kNotFound,       // the entrypoint does not exist (127)
  kNotExecutable,  // the entrypoint exists but cannot be executed (126)
  kSetupFailed,    // guest-init failed before or around the workload (125)
};

struct StatusMessage {
  StatusKind kind = StatusKind::kSetupFailed;
  int value = 0;       // kExited, kKilled
  std::string reason;  // kNotFound, kNotExecutable, kSetupFailed

  bool operator==(const StatusMessage&) const = default;
};

class ProtocolError : public Error {
 public:
  using Error::Error;
};

inline constexpr size_t kMaxReason = 512;

// One line, '\n'-terminated. Reasons are cut to kMaxReason bytes and bytes
// outside printable ASCII become '?'.
std::string encode_status(const StatusMessage& message);

// Splits the channel's byte stream into messages. A guest sends at most
// `started` and then one final message; anything else is a protocol error.
class StatusDecoder {
 public:
  // Throws ProtocolError on a malformed or overlong line, or a message out of
  // order.
  void feed(std::span<const uint8_t> bytes);
  // The messages decoded so far.
  bool started() const { return started_; }
  const std::optional<StatusMessage>& final_status() const { return final_; }

 private:
  std::string pending_;
  bool started_ = false;
  std::optional<StatusMessage> final_;
};

// Throws ProtocolError.
StatusMessage decode_status_line(std::string_view line);

}  // namespace shelter::guest
