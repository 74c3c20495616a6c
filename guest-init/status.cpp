#include "guest-init/status.h"

#include <charconv>

namespace shelter::guest {
namespace {

constexpr size_t kMaxLine = 64 + kMaxReason;

struct KindName {
  StatusKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {StatusKind::kStarted, "started"},           {StatusKind::kExited, "exited"},
    {StatusKind::kKilled, "killed"},             {StatusKind::kNotFound, "not-found"},
    {StatusKind::kNotExecutable, "not-executable"}, {StatusKind::kSetupFailed, "setup-failed"},
};

bool has_value(StatusKind kind) { return kind == StatusKind::kExited || kind == StatusKind::kKilled; }
bool has_reason(StatusKind kind) {
  return kind == StatusKind::kNotFound || kind == StatusKind::kNotExecutable ||
         kind == StatusKind::kSetupFailed;
}

int parse_value(StatusKind kind, std::string_view text) {
  int value = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool canonical = !text.empty() && !(text.size() > 1 && text.front() == '0');
  if (!canonical || error != std::errc() || end != text.data() + text.size())
    throw ProtocolError("status channel: bad number '" + std::string(text) + "'");
  int max = kind == StatusKind::kExited ? 255 : 64;
  int min = kind == StatusKind::kExited ? 0 : 1;
  if (value < min || value > max) throw ProtocolError("status channel: value out of range");
  return value;
}

}  // namespace

std::string encode_status(const StatusMessage& message) {
  std::string line;
  for (const KindName& k : kKinds)
    if (k.kind == message.kind) line = std::string(k.name);
  if (has_value(message.kind)) line += " " + std::to_string(message.value);
  if (has_reason(message.kind)) {
    line += ' ';
    for (char c : message.reason.substr(0, kMaxReason)) line += (c >= 0x20 && c <= 0x7e) ? c : '?';
  }
  return line + "\n";
}

StatusMessage decode_status_line(std::string_view line) {
  if (line.size() > kMaxLine) throw ProtocolError("status channel: line too long");
  for (char c : line)
    if (c < 0x20 || c > 0x7e) throw ProtocolError("status channel: non-printable byte");
  size_t space = line.find(' ');
  std::string_view name = line.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  for (const KindName& k : kKinds) {
    if (k.name != name) continue;
    StatusMessage message{k.kind, 0, {}};
    if (has_value(k.kind)) {
      message.value = parse_value(k.kind, rest);
    } else if (has_reason(k.kind)) {
      if (space == std::string_view::npos || rest.empty() || rest.size() > kMaxReason)
        throw ProtocolError("status channel: missing or overlong reason");
      message.reason = std::string(rest);
    } else if (space != std::string_view::npos) {
      throw ProtocolError("status channel: unexpected text after '" + std::string(name) + "'");
    }
    return message;
  }
  throw ProtocolError("status channel: unknown message");
}

void StatusDecoder::feed(std::span<const uint8_t> bytes) {
  for (uint8_t byte : bytes) {
    if (byte != '\n') {
      if (pending_.size() >= kMaxLine) throw ProtocolError("status channel: line too long");
      pending_.push_back(static_cast<char>(byte));
      continue;
    }
    StatusMessage message = decode_status_line(pending_);
    pending_.clear();
    if (final_) throw ProtocolError("status channel: message after the final status");
    if (message.kind == StatusKind::kStarted) {
      if (started_) throw ProtocolError("status channel: started twice");
      started_ = true;
    } else {
      final_ = std::move(message);
    }
  }
}

}  // namespace shelter::guest
