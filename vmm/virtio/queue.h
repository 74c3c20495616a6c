#pragma once
// The split virtqueue (virtio 1.2, section 2.7) seen from the device: pop
// the chains the driver made available, walk their descriptors into lists
// of readable and writable guest-memory segments, and return them on the
// used ring with the interrupt decision the driver asked for (event index or
// NO_INTERRUPT).
//
// The rings live in memory the guest writes at any moment, so everything is
// read once, copied, and checked: a descriptor is copied out before use,
// every buffer is resolved through GuestMemory::try_slice, and a chain that
// breaks the rules (a loop, an address outside RAM, a nested indirect table,
// ...) marks the queue broken: it serves nothing more and the device is
// told to ask the driver for a reset (DeviceSignals::needs_reset).
//
// A Queue is not thread-safe; its device serialises access to it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"

namespace shelter::vmm::virtio {

// struct virtq_desc.
struct Descriptor {
  uint64_t address;
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);
static_assert(offsetof(Descriptor, length) == 8 && offsetof(Descriptor, flags) == 12 &&
              offsetof(Descriptor, next) == 14);

inline constexpr uint16_t kDescriptorNext = 1;
inline constexpr uint16_t kDescriptorWrite = 2;
inline constexpr uint16_t kDescriptorIndirect = 4;
inline constexpr uint16_t kAvailNoInterrupt = 1;
inline constexpr uint16_t kMaxQueueSize = 32768;  // the split ring's limit

// What every device offers: this queue's ring features, version 1, and
// ACCESS_PLATFORM (addresses are guest-physical; confidential guests need it
// to bounce buffers through shared memory).
inline constexpr uint64_t kCommonDeviceFeatures =
    kFeatureVersion1 | kFeatureAccessPlatform | kFeatureRingIndirectDesc | kFeatureRingEventIdx;

// One available chain, resolved into host views of guest memory. Readable
// segments come first in the chain, writable ones after (the driver's rule).
struct DescriptorChain {
  uint16_t head = 0;
  std::vector<std::span<uint8_t>> readable;
  std::vector<std::span<uint8_t>> writable;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

class Queue {
 public:
  // index: the queue's number, for DeviceSignals. The features decide event
  // index and indirect descriptors. A configuration that is unusable (size
  // not a power of two, rings outside RAM or misaligned) gives a queue that
  // is broken from the start.
  Queue(const memory::GuestMemory& memory, const QueueConfig& config, uint64_t features, uint16_t index,
        DeviceSignals& signals);

  // The next available chain; nullopt when there is none or the queue is
  // broken. A malformed chain breaks the queue (and calls needs_reset once).
  std::optional<DescriptorChain> pop();
  // True when pop() would return a chain or break the queue (nothing is consumed).
  bool has_available();
  // Return a chain with the number of bytes the device wrote into it.
  void push_used(uint16_t head, uint32_t written);
  // Raise the used-buffer interrupt when the driver wants one for the
  // chains pushed since the last call.
  void signal_used();

  // The driver broke a device's protocol on this queue: stop it and ask
  // for a reset, as for a malformed chain.
  void fail(std::string reason);
  bool broken() const noexcept { return broken_; }
  const std::string& broken_reason() const noexcept { return broken_reason_; }
  uint16_t size() const noexcept { return size_; }

 private:
  uint16_t avail_index_acquire() const;
  std::optional<DescriptorChain> walk(uint16_t head, std::string& error) const;

  const memory::GuestMemory* memory_;
  DeviceSignals* signals_;
  uint16_t index_;
  uint16_t size_ = 0;
  bool event_idx_ = false;
  bool indirect_ = false;
  std::span<uint8_t> descriptors_, avail_, used_;
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
  uint16_t signalled_used_ = 0;
  bool broken_ = false;
  std::string broken_reason_;
};

// Reads a chain's readable segments as one byte stream.
class ChainReader {
 public:
  explicit ChainReader(const DescriptorChain& chain) : segments_(chain.readable), remaining_(chain.readable_bytes) {}
  // Copies up to out.size() bytes; returns how many.
  size_t read(std::span<uint8_t> out);
  // Skips up to count bytes; returns how many.
  size_t skip(size_t count);
  uint64_t remaining() const noexcept { return remaining_; }
  // The segments (or parts) of the next count bytes, consuming them.
  std::vector<std::span<uint8_t>> take(size_t count);

 private:
  std::span<const std::span<uint8_t>> segments_;
  size_t segment_ = 0, offset_ = 0;
  uint64_t remaining_;
};

// Writes a byte stream into a chain's writable segments, possibly leaving a
// tail reserved (the block status byte).
class ChainWriter {
 public:
  explicit ChainWriter(const DescriptorChain& chain, uint64_t reserve_tail = 0)
      : segments_(chain.writable),
        remaining_(chain.writable_bytes > reserve_tail ? chain.writable_bytes - reserve_tail : 0) {}
  // Copies up to data.size() bytes; returns how many.
  size_t write(std::span<const uint8_t> data);
  uint64_t remaining() const noexcept { return remaining_; }
  uint64_t written() const noexcept { return written_; }
  // The segments (or parts) of the next count writable bytes, consuming them
  // and counting them as written.
  std::vector<std::span<uint8_t>> take(size_t count);

 private:
  std::span<const std::span<uint8_t>> segments_;
  size_t segment_ = 0, offset_ = 0;
  uint64_t remaining_;
  uint64_t written_ = 0;
};

}  // namespace shelter::vmm::virtio
