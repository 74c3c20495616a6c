#include "images/block_io.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/error.h"

namespace shelter::images {

void read_exact_at(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& what) {
  while (!out.empty()) {
    ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot read " + what, errno);
    if (n == 0) throw Error(what + ": unexpected end of file at byte " + std::to_string(offset));
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

void write_all_at(int fd, std::span<const uint8_t> bytes, uint64_t offset, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot write " + what, errno);
    bytes = bytes.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

void copy_fd(int in_fd, int out_fd, const std::string& what) {
  for (;;) {
    ssize_t n = ::copy_file_range(in_fd, nullptr, out_fd, nullptr, 1 << 30, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return;
    if (n > 0) continue;
    if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
      throw SystemError("cannot copy " + what, errno);
    break;
  }
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(in_fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot read " + what, errno);
    if (n == 0) return;
    for (size_t done = 0; done < static_cast<size_t>(n);) {
      ssize_t w = ::write(out_fd, buffer.data() + done, static_cast<size_t>(n) - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw SystemError("cannot write a copy of " + what, errno);
      done += static_cast<size_t>(w);
    }
  }
}

}  // namespace shelter::images
