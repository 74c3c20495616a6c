#include "guest-init/attest_channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "common/unique_fd.h"

namespace shelter::guest {
namespace {

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(AttestChannel, FramesRoundTripWhateverTheChunking) {
  std::vector<Frame> frames = {{FrameType::kEvidenceRequest, std::string(64, '\x01')},
                               {FrameType::kHttpRequest, "{}"},
                               {FrameType::kUnavailable, ""}};
  std::string stream;
  for (const Frame& f : frames) stream += encode_frame(f);
  EXPECT_EQ(encode_frame(frames[2]), std::string("SHAT\x05\0\0\0\0\0\0\0", 12));
  for (size_t chunk : {size_t{1}, size_t{5}, stream.size()}) {
    FrameDecoder decoder;
    std::vector<Frame> decoded;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      decoder.feed(bytes(stream.substr(at, chunk)));
      while (auto frame = decoder.next()) decoded.push_back(*frame);
    }
    EXPECT_EQ(decoded, frames) << chunk;
  }
}

TEST(AttestChannel, DecoderRefusesCorruptHeaders) {
  auto decode = [](const std::string& stream) {
    FrameDecoder decoder;
    decoder.feed(bytes(stream));
    return decoder.next();
  };
  std::string good = encode_frame({FrameType::kHttpResponse, "abc"});
  EXPECT_FALSE(decode(good.substr(0, 11)));  // truncated header: wait for more
  EXPECT_FALSE(decode(good.substr(0, 14)));  // truncated payload: wait for more
  EXPECT_THROW(decode("X"), ChannelError);   // wrong magic, refused at once
  std::string bad = good;
  bad[2] = 'X';
  EXPECT_THROW(decode(bad), ChannelError);
  bad = good;
  bad[4] = 9;  // unknown type
  EXPECT_THROW(decode(bad), ChannelError);
  bad = good;
  bad[4] = 0;
  EXPECT_THROW(decode(bad), ChannelError);
  bad = good;
  bad[11] = 0x7f;  // 2 GiB payload
  EXPECT_THROW(decode(bad), ChannelError);
  EXPECT_THROW(encode_frame({FrameType::kEvidence, std::string(kMaxFramePayload + 1, 'x')}), ChannelError);
}

TEST(AttestChannel, HttpMessagesRoundTrip) {
  attest::kbs::HttpRequest request{"POST", "/kbs/v0/auth", "{\"tee\":\"snp\"}", "kbs-session-id=ab"};
  attest::kbs::HttpRequest parsed = parse_http_request(encode_http_request(request));
  EXPECT_EQ(parsed.method, request.method);
  EXPECT_EQ(parsed.path, request.path);
  EXPECT_EQ(parsed.body, request.body);
  EXPECT_EQ(parsed.cookie, request.cookie);
  EXPECT_EQ(parsed.authorization, "");
  attest::kbs::HttpResponse response{403, "{\"detail\":\"no\"}", "kbs-session-id=x; Path=/kbs"};
  attest::kbs::HttpResponse back = parse_http_response(encode_http_response(response));
  EXPECT_EQ(back.status, 403);
  EXPECT_EQ(back.body, response.body);
  EXPECT_EQ(back.set_cookie, response.set_cookie);
}

TEST(AttestChannel, RequestParserOnlyRelaysKbsRequests) {
  const char* bad[] = {
      "not json",
      "[]",
      R"({"method":"GET","path":"/kbs/v0/auth","body":""})",                                     // cookie missing
      R"({"method":"GET","path":"/kbs/v0/auth","body":"","cookie":"","authorization":"Bearer x"})",  // admin
      R"({"method":"PUT","path":"/kbs/v0/auth","body":"","cookie":""})",
      R"({"method":"GET","path":"/etc/passwd","body":"","cookie":""})",
      R"({"method":"GET","path":"/kbs/v0/a b","body":"","cookie":""})",
      R"({"method":"GET","path":"/kbs/v0/auth","body":"","cookie":"a\r\nX-Injected: 1"})",
      R"({"method":"GET","path":"/kbs/v0/auth","body":7,"cookie":""})",
  };
  for (const char* payload : bad) EXPECT_THROW(parse_http_request(payload), ChannelError) << payload;
  std::string huge = R"({"method":"POST","path":"/kbs/v0/attest","cookie":"","body":")" + std::string(70000, 'a') + "\"}";
  EXPECT_THROW(parse_http_request(huge), ChannelError);
}

TEST(AttestChannel, ResponseParserIsStrict) {
  const char* bad[] = {
      R"({"status":200,"body":""})",
      R"({"status":"200","body":"","set_cookie":""})",
      R"({"status":99,"body":"","set_cookie":""})",
      R"({"status":600,"body":"","set_cookie":""})",
      R"({"status":200,"body":"","set_cookie":"","extra":1})",
      R"({"status":200.5,"body":"","set_cookie":""})",
  };
  for (const char* payload : bad) EXPECT_THROW(parse_http_response(payload), ChannelError) << payload;
}

TEST(AttestChannel, StreamEndsWithAChannelError) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  UniqueFd guest(pair[0]), host(pair[1]);
  FrameStream stream(guest.get());
  stream.send({FrameType::kHttpRequest, "x"});
  std::string partial = encode_frame({FrameType::kHttpResponse, "abc"}).substr(0, 13);
  ASSERT_EQ(::write(host.get(), partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  host.reset();
  EXPECT_THROW(stream.receive(), ChannelError);
}

}  // namespace
}  // namespace shelter::guest
