#include "vmm/virtio/queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <bit>
#include <cstring>

namespace shelter::vmm::virtio {
namespace {

static_assert(std::endian::native == std::endian::little, "virtio 1.x rings are little-endian");

// Ring layout (section 2.7): avail = flags, idx, ring[size], used_event;
// used = flags, idx, ring[size] of {id, len}, avail_event.
constexpr uint64_t kAvailRingOffset = 4;
constexpr uint64_t kUsedRingOffset = 4;
constexpr uint64_t kUsedElementSize = 8;
constexpr uint64_t kMaxChainBytes = UINT32_MAX;  // the used length is 32-bit

uint64_t avail_bytes(uint16_t size) { return kAvailRingOffset + 2 * uint64_t{size} + 2; }
uint64_t used_bytes(uint16_t size) { return kUsedRingOffset + kUsedElementSize * size + 2; }

std::atomic_ref<uint16_t> ring_u16(std::span<uint8_t> ring, uint64_t offset) {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(ring.data() + offset));
}

uint16_t load_u16(std::span<uint8_t> ring, uint64_t offset) {
  return ring_u16(ring, offset).load(std::memory_order_relaxed);
}

}  // namespace

Queue::Queue(const memory::GuestMemory& memory, const QueueConfig& config, uint64_t features, uint16_t index,
             DeviceSignals& signals)
    : memory_(&memory),
      signals_(&signals),
      index_(index),
      size_(config.size),
      event_idx_((features & kFeatureRingEventIdx) != 0),
      indirect_((features & kFeatureRingIndirectDesc) != 0) {
  if (size_ == 0 || size_ > kMaxQueueSize || !std::has_single_bit(size_)) {
    fail("queue size " + std::to_string(size_) + " is not a power of two up to 32768");
    return;
  }
  // The alignments of section 2.7 also make the ring's atomics well-formed.
  if (config.descriptor_table % 16 != 0 || config.driver_area % 2 != 0 || config.device_area % 4 != 0) {
    fail("a ring address is misaligned");
    return;
  }
  descriptors_ = memory.try_slice(config.descriptor_table, uint64_t{16} * size_);
  avail_ = memory.try_slice(config.driver_area, avail_bytes(size_));
  used_ = memory.try_slice(config.device_area, used_bytes(size_));
  if (descriptors_.data() == nullptr || avail_.data() == nullptr || used_.data() == nullptr) {
    fail("a ring lies outside guest RAM");
    return;
  }
}

void Queue::fail(std::string reason) {
  if (broken_) return;
  broken_ = true;
  broken_reason_ = std::move(reason);
  spdlog::warn("virtio queue {}: {}; the device needs a reset", index_, broken_reason_);
  signals_->needs_reset();
}

uint16_t Queue::avail_index_acquire() const { return ring_u16(avail_, 2).load(std::memory_order_acquire); }

