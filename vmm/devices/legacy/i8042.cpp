#include "vmm/devices/legacy/i8042.h"

#include <algorithm>

namespace shelter::vmm::devices {

void I8042::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset == kCommandOffset && data.size() == 1 && data[0] == kCommandReset)
    exits_->request_exit({VmExit::Reason::kReset, 0, "the guest reset the machine through the i8042"});
}

}  // namespace shelter::vmm::devices
