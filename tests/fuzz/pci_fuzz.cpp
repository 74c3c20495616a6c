// libFuzzer target: a hostile guest's configuration-space and virtio-pci
// register accesses. The input is a sequence of operations, each
//   op (1 byte): bits 0-1 target (0 the 0xcf8-0xcff ports, 1 ECAM, 2 the
//     BAR window, 3 a device-side signal), bit 2 write, bits 3-4 width
//     (1, 2, 4 or 8 bytes);
//   offset (3 bytes, little-endian), value (8 bytes, little-endian);
// run against a bus with the host bridge and a virtio function in front of
// a fake device. Every access must be answered without a crash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "tests/unit/vmm/fake_kvm_api.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/eventfd_loop.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/pci_bus.h"
#include "vmm/virtio/pci_transport.h"

using namespace shelter::vmm;

namespace {

class FuzzDevice final : public virtio::VirtioDevice {
 public:
  uint32_t device_id() const override { return virtio::kDeviceIdVsock; }
  uint64_t device_features() const override { return virtio::kFeatureVersion1 | virtio::kFeatureRingEventIdx; }
  std::vector<uint16_t> queue_max_sizes() const override { return {128, 128, 64}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < sizeof config_ ? config_[offset + i] : 0;
  }
  void write_config(uint64_t offset, std::span<const uint8_t> data) override {
    for (size_t i = 0; i < data.size() && offset + i < sizeof config_; ++i) config_[offset + i] = data[i];
  }
  void activate(virtio::Activation activation) override { signals_ = activation.signals; }
  void queue_notify(uint16_t queue) override {
    if (queue >= 3) __builtin_trap();  // the transport must filter bad queue indices
  }
  void reset() override { signals_ = nullptr; }
  virtio::DeviceSignals* signals() const { return signals_; }

 private:
  uint8_t config_[8] = {};
  virtio::DeviceSignals* signals_ = nullptr;
};

struct NullLine final : devices::InterruptLine {
  void set_level(bool) override {}
};

constexpr size_t kOpSize = 12;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  testing::FakeKvmApi api;
  memory::GuestMemory memory(memory::MemoryLayout(2 * memory::kMiB));
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  pci::GsiRouting routing(vm);
  devices::EventfdLoop loop;
  NullLine intx;
  pci::PciBus bus(memory.layout());
  devices::Bus io, mmio;
  bus.attach(io, mmio);
  auto device = std::make_shared<FuzzDevice>();
  bus.add(1, std::make_shared<virtio::PciTransport>(device, virtio::PciPlatform{&memory, &vm, &routing, &loop, &intx}));
  uint64_t bar = 0;
  bus.config_read(0, 1, 0, pci::kBar0, std::span(reinterpret_cast<uint8_t*>(&bar), 4));
  bar &= ~uint64_t{0xf};

  for (size_t at = 0; at + kOpSize <= size; at += kOpSize) {
    uint8_t op = data[at];
    uint32_t offset = data[at + 1] | data[at + 2] << 8 | data[at + 3] << 16;
    uint8_t bytes[8];
    std::memcpy(bytes, data + at + 4, 8);
    bool is_write = (op & 4) != 0;
    size_t width = size_t{1} << ((op >> 3) & 3);
    std::span<uint8_t> access(bytes, width);
    switch (op & 3) {
      case 0: {  // the configuration ports
        uint64_t port = pci::kConfigAddressPort + offset % pci::kConfigPortCount;
        if (is_write)
          io.write(port, access);
        else
          io.read(port, access);
        break;
      }
      case 1: {  // ECAM, buses 0 and 1
        uint64_t address = memory::kPciEcamAddress + (offset & 0x1fffff);
        if (is_write)
          mmio.write(address, access);
        else
          mmio.read(address, access);
        break;
      }
      case 2: {  // around the virtio function's first placement
        uint64_t address = bar + (offset & 0xffff);
        if (is_write)
          mmio.write(address, access);
        else
          mmio.read(address, access);
        break;
      }
      default:  // the device side, once active
        if (virtio::DeviceSignals* signals = device->signals()) {
          if (offset % 3 == 0) signals->used_buffers(static_cast<uint16_t>(bytes[0] % 4));
          if (offset % 3 == 1) signals->config_changed();
          if (offset % 3 == 2) signals->needs_reset();
        }
        break;
    }
  }
  return 0;
}
