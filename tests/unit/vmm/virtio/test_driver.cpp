#include "tests/unit/vmm/virtio/test_driver.h"

#include <stdexcept>

namespace shelter::vmm::virtio::testing {

void RecordingSignals::used_buffers(uint16_t queue) {
  std::lock_guard lock(mutex_);
  used_.push_back(queue);
}

size_t RecordingSignals::used_count(uint16_t queue) const {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  for (uint16_t q : used_) count += q == queue;
  return count;
}

size_t RecordingSignals::total_used() const {
  std::lock_guard lock(mutex_);
  return used_.size();
}

TestDriver::TestDriver(const memory::GuestMemory& memory, uint16_t size, uint64_t base, uint64_t span)
    : memory_(&memory), size_(size) {
  descriptors_ = base;
  avail_ = descriptors_ + 16 * uint64_t{size};
  used_ = (avail_ + 6 + 2 * uint64_t{size} + 3) & ~uint64_t{3};
  next_free_ = used_ + 6 + 8 * uint64_t{size};
  end_ = base + span;
  memory.fill(base, span, 0);
}

QueueConfig TestDriver::config() const {
  return QueueConfig{size_, true, descriptors_, avail_, used_};
}

uint64_t TestDriver::allocate(uint64_t bytes, uint64_t alignment) {
  uint64_t address = (next_free_ + alignment - 1) / alignment * alignment;
  if (address + bytes > end_) throw std::runtime_error("test driver: out of buffer space");
  next_free_ = address + bytes;
  return address;
}

uint16_t TestDriver::add_chain(const std::vector<Buffer>& buffers, bool indirect) {
  std::vector<Descriptor> chain;
  last_addresses_.clear();
  for (size_t i = 0; i < buffers.size(); ++i) {
    const Buffer& buffer = buffers[i];
    uint32_t length = buffer.writable != 0 ? buffer.writable : static_cast<uint32_t>(buffer.readable.size());
    uint64_t address = allocate(length == 0 ? 1 : length);
    if (buffer.writable == 0) memory_->write(address, buffer.readable);
    last_addresses_.push_back(address);
    uint16_t flags = buffer.writable != 0 ? kDescriptorWrite : 0;
    chain.push_back(Descriptor{address, length, flags, 0});
  }
  if (indirect) {
    for (size_t i = 0; i + 1 < chain.size(); ++i) {
      chain[i].flags |= kDescriptorNext;
      chain[i].next = static_cast<uint16_t>(i + 1);
    }
    uint64_t table = allocate(16 * chain.size());
    write_table(table, chain);
    uint16_t head = next_descriptor_;
    next_descriptor_ = static_cast<uint16_t>((next_descriptor_ + 1) % size_);
    write_descriptor(head, Descriptor{table, static_cast<uint32_t>(16 * chain.size()), kDescriptorIndirect, 0});
    make_available(head);
    return head;
  }
  uint16_t head = next_descriptor_;
  for (size_t i = 0; i < chain.size(); ++i) {
    uint16_t index = next_descriptor_;
    next_descriptor_ = static_cast<uint16_t>((next_descriptor_ + 1) % size_);
    if (i + 1 < chain.size()) {
      chain[i].flags |= kDescriptorNext;
      chain[i].next = next_descriptor_;
    }
    write_descriptor(index, chain[i]);
  }
  make_available(head);
  return head;
}

void TestDriver::write_descriptor(uint16_t index, const Descriptor& descriptor) {
  memory_->write_object(descriptors_ + 16 * uint64_t{index}, descriptor);
}

void TestDriver::write_table(uint64_t address, std::span<const Descriptor> descriptors) {
  for (size_t i = 0; i < descriptors.size(); ++i) memory_->write_object(address + 16 * i, descriptors[i]);
}

void TestDriver::make_available(uint16_t head) {
  memory_->write_object<uint16_t>(avail_ + 4 + 2 * uint64_t(avail_index_ % size_), head);
  set_avail_index(static_cast<uint16_t>(avail_index_ + 1));
}

// The two indices are the driver's side of the ring's synchronisation:
// release when publishing chains, acquire when reading what the device used.
std::atomic_ref<uint16_t> TestDriver::ring_index(uint64_t address) const {
  return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(memory_->slice(address, 2).data()));
}

void TestDriver::set_avail_index(uint16_t index) {
  avail_index_ = index;
  ring_index(avail_ + 2).store(index, std::memory_order_release);
}

void TestDriver::set_avail_flags(uint16_t flags) { memory_->write_object<uint16_t>(avail_, flags); }
void TestDriver::set_used_event(uint16_t index) {
  memory_->write_object<uint16_t>(avail_ + 4 + 2 * uint64_t{size_}, index);
}

std::vector<uint8_t> TestDriver::read(uint64_t address, uint64_t length) const {
  std::span<uint8_t> bytes = memory_->slice(address, length);
  return {bytes.begin(), bytes.end()};
}

uint16_t TestDriver::used_index() const { return ring_index(used_ + 2).load(std::memory_order_acquire); }
uint16_t TestDriver::avail_event() const { return memory_->read_object<uint16_t>(used_ + 4 + 8 * uint64_t{size_}); }

UsedElement TestDriver::used(uint16_t position) const {
  return memory_->read_object<UsedElement>(used_ + 4 + 8 * uint64_t(position % size_));
}

std::vector<UsedElement> TestDriver::take_used() {
  std::vector<UsedElement> elements;
  for (uint16_t end = used_index(); last_seen_used_ != end; ++last_seen_used_) elements.push_back(used(last_seen_used_));
  return elements;
}

}  // namespace shelter::vmm::virtio::testing
