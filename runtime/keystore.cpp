#include "runtime/keystore.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "common/file.h"

namespace shelter::runtime {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxKeySize = 4096;

// mkdir -p with mode 0700 for what it creates; an existing keys folder is
// tightened to 0700 so keys never sit in a folder others can list.
void make_private_dir(const fs::path& dir) {
  fs::path current;
  for (const auto& part : dir) {
    current /= part;
    if (::mkdir(current.c_str(), 0700) != 0 && errno != EEXIST)
      throw SystemError("cannot create " + current.string(), errno);
  }
  check_syscall(::chmod(dir.c_str(), 0700), "cannot restrict " + dir.string());
}

}  // namespace

Keystore Keystore::open_default() {
  if (const char* home = std::getenv("SHELTER_HOME"); home != nullptr && *home != '\0') return Keystore(home);
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return Keystore(fs::path(home) / ".local/share/shelter");
  throw Error("neither SHELTER_HOME nor HOME is set: no place for the keystore");
}

fs::path Keystore::key_path(std::string_view key_id) const {
  bool valid = !key_id.empty() && key_id.size() <= 128 &&
               std::all_of(key_id.begin(), key_id.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!valid) throw Error("invalid key id '" + std::string(key_id) + "'");
  return keys_dir() / (std::string(key_id) + ".key");
}

void Keystore::store(std::string_view key_id, std::span<const uint8_t> key) const {
  fs::path path = key_path(key_id);
  make_private_dir(keys_dir());
  if (::access(path.c_str(), F_OK) == 0) throw Error("key " + std::string(key_id) + " already exists in the keystore");
  write_file_atomic(path, key, 0600);
}

std::vector<uint8_t> Keystore::load(std::string_view key_id) const {
  fs::path path = key_path(key_id);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw SystemError("key " + std::string(key_id) + " is not in the keystore", errno);
  if ((st.st_mode & 077) != 0) throw Error(path.string() + " is readable by others (mode must be 0600)");
  return read_file(path, kMaxKeySize);
}

void Keystore::remove(std::string_view key_id) const {
  if (::unlink(key_path(key_id).c_str()) != 0 && errno != ENOENT)
    throw SystemError("cannot remove key " + std::string(key_id), errno);
}

void write_key_file(const fs::path& path, std::span<const uint8_t> key, bool replace) {
  if (!replace && ::access(path.c_str(), F_OK) == 0)
    throw Error("key file " + path.string() + " exists (use --force to replace it)");
  write_file_atomic(path, key, 0600);
}

}  // namespace shelter::runtime
