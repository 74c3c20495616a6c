#include "runtime/keystore.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "common/error.h"
#include "tests/unit/images/scratch.h"

namespace shelter::runtime {
namespace {

using images::testing::ScratchDir;

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(Keystore, StoresPrivatelyAndLoadsBack) {
  ScratchDir dir;
  Keystore keystore(dir / "home");
  std::vector<uint8_t> key(64, 0x5a);
  keystore.store("00ff", key);
  EXPECT_EQ(mode_of(dir / "home/keys"), 0700u);
  EXPECT_EQ(mode_of(dir / "home/keys/00ff.key"), 0600u);
  EXPECT_EQ(keystore.load("00ff"), key);
  EXPECT_THROW(keystore.store("00ff", key), Error);
  keystore.remove("00ff");
  EXPECT_THROW(keystore.load("00ff"), Error);
}

TEST(Keystore, RejectsKeyIdsThatAreNotHex) {
  ScratchDir dir;
  Keystore keystore(dir.path());
  for (const char* id : {"", "../x", "a/b", "ABCD", "key"}) EXPECT_THROW(keystore.key_path(id), Error) << id;
}

TEST(Keystore, RefusesAKeyOthersCanRead) {
  ScratchDir dir;
  Keystore keystore(dir.path());
  keystore.store("ab", std::vector<uint8_t>(64, 1));
  std::filesystem::permissions(keystore.key_path("ab"), std::filesystem::perms(0644));
  EXPECT_THROW(keystore.load("ab"), Error);
}

TEST(Keystore, DefaultHomeFollowsTheEnvironment) {
  ::setenv("SHELTER_HOME", "/srv/shelter", 1);
  EXPECT_EQ(Keystore::open_default().keys_dir(), "/srv/shelter/keys");
  ::unsetenv("SHELTER_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(Keystore::open_default().keys_dir(), "/home/u/.local/share/shelter/keys");
}

}  // namespace
}  // namespace shelter::runtime
