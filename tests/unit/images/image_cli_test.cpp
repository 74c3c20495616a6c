// shelter build / inspect / verify-image through the CLI, with the standard
// tools as oracles: veritysetup verify on the areas cut out at the offsets
// inspect --json prints, and fsck.erofs on the filesystem area.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/support/run_command.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images {
namespace {

using nlohmann::json;
using shelter::testing::run_command;
using testing::ScratchDir;

const std::string kShelter = SHELTER_BINARY;

std::string q(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

void expect_one_line_error(const shelter::testing::CommandResult& r, int status = 1) {
  EXPECT_EQ(r.status, status) << r.err;
  EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

std::vector<uint8_t> slice(const std::vector<uint8_t>& bytes, uint64_t offset, uint64_t size) {
  return {bytes.begin() + static_cast<ptrdiff_t>(offset), bytes.begin() + static_cast<ptrdiff_t>(offset + size)};
}

class ImageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::make_rootfs(dir_ / "root");
    image_ = dir_ / "model.img";
    auto r = run_command(kShelter + " build " + q(dir_ / "root") + " -o " + q(image_) +
                         " --entrypoint '/bin/app --fast' --env MODE=test --workdir /data");
    ASSERT_EQ(r.status, 0) << r.err;
    auto inspect = run_command(kShelter + " inspect --json " + q(image_));
    ASSERT_EQ(inspect.status, 0) << inspect.err;
    info_ = json::parse(inspect.out);
  }
  // Cuts the data and hash areas out of the image at the inspected offsets.
  void extract_areas() {
    std::vector<uint8_t> bytes = testing::read_bytes(image_);
    const json& v = info_["verity"];
    uint64_t hash_offset = v["hash_offset"];
    testing::write_bytes(dir_ / "data.bin", slice(bytes, v["data_offset"], v["data_size"]));
    testing::write_bytes(dir_ / "hash.bin", slice(bytes, hash_offset, bytes.size() - hash_offset));
  }
  shelter::testing::CommandResult veritysetup_verify() {
    return run_command("veritysetup verify " + q(dir_ / "data.bin") + " " + q(dir_ / "hash.bin") + " " +
                       info_["verity"]["root_hash"].get<std::string>());
  }
  void flip_byte(uint64_t offset) {
    std::vector<uint8_t> bytes = testing::read_bytes(image_);
    bytes.at(offset) ^= 0x80;
    testing::write_bytes(image_, bytes);
  }

  ScratchDir dir_;
  std::filesystem::path image_;
  json info_;
};

TEST_F(ImageCli, InspectJsonHasTheContractKeys) {
  EXPECT_EQ(info_["manifest"]["entrypoint"], json({"/bin/app", "--fast"}));
  EXPECT_EQ(info_["manifest"]["args"], json::array());
  EXPECT_EQ(info_["manifest"]["env"], json({"MODE=test"}));
  EXPECT_EQ(info_["manifest"]["workdir"], "/data");
  EXPECT_EQ(info_["filesystem"]["type"], "erofs");
  EXPECT_GT(info_["filesystem"]["size"].get<uint64_t>(), 0u);
  const json& v = info_["verity"];
  EXPECT_EQ(v["algorithm"], "sha256");
  EXPECT_EQ(v["data_block_size"], 4096);
  EXPECT_EQ(v["hash_block_size"], 4096);
  for (const char* key : {"data_offset", "data_size", "hash_offset"}) EXPECT_TRUE(v[key].is_number_unsigned()) << key;
  EXPECT_EQ(v["root_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(v["salt"].get<std::string>().size(), 64u);
  EXPECT_TRUE(info_["encryption"].is_null());
  auto text = run_command(kShelter + " inspect " + q(image_));
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find(v["root_hash"].get<std::string>()), std::string::npos);
}

TEST_F(ImageCli, VeritysetupAndFsckAcceptTheAreas) {
  extract_areas();
  auto verify = veritysetup_verify();
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  auto fsck = run_command("fsck.erofs --extract=" + q(dir_ / "tree") + " " + q(dir_ / "data.bin"));
  EXPECT_EQ(fsck.status, 0) << fsck.out << fsck.err;
  // The manifest guest-init obeys is inside the verified filesystem and equals the header copy.
  auto inside = testing::read_bytes(dir_ / "tree/.shelter/manifest.json");
  auto header_copy = slice(testing::read_bytes(image_), 4096, inside.size());
  EXPECT_EQ(inside, header_copy);
  EXPECT_EQ(json::parse(inside)["entrypoint"], info_["manifest"]["entrypoint"]);
  EXPECT_EQ(testing::read_bytes(dir_ / "tree/data/weights.bin").size(), 100000u);
  auto ok = run_command(kShelter + " verify-image " + q(image_));
  EXPECT_EQ(ok.status, 0) << ok.err;
}

TEST_F(ImageCli, OneFlippedDataByteFailsBothVerifiers) {
  uint64_t data_offset = info_["verity"]["data_offset"];
  flip_byte(data_offset + 4096 + 17);
  extract_areas();
  EXPECT_NE(veritysetup_verify().status, 0);
  auto r = run_command(kShelter + " verify-image " + q(image_));
  expect_one_line_error(r);
  EXPECT_NE(r.err.find("data block 1 "), std::string::npos) << r.err;
}

TEST_F(ImageCli, OneFlippedHashByteFailsVerifyImage) {
  uint64_t hash_offset = info_["verity"]["hash_offset"];
  flip_byte(hash_offset + 4096 + 3);
  auto r = run_command(kShelter + " verify-image " + q(image_));
  expect_one_line_error(r);
  EXPECT_NE(r.err.find("hash block"), std::string::npos) << r.err;
}

TEST_F(ImageCli, TruncatedOrAlteredImagesGiveOneLineErrors) {
  std::vector<uint8_t> bytes = testing::read_bytes(image_);
  testing::write_bytes(dir_ / "short.img", slice(bytes, 0, bytes.size() - 4096));
  testing::write_bytes(dir_ / "header.img", bytes);
  {
    auto altered = bytes;
    altered[20] ^= 1;
    testing::write_bytes(dir_ / "header.img", altered);
  }
  testing::write_text(dir_ / "text.img", "hello\n");
  for (const char* name : {"short.img", "header.img", "text.img", "absent.img"}) {
    expect_one_line_error(run_command(kShelter + " inspect " + q(dir_ / name)));
    expect_one_line_error(run_command(kShelter + " verify-image " + q(dir_ / name)));
  }
}

TEST_F(ImageCli, BadBuildInputsGiveOneLineErrors) {
  expect_one_line_error(run_command(kShelter + " build " + q(dir_ / "absent") + " -o " + q(dir_ / "x.img")));
  auto exists = run_command(kShelter + " build " + q(dir_ / "root") + " -o " + q(image_) + " --entrypoint /bin/app");
  expect_one_line_error(exists);
  EXPECT_NE(exists.err.find("--force"), std::string::npos);
  auto missing = run_command(kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "y.img") +
                             " --entrypoint /bin/missing");
  expect_one_line_error(missing);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "y.img"));
  auto forced = run_command(kShelter + " build " + q(dir_ / "root") + " -o " + q(image_) +
                            " --entrypoint /bin/app --force");
  EXPECT_EQ(forced.status, 0) << forced.err;
  expect_one_line_error(run_command(kShelter + " build " + q(dir_ / "root")), 2);
}

