// The broker's request parsers (auth request, attestation with its SNP
// evidence, resource path, resource policy) and the client's (challenge,
// problem), fed the same untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/kbs/appraisal.h"
#include "attest/kbs/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace kbs = shelter::attest::kbs;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)kbs::serialize(kbs::parse_request(text));
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    auto attestation = kbs::parse_attestation(text);
    (void)kbs::runtime_data_digest("nonce", attestation.tee_pubkey, kbs::HashAlgorithm::kSha384);
    (void)kbs::parse_snp_evidence(attestation.tee_evidence);
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)kbs::parse_resource_id(text);
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)kbs::parse_resource_policy(text);
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)kbs::serialize(kbs::parse_challenge(text));
  } catch (const shelter::attest::EvidenceError&) {
  }
  (void)kbs::parse_problem(401, text);
  return 0;
}
