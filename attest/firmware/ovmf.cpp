#include "attest/firmware/ovmf.h"

#include <algorithm>
#include <cstdio>

#include "attest/bytes.h"
#include "attest/error.h"

namespace shelter::attest::firmware {
namespace {

constexpr size_t kEntryHeaderSize = 18;  // u16 size, then the GUID; data precedes it
constexpr size_t kFooterReservedTail = 32;
constexpr size_t kMaxSections = 1024;

uint32_t entry_u32(const std::map<Guid, std::vector<uint8_t>>& table, const Guid& key, const char* what) {
  const auto& data = table.at(key);
  if (data.size() < 4) throw EvidenceError(std::string("firmware ") + what + " entry is shorter than 4 bytes");
  return load_le32(data.data());
}

// Metadata blocks are located by an offset from the end of the image.
size_t metadata_start(std::span<const uint8_t> image, uint32_t offset_from_end, const char* what) {
  if (offset_from_end == 0 || offset_from_end > image.size()) {
    throw EvidenceError(std::string("firmware ") + what + " offset points outside the image");
  }
  return image.size() - offset_from_end;
}

}  // namespace

std::string guid_text(const Guid& g) {
  char text[37];
  std::snprintf(text, sizeof(text), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
                g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
  return text;
}

std::map<Guid, std::vector<uint8_t>> parse_footer_table(std::span<const uint8_t> image) {
  std::map<Guid, std::vector<uint8_t>> table;
  if (image.size() < kFooterReservedTail + kEntryHeaderSize) return table;
  size_t footer = image.size() - kFooterReservedTail - kEntryHeaderSize;
  Guid footer_guid;
  std::copy_n(image.begin() + static_cast<std::ptrdiff_t>(footer + 2), 16, footer_guid.begin());
  if (footer_guid != kFooterTableGuid) return table;
  uint16_t footer_size = load_le16(&image[footer]);
  if (footer_size < kEntryHeaderSize || footer_size - kEntryHeaderSize > footer) {
    throw EvidenceError("firmware footer table size is out of bounds");
  }
  auto entries = image.subspan(footer - (footer_size - kEntryHeaderSize), footer_size - kEntryHeaderSize);
  while (entries.size() >= kEntryHeaderSize) {
    const uint8_t* header = entries.data() + entries.size() - kEntryHeaderSize;
    uint16_t size = load_le16(header);
    if (size < kEntryHeaderSize || size > entries.size()) {
      throw EvidenceError("firmware footer table entry size is out of bounds");
    }
    Guid entry_guid;
    std::copy_n(header + 2, 16, entry_guid.begin());
    auto data = entries.subspan(entries.size() - size, size - kEntryHeaderSize);
    table[entry_guid] = std::vector<uint8_t>(data.begin(), data.end());
    entries = entries.first(entries.size() - size);
  }
  return table;
}

OvmfSevInfo parse_sev_info(std::span<const uint8_t> image) {
  auto table = parse_footer_table(image);
  OvmfSevInfo info;
  if (table.contains(kSevEsResetBlockGuid)) {
    info.sev_es_reset_eip = entry_u32(table, kSevEsResetBlockGuid, "SEV-ES reset block");
  }
  if (table.contains(kSevHashTableGuid)) info.hashes_table_gpa = entry_u32(table, kSevHashTableGuid, "SEV hash table");
  if (!table.contains(kSevMetadataGuid)) return info;
  size_t start = metadata_start(image, entry_u32(table, kSevMetadataGuid, "SEV metadata"), "SEV metadata");
  ByteReader reader(image.subspan(start), "SEV metadata");
  auto signature = reader.bytes(4);
  if (std::string_view(reinterpret_cast<const char*>(signature.data()), 4) != "ASEV") {
    throw EvidenceError("firmware SEV metadata lacks its ASEV signature");
  }
  reader.le<uint32_t>();  // size
  uint32_t version = reader.le<uint32_t>();
  if (version != 1) throw EvidenceError("unsupported SEV metadata version " + std::to_string(version));
  uint32_t count = reader.le<uint32_t>();
  if (count > kMaxSections) throw EvidenceError("firmware SEV metadata lists too many sections");
  for (uint32_t i = 0; i < count; ++i) {
    SevMetadataSection section;
    section.gpa = reader.le<uint32_t>();
    section.size = reader.le<uint32_t>();
    section.type = static_cast<SevSectionType>(reader.le<uint32_t>());
    info.sections.push_back(section);
  }
  return info;
}

std::vector<TdvfSection> parse_tdvf_sections(std::span<const uint8_t> image) {
  auto table = parse_footer_table(image);
  if (!table.contains(kTdxMetadataGuid)) throw EvidenceError("firmware has no TDX metadata (not a TDVF image)");
  size_t start = metadata_start(image, entry_u32(table, kTdxMetadataGuid, "TDX metadata"), "TDX metadata");
  ByteReader reader(image.subspan(start), "TDVF metadata");
  auto signature = reader.bytes(4);
  if (std::string_view(reinterpret_cast<const char*>(signature.data()), 4) != "TDVF") {
    throw EvidenceError("firmware TDX metadata lacks its TDVF signature");
  }
  uint32_t length = reader.le<uint32_t>();
  uint32_t version = reader.le<uint32_t>();
  if (version != 1) throw EvidenceError("unsupported TDVF metadata version " + std::to_string(version));
  uint32_t count = reader.le<uint32_t>();
  if (count > kMaxSections || length < 16 + 32ull * count) {
    throw EvidenceError("TDVF metadata length does not hold its sections");
  }
  std::vector<TdvfSection> sections;
  for (uint32_t i = 0; i < count; ++i) {
    TdvfSection section;
    section.data_offset = reader.le<uint32_t>();
    section.raw_data_size = reader.le<uint32_t>();
    section.memory_address = reader.le<uint64_t>();
    section.memory_data_size = reader.le<uint64_t>();
    section.type = reader.le<uint32_t>();
    section.attributes = reader.le<uint32_t>();
    if (section.raw_data_size > image.size() || section.data_offset > image.size() - section.raw_data_size) {
      throw EvidenceError("TDVF section " + std::to_string(i) + " data lies outside the image");
    }
    if (section.memory_address % 4096 != 0 || section.memory_data_size % 4096 != 0 ||
        section.raw_data_size > section.memory_data_size) {
      throw EvidenceError("TDVF section " + std::to_string(i) + " is not page-aligned or its data exceeds its memory");
    }
    sections.push_back(section);
  }
  return sections;
}

}  // namespace shelter::attest::firmware
