// The virtio-pci transport end to end through the PCI bus, with a fake
// virtio device: capabilities, feature negotiation, queue setup and
// activation, notifications (MMIO and ioeventfd), interrupts (MSI-X and
// INTx), DEVICE_NEEDS_RESET and reset.
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "tests/unit/vmm/fake_kvm_api.h"
#include "vmm/kvm/uapi.h"
#include "vmm/devices/bus.h"
#include "vmm/devices/eventfd_loop.h"
#include "vmm/kvm/error.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/pci_bus.h"
#include "vmm/virtio/pci_transport.h"

namespace shelter::vmm::virtio {
namespace {

constexpr uint64_t kFeatureFlush = uint64_t{1} << 9;  // a device feature bit

class FakeDevice final : public VirtioDevice {
 public:
  uint32_t device_id() const override { return kDeviceIdBlock; }
  uint64_t device_features() const override { return kFeatureVersion1 | kFeatureRingEventIdx | kFeatureFlush; }
  std::vector<uint16_t> queue_max_sizes() const override { return {256, 64}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < 8 ? static_cast<uint8_t>(0xc0 + offset + i) : 0;
  }
  void write_config(uint64_t offset, std::span<const uint8_t> data) override {
    std::lock_guard lock(mutex);
    config_writes.emplace_back(offset, data.size());
  }
  void activate(Activation a) override {
    std::lock_guard lock(mutex);
    activation = std::move(a);
  }
  void queue_notify(uint16_t queue) override {
    std::lock_guard lock(mutex);
    notified.push_back(queue);
    changed.notify_all();
  }
  void reset() override {
    std::lock_guard lock(mutex);
    activation.reset();
    ++resets;
  }
  std::vector<uint16_t> wait_for_notifications(size_t count) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(10), [&] { return notified.size() >= count; });
    return notified;
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::optional<Activation> activation;
  std::vector<uint16_t> notified;
  std::vector<std::pair<uint64_t, size_t>> config_writes;
  int resets = 0;
};

struct RecordingLine final : devices::InterruptLine {
  std::vector<bool> levels;
  void set_level(bool high) override { levels.push_back(high); }
};

class VirtioPciTest : public ::testing::Test {
 protected:
  VirtioPciTest()
      : memory(memory::MemoryLayout(4 * memory::kMiB)),
        system(kvm::System::open(api)),
        vm(system.create_vm()),
        routing(vm),
        bus(memory.layout()),
        device(std::make_shared<FakeDevice>()) {
    transport = std::make_shared<PciTransport>(device, PciPlatform{&memory, &vm, &routing, &loop, &intx});
    bus.add(1, transport);
    bus.attach(io, mmio);
    bar = config32(pci::kBar0) & ~0xfu;
    config_write(pci::kCommand, pci::kCommandMemorySpace | pci::kCommandBusMaster, 2);
  }

