// The CLI contract shared by every subcommand: help, version, usage errors.
#include <gtest/gtest.h>

#include "tests/support/run_command.h"

namespace shelter {
namespace {

using testing::run_command;

const std::string kShelter = SHELTER_BINARY;

TEST(Cli, HelpListsUsageAndExitsZero) {
  auto r = run_command(kShelter + " --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("Usage:"), std::string::npos);
  EXPECT_NE(r.out.find("--log-level"), std::string::npos);
}

TEST(Cli, VersionPrintsProjectVersion) {
  auto r = run_command(kShelter + " --version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("0."), std::string::npos);
}

TEST(Cli, UnknownOptionIsOneLineUsageError) {
  auto r = run_command(kShelter + " --no-such-flag");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, BadLogLevelIsRejected) {
  auto r = run_command(kShelter + " --log-level loud");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace shelter