bool Queue::has_available() {
  if (broken_) return false;
  if (event_idx_) {
    // Ask for a notification at the next entry, then look again, so a chain
    // made available meanwhile is not missed.
    ring_u16(used_, kUsedRingOffset + kUsedElementSize * size_).store(next_avail_, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return avail_index_acquire() != next_avail_;
}

std::optional<DescriptorChain> Queue::pop() {
  if (!has_available()) return std::nullopt;
  uint16_t avail_index = avail_index_acquire();
  uint16_t pending = static_cast<uint16_t>(avail_index - next_avail_);
  if (pending > size_) {
    fail("available index moved " + std::to_string(pending) + " entries ahead, more than the queue size " +
                std::to_string(size_));
    return std::nullopt;
  }
  uint16_t head = load_u16(avail_, kAvailRingOffset + 2 * uint64_t(next_avail_ % size_));
  ++next_avail_;
  std::string error;
  std::optional<DescriptorChain> chain = walk(head, error);
  if (!chain) fail("chain at head " + std::to_string(head) + ": " + error);
  return chain;
}

std::optional<DescriptorChain> Queue::walk(uint16_t head, std::string& error) const {
  if (head >= size_) {
    error = "head index out of range";
    return std::nullopt;
  }
  DescriptorChain chain;
  chain.head = head;
  std::span<const uint8_t> table = descriptors_;
  uint64_t table_entries = size_;
  uint64_t index = head;
  uint64_t visited = 0;
  bool in_indirect = false;
  for (;;) {
    // Each table is walked at most once per entry: more steps mean a loop.
    if (++visited > table_entries) {
      error = in_indirect ? "indirect chain loops" : "chain loops or is longer than the queue";
      return std::nullopt;
    }
    Descriptor descriptor;
    std::memcpy(&descriptor, table.data() + index * sizeof(Descriptor), sizeof descriptor);
    if (descriptor.flags & kDescriptorIndirect) {
      if (!indirect_) {
        error = "indirect descriptor without the negotiated feature";
        return std::nullopt;
      }
      if (in_indirect) {
        error = "nested indirect table";
        return std::nullopt;
      }
      if (descriptor.flags & kDescriptorNext) {
        error = "indirect descriptor with NEXT set";
        return std::nullopt;
      }
      if (descriptor.length == 0 || descriptor.length % sizeof(Descriptor) != 0) {
        error = "indirect table length " + std::to_string(descriptor.length) + " is not a non-zero multiple of 16";
        return std::nullopt;
      }
      // Section 2.7.5.3.1: no chain longer than the queue, indirect or not.
      if (descriptor.length / sizeof(Descriptor) > size_) {
        error = "indirect table of " + std::to_string(descriptor.length / sizeof(Descriptor)) +
                " entries is longer than the queue";
        return std::nullopt;
      }
      table = memory_->try_slice(descriptor.address, descriptor.length);
      if (table.data() == nullptr) {
        error = "indirect table outside guest RAM";
        return std::nullopt;
      }
      table_entries = descriptor.length / sizeof(Descriptor);
      in_indirect = true;
      index = 0;
      visited = 0;
      continue;
    }
    if (chain.readable_bytes + chain.writable_bytes + descriptor.length > kMaxChainBytes) {
      error = "chain is longer than 4 GiB";
      return std::nullopt;
    }
    if (descriptor.length != 0) {
      std::span<uint8_t> buffer = memory_->try_slice(descriptor.address, descriptor.length);
      if (buffer.data() == nullptr) {
        error = "buffer outside guest RAM or across a RAM boundary";
        return std::nullopt;
      }
      if (descriptor.flags & kDescriptorWrite) {
        chain.writable.push_back(buffer);
        chain.writable_bytes += descriptor.length;
      } else if (!chain.writable.empty()) {
        error = "readable buffer after a writable one";
        return std::nullopt;
      } else {
        chain.readable.push_back(buffer);
        chain.readable_bytes += descriptor.length;
      }
    }
    if (!(descriptor.flags & kDescriptorNext)) return chain;
    index = descriptor.next;
    if (index >= table_entries) {
      error = "next index out of range";
      return std::nullopt;
    }
  }
}

void Queue::push_used(uint16_t head, uint32_t written) {
  if (broken_) return;
  const uint32_t element[2] = {head, written};
  std::memcpy(used_.data() + kUsedRingOffset + kUsedElementSize * (next_used_ % size_), element, sizeof element);
  ++next_used_;
  ring_u16(used_, 2).store(next_used_, std::memory_order_release);
}

void Queue::signal_used() {
  if (broken_ || next_used_ == signalled_used_) return;
  // The used index store must be visible before the driver's suppression
  // fields are read (the driver orders the other way round).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool wanted;
  if (event_idx_) {
    uint16_t used_event = load_u16(avail_, kAvailRingOffset + 2 * uint64_t{size_});
    // vring_need_event: used_event lies in (signalled, next_used].
    wanted = static_cast<uint16_t>(next_used_ - used_event - 1) < static_cast<uint16_t>(next_used_ - signalled_used_);
  } else {
    wanted = (load_u16(avail_, 0) & kAvailNoInterrupt) == 0;
  }
  signalled_used_ = next_used_;
  if (wanted) signals_->used_buffers(index_);
}

size_t ChainReader::read(std::span<uint8_t> out) {
  size_t copied = 0;
  for (std::span<uint8_t> part : take(out.size())) {
    std::memcpy(out.data() + copied, part.data(), part.size());
    copied += part.size();
  }
  return copied;
}

std::vector<std::span<uint8_t>> ChainReader::take(size_t count) {
  std::vector<std::span<uint8_t>> parts;
  while (count > 0 && segment_ < segments_.size()) {
    std::span<uint8_t> segment = segments_[segment_];
    size_t n = std::min(count, segment.size() - offset_);
    parts.push_back(segment.subspan(offset_, n));
    count -= n;
    remaining_ -= n;
    offset_ += n;
    if (offset_ == segment.size()) ++segment_, offset_ = 0;
  }
  return parts;
}

size_t ChainReader::skip(size_t count) {
  size_t skipped = 0;
  for (std::span<uint8_t> part : take(count)) skipped += part.size();
  return skipped;
}

std::vector<std::span<uint8_t>> ChainWriter::take(size_t count) {
  std::vector<std::span<uint8_t>> parts;
  count = static_cast<size_t>(std::min<uint64_t>(count, remaining_));
  while (count > 0 && segment_ < segments_.size()) {
    std::span<uint8_t> segment = segments_[segment_];
    size_t n = std::min(count, segment.size() - offset_);
    parts.push_back(segment.subspan(offset_, n));
    count -= n;
    remaining_ -= n;
    written_ += n;
    offset_ += n;
    if (offset_ == segment.size()) ++segment_, offset_ = 0;
  }
  return parts;
}

size_t ChainWriter::write(std::span<const uint8_t> data) {
  size_t copied = 0;
  for (std::span<uint8_t> part : take(data.size())) {
    std::memcpy(part.data(), data.data() + copied, part.size());
    copied += part.size();
  }
  return copied;
}

}  // namespace shelter::vmm::virtio
