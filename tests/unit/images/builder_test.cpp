// shelter build from a directory: the manifest it composes, the entrypoint
// check, and that a failed or refused build leaves nothing behind.
#include "images/builder.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/unique_fd.h"
#include "images/staging.h"
#include "images/verity.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

class Builder : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::make_rootfs(dir_ / "root");
    fs::create_directory(dir_ / "out");
    options_.source = dir_ / "root";
    options_.output = dir_ / "out/image";
    options_.entrypoint = std::vector<std::string>{"/bin/app"};
  }
  std::string build_error() {
    try {
      build_image(options_);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  ScratchDir dir_;
  BuildOptions options_;
};

TEST_F(Builder, ImageVerifiesAgainstItsRootHash) {
  ImageInfo info = build_image(options_);
  UniqueFd fd(::open(options_.output.c_str(), O_RDONLY));
  EXPECT_FALSE(verify_hash_tree(fd.get(), info.verity));
  // Only the image is left in the output folder.
  EXPECT_EQ(testing::count_entries(dir_ / "out"), 1u);
}

TEST_F(Builder, EachBuildHasAFreshSalt) {
  ImageInfo first = build_image(options_);
  options_.force = true;
  ImageInfo second = build_image(options_);
  EXPECT_NE(first.verity.salt, second.verity.salt);
  EXPECT_NE(first.verity.root_hash, second.verity.root_hash);
}

TEST_F(Builder, RefusesAnExistingOutputWithoutForce) {
  testing::write_text(options_.output, "precious");
  EXPECT_NE(build_error().find("exists"), std::string::npos);
  EXPECT_EQ(testing::read_bytes(options_.output).size(), 8u);
  options_.force = true;
  EXPECT_EQ(build_error(), "");
  EXPECT_GT(fs::file_size(options_.output), 8u);
}

TEST_F(Builder, MissingEntrypointFailsAndLeavesNothing) {
  options_.entrypoint = std::vector<std::string>{"/bin/nope"};
  EXPECT_EQ(build_error(), "entrypoint '/bin/nope' does not exist in the image");
  EXPECT_EQ(testing::count_entries(dir_ / "out"), 0u);
}

TEST_F(Builder, NonExecutableEntrypointFails) {
  testing::write_text(dir_ / "root/bin/plain", "data", 0644);
  options_.entrypoint = std::vector<std::string>{"/bin/plain"};
  EXPECT_EQ(build_error(), "entrypoint '/bin/plain' is not executable in the image");
}

TEST_F(Builder, EntrypointIsResolvedInsideTheImage) {
  // Found on the image's PATH, and through an absolute symlink taken relative to the image root.
  options_.entrypoint = std::vector<std::string>{"app-link"};
  options_.env = {"PATH=/bin"};
  EXPECT_EQ(build_error(), "");
  // A link that climbs out resolves inside the image, where there is nothing.
  fs::create_symlink("../../../../../../bin/sh", dir_ / "root/bin/escape");
  options_.entrypoint = std::vector<std::string>{"/bin/escape"};
  options_.force = true;
  EXPECT_EQ(build_error(), "entrypoint '/bin/escape' does not exist in the image");
}

TEST_F(Builder, NoEntrypointAtAllIsAnError) {
  options_.entrypoint.reset();
  EXPECT_NE(build_error().find("no entrypoint"), std::string::npos);
}

TEST_F(Builder, MissingSourceIsAnError) {
  options_.source = dir_ / "absent";
  EXPECT_NE(build_error().find("cannot read the source"), std::string::npos);
  EXPECT_EQ(testing::count_entries(dir_ / "out"), 0u);
}

TEST_F(Builder, CancelledBuildLeavesNothing) {
  std::atomic<bool> cancel{true};
  options_.cancel = &cancel;
  EXPECT_EQ(build_error(), "interrupted");
  EXPECT_EQ(testing::count_entries(dir_ / "out"), 0u);
}

TEST(ComposeManifest, OciDefaultsThenOverrides) {
  ScratchDir dir;
  testing::make_rootfs(dir.path());
  ImageConfig config{.entrypoint = {"/bin/app"},
                     .cmd = {"--port", "80"},
                     .env = {"PATH=/bin", "MODE=slow"},
                     .working_dir = "/data",
                     .user = "model:staff"};
  BuildOptions options;
  Manifest m = compose_manifest(config, options, dir.path());
  EXPECT_EQ(m.entrypoint, (std::vector<std::string>{"/bin/app"}));
  EXPECT_EQ(m.args, (std::vector<std::string>{"--port", "80"}));
  EXPECT_EQ(m.workdir, "/data");
  EXPECT_EQ(m.user, "1000:50");

  options.entrypoint = std::vector<std::string>{"/bin/sh", "-c", "true"};
  options.env = {"MODE=fast", "EXTRA=1"};
  options.workdir = "/";
  config.user = "model";
  m = compose_manifest(config, options, dir.path());
  EXPECT_EQ(m.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "true"}));
  EXPECT_TRUE(m.args.empty());
  EXPECT_EQ(m.env, (std::vector<std::string>{"PATH=/bin", "MODE=fast", "EXTRA=1"}));
  EXPECT_EQ(m.workdir, "/");
  EXPECT_EQ(m.user, "1000:1001");

  config.user = "nobody";
  EXPECT_THROW(compose_manifest(config, options, dir.path()), Error);
  config.user = "";
  options.env = {"=x"};
  EXPECT_THROW(compose_manifest(config, options, dir.path()), Error);
}

TEST(ResolveInRoot, NeverLeavesTheRoot) {
  ScratchDir dir;
  testing::make_rootfs(dir.path());
  fs::create_symlink("../../..", dir / "bin/up");
  auto resolved = resolve_in_root(dir.path(), "/bin/up/bin/app");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(*resolved, dir / "bin/app");
  fs::create_symlink("loop", dir / "loop");
  EXPECT_FALSE(resolve_in_root(dir.path(), "/loop"));
  EXPECT_FALSE(resolve_in_root(dir.path(), "/nothing/here"));
}

TEST(SafeRelativePath, RejectsAbsoluteAndDotDot) {
  EXPECT_EQ(safe_relative_path("./a//b/"), fs::path("a/b"));
  EXPECT_THROW(safe_relative_path("/etc/passwd"), Error);
  EXPECT_THROW(safe_relative_path("a/../../b"), Error);
}

}  // namespace
}  // namespace shelter::images
