#pragma once
// Move-only owner of an mmap'ed region.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace shelter {

class Mapping {
 public:
  Mapping() noexcept = default;
  // mmap(nullptr, size, prot, flags, fd, offset); throws SystemError.
  static Mapping map(size_t size, int prot, int flags, int fd = -1, off_t offset = 0);
  // Adopts a region mapped elsewhere (for example by a fake in tests).
  Mapping(void* addr, size_t size) noexcept : addr_(addr), size_(size) {}
  Mapping(Mapping&& other) noexcept
      : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  void* get() const noexcept { return addr_; }
  size_t size() const noexcept { return size_; }
  std::span<uint8_t> bytes() const noexcept { return {static_cast<uint8_t*>(addr_), size_}; }
  void reset() noexcept;

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace shelter
