// The ACPI tables byte by byte, the AML encoder, and the PM device that
// carries out the guest's power-off and reset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tests/unit/vmm/acpi_parse.h"
#include "vmm/acpi/aml.h"
#include "vmm/acpi/pm_device.h"
#include "vmm/acpi/structures.h"
#include "vmm/acpi/tables.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/kvm/error.h"
#include "vmm/memory/layout.h"

namespace shelter::vmm::acpi {
namespace {

using aml::Bytes;

constexpr uint64_t kMmio64 = 64 * memory::kGiB;
const Platform kTwoCpus{2, kMmio64};

uint8_t sum(std::span<const uint8_t> bytes) {
  uint8_t total = 0;
  for (uint8_t b : bytes) total = static_cast<uint8_t>(total + b);
  return total;
}

template <typename T>
T read_as(const Bytes& bytes, size_t offset = 0) {
  EXPECT_LE(offset + sizeof(T), bytes.size());
  T value;
  std::memcpy(&value, bytes.data() + offset, std::min(sizeof(T), bytes.size() - std::min(offset, bytes.size())));
  return value;
}

bool contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

void expect_table(const Bytes& table, const char* signature, uint8_t revision) {
  ASSERT_GE(table.size(), sizeof(TableHeader));
  auto header = read_as<TableHeader>(table);
  EXPECT_EQ(std::string(header.signature, 4), signature);
  EXPECT_EQ(+header.length, table.size());
  EXPECT_EQ(+header.revision, revision);
  EXPECT_EQ(std::string(header.oem_id, 6), "SHELTR");
  EXPECT_EQ(sum(table), 0) << signature;
}

// --- AML encoder ---

TEST(Aml, IntegersUseTheShortestEncoding) {
  EXPECT_EQ(aml::integer(0), Bytes{0x00});
  EXPECT_EQ(aml::integer(1), Bytes{0x01});
  EXPECT_EQ(aml::integer(2), (Bytes{0x0a, 0x02}));
  EXPECT_EQ(aml::integer(0xff), (Bytes{0x0a, 0xff}));
  EXPECT_EQ(aml::integer(0x100), (Bytes{0x0b, 0x00, 0x01}));
  EXPECT_EQ(aml::integer(0x12345678), (Bytes{0x0c, 0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(aml::integer(0x100000000), (Bytes{0x0e, 0, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(Aml, EisaIdsMatchTheirKnownEncodings) {
  // The values iasl writes for EisaId ("PNP0A03") and EisaId ("PNP0501").
  EXPECT_EQ(aml::eisa_id("PNP0A03"), (Bytes{0x0c, 0x41, 0xd0, 0x0a, 0x03}));
  EXPECT_EQ(aml::eisa_id("PNP0501"), (Bytes{0x0c, 0x41, 0xd0, 0x05, 0x01}));
  EXPECT_THROW(aml::eisa_id("PNP0A0"), VmmError);
  EXPECT_THROW(aml::eisa_id("pnp0A03"), VmmError);
  EXPECT_THROW(aml::eisa_id("PNP0A0g"), VmmError);
}

TEST(Aml, NameStringsArePaddedAndPrefixed) {
  EXPECT_EQ(aml::name_string("_HID"), (Bytes{'_', 'H', 'I', 'D'}));
  EXPECT_EQ(aml::name_string("PCI"), (Bytes{'P', 'C', 'I', '_'}));
  EXPECT_EQ(aml::name_string("\\_SB"), (Bytes{'\\', '_', 'S', 'B', '_'}));
  EXPECT_EQ(aml::name_string("\\_SB.PCI0"), (Bytes{'\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'}));
  EXPECT_EQ(aml::name_string("A.B.C"), (Bytes{0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_'}));
  for (const char* bad : {"", "\\", "TOOLONG", "0ABC", "a", "A..B", "A.", "AB-C"})
    EXPECT_THROW(aml::name_string(bad), VmmError) << bad;
}

TEST(Aml, PackageLengthGrowsAtItsBoundaries) {
  EXPECT_EQ(aml::package_length(0), Bytes{0x01});
  EXPECT_EQ(aml::package_length(62), Bytes{0x3f});
  // 63 body bytes need a two-byte length: total 65 = 0x41.
  EXPECT_EQ(aml::package_length(63), (Bytes{0x41, 0x04}));
  EXPECT_EQ(aml::package_length(0xffd), (Bytes{0x4f, 0xff}));                // total 0xfff
  EXPECT_EQ(aml::package_length(0xffe), (Bytes{0x81, 0x00, 0x01}));          // total 0x1001
  EXPECT_EQ(aml::package_length(0xffffc), (Bytes{0x8f, 0xff, 0xff}));        // total 0xfffff
  EXPECT_EQ(aml::package_length(0xffffd), (Bytes{0xc1, 0x00, 0x00, 0x01}));  // total 0x100001
  EXPECT_THROW(aml::package_length(size_t{1} << 28), VmmError);
}

TEST(Aml, ScopeDeviceNamePackageAndBuffer) {
  EXPECT_EQ(aml::name("_UID", aml::integer(0)), (Bytes{0x08, '_', 'U', 'I', 'D', 0x00}));
  EXPECT_EQ(aml::package({aml::integer(5), aml::integer(1)}), (Bytes{0x12, 0x05, 0x02, 0x0a, 0x05, 0x01}));
  EXPECT_EQ(aml::buffer({0xaa, 0xbb}), (Bytes{0x11, 0x05, 0x0a, 0x02, 0xaa, 0xbb}));
  EXPECT_EQ(aml::scope("\\_SB", {aml::integer(1)}), (Bytes{0x10, 0x07, '\\', '_', 'S', 'B', '_', 0x01}));
  EXPECT_EQ(aml::device("COM1", {}), (Bytes{0x5b, 0x82, 0x05, 'C', 'O', 'M', '1'}));
  std::vector<Bytes> many(256, aml::integer(0));
  EXPECT_THROW(aml::package(many), VmmError);
}

TEST(Aml, ResourceDescriptors) {
  namespace res = aml::resource;
  EXPECT_EQ(res::io(0x3f8, 8), (Bytes{0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08}));
  EXPECT_EQ(res::irq(4), (Bytes{0x22, 0x10, 0x00}));
  EXPECT_THROW(res::irq(16), VmmError);
  EXPECT_EQ(res::memory32_fixed(0xe0000000, 0x10000000),
            (Bytes{0x86, 0x09, 0x00, 0x01, 0, 0, 0, 0xe0, 0, 0, 0, 0x10}));
  // WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1)
  EXPECT_EQ(res::word_bus_number(0, 0), (Bytes{0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}));
  Bytes io = res::word_io(0x1000, 0xffff);
  EXPECT_EQ(io.size(), 16u);
  EXPECT_EQ(io[3], 1);     // I/O space
  EXPECT_EQ(io[5], 0x03);  // EntireRange
  EXPECT_EQ(read_as<uint16_t>(io, 14), 0xf000);
  Bytes memory32 = res::dword_memory(0xc1000000, 0xdfffffff);
  EXPECT_EQ(memory32.size(), 26u);
  EXPECT_EQ(memory32[5], 0x01);  // NonCacheable, ReadWrite
  EXPECT_EQ(read_as<uint32_t>(memory32, 22), 0x1f000000u);
  Bytes memory64 = res::qword_memory_prefetchable(kMmio64, kMmio64 + memory::kPciMmio64Size - 1);
  EXPECT_EQ(memory64.size(), 46u);
  EXPECT_EQ(memory64[5], 0x07);  // Prefetchable, ReadWrite
  EXPECT_EQ(read_as<uint64_t>(memory64, 14), kMmio64);
  EXPECT_EQ(read_as<uint64_t>(memory64, 38), memory::kPciMmio64Size);
  EXPECT_THROW(res::word_io(2, 1), VmmError);
  // The template ends with the end tag and a zero checksum.
  Bytes templ = aml::resource_template({res::irq(4)});
  EXPECT_EQ(templ, (Bytes{0x11, 0x08, 0x0a, 0x05, 0x22, 0x10, 0x00, 0x79, 0x00}));
}

// --- Tables ---

TEST(AcpiTables, RsdpPointsAtTheXsdtWithBothChecksums) {
  Bytes rsdp = build_rsdp(0xe0030);
  ASSERT_EQ(rsdp.size(), 36u);
  auto value = read_as<Rsdp>(rsdp);
  EXPECT_EQ(std::string(value.signature, 8), "RSD PTR ");
  EXPECT_EQ(+value.revision, 2);
  EXPECT_EQ(+value.length, 36u);
  EXPECT_EQ(+value.xsdt_address, 0xe0030u);
  EXPECT_EQ(+value.rsdt_address, 0u);
  EXPECT_EQ(sum(std::span(rsdp).first(20)), 0);
  EXPECT_EQ(sum(rsdp), 0);
}

TEST(AcpiTables, XsdtListsItsTables) {
  uint64_t addresses[] = {0xe0100, 0xe0200, 0x123456789};
  Bytes xsdt = build_xsdt(addresses);
  expect_table(xsdt, "XSDT", 1);
  ASSERT_EQ(xsdt.size(), 36u + 24u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(read_as<uint64_t>(xsdt, 36 + 8 * i), addresses[i]);
}

TEST(AcpiTables, FadtIsHardwareReducedWithSleepAndResetRegisters) {
  Bytes table = build_fadt(0xe1000);
  expect_table(table, "FACP", 6);
  ASSERT_EQ(table.size(), sizeof(Fadt));
  auto fadt = read_as<Fadt>(table);
  EXPECT_EQ(+fadt.minor_version, 5);
  EXPECT_NE(+fadt.flags & (1u << 20), 0u);  // HW_REDUCED_ACPI
  EXPECT_NE(+fadt.flags & (1u << 10), 0u);  // RESET_REG_SUP
  EXPECT_EQ(+fadt.x_dsdt, 0xe1000u);
  EXPECT_EQ(+fadt.dsdt, 0u);
  EXPECT_EQ(+fadt.sci_int, 0);
  EXPECT_EQ(+fadt.iapc_boot_arch & (1u << 3), 0u);  // MSI allowed
  for (auto [reg, port] : {std::pair{fadt.sleep_control_reg, 0x600}, {fadt.sleep_status_reg, 0x601}, {fadt.reset_reg, 0x602}}) {
    EXPECT_EQ(+reg.space_id, 1);  // system I/O
    EXPECT_EQ(+reg.bit_width, 8);
    EXPECT_EQ(+reg.access_size, 1);
    EXPECT_EQ(+reg.address, static_cast<uint64_t>(port));
  }
  EXPECT_EQ(+fadt.reset_value, kResetValue);
  // No legacy fixed hardware at all.
  EXPECT_EQ(+fadt.pm1a_evt_blk | fadt.pm1a_cnt_blk | fadt.pm_tmr_blk | fadt.gpe0_blk | fadt.smi_cmd, 0u);
  EXPECT_EQ(+fadt.x_pm1a_cnt_blk.address, 0u);
}

TEST(AcpiTables, MadtHasOneLocalApicPerVcpuAndTheIoApic) {
  for (unsigned vcpus : {1u, 2u, 64u, x86_64::kMaxVcpus}) {
    SCOPED_TRACE(vcpus);
    Bytes table = build_madt(vcpus);
    expect_table(table, "APIC", 5);
    auto madt = read_as<Madt>(table);
    EXPECT_EQ(+madt.local_apic_address, memory::kLapicAddress);
    EXPECT_EQ(+madt.flags, 1u);
    unsigned local_apics = 0, io_apics = 0, nmis = 0, others = 0;
    size_t offset = sizeof(Madt);
    while (offset < table.size()) {
      ASSERT_LE(offset + sizeof(MadtEntryHeader), table.size());
      auto entry = read_as<MadtEntryHeader>(table, offset);
      ASSERT_GE(+entry.length, sizeof(MadtEntryHeader));
      ASSERT_LE(offset + entry.length, table.size());
      if (entry.type == 0) {
        ASSERT_EQ(+entry.length, sizeof(MadtLocalApic));
        auto lapic = read_as<MadtLocalApic>(table, offset);
        EXPECT_EQ(+lapic.apic_id, local_apics);
        EXPECT_EQ(+lapic.processor_uid, local_apics);
        EXPECT_EQ(+lapic.flags, 1u);
        ++local_apics;
      } else if (entry.type == 1) {
        ASSERT_EQ(+entry.length, sizeof(MadtIoApic));
        auto ioapic = read_as<MadtIoApic>(table, offset);
        EXPECT_EQ(+ioapic.address, memory::kIoApicAddress);
        EXPECT_EQ(+ioapic.gsi_base, 0u);
        ++io_apics;
      } else if (entry.type == 4) {
        auto nmi = read_as<MadtLocalApicNmi>(table, offset);
        EXPECT_EQ(+nmi.processor_uid, 0xff);
        EXPECT_EQ(+nmi.lint, 1);
        ++nmis;
      } else {
        ++others;
      }
      offset += entry.length;
    }
    EXPECT_EQ(offset, table.size());
    EXPECT_EQ(local_apics, vcpus);
    EXPECT_EQ(io_apics, 1u);
    EXPECT_EQ(nmis, 1u);
    EXPECT_EQ(others, 0u);
  }
  EXPECT_THROW(build_madt(0), VmmError);
  EXPECT_THROW(build_madt(x86_64::kMaxVcpus + 1), VmmError);
}

TEST(AcpiTables, McfgDescribesTheEcamOfBusZero) {
  Bytes table = build_mcfg();
  expect_table(table, "MCFG", 1);
  ASSERT_EQ(table.size(), sizeof(Mcfg) + sizeof(McfgAllocation));
  auto allocation = read_as<McfgAllocation>(table, sizeof(Mcfg));
  EXPECT_EQ(+allocation.base_address, memory::kPciEcamAddress);
  EXPECT_EQ(+allocation.segment, 0);
  EXPECT_EQ(+allocation.start_bus, 0);
  EXPECT_EQ(+allocation.end_bus, 0);
}

TEST(AcpiTables, DsdtCarriesTheWindowsFromTheLayout) {
  Bytes table = build_dsdt(kTwoCpus);
  expect_table(table, "DSDT", 2);
  namespace res = aml::resource;
  EXPECT_TRUE(contains(table, aml::eisa_id("PNP0A08")));
  EXPECT_TRUE(contains(table, aml::eisa_id("PNP0501")));
  EXPECT_TRUE(contains(table, aml::eisa_id("PNP0C02")));
  EXPECT_TRUE(contains(table, res::dword_memory(memory::kPciMmio32Start, memory::kPciMmio32End - 1)));
  EXPECT_TRUE(contains(table, res::qword_memory_prefetchable(kMmio64, kMmio64 + memory::kPciMmio64Size - 1)));
  EXPECT_TRUE(contains(table, res::word_io(memory::kPciIoStart, memory::kPciIoEnd - 1)));
  EXPECT_TRUE(contains(table, res::memory32_fixed(memory::kPciEcamAddress, memory::kPciEcamSize)));
  // INTA# of slot 3 goes to pci_intx_gsi(3); INTB# of slot 7 wraps around.
  EXPECT_TRUE(contains(table, aml::package({aml::integer(0x3ffff), aml::integer(0), aml::integer(0),
                                            aml::integer(memory::pci_intx_gsi(3))})));
  EXPECT_TRUE(contains(table, aml::package({aml::integer(0x7ffff), aml::integer(1), aml::integer(0),
                                            aml::integer(memory::pci_intx_gsi(8))})));
  EXPECT_TRUE(contains(table, aml::name("\\_S5", aml::package({aml::integer(5), aml::integer(5)}))));
  // Another 64-bit window start shows up in the table.
  Bytes other = build_dsdt({2, 2 * kMmio64});
  EXPECT_FALSE(contains(other, res::qword_memory_prefetchable(kMmio64, kMmio64 + memory::kPciMmio64Size - 1)));
}

TEST(AcpiTables, ImageParsesBackStrictlyFromTheRsdp) {
  for (unsigned vcpus : {1u, 2u, 64u}) {
    Bytes image = build_tables({vcpus, kMmio64}, memory::kAcpiTablesAddress);
    auto parsed = testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress);
    EXPECT_EQ(parsed.xsdt_order, (std::vector<std::string>{"FACP", "APIC", "MCFG"}));
    EXPECT_EQ(parsed.tables.at("APIC"), build_madt(vcpus));
    EXPECT_EQ(parsed.tables.at("MCFG"), build_mcfg());
    EXPECT_EQ(parsed.tables.at("DSDT"), build_dsdt({vcpus, kMmio64}));
    EXPECT_LE(image.size(), memory::kAcpiTablesMaxSize);
  }
}

TEST(AcpiTables, StrictParserRejectsEveryCorruption) {
  const uint64_t base = memory::kAcpiTablesAddress;
  Bytes image = build_tables(kTwoCpus, base);
  auto parsed = testing::parse_tables(image, base, base);
  // Every byte of every table is under a checksum; only the padding between
  // tables is not.
  std::vector<bool> covered(image.size(), false);
  auto cover = [&](uint64_t address, size_t size) { std::fill_n(covered.begin() + (address - base), size, true); };
  cover(base, sizeof(Rsdp));
  cover(parsed.xsdt_address, parsed.tables.at("XSDT").size());
  for (size_t i = 0; i < parsed.xsdt_order.size(); ++i)
    cover(parsed.xsdt_addresses[i], parsed.tables.at(parsed.xsdt_order[i]).size());
  cover(read_as<Fadt>(parsed.tables.at("FACP")).x_dsdt, parsed.tables.at("DSDT").size());
  for (size_t i = 0; i < image.size(); ++i) {
    Bytes corrupt = image;
    corrupt[i] ^= 0x5a;
    bool rejected = false;
    try {
      testing::parse_tables(corrupt, base, base);
    } catch (const std::runtime_error&) {
      rejected = true;
    }
    EXPECT_EQ(rejected, static_cast<bool>(covered[i])) << "byte " << i;
  }
  // Truncated images and a misplaced RSDP are errors, never reads past the end.
  for (size_t size : {size_t{0}, size_t{20}, size_t{40}, image.size() / 2, image.size() - 1})
    EXPECT_THROW(testing::parse_tables(std::span(image).first(size), memory::kAcpiTablesAddress,
                                       memory::kAcpiTablesAddress),
                 std::runtime_error)
        << size;
  EXPECT_THROW(testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress - 16),
               std::runtime_error);
  EXPECT_THROW(testing::parse_tables(image, memory::kAcpiTablesAddress, memory::kAcpiTablesAddress + 8),
               std::runtime_error);
}

TEST(AcpiTables, InstalledInTheReservedAreaWhichRamDoesNotOverlap) {
  memory::GuestMemory memory(memory::MemoryLayout(64 * memory::kMiB));
  uint64_t rsdp = install_tables(memory, 2);
  EXPECT_EQ(rsdp, memory::kAcpiTablesAddress);
  auto area = memory.slice(memory::kAcpiTablesAddress, memory::kAcpiTablesMaxSize);
  auto parsed = testing::parse_tables(area, memory::kAcpiTablesAddress, rsdp);
  EXPECT_EQ(parsed.tables.at("APIC"), build_madt(2));
  // The e820 map calls none of the tables, the ECAM, the PCI windows or the
  // interrupt controllers RAM, also with RAM above 4 GiB.
  memory::MemoryLayout big(8 * memory::kGiB);
  struct Range {
    uint64_t start, end;
  };
  std::vector<Range> devices = {{memory::kAcpiTablesAddress, memory::kAcpiTablesAddress + memory::kAcpiTablesMaxSize},
                                {memory::kPciMmio32Start, memory::kPciMmio32End},
                                {memory::kPciEcamAddress, memory::kPciEcamAddress + memory::kPciEcamSize},
                                {memory::kIoApicAddress, memory::kIoApicAddress + 0x1000},
                                {memory::kLapicAddress, memory::kLapicAddress + 0x1000},
                                {big.pci_mmio64_start(), big.pci_mmio64_start() + memory::kPciMmio64Size}};
  for (const memory::MemoryLayout* layout : {&memory.layout(), static_cast<const memory::MemoryLayout*>(&big)}) {
    for (const memory::E820Entry& entry : layout->e820()) {
      if (entry.type != memory::E820Type::kRam) continue;
      for (const Range& device : devices)
        EXPECT_TRUE(entry.address + entry.size <= device.start || device.end <= entry.address)
            << std::hex << entry.address << " overlaps " << device.start;
    }
  }
}

// --- PM device ---

struct RecordingExits final : devices::ExitSink {
  std::vector<devices::VmExit> exits;
  void request_exit(devices::VmExit exit) override { exits.push_back(std::move(exit)); }
};

void write_byte(PmDevice& pm, uint16_t port, uint8_t value) { pm.write(port - kPmPort, std::span<const uint8_t>(&value, 1)); }

TEST(PmDevice, SleepEnableWithTheS5TypePowersOff) {
  RecordingExits exits;
  PmDevice pm(exits);
  write_byte(pm, kSleepStatusPort, 0x80);                         // Linux clears WAK_STS first
  write_byte(pm, kSleepControlPort, kSleepTypeS5 << 2);            // type without SLP_EN
  write_byte(pm, kSleepControlPort, kSleepEnable | (3 << 2));      // S3: not offered
  EXPECT_TRUE(exits.exits.empty());
  write_byte(pm, kSleepControlPort, kSleepEnable | (kSleepTypeS5 << 2));
  ASSERT_EQ(exits.exits.size(), 1u);
  EXPECT_EQ(exits.exits[0].reason, devices::VmExit::Reason::kPowerOff);
  EXPECT_EQ(exits.exits[0].status, 0);
}

TEST(PmDevice, ResetValueOnTheResetRegisterResets) {
  RecordingExits exits;
  PmDevice pm(exits);
  write_byte(pm, kResetPort, 0x01);
  write_byte(pm, kResetPort, 0xfe);
  write_byte(pm, kSleepControlPort, kResetValue);
  EXPECT_TRUE(exits.exits.empty());
  write_byte(pm, kResetPort, kResetValue);
  ASSERT_EQ(exits.exits.size(), 1u);
  EXPECT_EQ(exits.exits[0].reason, devices::VmExit::Reason::kReset);
  EXPECT_EQ(exits.exits[0].status, 0);
}

TEST(PmDevice, RegistersReadZero) {
  RecordingExits exits;
  PmDevice pm(exits);
  write_byte(pm, kSleepStatusPort, 0xff);
  for (uint64_t offset = 0; offset < kPmPortCount; ++offset) {
    uint8_t value = 0xaa;
    pm.read(offset, std::span(&value, 1));
    EXPECT_EQ(value, 0) << offset;
  }
}

TEST(PmDevice, HostileAccessesOfAnySizeAndOffsetNeverCrash) {
  RecordingExits exits;
  PmDevice pm(exits);
  // Every size the bus passes (1 to 8), at offsets inside and far outside
  // the range, with values that are neither S5 nor the reset value.
  for (size_t size = 1; size <= 8; ++size)
    for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{0xffff}, ~uint64_t{0} - 3}) {
      std::vector<uint8_t> data(size, 0x33);
      pm.write(offset, data);
      pm.read(offset, data);
      EXPECT_EQ(std::count(data.begin(), data.end(), 0), static_cast<long>(size));
    }
  EXPECT_TRUE(exits.exits.empty());
  // A word write covering the control and status registers acts on each.
  std::vector<uint8_t> word = {kSleepEnable | (kSleepTypeS5 << 2), 0x80};
  pm.write(0, word);
  ASSERT_EQ(exits.exits.size(), 1u);
  EXPECT_EQ(exits.exits[0].reason, devices::VmExit::Reason::kPowerOff);
}

}  // namespace
}  // namespace shelter::vmm::acpi
