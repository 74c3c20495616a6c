// Computes the dm-verity hash area (superblock + tree) of DATA into HASH with
// Shelter's hash-tree code, as `veritysetup format DATA HASH --salt=SALT`
// does, and prints the root hash. Timed by bench/image-build.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "common/error.h"
#include "common/hex.h"
#include "common/unique_fd.h"
#include "images/verity.h"

int main(int argc, char** argv) {
  using namespace shelter;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DATA HASH SALT_HEX\n", argv[0]);
    return 2;
  }
  try {
    UniqueFd data(::open(argv[1], O_RDONLY | O_CLOEXEC));
    UniqueFd hash(::open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!data || !hash) throw Error("cannot open the data or hash file");
    struct stat st {};
    check_syscall(::fstat(data.get(), &st), "stat");
    auto salt = from_hex(argv[3]);
    if (!salt) throw Error("bad salt");
    images::VerityParams params;
    params.data_size = static_cast<uint64_t>(st.st_size);
    params.salt = *salt;
    if (params.data_size == 0 || params.data_size % params.data_block_size != 0)
      throw Error("data size must be a non-zero multiple of 4096");
    images::Sha256Digest root = images::write_hash_tree(data.get(), hash.get(), params);
    params.root_hash.assign(root.begin(), root.end());
    std::array<uint8_t, 16> uuid{};
    images::VeritySuperblock sb = images::make_superblock(params, uuid);
    check_syscall(::pwrite(hash.get(), &sb, sizeof sb, 0), "write");
    std::printf("%s\n", to_hex(root).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hash_tree_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
