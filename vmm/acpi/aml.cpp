#include "vmm/acpi/aml.h"

#include <string>

#include "vmm/kvm/error.h"

namespace shelter::vmm::acpi::aml {
namespace {

enum Opcode : uint8_t {
  kZeroOp = 0x00,
  kOneOp = 0x01,
  kNameOp = 0x08,
  kBytePrefix = 0x0a,
  kWordPrefix = 0x0b,
  kDWordPrefix = 0x0c,
  kQWordPrefix = 0x0e,
  kScopeOp = 0x10,
  kBufferOp = 0x11,
  kPackageOp = 0x12,
  kDualNamePrefix = 0x2e,
  kMultiNamePrefix = 0x2f,
  kExtOpPrefix = 0x5b,
  kRootChar = 0x5c,
  kDeviceOp = 0x82,  // after kExtOpPrefix
};

// Resource descriptor tags (ACPI 6.5, 6.4.2 and 6.4.3).
enum ResourceTag : uint8_t {
  kIrqTag = 0x22,         // small item 0x04, 2 bytes
  kIoTag = 0x47,          // small item 0x08, 7 bytes
  kEndTag = 0x79,         // small item 0x0f, 1 byte
  kMemory32FixedTag = 0x86,
  kDWordAddressTag = 0x87,
  kWordAddressTag = 0x88,
  kQWordAddressTag = 0x8a,
};

enum AddressSpace : uint8_t { kMemorySpace = 0, kIoSpace = 1, kBusNumberSpace = 2 };
// General flags: the bridge produces the range, min and max fixed, positive decode.
constexpr uint8_t kProducerMinMaxFixed = 0x0c;
constexpr uint8_t kIoEntireRange = 0x03;
constexpr uint8_t kMemoryReadWrite = 0x01;
constexpr uint8_t kMemoryPrefetchable = 0x03 << 1;

template <typename T>
void append_le(Bytes& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i)));
}

void append(Bytes& out, const Bytes& bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& part : parts) append(out, part);
  return out;
}

// prefix, then PkgLength over what follows, then the body.
Bytes with_package_length(std::initializer_list<uint8_t> prefix, const Bytes& body) {
  Bytes out(prefix);
  append(out, package_length(body.size()));
  append(out, body);
  return out;
}

bool is_lead_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_lead_char(c) || (c >= '0' && c <= '9'); }

void append_name_segment(Bytes& out, std::string_view path, std::string_view segment) {
  if (segment.empty() || segment.size() > 4 || !is_lead_char(segment[0]))
    throw VmmError("AML name " + std::string(path) + ": bad name segment '" + std::string(segment) + "'");
  for (char c : segment)
    if (!is_name_char(c)) throw VmmError("AML name " + std::string(path) + ": bad character in '" + std::string(segment) + "'");
  out.insert(out.end(), segment.begin(), segment.end());
  out.insert(out.end(), 4 - segment.size(), '_');
}

// Address space descriptor: tag, length, type, flags, then granularity,
// min, max, translation offset and length, each of T's width.
template <typename T>
Bytes address_space(uint8_t tag, uint8_t space, uint8_t type_flags, T min, T max) {
  if (max < min) throw VmmError("AML address range with its end below its start");
  Bytes out{tag};
  append_le<uint16_t>(out, static_cast<uint16_t>(3 + 5 * sizeof(T)));
  out.push_back(space);
  out.push_back(kProducerMinMaxFixed);
  out.push_back(type_flags);
  append_le<T>(out, 0);  // granularity
  append_le<T>(out, min);
  append_le<T>(out, max);
  append_le<T>(out, 0);  // no translation
  append_le<T>(out, static_cast<T>(max - min + 1));
  return out;
}

}  // namespace

Bytes integer(uint64_t value) {
  if (value == 0) return {kZeroOp};
  if (value == 1) return {kOneOp};
  Bytes out;
  if (value <= 0xff) {
    out.push_back(kBytePrefix);
    append_le<uint8_t>(out, static_cast<uint8_t>(value));
  } else if (value <= 0xffff) {
    out.push_back(kWordPrefix);
    append_le<uint16_t>(out, static_cast<uint16_t>(value));
  } else if (value <= 0xffffffff) {
    out.push_back(kDWordPrefix);
    append_le<uint32_t>(out, static_cast<uint32_t>(value));
  } else {
    out.push_back(kQWordPrefix);
    append_le<uint64_t>(out, value);
  }
  return out;
}

Bytes eisa_id(std::string_view id) {
  auto hex = [&](char c) -> uint32_t {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw VmmError("EISA ID " + std::string(id) + ": the product number is not upper-case hex");
  };
  if (id.size() != 7) throw VmmError("EISA ID " + std::string(id) + ": not three letters and four hex digits");
  uint32_t vendor = 0;
  for (int i = 0; i < 3; ++i) {
    if (id[i] < 'A' || id[i] > 'Z') throw VmmError("EISA ID " + std::string(id) + ": the vendor is not three letters");
    vendor = (vendor << 5) | static_cast<uint32_t>(id[i] - 'A' + 1);
  }
  // Big-endian in memory: vendor (15 bits), then the product's four digits.
  uint32_t product = (hex(id[3]) << 12) | (hex(id[4]) << 8) | (hex(id[5]) << 4) | hex(id[6]);
  uint32_t big_endian = (vendor << 16) | product;
  uint32_t value = ((big_endian & 0xff) << 24) | ((big_endian & 0xff00) << 8) | ((big_endian >> 8) & 0xff00) |
                   (big_endian >> 24);
  return integer(value);
}

