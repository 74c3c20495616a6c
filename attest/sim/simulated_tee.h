#pragma once
// The simulated TEE: where there is no SEV-SNP hardware, the launcher plays
// the security processor. It signs reports in the SNP report layout with a
// VCEK of its own, certified by a simulated ASK and ARK kept on disk. The
// reports are marked as simulated (their CHIP_ID spells it, the ARK's name
// says it) and give NO confidentiality: whoever can read the key folder can
// forge them. Verifiers accept them only under a root they pin explicitly,
// and the key broker only when a resource's policy sets allow_simulated.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "attest/crypto.h"
#include "attest/snp/report.h"
#include "attest/snp/verify.h"

namespace shelter::attest::sim {

// CHIP_ID of every simulated report: this text, zero-padded to 64 bytes.
inline constexpr char kSimulatedChipId[] = "SHELTER SIMULATED TEE - NO CONFIDENTIALITY";
inline constexpr char kSimulatedArkName[] = "ARK-Milan Shelter simulated";

struct ReportInputs {
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 32> host_data{};
  uint64_t policy = snp::kPolicyReservedMustBeOne | snp::kPolicySmt;
};

class SimulatedTee {
 public:
  // Loads the chain and VCEK key from dir, creating them (folder 0700, key
  // 0600, written atomically) on first use.
  static SimulatedTee open(const std::filesystem::path& dir);

  // A signed report (0x4A0 bytes).
  std::vector<uint8_t> report(const ReportInputs& inputs) const;
  // DER certificates VCEK, ASK, ARK.
  std::vector<std::vector<uint8_t>> chain_der() const;
  // The root a verifier pins to accept this TEE's reports.
  snp::PinnedRoot root() const;

 private:
  SimulatedTee() = default;
  EvpPkeyPtr vcek_key_;
  X509Ptr vcek_, ask_, ark_;
};

// The pinned root of a simulated ARK certificate file (PEM or DER), for
// verifiers that are told to accept simulation; throws EvidenceError.
snp::PinnedRoot load_simulated_root(const std::filesystem::path& ark_file);

// True when the report's CHIP_ID carries the simulated marking.
bool is_simulated(const snp::AttestationReport& report);

}  // namespace shelter::attest::sim
