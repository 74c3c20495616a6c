#include "common/hex.h"

#include <gtest/gtest.h>

namespace shelter {
namespace {

TEST(Hex, RoundTrips) {
  std::vector<uint8_t> bytes{0x00, 0x7f, 0x80, 0xff, 0x1a};
  EXPECT_EQ(to_hex(bytes), "007f80ff1a");
  EXPECT_EQ(from_hex("007F80ff1A"), bytes);
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("0x"));
  EXPECT_EQ(from_hex("")->size(), 0u);
}

}  // namespace
}  // namespace shelter
