#include "images/verity.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "images/block_io.h"
#include "images/error.h"
#include "images/parallel.h"

namespace shelter::images {
namespace {

constexpr size_t kDigestSize = 32;

uint64_t hashes_per_block(uint32_t hash_block_size) { return hash_block_size / kDigestSize; }

// One pass over a run of blocks: each block's salted hash is written into
// (or compared with) consecutive digest slots of the parent level, whose
// hash blocks each hold hashes_per_block() slots followed by zero padding.
struct LevelPass {
  int input_fd;
  uint64_t input_offset;
  uint64_t input_blocks;
  uint32_t input_block_size;
  int parent_fd;
  uint64_t parent_offset;
  uint32_t hash_block_size;
  std::string what;
};

// What each worker of a pass reads and hashes with, made on its first
// parent block: a salted hasher, room for one parent's input blocks and for
// the parent hash block.
class PassWorkers {
 public:
  struct Children {
    uint64_t first;  // index of the first input block under the parent
    uint64_t count;
    std::span<uint8_t> bytes;
  };

  PassWorkers(const LevelPass& pass, std::span<const uint8_t> salt)
      : pass_(pass), salt_(salt), per_block_(hashes_per_block(pass.hash_block_size)), scratch_(worker_count()) {}

  uint64_t per_block() const { return per_block_; }
  uint64_t parent_blocks() const { return (pass_.input_blocks + per_block_ - 1) / per_block_; }

  // Reads the input blocks under parent block `parent` into the worker's buffer.
  Children read_children(unsigned worker, uint64_t parent) {
    Scratch& scratch = scratch_for(worker);
    uint64_t first = parent * per_block_;
    uint64_t count = std::min(per_block_, pass_.input_blocks - first);
    std::span<uint8_t> bytes(scratch.input.data(), count * pass_.input_block_size);
    read_exact_at(pass_.input_fd, bytes, pass_.input_offset + first * pass_.input_block_size, pass_.what);
    return {first, count, bytes};
  }
  Sha256Digest hash_child(unsigned worker, const Children& children, uint64_t i) {
    return scratch_[worker].hasher->hash(children.bytes.subspan(i * pass_.input_block_size, pass_.input_block_size));
  }
  std::vector<uint8_t>& parent_buffer(unsigned worker) { return scratch_for(worker).parent; }
  uint64_t parent_offset(uint64_t parent) const { return pass_.parent_offset + parent * pass_.hash_block_size; }

 private:
  struct Scratch {
    std::optional<SaltedBlockHasher> hasher;
    std::vector<uint8_t> input;
    std::vector<uint8_t> parent;
  };
  Scratch& scratch_for(unsigned worker) {
    Scratch& scratch = scratch_[worker];
    if (!scratch.hasher) {
      scratch.hasher.emplace(salt_);
      scratch.input.resize(per_block_ * pass_.input_block_size);
      scratch.parent.resize(pass_.hash_block_size);
    }
    return scratch;
  }

