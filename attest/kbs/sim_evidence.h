#pragma once
// Evidence from the simulated TEE, for the launcher's host side, tests and
// benchmarks (guest-init obtains the same reports from the launcher).
#include <array>

#include "attest/kbs/client.h"
#include "attest/sim/simulated_tee.h"

namespace shelter::attest::kbs {

class SimulatedEvidenceProvider : public EvidenceProvider {
 public:
  SimulatedEvidenceProvider(const sim::SimulatedTee& tee, const std::array<uint8_t, 48>& measurement)
      : tee_(tee), measurement_(measurement) {}

  Tee tee() const override { return Tee::kSnp; }
  nlohmann::json evidence(std::span<const uint8_t> report_data) override;

 private:
  const sim::SimulatedTee& tee_;
  std::array<uint8_t, 48> measurement_;
};

}  // namespace shelter::attest::kbs