// The oracle for --encrypt, written from the dm-crypt rule rather than taken
// from the product: AES-256-XTS per 512-byte sector, IV = sector number
// (little-endian, zero-padded), sectors counted from the area's start.
std::vector<uint8_t> decrypt_plain64(const std::vector<uint8_t>& cipher, const std::vector<uint8_t>& key) {
  std::vector<uint8_t> plain(cipher.size());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  for (size_t sector = 0; sector * 512 < cipher.size(); ++sector) {
    uint8_t iv[16] = {};
    for (int i = 0; i < 8; ++i) iv[i] = static_cast<uint8_t>(sector >> (8 * i));
    int n = 0;
    EXPECT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_xts(), nullptr, key.data(), iv), 1);
    EXPECT_EQ(EVP_DecryptUpdate(ctx, plain.data() + sector * 512, &n, cipher.data() + sector * 512, 512), 1);
  }
  EVP_CIPHER_CTX_free(ctx);
  return plain;
}

bool contains(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(ImageCli, EncryptedAreaDecryptsToTheFilesystem) {
  std::string home = "SHELTER_HOME=" + q(dir_ / "home") + " ";
  auto r = run_command(home + kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "enc.img") +
                       " --entrypoint /bin/app --encrypt");
  ASSERT_EQ(r.status, 0) << r.err;
  image_ = dir_ / "enc.img";
  info_ = json::parse(run_command(kShelter + " inspect --json " + q(image_)).out);
  const json& e = info_["encryption"];
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["cipher"], "aes-xts-plain64");
  EXPECT_EQ(e["iv"], "plain64");
  EXPECT_EQ(e["sector_size"], 512);
  std::string key_id = e["key_id"];
  EXPECT_EQ(key_id.size(), 32u);
  auto key_path = dir_ / "home/keys" / (key_id + ".key");
  EXPECT_EQ(mode_of(dir_ / "home/keys"), 0700u);
  EXPECT_EQ(mode_of(key_path), 0600u);
  std::vector<uint8_t> key = testing::read_bytes(key_path);
  ASSERT_EQ(key.size(), 64u);
  std::vector<uint8_t> image = testing::read_bytes(image_);
  EXPECT_FALSE(contains(image, {key.begin(), key.begin() + 32}));
  EXPECT_FALSE(contains(image, {key.begin() + 32, key.end()}));

  // Verity covers the ciphertext; the plaintext is a valid EROFS holding the manifest.
  extract_areas();
  EXPECT_EQ(veritysetup_verify().status, 0);
  EXPECT_EQ(run_command(kShelter + " verify-image " + q(image_)).status, 0);
  std::vector<uint8_t> cipher = testing::read_bytes(dir_ / "data.bin");
  EXPECT_NE(run_command("fsck.erofs " + q(dir_ / "data.bin")).status, 0);
  testing::write_bytes(dir_ / "plain.bin", decrypt_plain64(cipher, key));
  auto fsck = run_command("fsck.erofs --extract=" + q(dir_ / "tree") + " " + q(dir_ / "plain.bin"));
  ASSERT_EQ(fsck.status, 0) << fsck.out << fsck.err;
  EXPECT_EQ(json::parse(testing::read_bytes(dir_ / "tree/.shelter/manifest.json"))["entrypoint"],
            json({"/bin/app"}));
}

