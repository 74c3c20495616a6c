#pragma once
// The staging tree a build turns into EROFS: a private temporary directory,
// filled from the source without ever writing outside it.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace shelter::images {

// A directory created with mkdtemp under parent and removed, with everything
// in it, when destroyed. Its path is canonical (no symlinks above it).
class TempDir {
 public:
  TempDir(const std::filesystem::path& parent, std::string_view prefix);
  TempDir(TempDir&&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// Copies the tree under source into staging (an empty directory): regular
// files are hard-linked where the filesystem allows and copied otherwise;
// symlinks, modes, times and (as root) ownership are preserved.
void stage_directory(const std::filesystem::path& source, const std::filesystem::path& staging);

// Resolves path inside root as the guest will see it: absolute symlinks and
// ".." are taken relative to root and never leave it. Returns the host path
// of the final object, or nullopt when a component does not exist or there
// are too many links.
std::optional<std::filesystem::path> resolve_in_root(const std::filesystem::path& root,
                                                     std::string_view path);

// Splits a relative archive path into a normalised relative path ("./a//b"
// -> "a/b"); throws Error when it is absolute or has a ".." component.
std::filesystem::path safe_relative_path(std::string_view path);

// Throws Error unless every existing component of relative under root, before
// the last, is a real directory (not a symlink), so that creating or removing
// the last component cannot touch anything outside root.
void check_no_symlink_parents(const std::filesystem::path& root, const std::filesystem::path& relative);

// Creates dir (and parents) under root as real directories, mode 0755.
void make_directories_in_root(const std::filesystem::path& root, const std::filesystem::path& relative);

}  // namespace shelter::images
