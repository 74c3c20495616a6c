#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace shelter {

std::vector<uint8_t> read_file(const std::filesystem::path& path, size_t max_size) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw SystemError("cannot open " + path.string(), errno);
  struct stat st {};
  check_syscall(::fstat(fd.get(), &st), "cannot stat " + path.string());
  if (!S_ISREG(st.st_mode)) throw Error(path.string() + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_size)
    throw Error(path.string() + ": file too large (" + std::to_string(st.st_size) +
                " bytes, at most " + std::to_string(max_size) + ")");
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot read " + path.string(), errno);
    if (n == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

std::filesystem::path executable_directory() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw SystemError("cannot find the running executable", error.value());
  return self.parent_path();
}

AtomicOutputFile::AtomicOutputFile(std::filesystem::path destination, mode_t mode)
    : destination_(std::move(destination)) {
  std::filesystem::path dir = destination_.parent_path();
  if (dir.empty()) dir = ".";
  std::string pattern = (dir / ("." + destination_.filename().string() + ".XXXXXX")).string();
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) throw SystemError("cannot create a temporary file beside " + destination_.string(), errno);
  fd_.reset(fd);
  temporary_ = pattern;
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::unlink(temporary_.c_str());
    throw SystemError("cannot set the mode of " + temporary_.string(), err);
  }
}

AtomicOutputFile::~AtomicOutputFile() {
  if (!committed_) ::unlink(temporary_.c_str());
}

void AtomicOutputFile::write(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot write " + destination_.string(), errno);
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
}

void AtomicOutputFile::write_at(std::span<const uint8_t> bytes, uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot write " + destination_.string(), errno);
    bytes = bytes.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

void AtomicOutputFile::commit() {
  check_syscall(::fsync(fd_.get()), "cannot flush " + destination_.string());
  check_syscall(::rename(temporary_.c_str(), destination_.c_str()),
                "cannot rename the output into place as " + destination_.string());
  committed_ = true;
  std::filesystem::path dir = destination_.parent_path();
  UniqueFd dir_fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) ::fsync(dir_fd.get());
}

void write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes,
                       mode_t mode) {
  AtomicOutputFile out(path, mode);
  out.write(bytes);
  out.commit();
}

}  // namespace shelter
