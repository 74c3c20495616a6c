// The PCI bus as a guest drives it: configuration space through 0xcf8/0xcfc
// and ECAM, BAR sizing, placement and reprogramming, hostile configuration
// writes, and MSI-X delivery through KVM (the fake KvmApi records the
// routing; the irqfd is a real eventfd read back here).
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "tests/unit/vmm/fake_kvm_api.h"
#include "vmm/kvm/uapi.h"
#include "vmm/devices/bus.h"
#include "vmm/kvm/error.h"
#include "vmm/memory/layout.h"
#include "vmm/pci/kvm_interrupts.h"
#include "vmm/pci/msix.h"
#include "vmm/pci/pci_bus.h"

namespace shelter::vmm::pci {
namespace {

using memory::kGiB;
using memory::kMiB;

// A function with a 32-bit BAR 0 and a 64-bit prefetchable BAR 2 whose
// registers echo back what was written.
class TestFunction final : public PciFunction {
 public:
  TestFunction(uint64_t bar0_size, uint64_t bar2_size)
      : PciFunction({0x1234, 0x5678, 0x030000, 7, 0x1234, 0x0001}) {
    if (bar0_size) declare_bar(0, bar0_size, BarKind::kMemory32);
    if (bar2_size) declare_bar(2, bar2_size, BarKind::kMemory64Prefetchable);
    uint8_t body[2] = {0xaa, 0xbb};
    config_.add_capability(kCapabilityVendor, body);
  }
  void bar_read(unsigned bar, uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(bar * 0x10 + offset + i);
  }
  void bar_write(unsigned bar, uint64_t offset, std::span<const uint8_t> data) override {
    writes.push_back({bar, offset, data.size()});
  }
  void decoding_changed() override { ++decoding_changes; }
  struct Write {
    unsigned bar;
    uint64_t offset;
    size_t size;
  };
  std::vector<Write> writes;
  int decoding_changes = 0;
};

class PciBusTest : public ::testing::Test {
 public:
  explicit PciBusTest(uint64_t ram = 64 * kMiB) : layout(ram), bus(layout) { bus.attach(io, mmio); }

  uint32_t cf8_read(unsigned device, uint16_t offset, unsigned size = 4) {
    uint32_t address = 0x80000000u | device << 11 | (offset & 0xfc);
    EXPECT_TRUE(io.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&address), 4)));
    uint32_t value = 0;
    EXPECT_TRUE(io.read(0xcfc + (offset & 3), std::span(reinterpret_cast<uint8_t*>(&value), size)));
    return value;
  }
  void cf8_write(unsigned device, uint16_t offset, uint32_t value, unsigned size = 4) {
    uint32_t address = 0x80000000u | device << 11 | (offset & 0xfc);
    EXPECT_TRUE(io.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&address), 4)));
    EXPECT_TRUE(io.write(0xcfc + (offset & 3), std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&value), size)));
  }
  uint64_t ecam(unsigned device, uint16_t offset) {
    return memory::kPciEcamAddress + (uint64_t{device} << 15) + offset;
  }
  uint32_t ecam_read(unsigned device, uint16_t offset, unsigned size = 4) {
    uint32_t value = 0;
    EXPECT_TRUE(mmio.read(ecam(device, offset), std::span(reinterpret_cast<uint8_t*>(&value), size)));
    return value;
  }
  void ecam_write(unsigned device, uint16_t offset, uint32_t value, unsigned size = 4) {
    EXPECT_TRUE(mmio.write(ecam(device, offset), std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&value), size)));
  }
  uint32_t mmio_read32(uint64_t address) {
    uint32_t value = 0;
    EXPECT_TRUE(mmio.read(address, std::span(reinterpret_cast<uint8_t*>(&value), 4)));
    return value;
  }

  memory::MemoryLayout layout;
  PciBus bus;
  devices::Bus io;
  devices::Bus mmio;
};

