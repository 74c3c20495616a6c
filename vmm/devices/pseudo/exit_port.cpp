#include "vmm/devices/pseudo/exit_port.h"

#include <algorithm>
#include <string>

namespace shelter::vmm::devices {

void ExitPort::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void ExitPort::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0) return;
  int status = data[0];  // little-endian: the low byte comes first
  exits_->request_exit({VmExit::Reason::kExitPort, status, "the guest exited with status " + std::to_string(status)});
}

}  // namespace shelter::vmm::devices
