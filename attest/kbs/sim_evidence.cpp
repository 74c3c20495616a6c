#include "attest/kbs/sim_evidence.h"

#include <algorithm>

namespace shelter::attest::kbs {

nlohmann::json SimulatedEvidenceProvider::evidence(std::span<const uint8_t> report_data) {
  sim::ReportInputs inputs;
  inputs.measurement = measurement_;
  std::copy_n(report_data.begin(), std::min(report_data.size(), inputs.report_data.size()), inputs.report_data.begin());
  auto chain = tee_.chain_der();
  return snp_evidence_json(tee_.report(inputs), chain);
}

}  // namespace shelter::attest::kbs
