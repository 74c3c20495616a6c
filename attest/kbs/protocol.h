#pragma once
// The messages of the Trustee KBS attestation protocol (RCAR: request,
// challenge, attestation, response), their strict parsers, and the binding of
// the TEE's ephemeral key and the nonce into the evidence's REPORT_DATA.
// Every parser reads untrusted bytes: sizes are bounded, unknown keys and
// wrong types are errors (KbsProtocolError naming the field).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/error.h"
#include "attest/snp/verify.h"

namespace shelter::attest::kbs {

class KbsProtocolError : public EvidenceError {
 public:
  using EvidenceError::EvidenceError;
};

// The version this implementation speaks; requests with another 0.x version
// are accepted, anything else is refused.
inline constexpr std::string_view kProtocolVersion = "0.1.1";
// Largest JSON body either side accepts (an SNP report with its chain is ~6 KiB).
inline constexpr size_t kMaxMessageSize = 64 * 1024;

enum class Tee { kSnp, kTdx };
std::string tee_name(Tee tee);  // "snp", "tdx" (the kbs-types names)

struct Request {
  std::string version{kProtocolVersion};
  Tee tee = Tee::kSnp;
  nlohmann::json extra_params = nlohmann::json::object();
};
Request parse_request(std::string_view json_text);
std::string serialize(const Request& request);

enum class HashAlgorithm { kSha256, kSha384, kSha512 };
std::string hash_algorithm_name(HashAlgorithm algorithm);  // "sha256", ...

struct Challenge {
  std::string nonce;
  // The hash the runtime data is bound with (extra-params."selected-hash-algorithm").
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha384;
};
Challenge parse_challenge(std::string_view json_text);
std::string serialize(const Challenge& challenge);

// The TEE's ephemeral public key as a JWK: kty RSA (alg, n, e) or kty EC
// (crv, alg, x, y), public members only.
struct TeePubKey {
  nlohmann::json jwk;
};
TeePubKey parse_tee_pubkey(const nlohmann::json& jwk);

struct Attestation {
  TeePubKey tee_pubkey;
  nlohmann::json tee_evidence;
};
Attestation parse_attestation(std::string_view json_text);
std::string serialize(const Attestation& attestation);

// The runtime data {"nonce", "tee-pubkey"} serialised as guest-components
// does it (compact JSON, object keys sorted), hashed with the challenge's
// algorithm. REPORT_DATA holds this digest zero-padded to 64 bytes.
std::string runtime_data_json(std::string_view nonce, const TeePubKey& key);
std::vector<uint8_t> runtime_data_digest(std::string_view nonce, const TeePubKey& key, HashAlgorithm algorithm);
std::vector<uint8_t> expected_report_data(std::string_view nonce, const TeePubKey& key, HashAlgorithm algorithm);

// SNP tee-evidence: {"attestation_report": base64 of the 0x4A0-byte report,
// "cert_chain": [base64 DER of VCEK, ASK, ARK]}.
snp::Evidence parse_snp_evidence(const nlohmann::json& evidence);
nlohmann::json snp_evidence_json(std::span<const uint8_t> report, std::span<const std::vector<uint8_t>> chain_der);

// A resource path <repository>/<type>/<tag>; each part 1..128 characters of
// [A-Za-z0-9._-], never "." or "..", so that it can name files.
struct ResourceId {
  std::string repository;
  std::string type;
  std::string tag;
  std::string path() const { return repository + "/" + type + "/" + tag; }
};
ResourceId parse_resource_id(std::string_view path);

// An RFC 7807 problem, with the type URIs Trustee's KBS uses.
struct Problem {
  int status = 500;
  std::string type;  // the short name, e.g. "AttestationFailed"
  std::string detail;
};
inline constexpr std::string_view kProblemTypePrefix = "https://github.com/confidential-containers/kbs/errors/";
std::string serialize(const Problem& problem);
// Reads a problem body; a body that is not one gives a Problem whose detail
// quotes the start of the body.
Problem parse_problem(int status, std::string_view body);

}  // namespace shelter::attest::kbs
