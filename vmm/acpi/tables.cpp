#include "vmm/acpi/tables.h"

#include <cstring>
#include <string>
#include <type_traits>

#include "vmm/acpi/aml.h"
#include "vmm/acpi/pm_device.h"
#include "vmm/acpi/structures.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::acpi {
namespace {

using memory::kAcpiTablesAddress;
using memory::kAcpiTablesMaxSize;

constexpr char kOemId[] = "SHELTR";
constexpr char kOemTableId[] = "SHELTRVM";
constexpr char kCreatorId[] = "SHLT";
constexpr uint32_t kOemRevision = 1;
constexpr uint32_t kCreatorRevision = 1;
constexpr uint64_t kTableAlignment = 16;
constexpr uint8_t kPciBus = 0;
constexpr unsigned kPciSlots = 32;
constexpr unsigned kPciPins = 4;  // INTA# to INTD#

// Every vCPU's APIC ID (its KVM vCPU id) fits a Processor Local APIC entry.
static_assert(x86_64::kMaxVcpus <= 0xff);

template <size_t N>
void copy_text(char (&field)[N], const char (&text)[N + 1]) {
  std::memcpy(field, text, N);
}

TableHeader header(const char (&signature)[5], uint8_t revision) {
  TableHeader h{};
  copy_text(h.signature, signature);
  h.revision = revision;
  copy_text(h.oem_id, kOemId);
  copy_text(h.oem_table_id, kOemTableId);
  h.oem_revision = kOemRevision;
  copy_text(h.creator_id, kCreatorId);
  h.creator_revision = kCreatorRevision;
  return h;
}

template <typename T>
void append(Bytes& out, const T& object) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&object);
  out.insert(out.end(), bytes, bytes + sizeof(T));
}

// Sets the header's length to the table's size and fixes its checksum.
Bytes finish(Bytes table) {
  auto length = static_cast<uint32_t>(table.size());
  std::memcpy(table.data() + offsetof(TableHeader, length), &length, sizeof length);
  table[offsetof(TableHeader, checksum)] = 0;
  table[offsetof(TableHeader, checksum)] = checksum_byte(table);
  return table;
}

GenericAddress io_port(uint16_t port) { return {kAddressSpaceSystemIo, 8, 0, kAccessSizeByte, port}; }

uint64_t align_up(uint64_t value) { return (value + kTableAlignment - 1) / kTableAlignment * kTableAlignment; }

aml::Bytes pci_root_bridge(const Platform& platform) {
  namespace res = aml::resource;
  aml::Bytes resources = aml::resource_template({
      res::word_bus_number(kPciBus, kPciBus),
      res::word_io(0, 0xcf7),  // the legacy ports below the configuration ports
      res::word_io(memory::kPciIoStart, memory::kPciIoEnd - 1),
      res::dword_memory(memory::kPciMmio32Start, memory::kPciMmio32End - 1),
      res::qword_memory_prefetchable(platform.pci_mmio64_start,
                                     platform.pci_mmio64_start + memory::kPciMmio64Size - 1),
  });
  // Pin P of the device in slot S raises the GSI of slot S + P: INTA# of
  // slot S is pci_intx_gsi(S), and the other pins rotate as on a PCI swizzle.
  std::vector<aml::Bytes> routes;
  for (uint32_t slot = 0; slot < kPciSlots; ++slot)
    for (uint32_t pin = 0; pin < kPciPins; ++pin)
      routes.push_back(aml::package({aml::integer((uint64_t{slot} << 16) | 0xffff), aml::integer(pin),
                                     aml::integer(0), aml::integer(memory::pci_intx_gsi(slot + pin))}));
  return aml::device("PCI0", {
                                 aml::name("_HID", aml::eisa_id("PNP0A08")),
                                 aml::name("_CID", aml::eisa_id("PNP0A03")),
                                 aml::name("_SEG", aml::integer(0)),
                                 aml::name("_BBN", aml::integer(kPciBus)),
                                 aml::name("_UID", aml::integer(0)),
                                 aml::name("_CRS", resources),
                                 aml::name("_PRT", aml::package(routes)),
                             });
}

