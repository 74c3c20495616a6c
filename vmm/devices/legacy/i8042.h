#pragma once
// The slice of the PC keyboard controller a guest uses to reset the machine:
// command 0xFE (pulse the reset line) written to port 0x64 ends the VM with a
// reset. It claims ports 0x60-0x64; 0x61 (system control port B) is served
// inside KVM by the in-kernel PIT's speaker emulation.
#include "vmm/devices/bus.h"
#include "vmm/devices/vm_exit.h"

namespace shelter::vmm::devices {

inline constexpr uint16_t kI8042DataPort = 0x60;
inline constexpr uint16_t kI8042PortCount = 5;

class I8042 final : public BusDevice {
 public:
  static constexpr uint64_t kCommandOffset = 4;  // port 0x64
  static constexpr uint8_t kCommandReset = 0xfe;

  explicit I8042(ExitSink& exits) : exits_(&exits) {}
  // No keyboard: the data and status registers read 0 (nothing pending).
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  ExitSink* exits_;
};

}  // namespace shelter::vmm::devices
