#pragma once
// The fixed-layout ACPI structures the VMM writes (ACPI 6.5, chapter 5.2),
// byte for byte, with static_asserts on their sizes and field offsets.
#include <cstddef>
#include <cstdint>

namespace shelter::vmm::acpi {

#pragma pack(push, 1)

struct TableHeader {  // 5.2.6
  char signature[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oem_id[6];
  char oem_table_id[8];
  uint32_t oem_revision;
  char creator_id[4];
  uint32_t creator_revision;
};

struct GenericAddress {  // 5.2.3.2
  uint8_t space_id;
  uint8_t bit_width;
  uint8_t bit_offset;
  uint8_t access_size;
  uint64_t address;
};

struct Rsdp {  // 5.2.5.3
  char signature[8];
  uint8_t checksum;  // over the first 20 bytes (the ACPI 1.0 part)
  char oem_id[6];
  uint8_t revision;
  uint32_t rsdt_address;
  uint32_t length;
  uint64_t xsdt_address;
  uint8_t extended_checksum;  // over all 36 bytes
  uint8_t reserved[3];
};

struct Fadt {  // 5.2.9, revision 6
  TableHeader header;
  uint32_t firmware_ctrl;
  uint32_t dsdt;
  uint8_t reserved0;
  uint8_t preferred_pm_profile;
  uint16_t sci_int;
  uint32_t smi_cmd;
  uint8_t acpi_enable;
  uint8_t acpi_disable;
  uint8_t s4bios_req;
  uint8_t pstate_cnt;
  uint32_t pm1a_evt_blk;
  uint32_t pm1b_evt_blk;
  uint32_t pm1a_cnt_blk;
  uint32_t pm1b_cnt_blk;
  uint32_t pm2_cnt_blk;
  uint32_t pm_tmr_blk;
  uint32_t gpe0_blk;
  uint32_t gpe1_blk;
  uint8_t pm1_evt_len;
  uint8_t pm1_cnt_len;
  uint8_t pm2_cnt_len;
  uint8_t pm_tmr_len;
  uint8_t gpe0_blk_len;
  uint8_t gpe1_blk_len;
  uint8_t gpe1_base;
  uint8_t cst_cnt;
  uint16_t p_lvl2_lat;
  uint16_t p_lvl3_lat;
  uint16_t flush_size;
  uint16_t flush_stride;
  uint8_t duty_offset;
  uint8_t duty_width;
  uint8_t day_alrm;
  uint8_t mon_alrm;
  uint8_t century;
  uint16_t iapc_boot_arch;
  uint8_t reserved1;
  uint32_t flags;
  GenericAddress reset_reg;
  uint8_t reset_value;
  uint16_t arm_boot_arch;
  uint8_t minor_version;
  uint64_t x_firmware_ctrl;
  uint64_t x_dsdt;
  GenericAddress x_pm1a_evt_blk;
  GenericAddress x_pm1b_evt_blk;
  GenericAddress x_pm1a_cnt_blk;
  GenericAddress x_pm1b_cnt_blk;
  GenericAddress x_pm2_cnt_blk;
  GenericAddress x_pm_tmr_blk;
  GenericAddress x_gpe0_blk;
  GenericAddress x_gpe1_blk;
  GenericAddress sleep_control_reg;
  GenericAddress sleep_status_reg;
  uint64_t hypervisor_vendor_identity;
};

struct Madt {  // 5.2.12, followed by the interrupt controller structures
  TableHeader header;
  uint32_t local_apic_address;
  uint32_t flags;
};

struct MadtEntryHeader {
  uint8_t type;
  uint8_t length;
};

struct MadtLocalApic {  // 5.2.12.2
  MadtEntryHeader header;
  uint8_t processor_uid;
  uint8_t apic_id;
  uint32_t flags;
};

struct MadtIoApic {  // 5.2.12.3
  MadtEntryHeader header;
  uint8_t io_apic_id;
  uint8_t reserved;
  uint32_t address;
  uint32_t gsi_base;
};

struct MadtLocalApicNmi {  // 5.2.12.7
  MadtEntryHeader header;
  uint8_t processor_uid;
  uint16_t flags;
  uint8_t lint;
};

struct Mcfg {  // PCI Firmware Specification 3.3, 4.1.2
  TableHeader header;
  uint8_t reserved[8];
};

struct McfgAllocation {
  uint64_t base_address;
  uint16_t segment;
  uint8_t start_bus;
  uint8_t end_bus;
  uint32_t reserved;
};

#pragma pack(pop)

static_assert(sizeof(TableHeader) == 36);
static_assert(offsetof(TableHeader, length) == 4);
static_assert(offsetof(TableHeader, checksum) == 9);
static_assert(offsetof(TableHeader, oem_id) == 10);
static_assert(offsetof(TableHeader, oem_table_id) == 16);
static_assert(offsetof(TableHeader, oem_revision) == 24);
static_assert(offsetof(TableHeader, creator_id) == 28);
static_assert(offsetof(TableHeader, creator_revision) == 32);
static_assert(sizeof(GenericAddress) == 12);
static_assert(offsetof(GenericAddress, address) == 4);
static_assert(sizeof(Rsdp) == 36);
static_assert(offsetof(Rsdp, revision) == 15);
static_assert(offsetof(Rsdp, rsdt_address) == 16);
static_assert(offsetof(Rsdp, length) == 20);
static_assert(offsetof(Rsdp, xsdt_address) == 24);
static_assert(offsetof(Rsdp, extended_checksum) == 32);
static_assert(sizeof(Fadt) == 276);
static_assert(offsetof(Fadt, firmware_ctrl) == 36);
static_assert(offsetof(Fadt, dsdt) == 40);
static_assert(offsetof(Fadt, preferred_pm_profile) == 45);
static_assert(offsetof(Fadt, sci_int) == 46);
static_assert(offsetof(Fadt, pm1a_evt_blk) == 56);
static_assert(offsetof(Fadt, pm1_evt_len) == 88);
static_assert(offsetof(Fadt, iapc_boot_arch) == 109);
static_assert(offsetof(Fadt, flags) == 112);
static_assert(offsetof(Fadt, reset_reg) == 116);
static_assert(offsetof(Fadt, reset_value) == 128);
static_assert(offsetof(Fadt, arm_boot_arch) == 129);
static_assert(offsetof(Fadt, minor_version) == 131);
static_assert(offsetof(Fadt, x_firmware_ctrl) == 132);
static_assert(offsetof(Fadt, x_dsdt) == 140);
static_assert(offsetof(Fadt, x_pm1a_evt_blk) == 148);
static_assert(offsetof(Fadt, x_gpe1_blk) == 232);
static_assert(offsetof(Fadt, sleep_control_reg) == 244);
static_assert(offsetof(Fadt, sleep_status_reg) == 256);
static_assert(offsetof(Fadt, hypervisor_vendor_identity) == 268);
static_assert(sizeof(Madt) == 44);
static_assert(offsetof(Madt, local_apic_address) == 36);
static_assert(offsetof(Madt, flags) == 40);
static_assert(sizeof(MadtLocalApic) == 8);
static_assert(offsetof(MadtLocalApic, apic_id) == 3);
static_assert(offsetof(MadtLocalApic, flags) == 4);
static_assert(sizeof(MadtIoApic) == 12);
static_assert(offsetof(MadtIoApic, address) == 4);
static_assert(offsetof(MadtIoApic, gsi_base) == 8);
static_assert(sizeof(MadtLocalApicNmi) == 6);
static_assert(offsetof(MadtLocalApicNmi, flags) == 3);
static_assert(offsetof(MadtLocalApicNmi, lint) == 5);
static_assert(sizeof(Mcfg) == 44);
static_assert(sizeof(McfgAllocation) == 16);
static_assert(offsetof(McfgAllocation, segment) == 8);
static_assert(offsetof(McfgAllocation, start_bus) == 10);
static_assert(offsetof(McfgAllocation, end_bus) == 11);

// Values of the fields above.
inline constexpr uint8_t kRsdpRevision = 2;  // ACPI 2.0+: the XSDT
inline constexpr uint8_t kFadtRevision = 6;
inline constexpr uint8_t kFadtMinorVersion = 5;  // ACPI 6.5
inline constexpr uint8_t kMadtRevision = 5;
inline constexpr uint8_t kDsdtRevision = 2;  // 64-bit AML integers
inline constexpr uint8_t kXsdtRevision = 1;
inline constexpr uint8_t kMcfgRevision = 1;

inline constexpr uint8_t kAddressSpaceSystemIo = 1;
inline constexpr uint8_t kAccessSizeByte = 1;

inline constexpr uint32_t kFadtPowerButtonIsDevice = 1u << 4;  // no fixed power button
inline constexpr uint32_t kFadtSleepButtonIsDevice = 1u << 5;  // no fixed sleep button
inline constexpr uint32_t kFadtResetRegisterSupported = 1u << 10;
inline constexpr uint32_t kFadtHardwareReducedAcpi = 1u << 20;
inline constexpr uint16_t kBootArchNoVga = 1u << 2;
inline constexpr uint16_t kBootArchNoCmosRtc = 1u << 5;

inline constexpr uint32_t kMadtPcatCompatible = 1;  // the 8259 PICs exist (KVM's irqchip has them)
inline constexpr uint8_t kMadtTypeLocalApic = 0;
inline constexpr uint8_t kMadtTypeIoApic = 1;
inline constexpr uint8_t kMadtTypeLocalApicNmi = 4;
inline constexpr uint32_t kMadtLocalApicEnabled = 1;
inline constexpr uint8_t kMadtAllProcessors = 0xff;

}  // namespace shelter::vmm::acpi
