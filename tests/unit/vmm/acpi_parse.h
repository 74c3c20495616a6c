#pragma once
// A strict reader of the ACPI tables as a guest finds them, for tests: it
// starts at the RSDP, follows the XSDT and the FADT's X_DSDT, bounds-checks
// every pointer and length against the image, and checks every signature,
// revision and checksum. Any violation throws std::runtime_error.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace shelter::vmm::acpi::testing {

struct ParsedTables {
  uint64_t xsdt_address = 0;
  // Each table's bytes by signature ("XSDT", "FACP", "APIC", "MCFG",
  // "DSDT"), and the XSDT's entries in order: signatures and addresses.
  std::map<std::string, std::vector<uint8_t>> tables;
  std::vector<std::string> xsdt_order;
  std::vector<uint64_t> xsdt_addresses;
};

// image holds guest-physical [base, base + image.size()); the RSDP is at rsdp.
ParsedTables parse_tables(std::span<const uint8_t> image, uint64_t base, uint64_t rsdp);

}  // namespace shelter::vmm::acpi::testing
