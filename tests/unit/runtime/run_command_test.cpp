// `shelter run` failures that need no boot: one line, exit 125.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/run_command.h"

namespace shelter {
namespace {

using testing::run_command;

void expect_one_line_failure(const std::string& args, const std::string& message) {
  auto r = run_command(std::string(SHELTER_BINARY) + " run " + args);
  EXPECT_EQ(r.status, 125) << args;
  EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(RunCommand, MissingImageIsASetupFailure) {
  expect_one_line_failure("/nonexistent/model.img", "/nonexistent/model.img");
}

TEST(RunCommand, UnsupportedChoicesAreRefusedNotIgnored) {
  expect_one_line_failure("--vmm builtin /nonexistent.img", "--vmm builtin is not supported yet");
  expect_one_line_failure("--tee snp /nonexistent.img", "--tee snp: this launcher cannot start snp guests yet");
  expect_one_line_failure("--tee tdx /nonexistent.img", "--tee tdx: this launcher cannot start tdx guests yet");
}

TEST(RunCommand, NotAnImageIsRefused) {
  expect_one_line_failure("/etc/hostname", "");
}

}  // namespace
}  // namespace shelter