  uint32_t config32(uint16_t offset) { return static_cast<uint32_t>(config_read(offset, 4)); }
  uint64_t config_read(uint16_t offset, unsigned size) {
    uint64_t value = 0;
    mmio.read(memory::kPciEcamAddress + (1u << 15) + offset, std::span(reinterpret_cast<uint8_t*>(&value), size));
    return value;
  }
  void config_write(uint16_t offset, uint64_t value, unsigned size) {
    mmio.write(memory::kPciEcamAddress + (1u << 15) + offset,
               std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&value), size));
  }
  uint64_t read(uint64_t offset, unsigned size) {
    uint64_t value = 0;
    EXPECT_TRUE(mmio.read(bar + offset, std::span(reinterpret_cast<uint8_t*>(&value), size)));
    return value;
  }
  void write(uint64_t offset, uint64_t value, unsigned size) {
    EXPECT_TRUE(mmio.write(bar + offset, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&value), size)));
  }
  uint8_t status() { return static_cast<uint8_t>(read(common::kDeviceStatus, 1)); }
  void negotiate(uint64_t features) {
    write(common::kDeviceStatus, kStatusAcknowledge | kStatusDriver, 1);
    write(common::kDriverFeatureSelect, 0, 4);
    write(common::kDriverFeature, static_cast<uint32_t>(features), 4);
    write(common::kDriverFeatureSelect, 1, 4);
    write(common::kDriverFeature, features >> 32, 4);
    write(common::kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk, 1);
  }
  void setup_queue(uint16_t queue, uint16_t size, uint64_t base, uint16_t vector) {
    write(common::kQueueSelect, queue, 2);
    write(common::kQueueSize, size, 2);
    write(common::kQueueDesc, base, 8);
    write(common::kQueueDriver, base + 0x1000, 8);
    write(common::kQueueDevice, base + 0x2000, 8);
    write(common::kQueueMsixVector, vector, 2);
    write(common::kQueueEnable, 1, 2);
  }
  void bring_up(uint16_t config_vector = kNoVector) {
    negotiate(kFeatureVersion1 | kFeatureFlush);
    write(common::kConfigMsixVector, config_vector, 2);
    setup_queue(0, 128, 0x10000, 1);
    setup_queue(1, 64, 0x20000, 2);
    write(common::kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk, 1);
  }
  // MSI-X on, every vector unmasked with a distinct message.
  void enable_msix() {
    uint16_t cap = msix_capability();
    for (uint16_t v = 0; v < 3; ++v) {
      write(kMsixTableOffset + v * 16, 0xfee00000, 4);
      write(kMsixTableOffset + v * 16 + 8, 0x40 + v, 4);
      write(kMsixTableOffset + v * 16 + 12, 0, 4);
    }
    config_write(cap + 2, pci::kMsixControlEnable, 2);
  }
  uint16_t msix_capability() {
    for (uint16_t cap = static_cast<uint16_t>(config_read(pci::kCapabilitiesPointer, 1)); cap != 0;
         cap = static_cast<uint16_t>(config_read(cap + 1, 1)))
      if (config_read(cap, 1) == pci::kCapabilityMsix) return cap;
    return 0;
  }
  uint64_t irqfd_count(uint16_t vector) {
    int fd = static_cast<int>(api.calls_of(KVM_IRQFD).at(vector).as<kvm_irqfd>().fd);
    uint64_t count = 0;
    if (::read(fd, &count, sizeof count) != sizeof count) return 0;
    return count;
  }

  testing::FakeKvmApi api;
  memory::GuestMemory memory;
  kvm::System system;
  kvm::Vm vm;
  pci::GsiRouting routing;
  devices::EventfdLoop loop;
  RecordingLine intx;
  pci::PciBus bus;
  devices::Bus io, mmio;
  std::shared_ptr<FakeDevice> device;
  std::shared_ptr<PciTransport> transport;
  uint64_t bar = 0;
};