aml::Bytes serial_port() {
  return aml::device("COM1", {
                                 aml::name("_HID", aml::eisa_id("PNP0501")),
                                 aml::name("_UID", aml::integer(0)),
                                 aml::name("_CRS", aml::resource_template({
                                                       aml::resource::io(devices::kCom1Port, devices::kCom1PortCount),
                                                       aml::resource::irq(devices::kCom1Irq),
                                                   })),
                             });
}

// The ECAM window as a motherboard resource: Linux accepts the MCFG's
// region only when the firmware reserves it (here or in the e820 map).
aml::Bytes ecam_reservation() {
  return aml::device("PRES", {
                                 aml::name("_HID", aml::eisa_id("PNP0C02")),
                                 aml::name("_UID", aml::integer(0)),
                                 aml::name("_CRS", aml::resource_template({aml::resource::memory32_fixed(
                                                       memory::kPciEcamAddress, memory::kPciEcamSize)})),
                             });
}

}  // namespace

uint8_t checksum_byte(std::span<const uint8_t> bytes) {
  uint8_t sum = 0;
  for (uint8_t b : bytes) sum = static_cast<uint8_t>(sum + b);
  return static_cast<uint8_t>(-sum);
}

Bytes build_dsdt(const Platform& platform) {
  Bytes table;
  append(table, header("DSDT", kDsdtRevision));
  aml::Bytes body = aml::scope("\\_SB", {pci_root_bridge(platform), serial_port(), ecam_reservation()});
  // SLP_TYPa and SLP_TYPb of S5; the PM device powers off on this value.
  aml::Bytes s5 = aml::name("\\_S5", aml::package({aml::integer(kSleepTypeS5), aml::integer(kSleepTypeS5)}));
  table.insert(table.end(), body.begin(), body.end());
  table.insert(table.end(), s5.begin(), s5.end());
  return finish(std::move(table));
}

Bytes build_fadt(uint64_t dsdt_address) {
  Fadt fadt{};
  fadt.header = header("FACP", kFadtRevision);
  fadt.minor_version = kFadtMinorVersion;
  fadt.x_dsdt = dsdt_address;  // the 32-bit DSDT field stays 0 when X_DSDT is set
  fadt.flags = kFadtHardwareReducedAcpi | kFadtResetRegisterSupported | kFadtPowerButtonIsDevice |
               kFadtSleepButtonIsDevice;
  // No VGA and no CMOS RTC are emulated; no i8042 is announced either (the
  // VMM's i8042 only resets, and Linux resets through RESET_REG first).
  fadt.iapc_boot_arch = kBootArchNoVga | kBootArchNoCmosRtc;
  fadt.reset_reg = io_port(kResetPort);
  fadt.reset_value = kResetValue;
  fadt.sleep_control_reg = io_port(kSleepControlPort);
  fadt.sleep_status_reg = io_port(kSleepStatusPort);
  Bytes table;
  append(table, fadt);
  return finish(std::move(table));
}

Bytes build_madt(unsigned vcpus) {
  if (vcpus == 0 || vcpus > x86_64::kMaxVcpus)
    throw VmmError("MADT for " + std::to_string(vcpus) + " vCPUs: the VM supports 1 to " +
                   std::to_string(x86_64::kMaxVcpus));
  Madt madt{};
  madt.header = header("APIC", kMadtRevision);
  madt.local_apic_address = static_cast<uint32_t>(memory::kLapicAddress);
  madt.flags = kMadtPcatCompatible;
  Bytes table;
  append(table, madt);
  for (unsigned id = 0; id < vcpus; ++id)
    append(table, MadtLocalApic{{kMadtTypeLocalApic, sizeof(MadtLocalApic)}, static_cast<uint8_t>(id),
                                static_cast<uint8_t>(id), kMadtLocalApicEnabled});
  // KVM's in-kernel IOAPIC: ID 0 after reset, pins 0-23 are GSIs 0-23.
  // KVM's default GSI routing wires ISA IRQ n to pin n (the PIT to pin 0),
  // so no interrupt source override is needed or true.
  append(table, MadtIoApic{{kMadtTypeIoApic, sizeof(MadtIoApic)}, 0, 0, static_cast<uint32_t>(memory::kIoApicAddress), 0});
  // LINT1 of every local APIC is wired to NMI (x86_64::with_legacy_lint_wiring).
  append(table, MadtLocalApicNmi{{kMadtTypeLocalApicNmi, sizeof(MadtLocalApicNmi)}, kMadtAllProcessors, 0, 1});
  return finish(std::move(table));
}

