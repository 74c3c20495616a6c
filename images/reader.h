#pragma once
// Reads a Shelter image's header, host manifest copy and verity superblock,
// checking every field against the others and against the file size. Used by
// `shelter inspect`/`verify-image`, the launcher (to put the verity
// parameters on the measured command line) and guest-init.
#include <array>
#include <nlohmann/json_fwd.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "common/unique_fd.h"
#include "images/format.h"
#include "images/manifest.h"
#include "images/verity_params.h"

namespace shelter::images {

struct EncryptionInfo {
  std::string cipher = "aes-xts-plain64";  // dm-crypt's name for it
  uint32_t key_size = kXtsKeySize;         // bytes
  uint32_t sector_size = kCryptSectorSize;
  // The encrypted area is the filesystem area (VerityParams data_offset/data_size);
  // plain64 IVs count sectors from its start.
  std::array<uint8_t, kKeyIdSize> key_id{};

  std::string key_id_hex() const;
  bool operator==(const EncryptionInfo&) const = default;
};

struct ImageInfo {
  uint32_t format_version = kFormatVersion;
  uint64_t image_size = 0;
  uint64_t manifest_offset = 0;
  uint64_t manifest_size = 0;
  Manifest manifest;
  uint64_t filesystem_size = 0;  // EROFS bytes within the data area
  VerityParams verity;
  std::optional<EncryptionInfo> encryption;
};

// Random access to an image's bytes, so the parser can run on a file or on
// a buffer (tests, fuzzing).
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly out.size() bytes at offset, which the caller has bounded by size().
  virtual void read_at(uint64_t offset, std::span<uint8_t> out) const = 0;
};

class FileImageSource : public ImageSource {
 public:
  explicit FileImageSource(const std::filesystem::path& path);
  uint64_t size() const override { return size_; }
  void read_at(uint64_t offset, std::span<uint8_t> out) const override;
  int fd() const noexcept { return fd_.get(); }

 private:
  std::string name_;
  UniqueFd fd_;
  uint64_t size_ = 0;
};

class MemoryImageSource : public ImageSource {
 public:
  explicit MemoryImageSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }
  void read_at(uint64_t offset, std::span<uint8_t> out) const override;

 private:
  std::span<const uint8_t> bytes_;
};

// Throws FormatError naming the first field that is malformed, out of
// bounds or inconsistent. Does not read the data area (see verify_hash_tree).
ImageInfo read_image(const ImageSource& source);
ImageInfo read_image(const std::filesystem::path& path);

// The `shelter inspect --json` document (keys listed in docs/image-format.md).
nlohmann::json image_info_to_json(const ImageInfo& info);

}  // namespace shelter::images