TEST_F(VirtioPciTest, IdentityAndCapabilities) {
  EXPECT_EQ(config32(pci::kVendorId), uint32_t{0x1042} << 16 | 0x1af4);
  EXPECT_EQ(config32(0x08), 0x01000001u);  // class 01 00 00, revision 1
  EXPECT_EQ(config32(pci::kSubsystemVendorId), uint32_t{kDeviceIdBlock} << 16 | 0x1af4);
  EXPECT_EQ(config_read(pci::kInterruptPin, 1), 1u);
  EXPECT_EQ(config32(pci::kBar0) & 0xf, 0u);  // 32-bit memory BAR
  std::map<uint8_t, std::array<uint32_t, 3>> found;  // cfg_type -> bar, offset, length
  uint32_t multiplier = 0;
  for (uint16_t cap = static_cast<uint16_t>(config_read(pci::kCapabilitiesPointer, 1)); cap != 0;
       cap = static_cast<uint16_t>(config_read(cap + 1, 1))) {
    if (config_read(cap, 1) != pci::kCapabilityVendor) continue;
    uint8_t type = static_cast<uint8_t>(config_read(cap + 3, 1));
    found[type] = {static_cast<uint32_t>(config_read(cap + 4, 1)), config32(cap + 8), config32(cap + 12)};
    if (type == kCapNotifyConfig) multiplier = config32(cap + 16);
    EXPECT_EQ(config_read(cap + 2, 1), type == kCapNotifyConfig || type == kCapPciConfig ? 20u : 16u);
  }
  ASSERT_EQ(found.size(), 5u);
  EXPECT_EQ(found[kCapCommonConfig], (std::array<uint32_t, 3>{0, 0, 0x38}));
  EXPECT_EQ(found[kCapNotifyConfig], (std::array<uint32_t, 3>{0, 0x3000, 8}));
  EXPECT_EQ(found[kCapIsrConfig], (std::array<uint32_t, 3>{0, 0x1000, 1}));
  EXPECT_EQ(found[kCapDeviceConfig], (std::array<uint32_t, 3>{0, 0x2000, 0x1000}));
  EXPECT_EQ(multiplier, kNotifyOffMultiplier);
  EXPECT_NE(msix_capability(), 0);
  EXPECT_EQ(config_read(msix_capability() + 2, 2) & 0x7ff, 2u);  // 3 vectors: a config vector and one per queue
}

TEST_F(VirtioPciTest, ClassCodesFollowTheDeviceType) {
  EXPECT_EQ(pci_class_code(kDeviceIdBlock) >> 16, 0x01u);
  EXPECT_EQ(pci_class_code(kDeviceIdConsole) >> 8, 0x0780u);
  EXPECT_EQ(pci_class_code(kDeviceIdVsock) >> 8, 0x0780u);
  EXPECT_EQ(pci_class_code(kDeviceIdRng) >> 16, 0xffu);
}

TEST_F(VirtioPciTest, DeviceFeaturesOfferVersion1AndAccessPlatform) {
  write(common::kDeviceFeatureSelect, 0, 4);
  EXPECT_EQ(read(common::kDeviceFeature, 4), kFeatureRingEventIdx | kFeatureFlush);
  write(common::kDeviceFeatureSelect, 1, 4);
  EXPECT_EQ(read(common::kDeviceFeature, 4), (kFeatureVersion1 | kFeatureAccessPlatform) >> 32);
  write(common::kDeviceFeatureSelect, 2, 4);
  EXPECT_EQ(read(common::kDeviceFeature, 4), 0u);
  EXPECT_EQ(read(common::kNumQueues, 2), 2u);
}

TEST_F(VirtioPciTest, FeaturesOkIsRefusedWithoutVersion1) {
  negotiate(kFeatureFlush);
  EXPECT_EQ(status() & kStatusFeaturesOk, 0);
  EXPECT_EQ(status(), kStatusAcknowledge | kStatusDriver);
}

TEST_F(VirtioPciTest, FeaturesOkIsRefusedForFeaturesNotOffered) {
  negotiate(kFeatureVersion1 | kFeatureRingIndirectDesc);
  EXPECT_EQ(status() & kStatusFeaturesOk, 0);
  // DRIVER_OK without FEATURES_OK does not start the device.
  write(common::kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusDriverOk, 1);
  EXPECT_EQ(status() & kStatusDriverOk, 0);
  EXPECT_FALSE(device->activation);
}

TEST_F(VirtioPciTest, AcceptedFeaturesAreFrozenAfterFeaturesOk) {
  negotiate(kFeatureVersion1 | kFeatureAccessPlatform);
  EXPECT_EQ(status() & kStatusFeaturesOk, kStatusFeaturesOk);
  write(common::kDriverFeatureSelect, 0, 4);
  write(common::kDriverFeature, kFeatureFlush, 4);
  EXPECT_EQ(read(common::kDriverFeature, 4), 0u);
}

