#pragma once
// What a verifier concludes about one piece of evidence: the claims it read
// (and, when accepted, vouches for) and the verdict with its reason.
#include <nlohmann/json.hpp>
#include <string>

namespace shelter::attest {

struct Verdict {
  bool accepted = false;
  // Why the evidence was rejected; empty when accepted.
  std::string reason;
  // Claims in a stable order (measurement, report data, TCB, policy...).
  nlohmann::ordered_json claims = nlohmann::ordered_json::object();

  static Verdict reject(std::string why, nlohmann::ordered_json claims) {
    return Verdict{false, std::move(why), std::move(claims)};
  }
};

}  // namespace shelter::attest
