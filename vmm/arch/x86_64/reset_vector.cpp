#include "vmm/arch/x86_64/reset_vector.h"

#include <array>

#include "vmm/acpi/pm_device.h"

namespace shelter::vmm::x86_64 {

void write_reset_vector(const memory::GuestMemory& memory) {
  constexpr uint16_t port = acpi::kResetPort;
  constexpr std::array<uint8_t, 9> code = {
      0xb0, acpi::kResetValue,                                           // mov al, kResetValue
      0xba, static_cast<uint8_t>(port), static_cast<uint8_t>(port >> 8),  // mov dx, kResetPort
      0xee,                                                               // out dx, al
      0xf4,                                                               // hlt
      0xeb, 0xfd,                                                         // jmp short to the hlt
  };
  static_assert(kResetVectorAddress + code.size() <= memory::kHighMemoryStart);
  memory.write(kResetVectorAddress, code);
}

}  // namespace shelter::vmm::x86_64