  const LevelPass& pass_;
  std::span<const uint8_t> salt_;
  uint64_t per_block_;
  std::vector<Scratch> scratch_;
};

void write_level(const LevelPass& pass, std::span<const uint8_t> salt, ProgressSink* progress,
                 const std::atomic<bool>* cancel) {
  PassWorkers workers(pass, salt);
  parallel_for(
      workers.parent_blocks(),
      [&](unsigned worker, uint64_t parent) {
        PassWorkers::Children children = workers.read_children(worker, parent);
        std::vector<uint8_t>& out = workers.parent_buffer(worker);
        std::fill(out.begin(), out.end(), 0);
        for (uint64_t i = 0; i < children.count; ++i) {
          Sha256Digest digest = workers.hash_child(worker, children, i);
          std::memcpy(out.data() + i * kDigestSize, digest.data(), kDigestSize);
        }
        write_all_at(pass.parent_fd, out, workers.parent_offset(parent), "the hash tree");
        if (progress != nullptr) progress->advance(children.bytes.size());
      },
      cancel);
}

// Index of the first input block whose hash differs from its parent slot.
std::optional<uint64_t> first_mismatch(const LevelPass& pass, std::span<const uint8_t> salt,
                                       ProgressSink* progress) {
  PassWorkers workers(pass, salt);
  std::mutex mutex;
  std::optional<uint64_t> first_bad;
  parallel_for(workers.parent_blocks(), [&](unsigned worker, uint64_t parent) {
    {
      std::lock_guard lock(mutex);
      if (first_bad && *first_bad < parent * workers.per_block()) return;
    }
    PassWorkers::Children children = workers.read_children(worker, parent);
    std::vector<uint8_t>& stored = workers.parent_buffer(worker);
    read_exact_at(pass.parent_fd, stored, workers.parent_offset(parent), "the hash tree");
    for (uint64_t i = 0; i < children.count; ++i) {
      Sha256Digest digest = workers.hash_child(worker, children, i);
      if (std::memcmp(digest.data(), stored.data() + i * kDigestSize, kDigestSize) != 0) {
        std::lock_guard lock(mutex);
        if (!first_bad || children.first + i < *first_bad) first_bad = children.first + i;
        break;
      }
    }
    if (progress != nullptr) progress->advance(children.bytes.size());
  });
  return first_bad;
}

uint64_t tree_offset(const VerityParams& params) { return params.hash_offset + params.hash_block_size; }

}  // namespace

TreeGeometry tree_geometry(uint64_t data_blocks, uint32_t hash_block_size) {
  const uint64_t per_block = hashes_per_block(hash_block_size);
  TreeGeometry geometry;
  for (uint64_t count = data_blocks; count > 1;) {
    count = (count + per_block - 1) / per_block;
    geometry.level_blocks.push_back(count);
  }
  // Stored from the top level down.
  geometry.level_start.resize(geometry.level_blocks.size());
  uint64_t position = 0;
  for (size_t level = geometry.level_blocks.size(); level-- > 0;) {
    geometry.level_start[level] = position;
    position += geometry.level_blocks[level];
  }
  geometry.total_blocks = position;
  return geometry;
}

uint64_t hash_area_size(uint64_t data_blocks, uint32_t hash_block_size) {
  return (1 + tree_geometry(data_blocks, hash_block_size).total_blocks) * hash_block_size;
}

VeritySuperblock make_superblock(const VerityParams& params, std::span<const uint8_t, 16> uuid) {
  VeritySuperblock sb{};
  std::memcpy(sb.signature, kVeritySignature, sizeof sb.signature);
  sb.version = 1;
  sb.hash_type = 1;
  std::memcpy(sb.uuid, uuid.data(), uuid.size());
  std::memcpy(sb.algorithm, params.algorithm.data(),
              std::min(params.algorithm.size(), sizeof sb.algorithm - 1));
  sb.data_block_size = params.data_block_size;
  sb.hash_block_size = params.hash_block_size;
  sb.data_blocks = params.data_blocks();
  sb.salt_size = static_cast<uint16_t>(params.salt.size());
  std::memcpy(sb.salt, params.salt.data(), std::min(params.salt.size(), sizeof sb.salt));
  return sb;
}

void check_superblock(const VeritySuperblock& sb, const VerityParams& params) {
  if (std::memcmp(sb.signature, kVeritySignature, sizeof sb.signature) != 0)
    throw FormatError("verity superblock: bad signature");
  if (sb.version != 1 || sb.hash_type != 1)
    throw FormatError("verity superblock: unsupported version or hash type");
  std::string algorithm(sb.algorithm, strnlen(sb.algorithm, sizeof sb.algorithm));
  if (algorithm != params.algorithm) throw FormatError("verity superblock: algorithm differs from the header");
  if (sb.data_block_size != params.data_block_size || sb.hash_block_size != params.hash_block_size)
    throw FormatError("verity superblock: block sizes differ from the header");
  if (sb.data_blocks != params.data_blocks())
    throw FormatError("verity superblock: data block count differs from the header");
  if (sb.salt_size != params.salt.size() ||
      std::memcmp(sb.salt, params.salt.data(), params.salt.size()) != 0)
    throw FormatError("verity superblock: salt differs from the header");
}

Sha256Digest write_hash_tree(int data_fd, int hash_fd, const VerityParams& params,
                             ProgressSink* progress, const std::atomic<bool>* cancel) {
  const TreeGeometry geometry = tree_geometry(params.data_blocks(), params.hash_block_size);
  const uint64_t tree = tree_offset(params);
  if (progress != nullptr) progress->begin("hash tree", params.data_size);
  ::posix_fadvise(data_fd, static_cast<off_t>(params.data_offset),
                  static_cast<off_t>(params.data_size), POSIX_FADV_SEQUENTIAL);
  SaltedBlockHasher top_hasher(params.salt);
  std::vector<uint8_t> top(std::max(params.data_block_size, params.hash_block_size));
  if (geometry.level_blocks.empty()) {
    // A single data block: its own hash is the root, the tree is empty.
    std::span<uint8_t> block(top.data(), params.data_block_size);
    read_exact_at(data_fd, block, params.data_offset, "the filesystem area");
    if (progress != nullptr) progress->end();
    return top_hasher.hash(block);
  }
  for (size_t level = 0; level < geometry.level_blocks.size(); ++level) {
    LevelPass pass{
        .input_fd = level == 0 ? data_fd : hash_fd,
        .input_offset = level == 0 ? params.data_offset
                                   : tree + geometry.level_start[level - 1] * params.hash_block_size,
        .input_blocks = level == 0 ? params.data_blocks() : geometry.level_blocks[level - 1],
        .input_block_size = level == 0 ? params.data_block_size : params.hash_block_size,
        .parent_fd = hash_fd,
        .parent_offset = tree + geometry.level_start[level] * params.hash_block_size,
        .hash_block_size = params.hash_block_size,
        .what = level == 0 ? "the filesystem area" : "the hash tree",
    };
    write_level(pass, params.salt, level == 0 ? progress : nullptr, cancel);
  }
  std::span<uint8_t> top_block(top.data(), params.hash_block_size);
  read_exact_at(hash_fd, top_block, tree, "the hash tree");
  if (progress != nullptr) progress->end();
  return top_hasher.hash(top_block);
}

std::optional<BadBlock> verify_hash_tree(int fd, const VerityParams& params, ProgressSink* progress) {
  const TreeGeometry geometry = tree_geometry(params.data_blocks(), params.hash_block_size);
  const uint64_t tree = tree_offset(params);
  const size_t levels = geometry.level_blocks.size();
  SaltedBlockHasher hasher(params.salt);
  std::vector<uint8_t> top(std::max(params.data_block_size, params.hash_block_size));
  // The top block (or the only data block) against the root hash.
  bool top_is_data = levels == 0;
  std::span<uint8_t> top_block(top.data(), top_is_data ? params.data_block_size : params.hash_block_size);
  uint64_t top_offset = top_is_data ? params.data_offset : tree;
  read_exact_at(fd, top_block, top_offset, top_is_data ? "the filesystem area" : "the hash tree");
  Sha256Digest root = hasher.hash(top_block);
  if (!std::equal(root.begin(), root.end(), params.root_hash.begin(), params.root_hash.end()))
    return BadBlock{top_is_data ? BadBlock::Area::kData : BadBlock::Area::kHash,
                    top_is_data ? 0u : static_cast<uint32_t>(levels - 1), 0, top_offset};
  if (progress != nullptr) progress->begin("verifying", params.data_size);
  // Each level against its parent, from the top down, then the data.
  for (size_t level = levels; level-- > 0;) {
    bool data = level == 0;
    uint64_t input_offset =
        data ? params.data_offset : tree + geometry.level_start[level - 1] * params.hash_block_size;
    uint32_t block_size = data ? params.data_block_size : params.hash_block_size;
    LevelPass pass{
        .input_fd = fd,
        .input_offset = input_offset,
        .input_blocks = data ? params.data_blocks() : geometry.level_blocks[level - 1],
        .input_block_size = block_size,
        .parent_fd = fd,
        .parent_offset = tree + geometry.level_start[level] * params.hash_block_size,
        .hash_block_size = params.hash_block_size,
        .what = data ? "the filesystem area" : "the hash tree",
    };
    if (auto bad = first_mismatch(pass, params.salt, data ? progress : nullptr)) {
      if (progress != nullptr) progress->end();
      return BadBlock{data ? BadBlock::Area::kData : BadBlock::Area::kHash,
                      data ? 0u : static_cast<uint32_t>(level - 1), *bad,
                      input_offset + *bad * block_size};
    }
  }
  if (progress != nullptr) progress->end();
  return std::nullopt;
}

}  // namespace shelter::images
