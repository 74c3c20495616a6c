#pragma once
// Real-mode code at the x86 reset vector (F000:FFF0, physical 0xffff0), where
// firmware would sit. Linux on a hardware-reduced ACPI machine without EFI
// reboots by jumping there (its reboot order is EFI, then BIOS, and the
// ACPI reset register is never tried); with nothing there the vCPU would run
// zeros forever. The code writes the FADT's reset value to its reset
// register, so that reboot ends the VM as a reset.
#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::x86_64 {

inline constexpr uint64_t kResetVectorAddress = 0xffff0;

void write_reset_vector(const memory::GuestMemory& memory);

}  // namespace shelter::vmm::x86_64
