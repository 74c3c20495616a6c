#include "tests/unit/vmm/acpi_parse.h"

#include <cstring>
#include <stdexcept>

#include "vmm/acpi/structures.h"

namespace shelter::vmm::acpi::testing {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

uint8_t sum(std::span<const uint8_t> bytes) {
  uint8_t total = 0;
  for (uint8_t b : bytes) total = static_cast<uint8_t>(total + b);
  return total;
}

class Image {
 public:
  Image(std::span<const uint8_t> bytes, uint64_t base) : bytes_(bytes), base_(base) {}

  std::span<const uint8_t> at(uint64_t address, uint64_t size, const std::string& what) const {
    if (address < base_ || address - base_ > bytes_.size() || size > bytes_.size() - (address - base_))
      fail(what + " lies outside the tables' area");
    return bytes_.subspan(address - base_, size);
  }

  template <typename T>
  T object(uint64_t address, const std::string& what) const {
    T value;
    std::memcpy(&value, at(address, sizeof(T), what).data(), sizeof(T));
    return value;
  }

  // A table with a standard header: its length bounded, its checksum right.
  std::vector<uint8_t> table(uint64_t address, const char* signature, uint8_t revision) const {
    auto header = object<TableHeader>(address, signature);
    if (std::memcmp(header.signature, signature, 4) != 0)
      fail(std::string("expected ") + signature + ", found " + std::string(header.signature, 4));
    if (header.revision != revision) fail(std::string(signature) + ": revision " + std::to_string(header.revision));
    if (header.length < sizeof(TableHeader)) fail(std::string(signature) + ": length below the header's");
    auto bytes = at(address, header.length, signature);
    if (sum(bytes) != 0) fail(std::string(signature) + ": bad checksum");
    return {bytes.begin(), bytes.end()};
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t base_;
};

uint8_t revision_of(const std::string& signature) {
  if (signature == "FACP") return kFadtRevision;
  if (signature == "APIC") return kMadtRevision;
  if (signature == "MCFG") return kMcfgRevision;
  fail("unexpected table " + signature + " in the XSDT");
}

}  // namespace

ParsedTables parse_tables(std::span<const uint8_t> bytes, uint64_t base, uint64_t rsdp_address) {
  Image image(bytes, base);
  if (rsdp_address % 16 != 0) fail("the RSDP is not 16-byte aligned");
  auto rsdp = image.object<Rsdp>(rsdp_address, "RSDP");
  auto rsdp_bytes = image.at(rsdp_address, sizeof(Rsdp), "RSDP");
  if (std::memcmp(rsdp.signature, "RSD PTR ", 8) != 0) fail("RSDP: bad signature");
  if (rsdp.revision != kRsdpRevision || rsdp.length != sizeof(Rsdp)) fail("RSDP: not a 36-byte ACPI 2.0+ RSDP");
  if (sum(rsdp_bytes.first(20)) != 0) fail("RSDP: bad checksum");
  if (sum(rsdp_bytes) != 0) fail("RSDP: bad extended checksum");

  ParsedTables parsed;
  parsed.xsdt_address = rsdp.xsdt_address;
  auto xsdt = image.table(rsdp.xsdt_address, "XSDT", kXsdtRevision);
  if ((xsdt.size() - sizeof(TableHeader)) % sizeof(uint64_t) != 0) fail("XSDT: length is not whole entries");
  for (size_t offset = sizeof(TableHeader); offset < xsdt.size(); offset += sizeof(uint64_t)) {
    uint64_t address;
    std::memcpy(&address, xsdt.data() + offset, sizeof address);
    auto header = image.object<TableHeader>(address, "XSDT entry");
    std::string signature(header.signature, 4);
    if (parsed.tables.count(signature) != 0) fail("XSDT lists " + signature + " twice");
    parsed.tables[signature] = image.table(address, signature.c_str(), revision_of(signature));
    parsed.xsdt_order.push_back(signature);
    parsed.xsdt_addresses.push_back(address);
  }
  auto facp = parsed.tables.find("FACP");
  if (facp == parsed.tables.end()) fail("XSDT: no FADT");
  if (facp->second.size() != sizeof(Fadt)) fail("FACP: not a 276-byte revision 6 FADT");
  Fadt fadt;
  std::memcpy(&fadt, facp->second.data(), sizeof fadt);
  if (fadt.dsdt != 0 && fadt.dsdt != fadt.x_dsdt) fail("FACP: DSDT and X_DSDT disagree");
  parsed.tables["DSDT"] = image.table(fadt.x_dsdt, "DSDT", kDsdtRevision);
  parsed.tables["XSDT"] = std::move(xsdt);
  return parsed;
}

}  // namespace shelter::vmm::acpi::testing