TEST_F(PciBusTest, HostBridgeAnswersAndEmptySlotsReadAllOnes) {
  EXPECT_EQ(cf8_read(0, kVendorId), uint32_t{kHostBridgeDeviceId} << 16 | kHostBridgeVendorId);
  EXPECT_EQ(cf8_read(0, 0x08) >> 8, kClassHostBridge);
  EXPECT_EQ(cf8_read(5, kVendorId), 0xffffffffu);
  EXPECT_EQ(ecam_read(5, kVendorId), 0xffffffffu);
  // Bus 1 and function 1 do not exist.
  uint32_t value;
  ASSERT_TRUE(mmio.read(memory::kPciEcamAddress + (1u << 20), std::span(reinterpret_cast<uint8_t*>(&value), 4)));
  EXPECT_EQ(value, 0xffffffffu);
  EXPECT_EQ(ecam_read(0, static_cast<uint16_t>(1u << 12)), 0xffffffffu);
  // With the enable bit clear, the data port is not a configuration cycle.
  uint32_t disabled = 0;
  io.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&disabled), 4));
  ASSERT_TRUE(io.read(0xcfc, std::span(reinterpret_cast<uint8_t*>(&value), 4)));
  EXPECT_EQ(value, 0xffffffffu);
}

TEST_F(PciBusTest, PortsAndEcamAgreeAtEveryOffsetAndWidth) {
  bus.add(bus.free_slot(), std::make_shared<TestFunction>(0x4000, 64 * kMiB));
  for (unsigned device : {0u, 1u, 2u})
    for (uint16_t offset = 0; offset < kConfigSpaceSize; ++offset)
      for (unsigned size : {1u, 2u, 4u}) {
        if ((offset & 3) + size > 4) continue;  // a port access stays inside 0xcfc-0xcff
        ASSERT_EQ(cf8_read(device, offset, size), ecam_read(device, offset, size))
            << "device " << device << " offset " << offset << " size " << size;
      }
  // A write through one is seen through the other.
  cf8_write(1, kInterruptLine, 0x0b, 1);
  EXPECT_EQ(ecam_read(1, kInterruptLine, 1), 0x0bu);
  ecam_write(1, kCommand, kCommandMemorySpace, 2);
  EXPECT_EQ(cf8_read(1, kCommand, 2), kCommandMemorySpace);
  // The extended space exists through ECAM only, and reads as zero.
  EXPECT_EQ(ecam_read(1, 0x100), 0u);
  EXPECT_EQ(ecam_read(1, 0xffc), 0u);
}

TEST_F(PciBusTest, BarSizingReturnsTheSizeMask) {
  bus.add(1, std::make_shared<TestFunction>(0x4000, 32 * kGiB));
  cf8_write(1, kBar0, 0xffffffff);
  EXPECT_EQ(cf8_read(1, kBar0), 0xffffc000u);  // 16 KiB, 32-bit, not prefetchable
  cf8_write(1, kBar0 + 8, 0xffffffff);
  cf8_write(1, kBar0 + 12, 0xffffffff);
  uint64_t low = cf8_read(1, kBar0 + 8);
  uint64_t high = cf8_read(1, kBar0 + 12);
  EXPECT_EQ(low & 0xf, 0xcu);  // 64-bit, prefetchable
  uint64_t mask = (high << 32 | low) & ~uint64_t{0xf};
  EXPECT_EQ(~mask + 1, 32 * kGiB);
  // Unimplemented BARs and the ROM BAR stay zero.
  cf8_write(1, kBar0 + 4, 0xffffffff);
  EXPECT_EQ(cf8_read(1, kBar0 + 4), 0u);
  cf8_write(1, 0x30, 0xffffffff);
  EXPECT_EQ(cf8_read(1, 0x30), 0u);
}

class PciBusWithBigRam : public PciBusTest {
 protected:
  PciBusWithBigRam() : PciBusTest(8 * kGiB) {}
};

