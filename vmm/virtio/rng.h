#pragma once
// virtio-rng (virtio 1.2, section 5.4): one request queue whose writable
// buffers are filled from the kernel's CSPRNG (getrandom(2)), at most
// kRngMaxBytesPerRequest per chain so one request cannot hold a vCPU long.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio {

inline constexpr uint16_t kRngQueueSize = 64;
inline constexpr uint32_t kRngMaxBytesPerRequest = 64 * 1024;

class RngDevice final : public VirtioDevice {
 public:
  uint32_t device_id() const override { return kDeviceIdRng; }
  uint64_t device_features() const override { return kCommonDeviceFeatures; }
  std::vector<uint16_t> queue_max_sizes() const override { return {kRngQueueSize}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;
  void activate(Activation activation) override;
  void queue_notify(uint16_t queue) override;
  void reset() override;

 private:
  std::mutex mutex_;
  std::unique_ptr<Queue> queue_;
};

}  // namespace shelter::vmm::virtio
