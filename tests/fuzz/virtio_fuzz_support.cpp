// Shared by the virtio fuzz targets: quiet device logs, and one small guest
// RAM for the test drivers' rings and buffers.
#include <spdlog/spdlog.h>

#include "tests/fuzz/virtio_fuzz_chains.h"

// Broken queues are the common case here; their warnings would drown the run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

namespace shelter::vmm::virtio::testing {

memory::GuestMemory& fuzz_guest_memory() {
  static memory::GuestMemory guest(memory::MemoryLayout(4 * memory::kMiB));
  return guest;
}

}  // namespace shelter::vmm::virtio::testing
