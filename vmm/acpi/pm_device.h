#pragma once
// The power-management registers a hardware-reduced ACPI guest uses to
// power off and reset (ACPI 6.5, 4.8.3.7 and 4.8.3.6), at the I/O ports the
// FADT names:
//   0x600  SLEEP_CONTROL_REG  write SLP_TYP=5 (the \_S5 value) | SLP_EN: power off
//   0x601  SLEEP_STATUS_REG   reads 0 (no wake event); writes are ignored
//   0x602  RESET_REG          write kResetValue: reset
// Each port is one byte wide; a wider access acts on each byte it covers.
#include <cstdint>

#include "vmm/devices/bus.h"
#include "vmm/devices/vm_exit.h"

namespace shelter::vmm::acpi {

inline constexpr uint16_t kPmPort = 0x600;
inline constexpr uint16_t kPmPortCount = 3;
inline constexpr uint16_t kSleepControlPort = kPmPort;
inline constexpr uint16_t kSleepStatusPort = kPmPort + 1;
inline constexpr uint16_t kResetPort = kPmPort + 2;

inline constexpr uint8_t kSleepTypeS5 = 5;  // \_S5's SLP_TYP, in the DSDT
inline constexpr uint8_t kSleepTypeShift = 2;
inline constexpr uint8_t kSleepTypeMask = 0x7 << kSleepTypeShift;
inline constexpr uint8_t kSleepEnable = 0x20;
inline constexpr uint8_t kResetValue = 0x06;

class PmDevice final : public devices::BusDevice {
 public:
  explicit PmDevice(devices::ExitSink& exits) : exits_(&exits) {}
  // Every register reads 0: SLP_TYP and SLP_EN are write-only, and the VM
  // never sleeps, so WAK_STS is never set.
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  void write_register(uint64_t offset, uint8_t value);

  devices::ExitSink* exits_;
};

}  // namespace shelter::vmm::acpi
