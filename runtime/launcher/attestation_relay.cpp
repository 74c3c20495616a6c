#include "runtime/launcher/attestation_relay.h"

namespace shelter::launcher {

std::string AttestationRelay::feed(std::span<const uint8_t> bytes) {
  decoder_.feed(bytes);
  std::string out;
  while (std::optional<guest::Frame> frame = decoder_.next()) out += answer(*frame);
  return out;
}

std::string AttestationRelay::answer(const guest::Frame& frame) {
  using guest::FrameType;
  switch (frame.type) {
    case FrameType::kHttpRequest: {
      attest::kbs::HttpRequest request = guest::parse_http_request(frame.payload);
      try {
        attest::kbs::HttpResponse response = broker_.send(request);
        return guest::encode_frame({FrameType::kHttpResponse, guest::encode_http_response(response)});
      } catch (const attest::kbs::KbsUnavailable& e) {
        return guest::encode_frame({FrameType::kUnavailable, e.what()});
      }
    }
    case FrameType::kEvidenceRequest: {
      if (!evidence_) throw guest::ChannelError("the guest asked the host for evidence, but no simulated TEE is in use");
      if (frame.payload.size() != guest::kReportDataSize) throw guest::ChannelError("REPORT_DATA must be 64 bytes");
      auto report_data = std::span(reinterpret_cast<const uint8_t*>(frame.payload.data()), frame.payload.size());
      return guest::encode_frame({FrameType::kEvidence, evidence_(report_data).dump()});
    }
    case FrameType::kEvidence:
    case FrameType::kHttpResponse:
    case FrameType::kUnavailable:
      break;
  }
  throw guest::ChannelError("the guest sent a frame only the host may send");
}

}  // namespace shelter::launcher
