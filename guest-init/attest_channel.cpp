#include "guest-init/attest_channel.h"

#include <unistd.h>

#include <cerrno>

namespace shelter::guest {
namespace {

namespace ak = attest::kbs;
using Json = nlohmann::json;

constexpr std::string_view kMagic = "SHAT";
constexpr size_t kMaxPath = 1024;
constexpr size_t kMaxCookie = 512;
// Each JSON string member holds at most a KBS message; escaping can grow it
// sixfold, which the frame bound caps anyway.
constexpr size_t kMaxBody = ak::kMaxMessageSize;

void put_le32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(value >> shift));
}

uint32_t get_le32(std::string_view bytes) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
  return value;
}

Json parse_object(std::string_view payload, const char* what) {
  Json object = Json::parse(payload, nullptr, false);
  if (!object.is_object()) throw ChannelError(std::string(what) + " is not a JSON object");
  return object;
}

void check_members(const Json& object, std::initializer_list<std::string_view> allowed, const char* what) {
  for (const auto& [name, value] : object.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) throw ChannelError(std::string(what) + ": unknown member " + name.substr(0, 64));
  }
}

std::string string_member(const Json& object, const char* name, size_t max_size, const char* what) {
  if (!object.contains(name) || !object[name].is_string())
    throw ChannelError(std::string(what) + ": " + name + " missing or not a string");
  std::string value = object[name].get<std::string>();
  if (value.size() > max_size) throw ChannelError(std::string(what) + ": " + name + " too long");
  return value;
}

}  // namespace

std::string encode_frame(const Frame& frame) {
  if (frame.payload.size() > kMaxFramePayload) throw ChannelError("frame payload too large");
  std::string out(kMagic);
  put_le32(out, static_cast<uint32_t>(frame.type));
  put_le32(out, static_cast<uint32_t>(frame.payload.size()));
  return out + frame.payload;
}

void FrameDecoder::feed(std::span<const uint8_t> bytes) {
  pending_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::optional<Frame> FrameDecoder::next() {
  if (pending_.size() < kFrameHeaderSize) {
    // Refuse a wrong magic as soon as its bytes are in.
    if (!std::string_view(kMagic).starts_with(std::string_view(pending_).substr(0, kMagic.size())))
      throw ChannelError("frame does not start with the channel magic");
    return std::nullopt;
  }
  std::string_view view(pending_);
  if (view.substr(0, kMagic.size()) != kMagic) throw ChannelError("frame does not start with the channel magic");
  uint32_t type = get_le32(view.substr(4, 4));
  uint32_t length = get_le32(view.substr(8, 4));
  if (type < static_cast<uint32_t>(FrameType::kEvidenceRequest) || type > static_cast<uint32_t>(FrameType::kUnavailable))
    throw ChannelError("unknown frame type " + std::to_string(type));
  if (length > kMaxFramePayload) throw ChannelError("frame payload of " + std::to_string(length) + " bytes is too large");
  if (pending_.size() < kFrameHeaderSize + length) return std::nullopt;
  Frame frame{static_cast<FrameType>(type), pending_.substr(kFrameHeaderSize, length)};
  pending_.erase(0, kFrameHeaderSize + length);
  return frame;
}

std::string encode_http_request(const ak::HttpRequest& request) {
  return Json{{"method", request.method}, {"path", request.path}, {"body", request.body}, {"cookie", request.cookie}}
      .dump();
}

ak::HttpRequest parse_http_request(std::string_view payload) {
  constexpr const char* what = "relayed request";
  Json object = parse_object(payload, what);
  check_members(object, {"method", "path", "body", "cookie"}, what);
  ak::HttpRequest request;
  request.method = string_member(object, "method", 4, what);
  request.path = string_member(object, "path", kMaxPath, what);
  request.body = string_member(object, "body", kMaxBody, what);
  request.cookie = string_member(object, "cookie", kMaxCookie, what);
  if (request.method != "GET" && request.method != "POST") throw ChannelError("relayed request: method must be GET or POST");
  if (!request.path.starts_with("/kbs/v0/")) throw ChannelError("relayed request: path outside /kbs/v0/");
  for (char c : request.path + request.cookie)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      throw ChannelError("relayed request: control or non-ASCII character in path or cookie");
  return request;
}

std::string encode_http_response(const ak::HttpResponse& response) {
  return Json{{"status", response.status}, {"body", response.body}, {"set_cookie", response.set_cookie}}.dump();
}

ak::HttpResponse parse_http_response(std::string_view payload) {
  constexpr const char* what = "relayed response";
  Json object = parse_object(payload, what);
  check_members(object, {"status", "body", "set_cookie"}, what);
  if (!object.contains("status") || !object["status"].is_number_integer())
    throw ChannelError("relayed response: status missing or not an integer");
  int64_t status = object["status"].get<int64_t>();
  if (status < 100 || status > 599) throw ChannelError("relayed response: status out of range");
  return {static_cast<int>(status), string_member(object, "body", kMaxBody, what),
          string_member(object, "set_cookie", kMaxCookie, what)};
}

void FrameStream::send(const Frame& frame) {
  std::string bytes = encode_frame(frame);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw ChannelError("the attestation channel closed while sending");
    done += static_cast<size_t>(n);
  }
}

Frame FrameStream::receive() {
  for (;;) {
    if (std::optional<Frame> frame = decoder_.next()) return std::move(*frame);
    uint8_t buffer[4096];
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw ChannelError("the attestation channel closed");
    decoder_.feed({buffer, static_cast<size_t>(n)});
  }
}

ak::HttpResponse ChannelTransport::send(const ak::HttpRequest& request) {
  stream_.send({FrameType::kHttpRequest, encode_http_request(request)});
  Frame answer = stream_.receive();
  if (answer.type == FrameType::kUnavailable) throw ak::KbsUnavailable(answer.payload.substr(0, 512));
  if (answer.type != FrameType::kHttpResponse) throw ChannelError("the host answered a request with another frame");
  return parse_http_response(answer.payload);
}

nlohmann::json ChannelEvidenceProvider::evidence(std::span<const uint8_t> report_data) {
  if (report_data.size() != kReportDataSize) throw ChannelError("REPORT_DATA must be 64 bytes");
  stream_.send({FrameType::kEvidenceRequest, std::string(report_data.begin(), report_data.end())});
  Frame answer = stream_.receive();
  if (answer.type != FrameType::kEvidence) throw ChannelError("the host answered the evidence request with another frame");
  Json evidence = parse_object(answer.payload, "simulated evidence");
  return evidence;
}

}  // namespace shelter::guest
