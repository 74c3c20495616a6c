#include "images/reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/hex.h"
#include "images/block_io.h"
#include "images/digest.h"
#include "images/error.h"
#include "images/verity.h"

namespace shelter::images {
namespace {

bool all_zero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// [offset, offset + size) lies within [begin, end) and starts aligned.
void check_area(const char* name, uint64_t offset, uint64_t size, uint64_t begin, uint64_t end) {
  if (offset % kAreaAlignment != 0)
    throw FormatError(std::string("image header: ") + name + " offset is not 4 KiB aligned");
  if (offset < begin || offset > end || size > end - offset)
    throw FormatError(std::string("image header: ") + name + " area lies outside its bounds (offset " +
                      std::to_string(offset) + ", size " + std::to_string(size) + ")");
}

ImageHeader read_header(const ImageSource& source) {
  if (source.size() < kHeaderAreaSize)
    throw FormatError("image is truncated: " + std::to_string(source.size()) +
                      " bytes, smaller than the header");
  ImageHeader header{};
  source.read_at(0, {reinterpret_cast<uint8_t*>(&header), sizeof header});
  if (std::memcmp(header.magic, kImageMagic.data(), kImageMagic.size()) != 0)
    throw FormatError("not a Shelter image (bad magic)");
  if (header.format_version != kFormatVersion)
    throw FormatError("unsupported image format version " + std::to_string(header.format_version));
  if (header.header_size != sizeof(ImageHeader))
    throw FormatError("image header: unexpected header size " + std::to_string(header.header_size));
  Sha256Digest checksum = header_checksum(header);
  if (std::memcmp(checksum.data(), header.header_sha256, checksum.size()) != 0)
    throw FormatError("image header: checksum mismatch (the header is corrupt)");
  return header;
}

}  // namespace

std::array<uint8_t, 32> header_checksum(const ImageHeader& header) {
  return sha256({reinterpret_cast<const uint8_t*>(&header), offsetof(ImageHeader, header_sha256)});
}

std::string EncryptionInfo::key_id_hex() const { return to_hex(key_id); }

FileImageSource::FileImageSource(const std::filesystem::path& path) : name_(path.string()) {
  fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_) throw SystemError("cannot open " + name_, errno);
  struct stat st {};
  check_syscall(::fstat(fd_.get(), &st), "cannot stat " + name_);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    throw FormatError(name_ + ": not a regular file or block device");
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd_.get(), 0, SEEK_END);
    check_syscall(end, "cannot size " + name_);
    size_ = static_cast<uint64_t>(end);
  } else {
    size_ = static_cast<uint64_t>(st.st_size);
  }
}

void FileImageSource::read_at(uint64_t offset, std::span<uint8_t> out) const {
  read_exact_at(fd_.get(), out, offset, name_);
}

void MemoryImageSource::read_at(uint64_t offset, std::span<uint8_t> out) const {
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset)
    throw FormatError("read past the end of the image");
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
}

