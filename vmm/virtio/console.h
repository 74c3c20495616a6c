#pragma once
// virtio-console (virtio 1.2, section 5.3) as a single port, the guest's
// hvc0: no MULTIPORT, no SIZE. Port 0's transmitq bytes go to a ByteSink
// (stdout, as the UART's); host input (TerminalInput) waits in a bounded
// buffer until the guest posts receiveq buffers. EMERG_WRITE is offered:
// a byte written to emerg_wr goes out at once, before the queues work.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "vmm/devices/vm_exit.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio {

inline constexpr uint64_t kConsoleFeatureEmergWrite = uint64_t{1} << 2;
inline constexpr uint16_t kConsoleReceiveQueue = 0;
inline constexpr uint16_t kConsoleTransmitQueue = 1;
inline constexpr uint16_t kConsoleQueueSize = 128;
inline constexpr size_t kConsoleInputBufferSize = 4096;

// struct virtio_console_config.
struct __attribute__((packed)) ConsoleConfig {
  uint16_t cols;
  uint16_t rows;
  uint32_t max_nr_ports;
  uint32_t emerg_wr;
};
static_assert(sizeof(ConsoleConfig) == 12);
static_assert(offsetof(ConsoleConfig, max_nr_ports) == 4 && offsetof(ConsoleConfig, emerg_wr) == 8);

class ConsoleDevice final : public VirtioDevice, public devices::InputSink {
 public:
  explicit ConsoleDevice(devices::ByteSink& output) : output_(&output) {}

  uint32_t device_id() const override { return kDeviceIdConsole; }
  uint64_t device_features() const override { return kCommonDeviceFeatures | kConsoleFeatureEmergWrite; }
  std::vector<uint16_t> queue_max_sizes() const override { return {kConsoleQueueSize, kConsoleQueueSize}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;
  void activate(Activation activation) override;
  void queue_notify(uint16_t queue) override;
  void reset() override;

  // Host input for the guest; takes what fits in the input buffer.
  size_t enqueue_input(std::span<const uint8_t> bytes) override;

 private:
  void transmit();
  void deliver_input();

  std::mutex mutex_;
  devices::ByteSink* output_;
  std::deque<uint8_t> input_;
  std::unique_ptr<Queue> receive_, transmit_;
};

}  // namespace shelter::vmm::virtio
