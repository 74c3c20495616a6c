#pragma once
// A small encoder for the ACPI Machine Language (ACPI 6.5, chapter 20) and
// resource descriptors (chapter 6.4): just the opcodes the DSDT needs. Each
// function returns the complete encoding of one term, so a table is written
// as nested calls that mirror its ASL.
#include <cstdint>
#include <string_view>
#include <vector>

namespace shelter::vmm::acpi::aml {

using Bytes = std::vector<uint8_t>;

// Encodings of an integer (the shortest of Zero, One, Byte/Word/DWord/QWord
// constants) and of a compressed EISA ID such as "PNP0A08".
Bytes integer(uint64_t value);
Bytes eisa_id(std::string_view id);

// A NameString: an optional leading '\' and up to 255 dot-separated name
// segments of one to four characters [A-Z0-9_] (padded with '_').
// Throws VmmError on a malformed path: the callers are the VMM's own code.
Bytes name_string(std::string_view path);

Bytes name(std::string_view path, const Bytes& object);        // Name (path, object)
Bytes scope(std::string_view path, const std::vector<Bytes>& terms);   // Scope (path) { terms }
Bytes device(std::string_view path, const std::vector<Bytes>& terms);  // Device (path) { terms }
Bytes package(const std::vector<Bytes>& elements);             // Package () { elements }
Bytes buffer(const Bytes& data);                               // Buffer () { data }

// The PkgLength encoding of a body of body_size bytes (the length counts
// its own bytes too); throws VmmError beyond the 2^28 limit.
Bytes package_length(size_t body_size);

// Resource descriptors for a ResourceTemplate.
namespace resource {
// Address space descriptors of a bridge's windows (ResourceProducer,
// MinFixed, MaxFixed, PosDecode) over [min, max].
Bytes word_bus_number(uint16_t min, uint16_t max);
Bytes word_io(uint16_t min, uint16_t max);  // EntireRange
Bytes dword_memory(uint32_t min, uint32_t max);  // NonCacheable, ReadWrite
Bytes qword_memory_prefetchable(uint64_t min, uint64_t max);  // Prefetchable, ReadWrite
// IO (Decode16, base, base, 1, length): a fixed port range a device uses.
Bytes io(uint16_t base, uint8_t length);
// IRQNoFlags () { irq }: one edge-triggered, active-high ISA IRQ (0-15).
Bytes irq(uint8_t irq);
// Memory32Fixed (ReadWrite, base, length).
Bytes memory32_fixed(uint32_t base, uint32_t length);
}  // namespace resource

// ResourceTemplate () { descriptors }: a buffer of the descriptors and the
// end tag.
Bytes resource_template(const std::vector<Bytes>& descriptors);

}  // namespace shelter::vmm::acpi::aml
