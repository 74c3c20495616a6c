// The image reader on truncated, extended and altered images: every bad
// field is a FormatError, never a crash or an out-of-bounds read.
#include "images/reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include "images/builder.h"
#include "images/error.h"
#include "images/verity.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images {
namespace {

using testing::ScratchDir;

class Reader : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir;
    testing::make_rootfs(*dir_ / "root");
    BuildOptions options;
    options.source = *dir_ / "root";
    options.output = *dir_ / "image";
    options.entrypoint = std::vector<std::string>{"/bin/app", "--serve"};
    built_ = new ImageInfo(build_image(options));
    image_ = new std::vector<uint8_t>(testing::read_bytes(*dir_ / "image"));
  }
  static void TearDownTestSuite() {
    delete image_;
    delete built_;
    delete dir_;
  }

  static ImageHeader header_of(const std::vector<uint8_t>& bytes) {
    ImageHeader h{};
    std::memcpy(&h, bytes.data(), sizeof h);
    return h;
  }
  // The image with its header changed by mutate and the checksum recomputed,
  // so that the checks behind the checksum are what is exercised.
  static std::vector<uint8_t> with_header(const std::function<void(ImageHeader&)>& mutate) {
    std::vector<uint8_t> bytes = *image_;
    ImageHeader h = header_of(bytes);
    mutate(h);
    auto sum = header_checksum(h);
    std::memcpy(h.header_sha256, sum.data(), sum.size());
    std::memcpy(bytes.data(), &h, sizeof h);
    return bytes;
  }
  static ImageInfo read(const std::vector<uint8_t>& bytes) { return read_image(MemoryImageSource(bytes)); }

  static inline ScratchDir* dir_ = nullptr;
  static inline ImageInfo* built_ = nullptr;
  static inline std::vector<uint8_t>* image_ = nullptr;
};

TEST_F(Reader, ReadsWhatTheBuilderWrote) {
  ImageInfo info = read(*image_);
  EXPECT_EQ(info.manifest, built_->manifest);
  EXPECT_EQ(info.manifest.entrypoint, (std::vector<std::string>{"/bin/app", "--serve"}));
  EXPECT_EQ(info.verity, built_->verity);
  EXPECT_EQ(info.image_size, image_->size());
  EXPECT_EQ(info.verity.data_offset % 4096, 0u);
  EXPECT_EQ(info.verity.hash_offset, info.verity.data_offset + info.verity.data_size);
  EXPECT_EQ(info.verity.salt.size(), 32u);
  EXPECT_EQ(info.verity.root_hash.size(), 32u);
  EXPECT_FALSE(info.encryption);
  EXPECT_EQ(read_image(*dir_ / "image").verity, info.verity);
}

TEST_F(Reader, RejectsEveryTruncation) {
  const size_t size = image_->size();
  for (size_t length : {size_t{0}, size_t{7}, size_t{511}, size_t{4095}, size_t{4096}, size_t{8191},
                        size - 4097, size - 4096, size - 1}) {
    std::vector<uint8_t> cut(image_->begin(), image_->begin() + static_cast<ptrdiff_t>(length));
    EXPECT_THROW(read(cut), FormatError) << "length " << length;
  }
  std::vector<uint8_t> longer = *image_;
  longer.push_back(0);
  EXPECT_THROW(read(longer), FormatError);
}

TEST_F(Reader, EveryHeaderByteIsCoveredByTheChecksum) {
  for (size_t i = 0; i < sizeof(ImageHeader); ++i) {
    std::vector<uint8_t> bytes = *image_;
    bytes[i] ^= 0x40;
    EXPECT_THROW(read(bytes), FormatError) << "byte " << i;
  }
}

TEST_F(Reader, AlteredManifestOrSuperblockIsRejected) {
  std::vector<uint8_t> bytes = *image_;
  bytes[built_->manifest_offset + 3] ^= 1;
  EXPECT_THROW(read(bytes), FormatError);
  bytes = *image_;
  bytes[built_->verity.hash_offset + offsetof(VeritySuperblock, data_blocks)] ^= 1;
  EXPECT_THROW(read(bytes), FormatError);
  bytes = *image_;
  bytes[built_->verity.hash_offset + offsetof(VeritySuperblock, salt)] ^= 1;
  EXPECT_THROW(read(bytes), FormatError);
}

TEST_F(Reader, RejectsInconsistentFieldsBehindAValidChecksum) {
  const std::vector<std::pair<const char*, std::function<void(ImageHeader&)>>> cases = {
      {"version", [](ImageHeader& h) { h.format_version = 2; }},
      {"header size", [](ImageHeader& h) { h.header_size = 4096; }},
      {"image size", [](ImageHeader& h) { h.image_size += 4096; }},
      {"manifest offset", [](ImageHeader& h) { h.manifest_offset = 0; }},
      {"manifest past end", [](ImageHeader& h) { h.manifest_offset = h.image_size; }},
      {"manifest huge", [](ImageHeader& h) { h.manifest_size = ~uint64_t{0} - 100; }},
      {"manifest empty", [](ImageHeader& h) { h.manifest_size = 0; }},
      {"data misaligned", [](ImageHeader& h) { h.data_offset += 512; }},
      {"data overlaps manifest", [](ImageHeader& h) { h.data_offset = 4096; }},
      {"data wraps", [](ImageHeader& h) { h.data_size = ~uint64_t{0} - 4095; }},
      {"data not blocks", [](ImageHeader& h) { h.data_size -= 100; }},
      {"data zero", [](ImageHeader& h) { h.data_size = 0; }},
      {"filesystem too big", [](ImageHeader& h) { h.filesystem_size = h.data_size + 1; }},
      {"hash offset", [](ImageHeader& h) { h.hash_offset -= 4096; }},
      {"hash size", [](ImageHeader& h) { h.hash_size -= 4096; }},
      {"block size", [](ImageHeader& h) { h.data_block_size = 512; }},
      {"algorithm", [](ImageHeader& h) { h.hash_algorithm = 9; }},
      {"encryption kind", [](ImageHeader& h) { h.encryption = 7; }},
      {"sector size", [](ImageHeader& h) { h.encryption = 1; h.encryption_sector_size = 4096; }},
      {"key id on plain", [](ImageHeader& h) { h.key_id[0] = 1; }},
      {"reserved", [](ImageHeader& h) { h.reserved[100] = 1; }},
  };
  for (const auto& [name, mutate] : cases) EXPECT_THROW(read(with_header(mutate)), FormatError) << name;
}

TEST_F(Reader, EncryptionFieldsAreReported) {
  ImageInfo info = read(with_header([](ImageHeader& h) {
    h.encryption = 1;
    h.encryption_sector_size = 512;
    h.key_id[15] = 0xab;
  }));
  ASSERT_TRUE(info.encryption);
  EXPECT_EQ(info.encryption->cipher, "aes-xts-plain64");
  EXPECT_EQ(info.encryption->key_id_hex(), "000000000000000000000000000000ab");
}

TEST_F(Reader, NotAnImage) {
  std::vector<uint8_t> zeros(8192, 0);
  EXPECT_THROW(read(zeros), FormatError);
  EXPECT_THROW(read_image(*dir_ / "no-such-file"), Error);
  EXPECT_THROW(read_image(dir_->path()), Error);
}

}  // namespace
}  // namespace shelter::images
