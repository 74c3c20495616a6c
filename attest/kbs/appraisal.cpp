#include "attest/kbs/appraisal.h"

#include <algorithm>

#include "attest/sim/simulated_tee.h"

namespace shelter::attest::kbs {
namespace {

using Json = nlohmann::json;

}  // namespace

ResourcePolicy parse_resource_policy(std::string_view json_text) {
  if (json_text.size() > kMaxMessageSize) throw KbsProtocolError("resource policy is too large");
  Json object = Json::parse(json_text, nullptr, false);
  if (!object.is_object()) throw KbsProtocolError("resource policy is not a JSON object");
  ResourcePolicy policy;
  Json appraisal = Json::object();
  for (const auto& [key, value] : object.items()) {
    if (key == "tees") {
      if (!value.is_array() || value.empty() || value.size() > 2) {
        throw KbsProtocolError("resource policy: 'tees' must be a non-empty array of \"snp\", \"tdx\"");
      }
      policy.tees.clear();
      for (const Json& name : value) {
        if (name == "snp") {
          policy.tees.push_back(Tee::kSnp);
        } else if (name == "tdx") {
          policy.tees.push_back(Tee::kTdx);
        } else {
          throw KbsProtocolError("resource policy: 'tees' must be a non-empty array of \"snp\", \"tdx\"");
        }
      }
    } else if (key == "allow_simulated") {
      if (!value.is_boolean()) throw KbsProtocolError("resource policy: 'allow_simulated' must be true or false");
      policy.allow_simulated = value.get<bool>();
    } else if (key == "snp" || key == "tdx") {
      appraisal[key] = value;
    } else {
      throw KbsProtocolError("resource policy: unknown key '" + key + "'");
    }
  }
  try {
    policy.appraisal = parse_policy(appraisal.dump());
  } catch (const EvidenceError& e) {
    throw KbsProtocolError(std::string("resource ") + e.what());
  }
  return policy;
}

ResourcePolicy authenticity_only_policy() {
  ResourcePolicy policy;
  policy.tees = {Tee::kSnp, Tee::kTdx};
  policy.allow_simulated = true;
  policy.appraisal.snp.allow_debug = true;
  policy.appraisal.snp.allow_migration_agent = true;
  policy.appraisal.tdx.allow_debug = true;
  return policy;
}

Appraiser::Appraiser(std::vector<snp::PinnedRoot> simulated_roots) : simulated_roots_(std::move(simulated_roots)) {}

Verdict Appraiser::appraise(Tee tee, const Json& evidence, std::span<const uint8_t> report_data,
                            const ResourcePolicy& policy, std::time_t now) const {
  if (std::find(policy.tees.begin(), policy.tees.end(), tee) == policy.tees.end()) {
    return Verdict::reject("the policy does not allow " + tee_name(tee) + " evidence", {});
  }
  if (tee == Tee::kTdx) return Verdict::reject("TDX evidence is not supported by this broker yet", {});

  snp::Evidence snp_evidence;
  try {
    snp_evidence = parse_snp_evidence(evidence);
  } catch (const EvidenceError& e) {
    return Verdict::reject(std::string("malformed evidence: ") + e.what(), {});
  }
  SnpPolicy snp_policy = policy.appraisal.snp;
  snp_policy.report_data = std::vector<uint8_t>(report_data.begin(), report_data.end());

  std::vector<snp::PinnedRoot> roots(snp::amd_roots().begin(), snp::amd_roots().end());
  roots.insert(roots.end(), simulated_roots_.begin(), simulated_roots_.end());
  Verdict verdict = snp::verify(snp_evidence, snp_policy, now, roots);
  if (!verdict.accepted) {
    if (verdict.reason.find("report_data") != std::string::npos || verdict.reason.find("REPORT_DATA") != std::string::npos) {
      verdict.reason += " (the evidence is not bound to this session's nonce and TEE key)";
    }
    return verdict;
  }
  Sha256Digest root = certificate_fingerprint(snp_evidence.certificates.back().get());
  bool simulated = std::any_of(simulated_roots_.begin(), simulated_roots_.end(),
                               [&](const snp::PinnedRoot& pinned) { return pinned.fingerprint == root; });
  verdict.claims["simulated"] = simulated;
  if (simulated && !policy.allow_simulated) {
    return Verdict::reject("simulated TEE evidence is refused: the policy does not set allow_simulated", verdict.claims);
  }
  return verdict;
}

}  // namespace shelter::attest::kbs
