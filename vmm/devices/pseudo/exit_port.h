#pragma once
// A port through which a guest ends the VM with an exit status: a write of
// one, two or four bytes to port 0xf4 (where QEMU's isa-debug-exit usually
// sits) stops every vCPU, and `shelter vm` exits with the value's low byte.
#include "vmm/devices/bus.h"
#include "vmm/devices/vm_exit.h"

namespace shelter::vmm::devices {

inline constexpr uint16_t kExitPort = 0xf4;
inline constexpr uint16_t kExitPortCount = 4;

class ExitPort final : public BusDevice {
 public:
  explicit ExitPort(ExitSink& exits) : exits_(&exits) {}
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  ExitSink* exits_;
};

}  // namespace shelter::vmm::devices