Bytes name_string(std::string_view path) {
  Bytes out;
  std::string_view rest = path;
  if (!rest.empty() && rest[0] == '\\') {
    out.push_back(kRootChar);
    rest.remove_prefix(1);
  }
  std::vector<std::string_view> segments;
  while (true) {
    size_t dot = rest.find('.');
    segments.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (segments.size() > 255) throw VmmError("AML name " + std::string(path) + ": more than 255 segments");
  if (segments.size() == 2) out.push_back(kDualNamePrefix);
  if (segments.size() > 2) {
    out.push_back(kMultiNamePrefix);
    out.push_back(static_cast<uint8_t>(segments.size()));
  }
  for (std::string_view segment : segments) append_name_segment(out, path, segment);
  return out;
}

Bytes package_length(size_t body_size) {
  // One byte holds lengths up to 63; n following bytes add 8 bits each on
  // top of the lead byte's low nibble.
  if (body_size + 1 <= 0x3f) return {static_cast<uint8_t>(body_size + 1)};
  for (size_t extra = 1; extra <= 3; ++extra) {
    size_t total = body_size + 1 + extra;
    if (total < (size_t{1} << (4 + 8 * extra))) {
      Bytes out{static_cast<uint8_t>((extra << 6) | (total & 0x0f))};
      for (size_t i = 0; i < extra; ++i) out.push_back(static_cast<uint8_t>(total >> (4 + 8 * i)));
      return out;
    }
  }
  throw VmmError("AML package of " + std::to_string(body_size) + " bytes exceeds the PkgLength limit");
}

Bytes name(std::string_view path, const Bytes& object) {
  Bytes out{kNameOp};
  append(out, name_string(path));
  append(out, object);
  return out;
}

Bytes scope(std::string_view path, const std::vector<Bytes>& terms) {
  Bytes body = name_string(path);
  append(body, concat(terms));
  return with_package_length({kScopeOp}, body);
}

Bytes device(std::string_view path, const std::vector<Bytes>& terms) {
  Bytes body = name_string(path);
  append(body, concat(terms));
  return with_package_length({kExtOpPrefix, kDeviceOp}, body);
}

Bytes package(const std::vector<Bytes>& elements) {
  if (elements.size() > 255) throw VmmError("AML package of more than 255 elements");
  Bytes body{static_cast<uint8_t>(elements.size())};
  append(body, concat(elements));
  return with_package_length({kPackageOp}, body);
}

Bytes buffer(const Bytes& data) {
  Bytes body = integer(data.size());
  append(body, data);
  return with_package_length({kBufferOp}, body);
}

namespace resource {

Bytes word_bus_number(uint16_t min, uint16_t max) {
  return address_space<uint16_t>(kWordAddressTag, kBusNumberSpace, 0, min, max);
}

Bytes word_io(uint16_t min, uint16_t max) {
  return address_space<uint16_t>(kWordAddressTag, kIoSpace, kIoEntireRange, min, max);
}

Bytes dword_memory(uint32_t min, uint32_t max) {
  return address_space<uint32_t>(kDWordAddressTag, kMemorySpace, kMemoryReadWrite, min, max);
}

Bytes qword_memory_prefetchable(uint64_t min, uint64_t max) {
  return address_space<uint64_t>(kQWordAddressTag, kMemorySpace, kMemoryPrefetchable | kMemoryReadWrite, min, max);
}

Bytes io(uint16_t base, uint8_t length) {
  Bytes out{kIoTag, 0x01};  // 16-bit decode
  append_le<uint16_t>(out, base);
  append_le<uint16_t>(out, base);
  out.push_back(1);  // alignment
  out.push_back(length);
  return out;
}

Bytes irq(uint8_t irq) {
  if (irq > 15) throw VmmError("IRQ descriptor for IRQ " + std::to_string(irq) + ", beyond the ISA IRQs 0-15");
  Bytes out{kIrqTag};
  append_le<uint16_t>(out, static_cast<uint16_t>(1u << irq));
  return out;
}

Bytes memory32_fixed(uint32_t base, uint32_t length) {
  Bytes out{kMemory32FixedTag};
  append_le<uint16_t>(out, 9);
  out.push_back(kMemoryReadWrite);
  append_le<uint32_t>(out, base);
  append_le<uint32_t>(out, length);
  return out;
}

}  // namespace resource

Bytes resource_template(const std::vector<Bytes>& descriptors) {
  Bytes data = concat(descriptors);
  data.push_back(kEndTag);
  data.push_back(0);  // a zero checksum means "treat as valid"
  return buffer(data);
}

}  // namespace shelter::vmm::acpi::aml
