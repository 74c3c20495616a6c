#include "common/mapping.h"

#include <sys/mman.h>

#include "common/error.h"

namespace shelter {

Mapping Mapping::map(size_t size, int prot, int flags, int fd, off_t offset) {
  void* addr = ::mmap(nullptr, size, prot, flags, fd, offset);
  if (addr == MAP_FAILED) throw SystemError("mmap of " + std::to_string(size) + " bytes", errno);
  return Mapping(addr, size);
}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void Mapping::reset() noexcept {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

}  // namespace shelter
