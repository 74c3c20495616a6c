#pragma once
// The dm-verity hash tree in the on-disk format of `veritysetup format`
// (format version 1, SHA-256, salt hashed before each block): a 512-byte
// superblock padded to one hash block, then the tree levels from the top
// (one block) down to level 0 (the hashes of the data blocks).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "images/digest.h"
#include "images/progress.h"
#include "images/verity_params.h"

namespace shelter::images {

inline constexpr char kVeritySignature[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};

struct [[gnu::packed]] VeritySuperblock {
  uint8_t signature[8];  // kVeritySignature
  uint32_t version;      // 1
  uint32_t hash_type;    // 1: SHA(salt || block)
  uint8_t uuid[16];
  char algorithm[32];    // "sha256", NUL-padded
  uint32_t data_block_size;
  uint32_t hash_block_size;
  uint64_t data_blocks;
  uint16_t salt_size;
  uint8_t pad1[6];
  uint8_t salt[256];
  uint8_t pad2[168];
};
static_assert(sizeof(VeritySuperblock) == 512);
static_assert(offsetof(VeritySuperblock, version) == 8);
static_assert(offsetof(VeritySuperblock, uuid) == 16);
static_assert(offsetof(VeritySuperblock, algorithm) == 32);
static_assert(offsetof(VeritySuperblock, data_block_size) == 64);
static_assert(offsetof(VeritySuperblock, data_blocks) == 72);
static_assert(offsetof(VeritySuperblock, salt_size) == 80);
static_assert(offsetof(VeritySuperblock, salt) == 88);
static_assert(offsetof(VeritySuperblock, pad2) == 344);

// Where each level of the tree lies, in hash blocks after the superblock block.
struct TreeGeometry {
  std::vector<uint64_t> level_blocks;  // [0] = level 0 (hashes of data blocks)
  std::vector<uint64_t> level_start;   // first block of each level
  uint64_t total_blocks = 0;
};

// The same geometry veritysetup computes; data_blocks >= 1.
TreeGeometry tree_geometry(uint64_t data_blocks, uint32_t hash_block_size);
// Superblock block plus tree, in bytes.
uint64_t hash_area_size(uint64_t data_blocks, uint32_t hash_block_size);

VeritySuperblock make_superblock(const VerityParams& params, std::span<const uint8_t, 16> uuid);
// Throws FormatError unless the superblock describes exactly these parameters.
void check_superblock(const VeritySuperblock& superblock, const VerityParams& params);

// Computes the tree of the params.data_size bytes at params.data_offset of
// data_fd and writes it after the superblock block at params.hash_offset of
// hash_fd (the superblock itself is the caller's). Streams the data in
// chunks on every core. Returns the root hash.
Sha256Digest write_hash_tree(int data_fd, int hash_fd, const VerityParams& params,
                             ProgressSink* progress = nullptr,
                             const std::atomic<bool>* cancel = nullptr);

// The first block that does not match its hash, checking from the root down.
struct BadBlock {
  enum class Area { kData, kHash } area;
  uint32_t level;      // tree level of a bad hash block (0 for data blocks)
  uint64_t index;      // block number within its level or within the data area
  uint64_t file_offset;
};

// Checks every hash block against the root hash and every data block against
// the tree, in fd (the whole image). nullopt when all match.
std::optional<BadBlock> verify_hash_tree(int fd, const VerityParams& params,
                                         ProgressSink* progress = nullptr);

}  // namespace shelter::images
