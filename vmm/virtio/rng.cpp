#include "vmm/virtio/rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>

namespace shelter::vmm::virtio {

void RngDevice::read_config(uint64_t, std::span<uint8_t> data) {
  std::fill(data.begin(), data.end(), 0);  // no configuration structure
}

void RngDevice::write_config(uint64_t, std::span<const uint8_t>) {}

void RngDevice::activate(Activation activation) {
  std::lock_guard lock(mutex_);
  queue_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(0), activation.features, 0,
                                   *activation.signals);
}

void RngDevice::reset() {
  std::lock_guard lock(mutex_);
  queue_.reset();
}

void RngDevice::queue_notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (queue != 0 || !queue_) return;
  while (std::optional<DescriptorChain> chain = queue_->pop()) {
    // Only bytes that really came from getrandom are reported as written.
    uint32_t filled = 0;
    for (std::span<uint8_t> part : ChainWriter(*chain).take(kRngMaxBytesPerRequest)) {
      size_t done = 0;
      while (done < part.size()) {
        ssize_t n = ::getrandom(part.data() + done, part.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        done += size_t(n);
      }
      filled += static_cast<uint32_t>(done);
      if (done < part.size()) break;
    }
    queue_->push_used(chain->head, filled);
  }
  queue_->signal_used();
}

}  // namespace shelter::vmm::virtio
