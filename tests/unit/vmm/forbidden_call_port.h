#pragma once
// A test-only device: a write to its port makes the thread handling the
// exit (a vCPU thread) call socket(2), which no thread kind's seccomp list
// allows. It lives in the test tree's shelter_fake_kvm library only, so no
// shelter binary can contain it.
#include "vmm/devices/bus.h"

namespace shelter::vmm::testing {

inline constexpr uint16_t kForbiddenCallPort = 0xf8;

class ForbiddenCallPort final : public devices::BusDevice {
 public:
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
};

}  // namespace shelter::vmm::testing
