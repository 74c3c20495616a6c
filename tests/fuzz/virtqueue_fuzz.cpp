// libFuzzer target: the split virtqueue walker. The input becomes the
// descriptor table, the available ring and whatever the descriptors point
// at, in a small guest memory; every chain the queue accepts is read and
// written in full and returned. Nothing may touch memory outside guest RAM.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "tests/fuzz/virtio_fuzz_chains.h"
#include "tests/unit/vmm/virtio/test_driver.h"
#include "vmm/virtio/queue.h"

using namespace shelter::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memory::GuestMemory& guest = virtio::testing::fuzz_guest_memory();
  constexpr uint64_t kRings = 0x10000, kWindow = 0x20000, kUsed = 0x40000;
  if (size < 2) return 0;
  // Byte 0: queue size (a power of two up to 256, or any byte when the top
  // bit is set); byte 1: event index and indirect features.
  uint16_t queue_size = (data[0] & 0x80) ? data[0] & 0x7f : uint16_t(1u << (data[0] % 9));
  uint64_t features = virtio::kFeatureVersion1;
  if (data[1] & 1) features |= virtio::kFeatureRingEventIdx;
  if (data[1] & 2) features |= virtio::kFeatureRingIndirectDesc;
  guest.fill(kRings, kWindow, 0);
  guest.fill(kUsed, 0x1000, 0);
  size_t length = std::min<size_t>(size - 2, kWindow);
  guest.write(kRings, std::span(data + 2, length));

  virtio::QueueConfig config{queue_size, true, kRings, kRings + 16 * uint64_t{queue_size}, kUsed};
  virtio::testing::RecordingSignals signals;
  virtio::Queue queue(guest, config, features, 0, signals);
  std::vector<uint8_t> scratch(4096);
  for (int popped = 0; popped < 2 * 256; ++popped) {
    std::optional<virtio::DescriptorChain> chain = queue.pop();
    if (!chain) break;
    virtio::ChainReader reader(*chain);
    while (reader.read(scratch) != 0) {
    }
    virtio::ChainWriter writer(*chain);
    while (writer.write(scratch) != 0) {
    }
    queue.push_used(chain->head, static_cast<uint32_t>(writer.written()));
    queue.signal_used();
  }
  if (queue.broken() && signals.resets_requested != 1) __builtin_trap();
  return 0;
}
