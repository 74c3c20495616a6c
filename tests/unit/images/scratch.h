#pragma once
// Helpers for image tests: a private scratch directory and small files.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace shelter::images::testing {

class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/shelter-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::filesystem::path& path, const std::string& text, mode_t mode = 0644) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

// A tiny root filesystem: an executable /bin/app, a data file, a symlink.
inline void make_rootfs(const std::filesystem::path& root) {
  write_text(root / "bin/app", "#!/bin/sh\necho hello\n", 0755);
  write_text(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nmodel:x:1000:1001::/home/model:/bin/sh\n");
  write_text(root / "etc/group", "root:x:0:\nmodel:x:1001:\nstaff:x:50:\n");
  write_text(root / "data/weights.bin", std::string(100000, 'w'));
  std::filesystem::create_symlink("/bin/app", root / "bin/app-link");
}

// Files in dir, recursively (to check nothing was left behind).
inline size_t count_entries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::recursive_directory_iterator(dir)) ++n;
  return n;
}

}  // namespace shelter::images::testing
