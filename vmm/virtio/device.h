#pragma once
// The contract between a virtio device (block, vsock, console, rng) and the
// transport that presents it to the guest (virtio-pci today). The transport
// owns the guest-visible registers: feature negotiation, device status and
// the per-queue addresses the driver writes; a device sees only negotiated
// features, ready queues and a way to raise interrupts.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::virtio {

// Device-independent feature bits (virtio 1.2, section 6).
inline constexpr uint64_t kFeatureRingIndirectDesc = uint64_t{1} << 28;
inline constexpr uint64_t kFeatureRingEventIdx = uint64_t{1} << 29;
inline constexpr uint64_t kFeatureVersion1 = uint64_t{1} << 32;
inline constexpr uint64_t kFeatureAccessPlatform = uint64_t{1} << 33;

// Device status bits (section 2.1).
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusDeviceNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

// Device IDs (section 5).
inline constexpr uint32_t kDeviceIdBlock = 2;
inline constexpr uint32_t kDeviceIdConsole = 3;
inline constexpr uint32_t kDeviceIdRng = 4;
inline constexpr uint32_t kDeviceIdVsock = 19;

// What the driver wrote for one queue, as the transport collected it.
struct QueueConfig {
  uint16_t size = 0;  // entries the driver chose (a power of 2, <= the maximum)
  bool ready = false;
  uint64_t descriptor_table = 0;
  uint64_t driver_area = 0;  // the available ring
  uint64_t device_area = 0;  // the used ring
};

// How a device reaches the guest; implemented by the transport.
class DeviceSignals {
 public:
  virtual ~DeviceSignals() = default;
  // The device put buffers on queue's used ring and the ring asks for an
  // interrupt (event index / NO_INTERRUPT already considered by the queue).
  virtual void used_buffers(uint16_t queue) = 0;
  // The device configuration space changed.
  virtual void config_changed() = 0;
  // The device met a driver error it cannot recover from (a malformed
  // ring, say): sets DEVICE_NEEDS_RESET and raises a configuration change.
  virtual void needs_reset() = 0;
};

// Everything a device gets when the driver sets DRIVER_OK.
struct Activation {
  const memory::GuestMemory* memory = nullptr;
  uint64_t features = 0;             // negotiated
  std::vector<QueueConfig> queues;   // one per queue the device declared
  DeviceSignals* signals = nullptr;  // outlives the activation
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;
  virtual uint32_t device_id() const = 0;
  // Offered features, device-independent ones included (VERSION_1 always).
  virtual uint64_t device_features() const = 0;
  // Machine::run, before the vCPUs start: a device with a thread of its own
  // starts it here, once the jail's filters are armed, so that the thread
  // enters the device filter (on_thread_failure gets the error if the
  // kernel refuses it, and the thread then serves nothing).
  virtual void start(std::function<void(const std::string&)> /*on_thread_failure*/) {}
  // The largest size of each queue; the count is the number of queues.
  virtual std::vector<uint16_t> queue_max_sizes() const = 0;
  // The device configuration structure; offsets past its end read as 0 and
  // ignore writes.
  virtual void read_config(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write_config(uint64_t offset, std::span<const uint8_t> data) = 0;
  // DRIVER_OK: start serving the queues.
  virtual void activate(Activation activation) = 0;
  // The driver notified queue (from an MMIO exit or an ioeventfd). Called on
  // any thread; only after activate() and before reset().
  virtual void queue_notify(uint16_t queue) = 0;
  // The driver wrote 0 to the status: drop the queues and return to the
  // state before activate(); the device may be activated again.
  virtual void reset() = 0;
};

}  // namespace shelter::vmm::virtio