TEST_F(ImageCli, KeyFileInsteadOfTheKeystore) {
  std::string home = "SHELTER_HOME=" + q(dir_ / "home") + " ";
  auto r = run_command(home + kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "enc.img") +
                       " --entrypoint /bin/app --encrypt --key-file " + q(dir_ / "image.key"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(testing::read_bytes(dir_ / "image.key").size(), 64u);
  EXPECT_EQ(mode_of(dir_ / "image.key"), 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "home/keys"));
  // An existing key file is not overwritten without --force.
  auto again = run_command(home + kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "enc2.img") +
                           " --entrypoint /bin/app --encrypt --key-file " + q(dir_ / "image.key"));
  expect_one_line_error(again);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "enc2.img"));
  expect_one_line_error(run_command(kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "x.img") +
                                    " --key-file " + q(dir_ / "k")), 2);
}

TEST_F(ImageCli, FailedEncryptedBuildLeavesNoKey) {
  std::string home = "SHELTER_HOME=" + q(dir_ / "home") + " ";
  auto r = run_command(home + kShelter + " build " + q(dir_ / "root") + " -o " + q(dir_ / "enc.img") +
                       " --entrypoint /bin/missing --encrypt");
  expect_one_line_error(r);
  EXPECT_TRUE(!std::filesystem::exists(dir_ / "home/keys") || std::filesystem::is_empty(dir_ / "home/keys"));
}

}  // namespace
}  // namespace shelter::images