TEST_F(VirtioPciTest, DriverOkActivatesWithTheQueuesTheDriverWrote) {
  EXPECT_EQ(read(common::kQueueSize, 2), 256u) << "queue size starts at the maximum";
  write(common::kQueueSelect, 0, 2);
  write(common::kQueueSize, 100, 2);  // not a power of two: ignored
  EXPECT_EQ(read(common::kQueueSize, 2), 256u);
  write(common::kQueueSize, 512, 2);  // above the maximum: ignored
  EXPECT_EQ(read(common::kQueueSize, 2), 256u);
  write(common::kQueueSelect, 7, 2);
  EXPECT_EQ(read(common::kQueueSize, 2), 0u) << "no queue 7";
  write(common::kQueueMsixVector, 5, 2);  // out of range: reads NO_VECTOR
  write(common::kQueueSelect, 1, 2);
  EXPECT_EQ(read(common::kQueueNotifyOff, 2), 1u);
  write(common::kQueueMsixVector, 9, 2);
  EXPECT_EQ(read(common::kQueueMsixVector, 2), kNoVector);

  bring_up();
  ASSERT_TRUE(device->activation);
  const Activation& a = *device->activation;
  EXPECT_EQ(a.features, kFeatureVersion1 | kFeatureFlush);
  EXPECT_EQ(a.memory, &memory);
  EXPECT_NE(a.signals, nullptr);
  ASSERT_EQ(a.queues.size(), 2u);
  EXPECT_EQ(a.queues[0].size, 128u);
  EXPECT_TRUE(a.queues[0].ready);
  EXPECT_EQ(a.queues[0].descriptor_table, 0x10000u);
  EXPECT_EQ(a.queues[0].driver_area, 0x11000u);
  EXPECT_EQ(a.queues[0].device_area, 0x12000u);
  EXPECT_EQ(a.queues[1].size, 64u);
  EXPECT_EQ(a.queues[1].descriptor_table, 0x20000u);
  EXPECT_EQ(status(), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  // Queue registers are frozen once the device runs.
  write(common::kQueueSelect, 0, 2);
  write(common::kQueueDesc, 0x999000, 8);
  EXPECT_EQ(read(common::kQueueDesc, 8), 0x10000u);
  // A second DRIVER_OK does not activate again.
  device->activation.reset();
  write(common::kDeviceStatus, 0x0f, 1);
  EXPECT_FALSE(device->activation);
}

TEST_F(VirtioPciTest, NotificationsReachTheDeviceThroughMmioAndIoeventfd) {
  write(kNotifyOffset + 4, 1, 2);  // before DRIVER_OK: dropped
  EXPECT_TRUE(device->notified.empty());
  bring_up();
  write(kNotifyOffset + 4, 1, 2);
  write(kNotifyOffset, 0, 4);                   // any width
  write(kNotifyOffset + 8 * 4, 8, 2);           // no queue 8
  EXPECT_EQ(device->notified, (std::vector<uint16_t>{1, 0}));

  // The doorbells are KVM ioeventfds on the notify structure, one per queue.
  auto bound = api.calls_of(KVM_IOEVENTFD);
  ASSERT_EQ(bound.size(), 2u);
  for (uint64_t q = 0; q < 2; ++q) {
    auto ioeventfd = bound[q].as<kvm_ioeventfd>();
    EXPECT_EQ(ioeventfd.addr, bar + kNotifyOffset + q * kNotifyOffMultiplier);
    EXPECT_EQ(ioeventfd.len, 2u);
    EXPECT_EQ(ioeventfd.flags, 0u);
  }
  loop.start([](const std::string& message) { ADD_FAILURE() << message; });
  uint64_t one = 1;
  ASSERT_EQ(::write(bound[1].as<kvm_ioeventfd>().fd, &one, 8), 8);
  EXPECT_EQ(device->wait_for_notifications(3), (std::vector<uint16_t>{1, 0, 1}));
  loop.stop();
}

TEST_F(VirtioPciTest, MovingTheBarMovesTheDoorbells) {
  uint64_t moved = memory::kPciMmio32Start + 0x800000;
  config_write(pci::kBar0, moved, 4);
  auto calls = api.calls_of(KVM_IOEVENTFD);
  ASSERT_EQ(calls.size(), 6u);  // bound, unbound, bound again for each of 2 queues
  EXPECT_EQ(calls[2].as<kvm_ioeventfd>().flags, static_cast<uint32_t>(KVM_IOEVENTFD_FLAG_DEASSIGN));
  EXPECT_EQ(calls[2].as<kvm_ioeventfd>().addr, bar + kNotifyOffset);
  EXPECT_EQ(calls[3].as<kvm_ioeventfd>().addr, moved + kNotifyOffset);
  bar = moved;
  EXPECT_EQ(read(common::kNumQueues, 2), 2u);
  // Turning memory space off unbinds them.
  config_write(pci::kCommand, 0, 2);
  EXPECT_EQ(api.calls_of(KVM_IOEVENTFD).size(), 8u);
  EXPECT_EQ(api.calls_of(KVM_IOEVENTFD).back().as<kvm_ioeventfd>().flags,
            static_cast<uint32_t>(KVM_IOEVENTFD_FLAG_DEASSIGN));
}

TEST_F(VirtioPciTest, UsedBuffersRaiseTheQueueVectorThroughMsix) {
  enable_msix();
  bring_up(0);
  device->activation->signals->used_buffers(1);
  EXPECT_EQ(irqfd_count(2), 1u);  // queue 1 uses vector 2
  EXPECT_EQ(irqfd_count(1), 0u);
  EXPECT_EQ(api.calls_of(kvm::uapi::kSetGsiRouting).back().routes.back().u.msi.data, 0x42u);
  EXPECT_TRUE(intx.levels.empty());
}

TEST_F(VirtioPciTest, NeedsResetSetsTheStatusBitAndRaisesAConfigInterrupt) {
  enable_msix();
  bring_up(0);
  device->activation->signals->needs_reset();
  EXPECT_EQ(status() & kStatusDeviceNeedsReset, kStatusDeviceNeedsReset);
  EXPECT_EQ(irqfd_count(0), 1u);
  // The driver cannot clear it except by a reset.
  write(common::kDeviceStatus, 0x0f, 1);
  EXPECT_EQ(status() & kStatusDeviceNeedsReset, kStatusDeviceNeedsReset);
}

TEST_F(VirtioPciTest, WithoutMsixInterruptsGoThroughIsrAndIntx) {
  bring_up();
  uint8_t generation = static_cast<uint8_t>(read(common::kConfigGeneration, 1));
  device->activation->signals->config_changed();
  EXPECT_EQ(read(common::kConfigGeneration, 1), uint8_t(generation + 1));
  ASSERT_EQ(intx.levels, (std::vector<bool>{true}));
  EXPECT_EQ(config_read(pci::kStatus, 2) & pci::kStatusInterrupt, pci::kStatusInterrupt);
  device->activation->signals->used_buffers(0);
  EXPECT_EQ(read(kIsrOffset, 1), static_cast<uint64_t>(kIsrQueue | kIsrConfig));  // read clears
  EXPECT_EQ(intx.levels, (std::vector<bool>{true, false}));
  EXPECT_EQ(read(kIsrOffset, 1), 0u);
  // INTx disable in the command register holds the line low.
  config_write(pci::kCommand, pci::kCommandMemorySpace | pci::kCommandInterruptDisable, 2);
  device->activation->signals->used_buffers(0);
  EXPECT_EQ(intx.levels, (std::vector<bool>{true, false}));
  config_write(pci::kCommand, pci::kCommandMemorySpace, 2);
  EXPECT_EQ(intx.levels, (std::vector<bool>{true, false, true}));
}

TEST_F(VirtioPciTest, ResetReturnsEveryRegisterToItsDefault) {
  bring_up(0);
  write(common::kDeviceFeatureSelect, 1, 4);
  write(common::kDeviceStatus, 0, 1);
  EXPECT_EQ(device->resets, 1);
  EXPECT_FALSE(device->activation);
  EXPECT_EQ(status(), 0);
  EXPECT_EQ(read(common::kDeviceFeatureSelect, 4), 0u);
  write(common::kDriverFeatureSelect, 0, 4);
  EXPECT_EQ(read(common::kDriverFeature, 4), 0u);
  EXPECT_EQ(read(common::kConfigMsixVector, 2), kNoVector);
  EXPECT_EQ(read(common::kQueueSelect, 2), 0u);
  EXPECT_EQ(read(common::kQueueSize, 2), 256u);
  EXPECT_EQ(read(common::kQueueEnable, 2), 0u);
  EXPECT_EQ(read(common::kQueueDesc, 8), 0u);
  EXPECT_EQ(read(common::kQueueMsixVector, 2), kNoVector);
  // Notifications after the reset do not reach the device; a new bring-up works.
  write(kNotifyOffset, 0, 2);
  EXPECT_TRUE(device->notified.empty());
  bring_up();
  EXPECT_TRUE(device->activation);
}

TEST_F(VirtioPciTest, DeviceConfigurationGoesToTheDevice) {
  EXPECT_EQ(read(kDeviceConfigOffset + 2, 2), 0xc3c2u);
  EXPECT_EQ(read(kDeviceConfigOffset + 6, 4), 0x0000c7c6u);  // past the end reads 0
  write(kDeviceConfigOffset + 3, 1, 1);
  ASSERT_EQ(device->config_writes.size(), 1u);
  EXPECT_EQ(device->config_writes[0], (std::pair<uint64_t, size_t>{3, 1}));
}

TEST_F(VirtioPciTest, PciConfigurationAccessCapabilityReachesTheBar) {
  uint16_t cap = 0;
  for (uint16_t c = static_cast<uint16_t>(config_read(pci::kCapabilitiesPointer, 1)); c != 0;
       c = static_cast<uint16_t>(config_read(c + 1, 1)))
    if (config_read(c, 1) == pci::kCapabilityVendor && config_read(c + 3, 1) == kCapPciConfig) cap = c;
  ASSERT_NE(cap, 0);
  config_write(cap + 4, 0, 1);                      // BAR 0
  config_write(cap + 8, common::kNumQueues, 4);     // offset
  config_write(cap + 12, 2, 4);                     // length
  EXPECT_EQ(config_read(cap + 16, 2), 2u);
  config_write(cap + 8, common::kDeviceStatus, 4);
  config_write(cap + 12, 1, 4);
  config_write(cap + 16, kStatusAcknowledge, 4);
  EXPECT_EQ(status(), kStatusAcknowledge);
  // A misaligned or oversized window does nothing.
  config_write(cap + 8, 0x13, 4);
  config_write(cap + 12, 2, 4);
  config_write(cap + 16, 0xffff, 4);
  EXPECT_EQ(read(0x12, 2), 2u);
  config_write(cap + 8, kBarSize - 2, 4);
  config_write(cap + 12, 4, 4);
  config_write(cap + 16, 0xffffffff, 4);
}

TEST_F(VirtioPciTest, HostileWritesAtEveryOffsetAndWidthAreSafe) {
  bring_up(0);
  for (uint64_t offset = 0; offset < kBarSize; ++offset)
    for (unsigned size : {1u, 2u, 4u, 8u}) {
      if (offset + size > kBarSize) continue;
      if (offset >= common::kDeviceStatus && offset < common::kDeviceStatus + 1 + 7) continue;  // no resets here
      write(offset, 0xffffffffffffffffu, size);
      read(offset, size);
    }
  EXPECT_EQ(read(common::kNumQueues, 2), 2u);
  EXPECT_EQ(read(common::kQueueNotifyOff, 2), read(common::kQueueSelect, 2) < 2 ? read(common::kQueueSelect, 2) : 0u);
  // Random bytes everywhere, status included.
  std::mt19937 random(3);
  for (int i = 0; i < 20000; ++i) {
    unsigned size = 1u << (random() % 4);
    uint64_t offset = random() % (kBarSize - size + 1);
    write(offset, (uint64_t{random()} << 32) | random(), size);
  }
  EXPECT_EQ(read(common::kNumQueues, 2), 2u);
}

TEST_F(VirtioPciTest, ConcurrentGuestAndDeviceAccessesDoNotDeadlock) {
  enable_msix();
  bring_up(0);
  DeviceSignals* signals = device->activation->signals;
  loop.start([](const std::string& message) { ADD_FAILURE() << message; });
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  // A vCPU resetting and bringing the device up again.
  threads.emplace_back([&] {
    for (int i = 0; i < 300; ++i) {
      write(common::kDeviceStatus, 0, 1);
      bring_up(0);
    }
  });
  // A vCPU toggling memory space and moving the BAR back and forth.
  threads.emplace_back([&] {
    uint64_t home = bar;
    for (int i = 0; i < 300; ++i) {
      config_write(pci::kBar0, i % 2 ? home + kBarSize : home, 4);
      config_write(pci::kCommand, pci::kCommandMemorySpace, 2);
      config_read(pci::kVendorId, 4);
    }
    config_write(pci::kBar0, home, 4);
  });
  // A vCPU ringing doorbells and reading the ISR and the MSI-X table.
  threads.emplace_back([&] {
    for (int i = 0; i < 3000; ++i) {
      mmio.write(bar + kNotifyOffset, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&i), 2));
      uint8_t byte;
      mmio.read(bar + kIsrOffset, std::span(&byte, 1));
    }
  });
  // A device thread signalling all the while.
  threads.emplace_back([&] {
    while (!done.load()) {
      signals->used_buffers(0);
      signals->config_changed();
      signals->needs_reset();
    }
  });
  for (size_t i = 0; i < 3; ++i) threads[i].join();
  done = true;
  threads[3].join();
  loop.stop();
  EXPECT_EQ(read(common::kNumQueues, 2), 2u);
}

