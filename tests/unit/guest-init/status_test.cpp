#include "guest-init/status.h"

#include <gtest/gtest.h>

namespace shelter::guest {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(GuestStatus, EncodesAndDecodesEveryKind) {
  for (const StatusMessage& m : std::vector<StatusMessage>{
           {StatusKind::kExited, 0, {}},
           {StatusKind::kExited, 255, {}},
           {StatusKind::kKilled, 9, {}},
           {StatusKind::kNotFound, 0, "entrypoint /x not found"},
           {StatusKind::kNotExecutable, 0, "entrypoint /x cannot be executed"},
           {StatusKind::kSetupFailed, 0, "mounting: Input/output error"},
       }) {
    std::string line = encode_status(m);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(decode_status_line(std::string_view(line).substr(0, line.size() - 1)), m) << line;
  }
  EXPECT_EQ(encode_status({StatusKind::kStarted, 0, {}}), "started\n");
}

TEST(GuestStatus, EncodingSanitisesReasons) {
  EXPECT_EQ(encode_status({StatusKind::kSetupFailed, 0, "a\nb\x01"}), "setup-failed a?b?\n");
  std::string long_reason(2000, 'x');
  std::string line = encode_status({StatusKind::kSetupFailed, 0, long_reason});
  EXPECT_EQ(decode_status_line(line.substr(0, line.size() - 1)).reason.size(), kMaxReason);
}

TEST(GuestStatus, DecoderAssemblesLinesAcrossReads) {
  StatusDecoder decoder;
  decoder.feed(bytes("star"));
  EXPECT_FALSE(decoder.started());
  decoder.feed(bytes("ted\nexi"));
  EXPECT_TRUE(decoder.started());
  EXPECT_FALSE(decoder.final_status());
  decoder.feed(bytes("ted 42\n"));
  ASSERT_TRUE(decoder.final_status());
  EXPECT_EQ(decoder.final_status()->value, 42);
}

TEST(GuestStatus, RejectsMalformedOrOutOfOrderInput) {
  for (std::string_view bad : {"exited\n", "exited 256\n", "exited -1\n", "exited 042\n", "exited 4x\n",
                               "killed 0\n", "killed 65\n", "setup-failed\n", "setup-failed \n",
                               "started now\n", "bogus\n", "exited 1\x01\n", "started\nstarted\n",
                               "exited 1\nexited 2\n", "exited 1\nstarted\n"}) {
    StatusDecoder decoder;
    EXPECT_THROW(decoder.feed(bytes(bad)), ProtocolError) << bad;
  }
  StatusDecoder flood;
  EXPECT_THROW(flood.feed(bytes(std::string(10000, 'a'))), ProtocolError);
}

}  // namespace
}  // namespace shelter::guest