TEST_F(PciBusWithBigRam, BarsArePlacedNaturallyAlignedInTheirWindowsAndAGpuBarFits) {
  auto small = std::make_shared<TestFunction>(0x4000, 0x100000);
  auto gpu = std::make_shared<TestFunction>(16 * kMiB, 32 * kGiB);
  bus.add(1, small);
  bus.add(2, gpu);
  uint64_t small_bar0 = cf8_read(1, kBar0) & ~0xfu;
  uint64_t gpu_bar0 = cf8_read(2, kBar0) & ~0xfu;
  uint64_t gpu_bar2 = (cf8_read(2, kBar0 + 8) & ~0xfu) | uint64_t{cf8_read(2, kBar0 + 12)} << 32;
  EXPECT_GE(small_bar0, memory::kPciMmio32Start);
  EXPECT_EQ(gpu_bar0 % (16 * kMiB), 0u);
  EXPECT_LE(gpu_bar0 + 16 * kMiB, memory::kPciMmio32End);
  EXPECT_EQ(gpu_bar2 % (32 * kGiB), 0u);
  EXPECT_GE(gpu_bar2, layout.pci_mmio64_start());
  EXPECT_GE(gpu_bar2, 8 * kGiB + memory::kPciHoleEnd - memory::kPciHoleStart);  // above RAM
  EXPECT_LE(gpu_bar2 + 32 * kGiB, layout.pci_mmio64_start() + memory::kPciMmio64Size);
  // The GPU BAR decodes once memory space is on; its last byte too.
  cf8_write(2, kCommand, kCommandMemorySpace);
  uint8_t last = 0;
  ASSERT_TRUE(mmio.read(gpu_bar2 + 32 * kGiB - 1, std::span(&last, 1)));
  EXPECT_EQ(last, static_cast<uint8_t>(0x20 + 32 * kGiB - 1));
  // The 256 GiB window holds eight such BARs; the small BAR's 32 GiB block
  // leaves room for six more, and small BARs still fit in its gap.
  for (unsigned slot = 3; slot < 9; ++slot) bus.add(slot, std::make_shared<TestFunction>(0, 32 * kGiB));
  EXPECT_THROW(bus.add(9, std::make_shared<TestFunction>(0, 32 * kGiB)), VmmError);
  auto late = std::make_shared<TestFunction>(0, 0x100000);
  bus.add(9, late);
  uint64_t late_bar2 = (cf8_read(9, kBar0 + 8) & ~0xfu) | uint64_t{cf8_read(9, kBar0 + 12)} << 32;
  EXPECT_EQ(late_bar2, layout.pci_mmio64_start() + 0x100000);
}

TEST_F(PciBusTest, MemoryEnableAndBarReprogrammingMoveTheDecoding) {
  auto function = std::make_shared<TestFunction>(0x4000, 0);
  bus.add(1, function);
  uint64_t placed = cf8_read(1, kBar0) & ~0xfu;
  EXPECT_EQ(mmio_read32(placed), 0xffffffffu) << "memory space is off after reset";
  cf8_write(1, kCommand, kCommandMemorySpace);
  EXPECT_EQ(mmio_read32(placed + 4), 0x07060504u);
  EXPECT_EQ(function->decoding_changes, 1);
  uint64_t moved = memory::kPciMmio32Start + 0x100000;
  cf8_write(1, kBar0, static_cast<uint32_t>(moved));
  EXPECT_EQ(function->decoding_changes, 2);
  EXPECT_EQ(mmio_read32(placed), 0xffffffffu);
  EXPECT_EQ(mmio_read32(moved + 8), 0x0b0a0908u);
  uint8_t byte = 1;
  ASSERT_TRUE(mmio.write(moved + 0x3fff, std::span<const uint8_t>(&byte, 1)));
  ASSERT_EQ(function->writes.size(), 1u);
  EXPECT_EQ(function->writes[0].offset, 0x3fffu);
  // An access that runs past the BAR's end reaches nothing.
  uint16_t word = 0;
  ASSERT_TRUE(mmio.read(moved + 0x3fff, std::span(reinterpret_cast<uint8_t*>(&word), 2)));
  EXPECT_EQ(word, 0xffffu);
  // A BAR moved outside both windows decodes nowhere.
  cf8_write(1, kBar0, 0x1000);
  EXPECT_EQ(mmio_read32(moved), 0xffffffffu);
  cf8_write(1, kBar0, static_cast<uint32_t>(moved));
  cf8_write(1, kCommand, 0);
  EXPECT_EQ(mmio_read32(moved), 0xffffffffu);
}

