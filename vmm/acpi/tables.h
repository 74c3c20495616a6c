#pragma once
// The ACPI tables of a VM: RSDP, XSDT, FADT (hardware-reduced), MADT, MCFG
// and DSDT, built from the guest-visible address map (vmm/memory/layout.h)
// and the vCPU count only, and installed in the reserved legacy ROM area at
// kAcpiTablesAddress.
#include <cstdint>
#include <span>
#include <vector>

#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::acpi {

using Bytes = std::vector<uint8_t>;

// What the tables describe besides the fixed address map.
struct Platform {
  unsigned vcpus;
  uint64_t pci_mmio64_start;  // MemoryLayout::pci_mmio64_start()
};

// Each builder returns a complete table with its length and checksum set.
Bytes build_dsdt(const Platform& platform);
Bytes build_fadt(uint64_t dsdt_address);
Bytes build_madt(unsigned vcpus);
Bytes build_mcfg();
Bytes build_xsdt(std::span<const uint64_t> table_addresses);
Bytes build_rsdp(uint64_t xsdt_address);

// All tables laid out from base: the RSDP at base, then the XSDT, FADT,
// MADT, MCFG and DSDT, each 16-byte aligned.
Bytes build_tables(const Platform& platform, uint64_t base);

// Writes build_tables() at kAcpiTablesAddress and returns the RSDP's
// address. Throws VmmError when the tables outgrow kAcpiTablesMaxSize or
// the e820 map does not reserve their area.
uint64_t install_tables(const memory::GuestMemory& memory, unsigned vcpus);

// The byte that makes bytes sum to zero when added (ACPI checksums).
uint8_t checksum_byte(std::span<const uint8_t> bytes);

}  // namespace shelter::vmm::acpi
