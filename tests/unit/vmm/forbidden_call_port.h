#pragma once
// Test-only devices that make a system call no thread kind's seccomp list
// allows (socket(2) of AF_INET), one on each kind of thread that serves the
// guest:
//   ForbiddenCallPort      on the vCPU thread that handles the port write;
//   ForbiddenCallDoorbell  on the device (doorbell) thread: the port write
//                          signals an eventfd that thread serves, as a
//                          virtqueue doorbell would.
// They live in the test tree's shelter_fake_kvm library only, so no shelter
// binary can contain them.
#include "common/unique_fd.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/eventfd_loop.h"

namespace shelter::vmm::testing {

inline constexpr uint16_t kForbiddenCallPort = 0xf8;
inline constexpr uint16_t kForbiddenDoorbellPort = 0xf9;

class ForbiddenCallPort final : public devices::BusDevice {
 public:
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
};

class ForbiddenCallDoorbell final : public devices::BusDevice {
 public:
  // Joins doorbells; only before the loop starts.
  explicit ForbiddenCallDoorbell(devices::EventfdLoop& doorbells);
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  UniqueFd event_;
};

}  // namespace shelter::vmm::testing
