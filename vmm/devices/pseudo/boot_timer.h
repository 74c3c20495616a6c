#pragma once
// Firecracker's boot-timer pseudo-device: the guest writes the magic byte
// 123 to its MMIO page when it has booted (an init's first line, or a probe
// guest), and the VMM records the time since the VMM started.
#include <atomic>
#include <chrono>
#include <optional>

#include "vmm/devices/bus.h"

namespace shelter::vmm::devices {

inline constexpr uint64_t kBootTimerLength = 0x1000;

class BootTimer final : public BusDevice {
 public:
  static constexpr uint8_t kMagic = 123;

  explicit BootTimer(std::chrono::steady_clock::time_point vmm_start) : vmm_start_(vmm_start) {}
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  // Time from VMM start to the guest's first magic write, once it came.
  std::optional<std::chrono::microseconds> boot_time() const;

 private:
  std::chrono::steady_clock::time_point vmm_start_;
  std::atomic<int64_t> boot_time_us_{-1};
};

}  // namespace shelter::vmm::devices
