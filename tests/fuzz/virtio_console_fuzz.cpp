// libFuzzer target: virtio-console's queues. Fuzz input becomes transmit
// chains and receive buffers, and host input between them.
#include "tests/fuzz/virtio_fuzz_chains.h"
#include "vmm/virtio/console.h"

using namespace shelter::vmm;

namespace {
struct CountingSink final : devices::ByteSink {
  size_t bytes = 0;
  void write(uint8_t) override { ++bytes; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memory::GuestMemory& guest = virtio::testing::fuzz_guest_memory();
  CountingSink sink;
  virtio::ConsoleDevice console(sink);
  virtio::testing::FuzzInput input(std::span(data, size));
  std::vector<uint8_t> host_input = input.bytes(input.byte());
  console.enqueue_input(host_input);
  virtio::testing::TestDriver receive(guest, 8, 0x100000);
  virtio::testing::TestDriver transmit(guest, 8, 0x200000);
  virtio::testing::RecordingSignals signals;
  console.activate(
      virtio::Activation{&guest, virtio::kCommonDeviceFeatures, {receive.config(), transmit.config()}, &signals});
  virtio::testing::add_fuzzed_chains(receive, input, receive.size());
  console.queue_notify(virtio::kConsoleReceiveQueue);
  virtio::testing::add_fuzzed_chains(transmit, input, transmit.size());
  console.queue_notify(virtio::kConsoleTransmitQueue);
  console.enqueue_input(host_input);
  uint8_t emergency[4] = {input.byte(), 0, 0, 0};
  console.write_config(input.byte() % 16, emergency);
  return 0;
}
