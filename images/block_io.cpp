#include "images/block_io.h"

#include <unistd.h>

#include <cerrno>

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

}  // namespace shelter::images
