#include "vmm/virtio/console.h"

#include <algorithm>

#include "vmm/virtio/config_space.h"

namespace shelter::vmm::virtio {

void ConsoleDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  read_config_bytes(ConsoleConfig{}, offset, data);  // no size, one port, emerg_wr is write-only
}

void ConsoleDevice::write_config(uint64_t offset, std::span<const uint8_t> data) {
  // emerg_wr: the character is the low byte of the field.
  if (offset == offsetof(ConsoleConfig, emerg_wr) && !data.empty()) {
    std::lock_guard lock(mutex_);
    output_->write(data[0]);
  }
}

void ConsoleDevice::activate(Activation activation) {
  std::lock_guard lock(mutex_);
  receive_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(kConsoleReceiveQueue),
                                     activation.features, kConsoleReceiveQueue, *activation.signals);
  transmit_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(kConsoleTransmitQueue),
                                      activation.features, kConsoleTransmitQueue, *activation.signals);
}

void ConsoleDevice::reset() {
  std::lock_guard lock(mutex_);
  receive_.reset();
  transmit_.reset();
}

void ConsoleDevice::queue_notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!receive_) return;
  if (queue == kConsoleTransmitQueue) transmit();
  if (queue == kConsoleReceiveQueue) deliver_input();
}

size_t ConsoleDevice::enqueue_input(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  size_t taken = std::min(bytes.size(), kConsoleInputBufferSize - input_.size());
  input_.insert(input_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(taken));
  if (receive_) deliver_input();
  return taken;
}

void ConsoleDevice::transmit() {
  while (std::optional<DescriptorChain> chain = transmit_->pop()) {
    ChainReader reader(*chain);
    for (std::span<uint8_t> part : reader.take(reader.remaining()))
      for (uint8_t byte : part) output_->write(byte);
    transmit_->push_used(chain->head, 0);
  }
  transmit_->signal_used();
}

void ConsoleDevice::deliver_input() {
  // A buffer is taken only when there is input for it.
  while (!input_.empty()) {
    std::optional<DescriptorChain> chain = receive_->pop();
    if (!chain) break;
    ChainWriter writer(*chain);
    for (std::span<uint8_t> part : writer.take(input_.size())) {
      std::copy_n(input_.begin(), part.size(), part.begin());
      input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(part.size()));
    }
    receive_->push_used(chain->head, static_cast<uint32_t>(writer.written()));
  }
  receive_->signal_used();
}

}  // namespace shelter::vmm::virtio
