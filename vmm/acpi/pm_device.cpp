#include "vmm/acpi/pm_device.h"

#include <algorithm>

namespace shelter::vmm::acpi {

void PmDevice::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void PmDevice::write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
}

void PmDevice::write_register(uint64_t offset, uint8_t value) {
  using devices::VmExit;
  if (offset == kSleepControlPort - kPmPort) {
    // Only S5 is offered (\_S5 is the one sleep package in the DSDT); a
    // request for another sleep state is ignored, as on hardware without it.
    if ((value & kSleepEnable) != 0 && (value & kSleepTypeMask) >> kSleepTypeShift == kSleepTypeS5)
      exits_->request_exit({VmExit::Reason::kPowerOff, 0, "the guest powered off through ACPI (S5)"});
  } else if (offset == kResetPort - kPmPort) {
    if (value == kResetValue)
      exits_->request_exit({VmExit::Reason::kReset, 0, "the guest reset the machine through the ACPI reset register"});
  }
}

}  // namespace shelter::vmm::acpi
