#pragma once
// The on-disk layout of a Shelter image, one file, every area aligned to
// kAreaAlignment:
//   [0, kHeaderAreaSize)          ImageHeader, zero-padded
//   [manifest_offset, +size)      the manifest JSON (host copy), zero-padded
//   [data_offset, +data_size)     the EROFS filesystem (AES-256-XTS ciphertext
//                                 when encrypted), zero-padded to a data block
//   [hash_offset, +hash_size)     dm-verity superblock (one hash block), then
//                                 the hash tree, exactly as `veritysetup format`
//                                 writes them
// Integers are little-endian; the build only targets little-endian hosts.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace shelter::images {

static_assert(std::endian::native == std::endian::little,
              "image structures are little-endian and copied as they lie in memory");

inline constexpr uint64_t kAreaAlignment = 4096;
inline constexpr uint64_t kHeaderAreaSize = 4096;
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr std::array<uint8_t, 8> kImageMagic = {'S', 'H', 'L', 'T', 'R', 'I', 'M', 'G'};
// The host copy of the manifest is bounded so readers never allocate much for it.
inline constexpr uint64_t kMaxManifestSize = 1 << 20;
inline constexpr size_t kSaltSize = 32;
inline constexpr size_t kRootHashSize = 32;
inline constexpr size_t kKeyIdSize = 16;
// AES-256-XTS takes two 256-bit keys.
inline constexpr size_t kXtsKeySize = 64;
// dm-crypt's default sector size; plain64 IVs count these sectors.
inline constexpr uint32_t kCryptSectorSize = 512;

enum class HashAlgorithm : uint32_t { kSha256 = 1 };
enum class EncryptionKind : uint32_t { kNone = 0, kAesXtsPlain64 = 1 };

struct [[gnu::packed]] ImageHeader {
  uint8_t magic[8];
  uint32_t format_version;
  uint32_t header_size;  // sizeof(ImageHeader)
  uint64_t image_size;   // the whole file
  uint64_t manifest_offset;
  uint64_t manifest_size;  // JSON bytes, before padding
  uint64_t data_offset;
  uint64_t data_size;        // a whole number of data blocks
  uint64_t filesystem_size;  // EROFS bytes, before padding
  uint64_t hash_offset;      // the verity superblock
  uint64_t hash_size;        // superblock block + tree
  uint32_t data_block_size;
  uint32_t hash_block_size;
  uint32_t hash_algorithm;  // HashAlgorithm
  uint32_t encryption;      // EncryptionKind
  uint32_t encryption_sector_size;
  uint8_t key_id[kKeyIdSize];  // names the key in a keystore or broker; all zero when plain
  uint8_t salt[kSaltSize];
  uint8_t root_hash[kRootHashSize];
  uint8_t manifest_sha256[32];
  uint8_t reserved[268];        // zero
  uint8_t header_sha256[32];    // SHA-256 of every byte before this field
};
static_assert(sizeof(ImageHeader) == 512);
static_assert(offsetof(ImageHeader, format_version) == 8);
static_assert(offsetof(ImageHeader, image_size) == 16);
static_assert(offsetof(ImageHeader, manifest_offset) == 24);
static_assert(offsetof(ImageHeader, data_offset) == 40);
static_assert(offsetof(ImageHeader, filesystem_size) == 56);
static_assert(offsetof(ImageHeader, hash_offset) == 64);
static_assert(offsetof(ImageHeader, data_block_size) == 80);
static_assert(offsetof(ImageHeader, hash_algorithm) == 88);
static_assert(offsetof(ImageHeader, encryption) == 92);
static_assert(offsetof(ImageHeader, encryption_sector_size) == 96);
static_assert(offsetof(ImageHeader, key_id) == 100);
static_assert(offsetof(ImageHeader, salt) == 116);
static_assert(offsetof(ImageHeader, root_hash) == 148);
static_assert(offsetof(ImageHeader, manifest_sha256) == 180);
static_assert(offsetof(ImageHeader, reserved) == 212);
static_assert(offsetof(ImageHeader, header_sha256) == 480);
static_assert(sizeof(ImageHeader) <= kHeaderAreaSize);

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

// SHA-256 of the header's bytes before header_sha256.
std::array<uint8_t, 32> header_checksum(const ImageHeader& header);

}  // namespace shelter::images
