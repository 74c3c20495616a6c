#pragma once
// What the broker asks of evidence before it releases a resource: the policy
// kept per resource, and the appraisal that checks the evidence's signature
// chain, its REPORT_DATA binding to the nonce and TEE key, and the policy.
#include <ctime>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/kbs/protocol.h"
#include "attest/policy.h"
#include "attest/snp/verify.h"
#include "attest/verdict.h"

namespace shelter::attest::kbs {

// {"tees": ["snp"], "allow_simulated": false, "snp": {...}, "tdx": {...}}:
// the "snp" and "tdx" sections are attest policy sections (docs/kbs.md).
// Absent keys keep the defaults: SNP only, debug forbidden, no simulation.
struct ResourcePolicy {
  std::vector<Tee> tees{Tee::kSnp};
  bool allow_simulated = false;
  Policy appraisal;
};
ResourcePolicy parse_resource_policy(std::string_view json_text);

// The policy applied when evidence is first presented (/attest): authentic,
// bound to the nonce and key, of any TEE, debug and simulation tolerated;
// each resource's own policy is applied when it is requested.
ResourcePolicy authenticity_only_policy();

class Appraiser {
 public:
  // simulated_roots: ARKs of simulated TEEs this broker may accept (only
  // for resources whose policy sets allow_simulated).
  explicit Appraiser(std::vector<snp::PinnedRoot> simulated_roots = {});

  Verdict appraise(Tee tee, const nlohmann::json& evidence, std::span<const uint8_t> report_data,
                   const ResourcePolicy& policy, std::time_t now) const;

 private:
  std::vector<snp::PinnedRoot> simulated_roots_;
};

}  // namespace shelter::attest::kbs
