#include "images/progress.h"

#include <gtest/gtest.h>

namespace shelter::images {
namespace {

TEST(TerminalProgress, DrawsOneLineBarAndEndsAtFullPercent) {
  ::testing::internal::CaptureStderr();
  TerminalProgress progress;
  progress.begin("hash tree", 1000);
  progress.advance(250);
  progress.advance(750);
  progress.end();
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("\rhash tree    [", 0), 0u) << out;
  EXPECT_NE(out.find("] 100%\n"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

}  // namespace
}  // namespace shelter::images
