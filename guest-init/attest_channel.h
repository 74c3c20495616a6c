#pragma once
// The attestation channel between guest-init and the launcher (its own
// serial port, ttyS4). Frames carry the guest's KBS HTTP requests, which the
// host relays to the broker and whose answers it relays back (it sees the
// JWE, never the key), and, for the simulated TEE only, the guest's request
// for a report over its REPORT_DATA.
//
// Frame: magic "SHAT" (4 bytes), type (u32 LE), payload length (u32 LE,
// at most kMaxFramePayload), payload. Each side parses what the other sends
// as untrusted bytes: bounded, strict, ChannelError on anything else.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "attest/kbs/client.h"
#include "common/error.h"

namespace shelter::guest {

inline constexpr const char* kAttestationPort = "/dev/ttyS4";

enum class FrameType : uint32_t {
  kEvidenceRequest = 1,  // guest -> host: the 64-byte REPORT_DATA
  kEvidence = 2,         // host -> guest: tee-evidence JSON
  kHttpRequest = 3,      // guest -> host: a KBS request (JSON)
  kHttpResponse = 4,     // host -> guest: the broker's answer (JSON)
  kUnavailable = 5,      // host -> guest: the broker could not be reached (text)
};

inline constexpr size_t kFrameHeaderSize = 12;
inline constexpr size_t kMaxFramePayload = 256 * 1024;
inline constexpr size_t kReportDataSize = 64;

struct Frame {
  FrameType type;
  std::string payload;

  bool operator==(const Frame&) const = default;
};

class ChannelError : public Error {
 public:
  using Error::Error;
};

std::string encode_frame(const Frame& frame);

// Splits the byte stream into frames. Throws ChannelError on a bad magic, an
// unknown type or an oversized length (the stream is then unusable).
class FrameDecoder {
 public:
  void feed(std::span<const uint8_t> bytes);
  // The next complete frame, if any.
  std::optional<Frame> next();

 private:
  std::string pending_;
};

// HTTP messages as frame payloads. The parsers are strict: unknown or missing
// members, wrong types and sizes beyond the KBS limits are ChannelErrors; a
// request must be GET or POST under /kbs/v0/ and carries no Authorization
// (the relay never forwards admin requests).
std::string encode_http_request(const attest::kbs::HttpRequest& request);
attest::kbs::HttpRequest parse_http_request(std::string_view payload);
std::string encode_http_response(const attest::kbs::HttpResponse& response);
attest::kbs::HttpResponse parse_http_response(std::string_view payload);

// Reads and writes frames on a file descriptor (the guest's serial port, the
// launcher's socket), one exchange at a time.
class FrameStream {
 public:
  explicit FrameStream(int fd) : fd_(fd) {}
  void send(const Frame& frame);
  // Blocks until a whole frame arrives; throws ChannelError at end of stream.
  Frame receive();

 private:
  int fd_;
  FrameDecoder decoder_;
};

// The guest's Transport and evidence source over the channel.
class ChannelTransport : public attest::kbs::Transport {
 public:
  explicit ChannelTransport(FrameStream& stream) : stream_(stream) {}
  attest::kbs::HttpResponse send(const attest::kbs::HttpRequest& request) override;

 private:
  FrameStream& stream_;
};

class ChannelEvidenceProvider : public attest::kbs::EvidenceProvider {
 public:
  explicit ChannelEvidenceProvider(FrameStream& stream) : stream_(stream) {}
  attest::kbs::Tee tee() const override { return attest::kbs::Tee::kSnp; }
  nlohmann::json evidence(std::span<const uint8_t> report_data) override;

 private:
  FrameStream& stream_;
};

}  // namespace shelter::guest
