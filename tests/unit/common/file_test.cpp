#include "common/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "common/error.h"

namespace shelter {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("shelter-file-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  fs::path dir_;
};

TEST_F(FileTest, AtomicWriteCreatesFileWithMode) {
  std::vector<uint8_t> data{1, 2, 3};
  write_file_atomic(dir_ / "out", data, 0600);
  EXPECT_EQ(read_file(dir_ / "out", 16), data);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, UncommittedOutputLeavesNothing) {
  {
    AtomicOutputFile out(dir_ / "partial", 0644);
    out.write(std::vector<uint8_t>(100, 7));
    EXPECT_TRUE(fs::exists(out.temporary_path()));
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(FileTest, ReadFileRejectsOversizeAndMissing) {
  write_file_atomic(dir_ / "big", std::vector<uint8_t>(10, 0), 0644);
  EXPECT_THROW(read_file(dir_ / "big", 9), Error);
  EXPECT_THROW(read_file(dir_ / "missing", 9), SystemError);
  EXPECT_THROW(read_file(dir_, 9), Error);
}

TEST(ExecutableDirectoryTest, IsTheFolderHoldingThisTest) {
  fs::path directory = executable_directory();
  EXPECT_TRUE(directory.is_absolute());
  EXPECT_TRUE(fs::is_regular_file(directory / "common_test"));
}

}  // namespace
}  // namespace shelter
