#pragma once
// What measurement needs from an OVMF/TDVF image: the GUIDed footer table at
// its end, and the SEV ("ASEV") and TDX ("TDVF") metadata it points to. All
// reads are bounds-checked; malformed firmware throws EvidenceError.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "attest/firmware/guid.h"

namespace shelter::attest::firmware {

inline constexpr Guid kFooterTableGuid = guid("96b582de-1fb2-45f7-baea-a366c55a082d");
inline constexpr Guid kSevMetadataGuid = guid("dc886566-984a-4798-a75e-5585a7bf67cc");
inline constexpr Guid kSevHashTableGuid = guid("7255371f-3a3b-4b04-927b-1da6efa8d454");
inline constexpr Guid kSevEsResetBlockGuid = guid("00f771de-1a7e-4fcb-890e-68c77e2fb44e");
inline constexpr Guid kTdxMetadataGuid = guid("e47a6535-984a-4798-865e-4685a7bf8ec2");

// The entries of the footer table (GUID -> data), empty when the image has none.
std::map<Guid, std::vector<uint8_t>> parse_footer_table(std::span<const uint8_t> image);

enum class SevSectionType : uint32_t {
  kSnpSecMem = 1,
  kSnpSecrets = 2,
  kCpuid = 3,
  kSvsmCaa = 4,
  kSnpKernelHashes = 0x10,
};

struct SevMetadataSection {
  uint32_t gpa;
  uint32_t size;
  SevSectionType type;
};

struct OvmfSevInfo {
  std::vector<SevMetadataSection> sections;
  std::optional<uint32_t> sev_es_reset_eip;
  std::optional<uint32_t> hashes_table_gpa;
};

// The SEV parts of an OVMF image; sections empty when it has no ASEV list.
OvmfSevInfo parse_sev_info(std::span<const uint8_t> image);

enum class TdvfSectionType : uint32_t {
  kBfv = 0,
  kCfv = 1,
  kTdHob = 2,
  kTempMem = 3,
  kPermMem = 4,
  kPayload = 5,
  kPayloadParam = 6,
};
inline constexpr uint32_t kTdvfAttributeMrExtend = 1u << 0;
inline constexpr uint32_t kTdvfAttributePageAug = 1u << 1;

struct TdvfSection {
  uint32_t data_offset;
  uint32_t raw_data_size;
  uint64_t memory_address;
  uint64_t memory_data_size;
  uint32_t type;
  uint32_t attributes;
};

// The TDVF metadata sections; throws when the image has none.
std::vector<TdvfSection> parse_tdvf_sections(std::span<const uint8_t> image);

}  // namespace shelter::attest::firmware
