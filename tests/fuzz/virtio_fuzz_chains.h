#pragma once
// Turns fuzz input into descriptor chains on a test driver's queue, for the
// virtio device fuzz targets. Each chain is: one byte (bits 0-1: buffer
// count - 1, bit 2: indirect), then per buffer one byte (bit 0: writable)
// and a 16-bit length; a readable buffer's bytes follow from the input.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "tests/unit/vmm/virtio/test_driver.h"

namespace shelter::vmm::virtio::testing {

// 4 MiB of guest RAM, made once per fuzz process (virtio_fuzz_support.cpp,
// which also turns the device logs off).
memory::GuestMemory& fuzz_guest_memory();

class FuzzInput {
 public:
  explicit FuzzInput(std::span<const uint8_t> data) : data_(data) {}
  bool empty() const noexcept { return data_.empty(); }
  uint8_t byte() {
    if (data_.empty()) return 0;
    uint8_t b = data_[0];
    data_ = data_.subspan(1);
    return b;
  }
  uint16_t u16() { return static_cast<uint16_t>(byte() | byte() << 8); }
  std::vector<uint8_t> bytes(size_t count) {
    count = std::min(count, data_.size());
    std::vector<uint8_t> out(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(count));
    data_ = data_.subspan(count);
    return out;
  }

 private:
  std::span<const uint8_t> data_;
};

// Adds chains until the input, the ring or the driver's buffer space runs
// out (at most max_chains); returns how many.
inline size_t add_fuzzed_chains(TestDriver& driver, FuzzInput& input, size_t max_chains) {
  size_t added = 0;
  while (!input.empty() && added < max_chains) {
    uint8_t shape = input.byte();
    std::vector<Buffer> buffers;
    for (int i = 0; i <= (shape & 3); ++i) {
      bool writable = input.byte() & 1;
      uint16_t length = input.u16() % 8192;
      buffers.push_back(writable ? Buffer::out(length == 0 ? 1 : length) : Buffer::in(input.bytes(length)));
    }
    try {
      driver.add_chain(buffers, (shape & 4) != 0);
    } catch (const std::runtime_error&) {
      break;  // out of buffer space
    }
    ++added;
  }
  return added;
}

}  // namespace shelter::vmm::virtio::testing
