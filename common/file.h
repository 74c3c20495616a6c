#pragma once
// File helpers shared by the libraries: bounded reads of untrusted files and
// outputs that appear whole or not at all.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "common/unique_fd.h"

namespace shelter {

// Reads a whole file; throws Error naming the file when it cannot be read or
// is larger than max_size.
std::vector<uint8_t> read_file(const std::filesystem::path& path, size_t max_size);

// An output file written under a temporary name in the destination's folder
// and renamed over the destination by commit(). Destroyed uncommitted, it
// removes the temporary file, so an interrupted writer leaves nothing behind.
class AtomicOutputFile {
 public:
  AtomicOutputFile(std::filesystem::path destination, mode_t mode);
  AtomicOutputFile(AtomicOutputFile&&) = delete;
  ~AtomicOutputFile();

  int fd() const noexcept { return fd_.get(); }
  const std::filesystem::path& temporary_path() const noexcept { return temporary_; }
  void write(std::span<const uint8_t> bytes);
  void write_at(std::span<const uint8_t> bytes, uint64_t offset);
  // fsync, rename over the destination, fsync the folder.
  void commit();

 private:
  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  UniqueFd fd_;
  bool committed_ = false;
};

// The directory holding the running executable: Shelter's executables run
// their siblings from there, wherever the install put them. Throws
// SystemError when /proc/self/exe cannot be read.
std::filesystem::path executable_directory();

// Writes bytes to path atomically (AtomicOutputFile) with the given mode.
void write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                       mode_t mode);

}  // namespace shelter