Bytes build_mcfg() {
  Mcfg mcfg{};
  mcfg.header = header("MCFG", kMcfgRevision);
  Bytes table;
  append(table, mcfg);
  append(table, McfgAllocation{memory::kPciEcamAddress, 0, kPciBus, kPciBus, 0});
  return finish(std::move(table));
}

Bytes build_xsdt(std::span<const uint64_t> table_addresses) {
  Bytes table;
  append(table, header("XSDT", kXsdtRevision));
  for (uint64_t address : table_addresses) append(table, address);
  return finish(std::move(table));
}

Bytes build_rsdp(uint64_t xsdt_address) {
  Rsdp rsdp{};
  std::memcpy(rsdp.signature, "RSD PTR ", sizeof rsdp.signature);
  copy_text(rsdp.oem_id, kOemId);
  rsdp.revision = kRsdpRevision;
  rsdp.length = sizeof(Rsdp);
  rsdp.xsdt_address = xsdt_address;
  Bytes bytes;
  append(bytes, rsdp);
  bytes[offsetof(Rsdp, checksum)] = checksum_byte(std::span(bytes).first(offsetof(Rsdp, length)));
  bytes[offsetof(Rsdp, extended_checksum)] = checksum_byte(bytes);
  return bytes;
}

Bytes build_tables(const Platform& platform, uint64_t base) {
  Bytes dsdt = build_dsdt(platform);
  Bytes madt = build_madt(platform.vcpus);
  Bytes mcfg = build_mcfg();
  constexpr size_t kXsdtEntries = 3;  // FADT, MADT, MCFG; the FADT points at the DSDT
  uint64_t xsdt_offset = align_up(sizeof(Rsdp));
  uint64_t fadt_offset = align_up(xsdt_offset + sizeof(TableHeader) + kXsdtEntries * sizeof(uint64_t));
  uint64_t madt_offset = align_up(fadt_offset + sizeof(Fadt));
  uint64_t mcfg_offset = align_up(madt_offset + madt.size());
  uint64_t dsdt_offset = align_up(mcfg_offset + mcfg.size());
  uint64_t addresses[kXsdtEntries] = {base + fadt_offset, base + madt_offset, base + mcfg_offset};

  Bytes image(dsdt_offset + dsdt.size(), 0);
  auto place = [&](uint64_t offset, const Bytes& table) { std::memcpy(image.data() + offset, table.data(), table.size()); };
  place(0, build_rsdp(base + xsdt_offset));
  place(xsdt_offset, build_xsdt(addresses));
  place(fadt_offset, build_fadt(base + dsdt_offset));
  place(madt_offset, madt);
  place(mcfg_offset, mcfg);
  place(dsdt_offset, dsdt);
  return image;
}

uint64_t install_tables(const memory::GuestMemory& memory, unsigned vcpus) {
  Bytes image = build_tables({vcpus, memory.layout().pci_mmio64_start()}, kAcpiTablesAddress);
  if (image.size() > kAcpiTablesMaxSize)
    throw VmmError("the ACPI tables for " + std::to_string(vcpus) + " vCPUs take " + std::to_string(image.size()) +
                   " bytes, more than their area's " + std::to_string(kAcpiTablesMaxSize));
  bool reserved = false;
  for (const memory::E820Entry& entry : memory.layout().e820())
    reserved = reserved || (entry.type == memory::E820Type::kReserved && entry.address <= kAcpiTablesAddress &&
                            kAcpiTablesAddress + kAcpiTablesMaxSize <= entry.address + entry.size);
  if (!reserved) throw VmmError("the e820 map does not reserve the ACPI tables' area");
  memory.write(kAcpiTablesAddress, image);
  return kAcpiTablesAddress;
}

}  // namespace shelter::vmm::acpi
