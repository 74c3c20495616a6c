// libFuzzer target: virtio-blk's request parser. Fuzz input becomes request
// chains (header, data, status buffers in any shape) on the request queue of
// a block device over a small in-memory disk; every request must complete
// or stop the queue, and never reach outside guest RAM or the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "tests/fuzz/virtio_fuzz_chains.h"
#include "vmm/virtio/block.h"

using namespace shelter::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memory::GuestMemory& guest = virtio::testing::fuzz_guest_memory();
  static int disk = [] {
    int fd = ::memfd_create("fuzz-disk", MFD_CLOEXEC);
    if (fd < 0 || ::ftruncate(fd, 64 * 1024) != 0) __builtin_trap();
    return fd;
  }();
  static virtio::BlockDevice rw("/proc/self/fd/" + std::to_string(disk), false, "fuzz");
  static virtio::BlockDevice ro("/proc/self/fd/" + std::to_string(disk), true, "fuzz");
  virtio::testing::FuzzInput input(std::span(data, size));
  virtio::BlockDevice& device = (input.byte() & 1) ? ro : rw;
  virtio::testing::TestDriver driver(guest, 16, 0x100000);
  virtio::testing::RecordingSignals signals;
  device.activate(virtio::Activation{&guest, virtio::kCommonDeviceFeatures, {driver.config()}, &signals});
  virtio::testing::add_fuzzed_chains(driver, input, driver.size());
  device.queue_notify(0);
  device.reset();
  off_t disk_size = ::lseek(disk, 0, SEEK_END);
  if (disk_size != 64 * 1024) __builtin_trap();  // the disk never grows
  return 0;
}