ImageInfo read_image(const ImageSource& source) {
  const ImageHeader h = read_header(source);
  if (h.image_size != source.size())
    throw FormatError("image is truncated or extended: header says " + std::to_string(h.image_size) +
                      " bytes, the file has " + std::to_string(source.size()));
  if (!all_zero(h.reserved)) throw FormatError("image header: reserved bytes are not zero");

  ImageInfo info;
  info.format_version = h.format_version;
  info.image_size = h.image_size;

  if (h.hash_algorithm != static_cast<uint32_t>(HashAlgorithm::kSha256))
    throw FormatError("image header: unknown hash algorithm " + std::to_string(h.hash_algorithm));
  if (h.data_block_size != 4096 || h.hash_block_size != 4096)
    throw FormatError("image header: verity block sizes must be 4096");

  // Areas in order, each after the previous one, all within the file.
  check_area("manifest", h.manifest_offset, h.manifest_size, kHeaderAreaSize, h.image_size);
  if (h.manifest_size == 0 || h.manifest_size > kMaxManifestSize)
    throw FormatError("image header: manifest size " + std::to_string(h.manifest_size) + " out of range");
  check_area("filesystem", h.data_offset, h.data_size,
             align_up(h.manifest_offset + h.manifest_size, kAreaAlignment), h.image_size);
  if (h.data_size == 0 || h.data_size % h.data_block_size != 0)
    throw FormatError("image header: filesystem area is not a whole number of data blocks");
  if (h.filesystem_size > h.data_size || h.data_size - h.filesystem_size >= h.data_block_size)
    throw FormatError("image header: filesystem size does not fit its area");
  check_area("hash", h.hash_offset, h.hash_size, h.data_offset + h.data_size, h.image_size);
  uint64_t data_blocks = h.data_size / h.data_block_size;
  if (h.hash_size != hash_area_size(data_blocks, h.hash_block_size))
    throw FormatError("image header: hash area size does not match the filesystem size");
  if (h.hash_offset + h.hash_size != h.image_size)
    throw FormatError("image header: bytes after the hash area");

  info.verity.algorithm = "sha256";
  info.verity.data_block_size = h.data_block_size;
  info.verity.hash_block_size = h.hash_block_size;
  info.verity.data_offset = h.data_offset;
  info.verity.data_size = h.data_size;
  info.verity.hash_offset = h.hash_offset;
  info.verity.root_hash.assign(std::begin(h.root_hash), std::end(h.root_hash));
  info.verity.salt.assign(std::begin(h.salt), std::end(h.salt));
  info.filesystem_size = h.filesystem_size;

  switch (static_cast<EncryptionKind>(h.encryption)) {
    case EncryptionKind::kNone:
      if (h.encryption_sector_size != 0 || !all_zero(h.key_id))
        throw FormatError("image header: encryption fields set on a plain image");
      break;
    case EncryptionKind::kAesXtsPlain64: {
      if (h.encryption_sector_size != kCryptSectorSize)
        throw FormatError("image header: unsupported encryption sector size");
      EncryptionInfo encryption;
      std::copy(std::begin(h.key_id), std::end(h.key_id), encryption.key_id.begin());
      info.encryption = encryption;
      break;
    }
    default:
      throw FormatError("image header: unknown encryption " + std::to_string(h.encryption));
  }

  std::vector<uint8_t> manifest(h.manifest_size);
  source.read_at(h.manifest_offset, manifest);
  Sha256Digest manifest_digest = sha256(manifest);
  if (std::memcmp(manifest_digest.data(), h.manifest_sha256, manifest_digest.size()) != 0)
    throw FormatError("image manifest: checksum mismatch");
  info.manifest_offset = h.manifest_offset;
  info.manifest_size = h.manifest_size;
  info.manifest = parse_manifest({reinterpret_cast<const char*>(manifest.data()), manifest.size()});

  VeritySuperblock superblock{};
  source.read_at(h.hash_offset, {reinterpret_cast<uint8_t*>(&superblock), sizeof superblock});
  check_superblock(superblock, info.verity);
  return info;
}

ImageInfo read_image(const std::filesystem::path& path) { return read_image(FileImageSource(path)); }

nlohmann::json image_info_to_json(const ImageInfo& info) {
  const VerityParams& v = info.verity;
  nlohmann::json encryption = nullptr;
  if (info.encryption) {
    encryption = {{"cipher", info.encryption->cipher},
                  {"iv", "plain64"},
                  {"key_size", info.encryption->key_size},
                  {"sector_size", info.encryption->sector_size},
                  {"key_id", info.encryption->key_id_hex()},
                  {"offset", v.data_offset},
                  {"size", v.data_size}};
  }
  return {{"format_version", info.format_version},
          {"image_size", info.image_size},
          {"manifest", manifest_to_json(info.manifest)},
          {"filesystem", {{"type", "erofs"}, {"size", info.filesystem_size}, {"offset", v.data_offset}}},
          {"verity",
           {{"algorithm", v.algorithm},
            {"data_block_size", v.data_block_size},
            {"hash_block_size", v.hash_block_size},
            {"data_offset", v.data_offset},
            {"data_size", v.data_size},
            {"data_blocks", v.data_blocks()},
            {"hash_offset", v.hash_offset},
            {"hash_size", info.image_size - v.hash_offset},
            {"root_hash", to_hex(v.root_hash)},
            {"salt", to_hex(v.salt)}}},
          {"encryption", encryption}};
}

}  // namespace shelter::images