TEST(VirtioPciTransport, DevicesTheTransportCannotCarryAreRejected) {
  struct NoQueues final : VirtioDevice {
    uint32_t device_id() const override { return kDeviceIdRng; }
    uint64_t device_features() const override { return kFeatureVersion1; }
    std::vector<uint16_t> queue_max_sizes() const override { return sizes; }
    void read_config(uint64_t, std::span<uint8_t>) override {}
    void write_config(uint64_t, std::span<const uint8_t>) override {}
    void activate(Activation) override {}
    void queue_notify(uint16_t) override {}
    void reset() override {}
    std::vector<uint16_t> sizes;
  };
  testing::FakeKvmApi api;
  memory::GuestMemory memory(memory::MemoryLayout(4 * memory::kMiB));
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  pci::GsiRouting routing(vm);
  devices::EventfdLoop loop;
  RecordingLine intx;
  PciPlatform platform{&memory, &vm, &routing, &loop, &intx};
  for (std::vector<uint16_t> sizes : {std::vector<uint16_t>{}, std::vector<uint16_t>(65, 16),
                                      std::vector<uint16_t>{100}, std::vector<uint16_t>{0}}) {
    auto device = std::make_shared<NoQueues>();
    device->sizes = sizes;
    EXPECT_THROW(PciTransport(device, platform), VmmError);
  }
}

}  // namespace
}  // namespace shelter::vmm::virtio
