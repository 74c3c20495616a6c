// OCI layouts, OCI archives and docker archives as build sources, made by the
// test itself: layers in order, whiteouts, opaque directories, config
// defaults; and archives that try to write outside the staging tree.
#include "images/source.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "images/archive.h"
#include "images/builder.h"
#include "images/verity.h"
#include "tests/unit/images/oci_fixture.h"

namespace shelter::images {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::TarEntry;

std::string text_of(const fs::path& path) {
  auto bytes = testing::read_bytes(path);
  return {bytes.begin(), bytes.end()};
}

void expect_sample_tree(const fs::path& root) {
  EXPECT_EQ(text_of(root / "bin/app"), "#!/bin/sh\necho oci\n");
  EXPECT_EQ(fs::status(root / "bin/app").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(text_of(root / "bin/app-hard"), "#!/bin/sh\necho oci\n");
  EXPECT_FALSE(fs::exists(root / "etc/old.conf"));            // whiteout
  EXPECT_EQ(text_of(root / "etc/new.conf"), "new");
  EXPECT_EQ(text_of(root / "opt/keep/a"), "a");
  EXPECT_FALSE(fs::exists(root / "opt/gone/b"));              // opaque directory
  EXPECT_FALSE(fs::exists(root / "opt/gone/sub"));
  EXPECT_EQ(text_of(root / "opt/gone/new"), "new");            // same layer, kept
  EXPECT_EQ(fs::read_symlink(root / "lib"), "usr/lib");
}

void expect_sample_config(const ImageConfig& config) {
  EXPECT_EQ(config.entrypoint, (std::vector<std::string>{"/bin/app"}));
  EXPECT_EQ(config.cmd, (std::vector<std::string>{"--port", "80"}));
  EXPECT_EQ(config.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "MODE=oci"}));
  EXPECT_EQ(config.working_dir, "/opt");
  EXPECT_EQ(config.user, "0:0");
}

class Source : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "staging");
    fs::create_directories(dir_ / "scratch");
  }
  ImageConfig stage(const fs::path& source) { return stage_source(source, dir_ / "staging", dir_ / "scratch"); }
  std::string stage_error(const fs::path& source) {
    try {
      stage(source);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  // A layout whose single layer is these entries.
  fs::path layout_with(const std::vector<TarEntry>& layer) {
    testing::make_oci_layout(dir_ / "bad-layout", {layer});
    return dir_ / "bad-layout";
  }
  ScratchDir dir_;
};

TEST_F(Source, OciLayoutAppliesLayersInOrder) {
  testing::make_oci_layout(dir_ / "layout");
  ImageConfig config = stage(dir_ / "layout");
  expect_sample_config(config);
  expect_sample_tree(dir_ / "staging");
}

TEST_F(Source, OciArchive) {
  testing::make_oci_layout(dir_ / "layout");
  testing::tar_directory(dir_ / "layout", dir_ / "oci.tar");
  expect_sample_config(stage(dir_ / "oci.tar"));
  expect_sample_tree(dir_ / "staging");
}

TEST_F(Source, DockerArchive) {
  testing::make_docker_archive(dir_ / "docker.tar", dir_.path());
  expect_sample_config(stage(dir_ / "docker.tar"));
  expect_sample_tree(dir_ / "staging");
}

TEST_F(Source, BuildsAnImageFromEachKind) {
  testing::make_oci_layout(dir_ / "layout");
  testing::make_docker_archive(dir_ / "docker.tar", dir_.path());
  for (const char* source : {"layout", "docker.tar"}) {
    BuildOptions options;
    options.source = dir_ / source;
    options.output = dir_ / (std::string(source) + ".img");
    options.env = {"MODE=override"};
    ImageInfo info = build_image(options);
    EXPECT_EQ(info.manifest.entrypoint, (std::vector<std::string>{"/bin/app"})) << source;
    EXPECT_EQ(info.manifest.args, (std::vector<std::string>{"--port", "80"}));
    EXPECT_EQ(info.manifest.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "MODE=override"}));
    EXPECT_EQ(info.manifest.workdir, "/opt");
  }
}

TEST_F(Source, RefusesEntriesThatLeaveTheStagingTree) {
  const std::vector<std::pair<std::vector<TarEntry>, std::string>> cases = {
      {{{"../evil", 'f', "x"}}, "climbs out"},
      {{{"a/../../evil", 'f', "x"}}, "climbs out"},
      {{{"/evil", 'f', "x"}}, "absolute path"},
      {{{"up", 'l', "../../evil"}}, "escapes the image"},
      {{{"d/e/up", 'l', "../../../x"}}, "escapes the image"},
      {{{"root", 'l', "/"}, {"root/evil", 'f', "x"}}, "not a directory"},
      {{{"out", 'l', "../.."}}, "escapes the image"},
      {{{"h", 'h', "../../etc/passwd"}}, "climbs out"},
  };
  for (const auto& [layer, reason] : cases) {
    fs::remove_all(dir_ / "staging");
    fs::create_directories(dir_ / "staging");
    fs::remove_all(dir_ / "bad-layout");
    std::string error = stage_error(layout_with(layer));
    EXPECT_NE(error.find(reason), std::string::npos) << layer.front().path << ": " << error;
    EXPECT_FALSE(fs::exists(dir_ / "evil"));
    EXPECT_FALSE(fs::exists(dir_.path().parent_path() / "evil"));
  }
  // Symlinks inside the image, absolute or relative, are fine.
  fs::remove_all(dir_ / "staging");
  fs::create_directories(dir_ / "staging");
  fs::remove_all(dir_ / "bad-layout");
  EXPECT_EQ(stage_error(layout_with({{"usr/bin/sh", 'l', "/bin/busybox"}, {"usr/lib64", 'l', "../lib"}})), "");
}

TEST_F(Source, RejectsCorruptOrIncompleteSources) {
  testing::write_text(dir_ / "junk.tar", std::string(5000, 'j'));
  EXPECT_NE(stage_error(dir_ / "junk.tar"), "");
  testing::make_docker_archive(dir_ / "docker.tar", dir_.path());
  auto bytes = testing::read_bytes(dir_ / "docker.tar");
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(dir_ / "truncated.tar", bytes);
  EXPECT_NE(stage_error(dir_ / "truncated.tar"), "");
  testing::write_tar(dir_ / "plain.tar", {{"hello", 'f', "x"}});
  EXPECT_NE(stage_error(dir_ / "plain.tar").find("neither an OCI layout nor a docker archive"), std::string::npos);

  testing::make_oci_layout(dir_ / "layout");
  // A blob that no longer matches its digest.
  for (const auto& blob : fs::directory_iterator(dir_ / "layout/blobs/sha256")) {
    auto content = testing::read_bytes(blob.path());
    if (content.size() > 200) {  // a layer
      content[content.size() / 2] ^= 1;
      testing::write_bytes(blob.path(), content);
      break;
    }
  }
  EXPECT_NE(stage_error(dir_ / "layout").find("does not match its digest"), std::string::npos);
  testing::write_text(dir_ / "layout/index.json", "{\"manifests\": [");
  EXPECT_NE(stage_error(dir_ / "layout").find("not valid JSON"), std::string::npos);
}

TEST_F(Source, CorruptLayerIsAnError) {
  testing::write_text(dir_ / "layer.tar", std::string(1024, '\x01'));
  EXPECT_THROW(extract_archive(dir_ / "layer.tar", dir_ / "staging", Whiteouts::kApply), Error);
}

}  // namespace
}  // namespace shelter::images