// Reads every byte a guest must not be able to change.
std::vector<uint8_t> read_only_view(PciBusTest& test, unsigned device) {
  std::vector<uint8_t> view;
  for (uint16_t offset : {kVendorId, kDeviceId, uint16_t{0x08}, uint16_t{0x0c}, kSubsystemVendorId,
                          uint16_t{kCapabilitiesPointer}, uint16_t{kInterruptPin}}) {
    uint32_t value = test.ecam_read(device, offset & 0xffc) >> (8 * (offset & 3));
    for (int i = 0; i < 4; ++i) view.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  // The capability list: IDs and links.
  for (uint16_t cap = test.ecam_read(device, kCapabilitiesPointer, 1); cap != 0;
       cap = test.ecam_read(device, cap + 1, 1)) {
    view.push_back(static_cast<uint8_t>(test.ecam_read(device, cap, 1)));
    view.push_back(static_cast<uint8_t>(cap));
    if (view.size() > 512) break;  // a loop would be a bug: the comparison below catches it
  }
  return view;
}

TEST_F(PciBusTest, HostileWritesAtEveryOffsetAndWidthLeaveReadOnlyFieldsIntact) {
  bus.add(1, std::make_shared<TestFunction>(0x4000, 64 * kMiB));
  std::mt19937 random(7);
  for (unsigned device : {0u, 1u}) {
    std::vector<uint8_t> before = read_only_view(*this, device);
    for (uint16_t offset = 0; offset < kExtendedConfigSpaceSize; ++offset)
      for (unsigned size : {1u, 2u, 4u}) {
        if ((offset & 0xfff) + size > kExtendedConfigSpaceSize) continue;
        ecam_write(device, offset, 0xffffffffu, size);
        ecam_write(device, offset, static_cast<uint32_t>(random()), size);
        if ((offset & 3) + size <= 4) cf8_write(device, offset, static_cast<uint32_t>(random()), size);
      }
    EXPECT_EQ(read_only_view(*this, device), before) << "device " << device;
    EXPECT_EQ(cf8_read(device, kBar0 + 8) & 0xf, device == 1 ? 0xcu : 0u);
  }
  // Byte accesses to the address port are not latched.
  uint32_t latch = 0x80000800u;
  io.write(0xcf8, std::span<const uint8_t>(reinterpret_cast<uint8_t*>(&latch), 4));
  uint8_t byte = 0x12;
  io.write(0xcf9, std::span<const uint8_t>(&byte, 1));
  uint32_t back = 0;
  io.read(0xcf8, std::span(reinterpret_cast<uint8_t*>(&back), 4));
  EXPECT_EQ(back, latch);
}

// --- MSI-X through KVM ---

class MsixTest : public ::testing::Test {
 protected:
  MsixTest()
      : system(kvm::System::open(api)),
        vm(system.create_vm()),
        routing(vm),
        vectors(vm, routing, 3),
        msix(config, 3, 0, 0x1000, 0x1800, vectors) {}

  void write_entry(uint16_t vector, uint64_t address, uint32_t data, uint32_t control) {
    uint32_t entry[4] = {static_cast<uint32_t>(address), static_cast<uint32_t>(address >> 32), data, control};
    msix.table_write(vector * kMsixEntrySize, std::span(reinterpret_cast<uint8_t*>(entry), 16));
  }
  void set_control(uint16_t bits) {
    uint16_t control = bits;
    config.write(msix.capability_offset() + 2, std::span(reinterpret_cast<uint8_t*>(&control), 2));
    msix.control_written();
  }
  // How many times the vector's irqfd fired since the last look (0: none).
  uint64_t irqfd_count(uint16_t vector) {
    uint64_t count = 0;
    if (::read(vectors.eventfd(vector), &count, sizeof count) != sizeof count) return 0;
    return count;
  }
  uint64_t pba() {
    uint64_t bits = 0;
    msix.pba_read(0, std::span(reinterpret_cast<uint8_t*>(&bits), 8));
    return bits;
  }

  testing::FakeKvmApi api;
  kvm::System system;
  kvm::Vm vm;
  ConfigSpace config;
  GsiRouting routing;
  KvmMsiVectors vectors;
  Msix msix;
};

TEST_F(MsixTest, CapabilityDescribesTableAndPba) {
  uint16_t cap = msix.capability_offset();
  EXPECT_EQ(config.get8(kCapabilitiesPointer), cap);
  EXPECT_EQ(config.get8(cap), kCapabilityMsix);
  EXPECT_EQ(config.get16(cap + 2) & 0x7ff, 2u);  // table size - 1
  EXPECT_EQ(config.get32(cap + 4), 0x1000u);     // BAR 0, offset 0x1000
  EXPECT_EQ(config.get32(cap + 8), 0x1800u);
  // Each vector starts masked; the reserved control bits read 0.
  uint32_t control = 0;
  msix.table_read(12, std::span(reinterpret_cast<uint8_t*>(&control), 4));
  EXPECT_EQ(control, 1u);
  write_entry(0, 0xfee00000, 0x41, 0xfffffffe);
  msix.table_read(12, std::span(reinterpret_cast<uint8_t*>(&control), 4));
  EXPECT_EQ(control, 0u);
}

TEST_F(MsixTest, IrqfdsAreBoundPerVectorFromTheMsiGsiBase) {
  auto irqfds = api.calls_of(KVM_IRQFD);
  ASSERT_EQ(irqfds.size(), 3u);
  for (uint16_t v = 0; v < 3; ++v) {
    EXPECT_EQ(irqfds[v].as<kvm_irqfd>().gsi, memory::kMsiGsiBase + v);
    EXPECT_EQ(static_cast<int>(irqfds[v].as<kvm_irqfd>().fd), vectors.eventfd(v));
  }
}

TEST_F(MsixTest, DeliveryProgramsTheRouteAndWritesTheIrqfd) {
  set_control(kMsixControlEnable);
  write_entry(1, 0xfee01000, 0x4031, 0);
  msix.signal(1);
  EXPECT_EQ(irqfd_count(1), 1u);
  EXPECT_EQ(irqfd_count(0), 0u);
  auto routings = api.calls_of(kvm::uapi::kSetGsiRouting);
  ASSERT_EQ(routings.size(), 1u);
  const auto& routes = routings[0].routes;
  // The irqchip's own routes survive the replacement of the table.
  EXPECT_EQ(std::count_if(routes.begin(), routes.end(),
                          [](const kvm_irq_routing_entry& e) { return e.type == KVM_IRQ_ROUTING_IRQCHIP; }),
            16 + 24);
  auto msi = std::find_if(routes.begin(), routes.end(),
                          [](const kvm_irq_routing_entry& e) { return e.type == KVM_IRQ_ROUTING_MSI; });
  ASSERT_NE(msi, routes.end());
  EXPECT_EQ(msi->gsi, memory::kMsiGsiBase + 1);
  EXPECT_EQ(msi->u.msi.address_lo, 0xfee01000u);
  EXPECT_EQ(msi->u.msi.address_hi, 0u);
  EXPECT_EQ(msi->u.msi.data, 0x4031u);
  // The same message again needs no new routing; a changed one does.
  msix.signal(1);
  EXPECT_EQ(irqfd_count(1), 1u);
  EXPECT_EQ(api.calls_of(kvm::uapi::kSetGsiRouting).size(), 1u);
  write_entry(1, 0xfee02000, 0x4032, 0);
  msix.signal(1);
  ASSERT_EQ(api.calls_of(kvm::uapi::kSetGsiRouting).size(), 2u);
  EXPECT_EQ(api.calls_of(kvm::uapi::kSetGsiRouting)[1].routes.back().u.msi.data, 0x4032u);
}

TEST_F(MsixTest, MaskedVectorsPendUntilUnmasked) {
  set_control(kMsixControlEnable);
  write_entry(2, 0xfee00000, 0x22, kMsixVectorMasked);
  msix.signal(2);
  EXPECT_EQ(irqfd_count(2), 0u);
  EXPECT_TRUE(msix.pending(2));
  EXPECT_EQ(pba(), 0b100u);
  write_entry(2, 0xfee00000, 0x22, 0);  // unmask: the pending message goes out
  EXPECT_EQ(irqfd_count(2), 1u);
  EXPECT_EQ(pba(), 0u);
  // The function mask holds every vector.
  set_control(kMsixControlEnable | kMsixControlFunctionMask);
  msix.signal(2);
  EXPECT_EQ(irqfd_count(2), 0u);
  EXPECT_EQ(pba(), 0b100u);
  set_control(kMsixControlEnable);
  EXPECT_EQ(irqfd_count(2), 1u);
  EXPECT_EQ(pba(), 0u);
  // The PBA is read-only.
  EXPECT_EQ(msix.pba_size(), 8u);
}

TEST_F(MsixTest, ARouteKvmRefusesLosesTheInterruptNotTheVmm) {
  set_control(kMsixControlEnable);
  write_entry(0, 0xfee00000, 0x30, 0);
  api.failing_ioctls[kvm::uapi::kSetGsiRouting] = EINVAL;
  msix.signal(0);
  EXPECT_EQ(irqfd_count(0), 0u);
  api.failing_ioctls.clear();
  msix.signal(0);
  EXPECT_EQ(irqfd_count(0), 1u);
}

TEST(GsiRouting, FailureNamesTheIoctlAndIsRetried) {
  testing::FakeKvmApi api;
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  GsiRouting routing(vm);
  uint32_t gsi = routing.allocate_msi_gsi();
  api.failing_ioctls[kvm::uapi::kSetGsiRouting] = EINVAL;
  try {
    routing.route_msi(gsi, 0xfee00000, 1);
    FAIL() << "expected a KvmError";
  } catch (const KvmError& e) {
    EXPECT_NE(std::string(e.what()).find("KVM_SET_GSI_ROUTING"), std::string::npos) << e.what();
  }
  api.failing_ioctls.clear();
  routing.route_msi(gsi, 0xfee00000, 1);
  EXPECT_EQ(api.calls_of(kvm::uapi::kSetGsiRouting).size(), 2u);
}

}  // namespace
}  // namespace shelter::vmm::pci

namespace shelter::vmm::pci {
namespace {

TEST(KvmVmPci, FailedInterruptAndDoorbellIoctlsNameTheIoctlAndErrno) {
  testing::FakeKvmApi api;
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  api.failing_ioctls[KVM_IRQFD] = ENOSPC;
  api.failing_ioctls[KVM_IOEVENTFD] = EEXIST;
  try {
    vm.assign_irqfd(3, memory::kMsiGsiBase);
    FAIL();
  } catch (const KvmError& e) {
    EXPECT_NE(std::string(e.what()).find("KVM_IRQFD"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), ENOSPC);
  }
  try {
    vm.set_mmio_ioeventfd(3, memory::kPciMmio32Start, 2, true);
    FAIL();
  } catch (const KvmError& e) {
    EXPECT_NE(std::string(e.what()).find("KVM_IOEVENTFD"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace shelter::vmm::pci
