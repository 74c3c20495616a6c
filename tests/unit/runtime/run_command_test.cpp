// `shelter run` failures that need no boot: one line, exit 125.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

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

// A remote broker's URL and CA file are checked before anything boots.
TEST(RunCommand, RemoteBrokerOptionsAreCheckedBeforeBooting) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("run-kbs-options-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rootfs/bin");
  fs::copy_file("/bin/true", dir / "rootfs/bin/true");
  std::string env = "SHELTER_HOME=" + (dir / "home").string() + " ";
  std::string image = (dir / "sealed.img").string();
  ASSERT_EQ(run_command(env + SHELTER_BINARY + " build " + (dir / "rootfs").string() + " -o " + image +
                        " --entrypoint /bin/true --encrypt")
                .status,
            0);
  std::string key = (dir / "broker.pub").string();
  ASSERT_EQ(run_command("openssl ecparam -name prime256v1 -genkey -noout | openssl pkey -pubout -out " + key).status, 0);
  auto expect_refused = [&](const std::string& args, const std::string& message) {
    auto r = run_command(env + SHELTER_BINARY + " run " + image + " " + args);
    EXPECT_EQ(r.status, 125) << args;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("shelter: error: " + message), std::string::npos) << r.err;
  };
  expect_refused("--kbs-ca " + key, "--kbs-ca applies to a remote broker");
  expect_refused("--kbs https://127.0.0.1:1 --kbs-key " + key + " --kbs-ca " + (dir / "missing.pem").string(),
                 "CA file " + (dir / "missing.pem").string() + " holds no PEM certificate");
  expect_refused("--kbs http://127.0.0.1:1 --kbs-key " + key + " --kbs-ca " + key,
                 "a CA file applies to https:// key broker URLs only");
  expect_refused("--kbs ftp://127.0.0.1:1 --kbs-key " + key, "key broker URL 'ftp://127.0.0.1:1' is not an http");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace shelter
