#pragma once
// A small virtio driver for tests: it lays out one split virtqueue in real
// guest memory, builds descriptor chains (or raw, hostile descriptors),
// makes them available and reads back the used ring, the way a guest
// kernel's driver would.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio::testing {

// Counts what a device asked of its transport (from any thread).
struct RecordingSignals final : DeviceSignals {
  std::atomic<int> config_changes = 0;
  std::atomic<int> resets_requested = 0;
  void used_buffers(uint16_t queue) override;
  void config_changed() override { ++config_changes; }
  void needs_reset() override { ++resets_requested; }
  size_t used_count(uint16_t queue) const;
  size_t total_used() const;

 private:
  mutable std::mutex mutex_;
  std::vector<uint16_t> used_;  // one entry per used_buffers call
};

struct UsedElement {
  uint32_t id;
  uint32_t length;
};

// One buffer of a chain: bytes the device reads, or room it writes.
struct Buffer {
  std::vector<uint8_t> readable;
  uint32_t writable = 0;
  static Buffer in(std::vector<uint8_t> bytes) { return Buffer{std::move(bytes), 0}; }
  static Buffer in(std::string_view text) { return Buffer{std::vector<uint8_t>(text.begin(), text.end()), 0}; }
  static Buffer out(uint32_t size) { return Buffer{{}, size}; }
};

class TestDriver {
 public:
  // The rings go at base (a page-aligned guest address); buffers are
  // allocated after them, up to base + span.
  TestDriver(const memory::GuestMemory& memory, uint16_t size, uint64_t base, uint64_t span = 512 * 1024);

  QueueConfig config() const;
  uint16_t size() const noexcept { return size_; }

  // Writes buffers as a chain of descriptors starting at a free slot and
  // makes it available; returns the head. With indirect, the chain goes in
  // an indirect table that one ring descriptor points to.
  uint16_t add_chain(const std::vector<Buffer>& buffers, bool indirect = false);
  // Guest addresses of the buffers of the chain last added, in order.
  const std::vector<uint64_t>& last_addresses() const noexcept { return last_addresses_; }

  // Raw access for hostile rings.
  void write_descriptor(uint16_t index, const Descriptor& descriptor);
  void write_table(uint64_t address, std::span<const Descriptor> descriptors);
  void make_available(uint16_t head);
  void set_avail_index(uint16_t index);
  void set_avail_flags(uint16_t flags);
  void set_used_event(uint16_t index);
  uint64_t allocate(uint64_t bytes, uint64_t alignment = 16);
  std::vector<uint8_t> read(uint64_t address, uint64_t length) const;

  uint16_t used_index() const;
  uint16_t avail_event() const;
  UsedElement used(uint16_t position) const;  // the used ring's entry position (mod size)
  // All used elements not yet consumed by this driver.
  std::vector<UsedElement> take_used();

  uint64_t descriptor_table() const noexcept { return descriptors_; }

 private:
  std::atomic_ref<uint16_t> ring_index(uint64_t address) const;

  const memory::GuestMemory* memory_;
  uint16_t size_;
  uint64_t descriptors_, avail_, used_;
  uint64_t next_free_, end_;
  uint16_t next_descriptor_ = 0;
  uint16_t avail_index_ = 0;
  uint16_t last_seen_used_ = 0;
  std::vector<uint64_t> last_addresses_;
};

}  // namespace shelter::vmm::virtio::testing
