#pragma once
// The appraisal policy a verifier applies once evidence is authentic. One
// JSON document holds a section per TEE (schema in docs/attestation.md);
// absent keys take the secure defaults below.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shelter::attest {

using Bytes = std::vector<uint8_t>;

struct SnpTcbMinimum {
  uint8_t fmc = 0;
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
};

struct SnpPolicy {
  bool allow_debug = false;
  bool allow_smt = true;
  bool allow_migration_agent = false;
  std::optional<SnpTcbMinimum> minimum_tcb;
  std::optional<uint32_t> vmpl;        // the report's VMPL must equal this
  std::vector<Bytes> measurements;     // any of these; empty: not checked
  std::optional<Bytes> report_data;    // 64 bytes (shorter: zero-padded)
  std::optional<Bytes> host_data;      // 32 bytes
};

struct TdxPolicy {
  bool allow_debug = false;
  std::vector<Bytes> mrtds;                       // any of these; empty: not checked
  std::array<std::optional<Bytes>, 4> rtmrs;      // each 48 bytes when set
  std::optional<Bytes> report_data;               // 64 bytes (shorter: zero-padded)
  // TCB statuses accepted when TCB info collateral is evaluated.
  std::vector<std::string> accepted_tcb_statuses = {"UpToDate"};
};

struct NvgpuPolicy {
  // Expected measurement value per block index (from a reference manifest).
  std::map<unsigned, Bytes> measurements;
};

struct Policy {
  SnpPolicy snp;
  TdxPolicy tdx;
  NvgpuPolicy nvgpu;
};

// Parses the policy document strictly (unknown keys and bad hex are errors);
// throws EvidenceError naming the offending key.
Policy parse_policy(std::string_view json_text);

}  // namespace shelter::attest
