// libFuzzer target: virtio-rng's request queue with chains of any shape.
#include "tests/fuzz/virtio_fuzz_chains.h"
#include "vmm/virtio/rng.h"

using namespace shelter::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memory::GuestMemory& guest = virtio::testing::fuzz_guest_memory();
  static virtio::RngDevice rng;
  virtio::testing::FuzzInput input(std::span(data, size));
  virtio::testing::TestDriver driver(guest, 16, 0x100000);
  virtio::testing::RecordingSignals signals;
  rng.activate(virtio::Activation{&guest, virtio::kCommonDeviceFeatures, {driver.config()}, &signals});
  virtio::testing::add_fuzzed_chains(driver, input, driver.size());
  rng.queue_notify(0);
  for (const virtio::testing::UsedElement& used : driver.take_used())
    if (used.length > virtio::kRngMaxBytesPerRequest) __builtin_trap();
  rng.reset();
  return 0;
}
