// The hash tree against `veritysetup format` (cryptsetup) as the oracle, and
// verify_hash_tree's report of the first bad block.
#include "images/verity.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "common/hex.h"
#include "common/unique_fd.h"
#include "tests/support/run_command.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images {
namespace {

using testing::ScratchDir;

// Distinct blocks, cheaply: a few random words at the start of each 4 KiB.
std::vector<uint8_t> random_data(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> out(size);
  for (size_t block = 0; block < size; block += 4096)
    for (size_t i = 0; i < std::min<size_t>(64, size - block); ++i) out[block + i] = static_cast<uint8_t>(rng());
  return out;
}

VerityParams params_for(uint64_t blocks) {
  VerityParams p;
  p.data_offset = 0;
  p.data_size = blocks * 4096;
  p.hash_offset = 0;
  p.salt = random_data(32, 7);
  return p;
}

// Writes the tree of data to a separate hash file, superblock included.
std::vector<uint8_t> our_hash_area(const ScratchDir& dir, const std::vector<uint8_t>& data,
                                   VerityParams& params, const std::array<uint8_t, 16>& uuid) {
  testing::write_bytes(dir / "data", data);
  UniqueFd data_fd(::open((dir / "data").c_str(), O_RDONLY));
  UniqueFd hash_fd(::open((dir / "ours").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600));
  Sha256Digest root = write_hash_tree(data_fd.get(), hash_fd.get(), params);
  params.root_hash.assign(root.begin(), root.end());
  VeritySuperblock sb = make_superblock(params, uuid);
  EXPECT_EQ(::pwrite(hash_fd.get(), &sb, sizeof sb, 0), static_cast<ssize_t>(sizeof sb));
  EXPECT_EQ(::ftruncate(hash_fd.get(), static_cast<off_t>(hash_area_size(params.data_blocks(), 4096))), 0);
  return testing::read_bytes(dir / "ours");
}

std::string uuid_text(const std::array<uint8_t, 16>& u) {
  std::string hex = to_hex(u);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

class VeritysetupOracle : public ::testing::TestWithParam<uint64_t> {};

TEST_P(VeritysetupOracle, SameTreeBytesAndRootHash) {
  ScratchDir dir;
  const uint64_t blocks = GetParam();
  std::vector<uint8_t> data = random_data(blocks * 4096, static_cast<unsigned>(blocks));
  VerityParams params = params_for(blocks);
  std::array<uint8_t, 16> uuid{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  std::vector<uint8_t> ours = our_hash_area(dir, data, params, uuid);

  auto r = shelter::testing::run_command("veritysetup format " + (dir / "data").string() + " " +
                                         (dir / "theirs").string() + " --salt=" + to_hex(params.salt) +
                                         " --uuid=" + uuid_text(uuid));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(to_hex(params.root_hash)), std::string::npos) << r.out;
  std::vector<uint8_t> theirs = testing::read_bytes(dir / "theirs");
  ASSERT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(ours == theirs);
}

// One block (no tree), one full hash block, one more (two levels), three levels.
INSTANTIATE_TEST_SUITE_P(Sizes, VeritysetupOracle, ::testing::Values(1, 2, 127, 128, 129, 300, 16385));

TEST(TreeGeometry, LevelsAreStoredTopFirst) {
  TreeGeometry g = tree_geometry(16385, 4096);
  ASSERT_EQ(g.level_blocks, (std::vector<uint64_t>{129, 2, 1}));
  EXPECT_EQ(g.level_start, (std::vector<uint64_t>{3, 1, 0}));
  EXPECT_EQ(g.total_blocks, 132u);
  EXPECT_TRUE(tree_geometry(1, 4096).level_blocks.empty());
}

class VerifyTree : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file holding data then hash area, as an image does.
    data_ = random_data(300 * 4096, 3);
    params_ = params_for(300);
    params_.hash_offset = params_.data_size;
    testing::write_bytes(dir_ / "image", data_);
    fd_.reset(::open((dir_ / "image").c_str(), O_RDWR));
    Sha256Digest root = write_hash_tree(fd_.get(), fd_.get(), params_);
    params_.root_hash.assign(root.begin(), root.end());
  }
  void flip(uint64_t offset) {
    uint8_t b = 0;
    ASSERT_EQ(::pread(fd_.get(), &b, 1, static_cast<off_t>(offset)), 1);
    b ^= 0x01;
    ASSERT_EQ(::pwrite(fd_.get(), &b, 1, static_cast<off_t>(offset)), 1);
  }
  uint64_t tree() const { return params_.hash_offset + 4096; }

  ScratchDir dir_;
  std::vector<uint8_t> data_;
  VerityParams params_;
  UniqueFd fd_;
};

TEST_F(VerifyTree, IntactTreeVerifies) { EXPECT_FALSE(verify_hash_tree(fd_.get(), params_)); }

TEST_F(VerifyTree, NamesTheFlippedDataBlock) {
  flip(257 * 4096 + 99);
  auto bad = verify_hash_tree(fd_.get(), params_);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->area, BadBlock::Area::kData);
  EXPECT_EQ(bad->index, 257u);
  EXPECT_EQ(bad->file_offset, 257u * 4096);
}

TEST_F(VerifyTree, NamesTheFlippedHashBlock) {
  // 300 blocks: level 1 (top) is tree block 0, level 0 is tree blocks 1..3.
  flip(tree() + 2 * 4096 + 5);
  auto bad = verify_hash_tree(fd_.get(), params_);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->area, BadBlock::Area::kHash);
  EXPECT_EQ(bad->level, 0u);
  EXPECT_EQ(bad->index, 1u);
}

TEST_F(VerifyTree, ZeroPaddingOfTheTopBlockIsCovered) {
  flip(tree() + 4000);
  auto bad = verify_hash_tree(fd_.get(), params_);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->area, BadBlock::Area::kHash);
  EXPECT_EQ(bad->level, 1u);
}

TEST_F(VerifyTree, WrongRootHashFails) {
  params_.root_hash[0] ^= 1;
  EXPECT_TRUE(verify_hash_tree(fd_.get(), params_));
}

TEST(Superblock, CheckRejectsEveryMismatch) {
  VerityParams p = params_for(10);
  std::array<uint8_t, 16> uuid{};
  VeritySuperblock good = make_superblock(p, uuid);
  EXPECT_NO_THROW(check_superblock(good, p));
  auto expect_rejected = [&](auto mutate) {
    VeritySuperblock sb = good;
    mutate(sb);
    EXPECT_ANY_THROW(check_superblock(sb, p));
  };
  expect_rejected([](VeritySuperblock& sb) { sb.signature[0] = 'x'; });
  expect_rejected([](VeritySuperblock& sb) { sb.version = 2; });
  expect_rejected([](VeritySuperblock& sb) { sb.hash_type = 0; });
  expect_rejected([](VeritySuperblock& sb) { std::strcpy(sb.algorithm, "sha1"); });
  expect_rejected([](VeritySuperblock& sb) { sb.data_blocks = 11; });
  expect_rejected([](VeritySuperblock& sb) { sb.hash_block_size = 512; });
  expect_rejected([](VeritySuperblock& sb) { sb.salt_size = 31; });
  expect_rejected([](VeritySuperblock& sb) { sb.salt[3] ^= 1; });
}

}  // namespace
}  // namespace shelter::images
