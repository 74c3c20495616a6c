#include "attest/kbs/protocol.h"

#include <algorithm>
#include <initializer_list>

#include "attest/crypto.h"
#include "attest/kbs/base64.h"
#include "attest/snp/report.h"

namespace shelter::attest::kbs {
namespace {

using Json = nlohmann::json;

Json parse_object(std::string_view text, const char* what) {
  if (text.size() > kMaxMessageSize) {
    throw KbsProtocolError(std::string(what) + " is larger than " + std::to_string(kMaxMessageSize) + " bytes");
  }
  Json value = Json::parse(text, nullptr, false);
  if (value.is_discarded()) throw KbsProtocolError(std::string(what) + " is not valid JSON");
  if (!value.is_object()) throw KbsProtocolError(std::string(what) + " is not a JSON object");
  return value;
}

void require_keys(const Json& object, const std::string& what, std::initializer_list<std::string_view> required,
                  std::initializer_list<std::string_view> optional = {}) {
  for (const auto& [key, unused] : object.items()) {
    bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                 std::find(optional.begin(), optional.end(), key) != optional.end();
    if (!known) throw KbsProtocolError(what + ": unknown key '" + key + "'");
  }
  for (std::string_view key : required) {
    if (!object.contains(key)) throw KbsProtocolError(what + ": missing '" + std::string(key) + "'");
  }
}

const std::string& string_member(const Json& object, const std::string& what, const char* key, size_t max_size) {
  const Json& value = object.at(key);
  if (!value.is_string()) throw KbsProtocolError(what + ": '" + key + "' must be a string");
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() > max_size) throw KbsProtocolError(what + ": '" + key + "' is too long");
  return text;
}

Tee parse_tee(const std::string& name) {
  if (name == "snp") return Tee::kSnp;
  if (name == "tdx") return Tee::kTdx;
  throw KbsProtocolError("request: unsupported tee '" + name.substr(0, 32) + "' (this broker knows snp and tdx)");
}

bool is_supported_version(const std::string& version) {
  // "0.<minor>.<patch>" with decimal digits only.
  if (version.size() > 16 || !version.starts_with("0.")) return false;
  auto dot = version.find('.', 2);
  if (dot == std::string::npos || dot == 2 || dot + 1 == version.size()) return false;
  return std::all_of(version.begin() + 2, version.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
         std::count(version.begin(), version.end(), '.') == 2;
}

void require_base64url(const Json& jwk, const char* key, size_t max_bytes) {
  const auto& text = string_member(jwk, "tee-pubkey", key, max_bytes * 2);
  auto bytes = base64url_decode(text);
  if (!bytes || bytes->empty() || bytes->size() > max_bytes) {
    throw KbsProtocolError(std::string("tee-pubkey: '") + key + "' is not a base64url value of at most " +
                           std::to_string(max_bytes) + " bytes");
  }
}

}  // namespace

std::string tee_name(Tee tee) { return tee == Tee::kSnp ? "snp" : "tdx"; }

Request parse_request(std::string_view json_text) {
  Json object = parse_object(json_text, "request");
  require_keys(object, "request", {"version", "tee"}, {"extra-params"});
  Request request;
  request.version = string_member(object, "request", "version", 64);
  if (!is_supported_version(request.version)) {
    throw KbsProtocolError("request: protocol version '" + request.version + "' is not supported (this broker speaks " +
                           std::string(kProtocolVersion) + ")");
  }
  request.tee = parse_tee(string_member(object, "request", "tee", 64));
  if (object.contains("extra-params")) request.extra_params = object["extra-params"];
  return request;
}

std::string serialize(const Request& request) {
  return Json{{"version", request.version}, {"tee", tee_name(request.tee)}, {"extra-params", request.extra_params}}
      .dump();
}

std::string hash_algorithm_name(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256: return "sha256";
    case HashAlgorithm::kSha384: return "sha384";
    case HashAlgorithm::kSha512: return "sha512";
  }
  return "sha384";
}

Challenge parse_challenge(std::string_view json_text) {
  Json object = parse_object(json_text, "challenge");
  require_keys(object, "challenge", {"nonce"}, {"extra-params"});
  Challenge challenge;
  challenge.nonce = string_member(object, "challenge", "nonce", 1024);
  if (challenge.nonce.empty()) throw KbsProtocolError("challenge: 'nonce' is empty");
  if (object.contains("extra-params") && object["extra-params"].is_object() &&
      object["extra-params"].contains("selected-hash-algorithm")) {
    const Json& name = object["extra-params"]["selected-hash-algorithm"];
    if (name == "sha256") {
      challenge.hash_algorithm = HashAlgorithm::kSha256;
    } else if (name == "sha384") {
      challenge.hash_algorithm = HashAlgorithm::kSha384;
    } else if (name == "sha512") {
      challenge.hash_algorithm = HashAlgorithm::kSha512;
    } else {
      throw KbsProtocolError("challenge: unsupported selected-hash-algorithm");
    }
  }
  return challenge;
}

std::string serialize(const Challenge& challenge) {
  return Json{{"nonce", challenge.nonce},
              {"extra-params", {{"selected-hash-algorithm", hash_algorithm_name(challenge.hash_algorithm)}}}}
      .dump();
}

TeePubKey parse_tee_pubkey(const Json& jwk) {
  if (!jwk.is_object()) throw KbsProtocolError("tee-pubkey is not a JSON object");
  if (!jwk.contains("kty")) throw KbsProtocolError("tee-pubkey: missing 'kty'");
  const auto& kty = string_member(jwk, "tee-pubkey", "kty", 8);
  if (kty == "RSA") {
    require_keys(jwk, "tee-pubkey", {"kty", "alg", "n", "e"});
    const auto& alg = string_member(jwk, "tee-pubkey", "alg", 32);
    if (alg != "RSA-OAEP" && alg != "RSA-OAEP-256" && alg != "RSA1_5") {
      throw KbsProtocolError("tee-pubkey: RSA key with unsupported alg '" + alg + "'");
    }
    require_base64url(jwk, "n", 1024);
    require_base64url(jwk, "e", 8);
  } else if (kty == "EC") {
    require_keys(jwk, "tee-pubkey", {"kty", "crv", "alg", "x", "y"});
    const auto& crv = string_member(jwk, "tee-pubkey", "crv", 16);
    const auto& alg = string_member(jwk, "tee-pubkey", "alg", 32);
    if (crv != "P-256" && crv != "P-384" && crv != "P-521") {
      throw KbsProtocolError("tee-pubkey: unsupported curve '" + crv + "'");
    }
    if (alg != "ECDH-ES+A256KW") throw KbsProtocolError("tee-pubkey: EC key with unsupported alg '" + alg + "'");
    require_base64url(jwk, "x", 66);
    require_base64url(jwk, "y", 66);
  } else {
    throw KbsProtocolError("tee-pubkey: unsupported kty '" + kty + "'");
  }
  return TeePubKey{jwk};
}

Attestation parse_attestation(std::string_view json_text) {
  Json object = parse_object(json_text, "attestation");
  require_keys(object, "attestation", {"tee-pubkey", "tee-evidence"});
  return Attestation{parse_tee_pubkey(object["tee-pubkey"]), object["tee-evidence"]};
}

std::string serialize(const Attestation& attestation) {
  return Json{{"tee-pubkey", attestation.tee_pubkey.jwk}, {"tee-evidence", attestation.tee_evidence}}.dump();
}

std::string runtime_data_json(std::string_view nonce, const TeePubKey& key) {
  // nlohmann::json keeps object keys sorted and dump() is compact: the same
  // bytes as serde_json's to_string of json!({...}) in guest-components.
  return Json{{"nonce", nonce}, {"tee-pubkey", key.jwk}}.dump();
}

std::vector<uint8_t> runtime_data_digest(std::string_view nonce, const TeePubKey& key, HashAlgorithm algorithm) {
  std::string text = runtime_data_json(nonce, key);
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  switch (algorithm) {
    case HashAlgorithm::kSha256: {
      auto digest = sha256(bytes);
      return {digest.begin(), digest.end()};
    }
    case HashAlgorithm::kSha384: {
      auto digest = sha384(bytes);
      return {digest.begin(), digest.end()};
    }
    case HashAlgorithm::kSha512: break;
  }
  std::vector<uint8_t> digest(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha512(), nullptr);
  digest.resize(size);
  return digest;
}

std::vector<uint8_t> expected_report_data(std::string_view nonce, const TeePubKey& key, HashAlgorithm algorithm) {
  auto digest = runtime_data_digest(nonce, key, algorithm);
  digest.resize(64, 0);
  return digest;
}

snp::Evidence parse_snp_evidence(const Json& evidence) {
  if (!evidence.is_object()) throw KbsProtocolError("snp evidence is not a JSON object");
  require_keys(evidence, "snp evidence", {"attestation_report", "cert_chain"});
  auto report = base64_decode(string_member(evidence, "snp evidence", "attestation_report", 4096));
  if (!report || report->size() != sizeof(snp::AttestationReport)) {
    throw KbsProtocolError("snp evidence: 'attestation_report' is not base64 of a 0x4A0-byte report");
  }
  const Json& chain = evidence["cert_chain"];
  if (!chain.is_array() || chain.empty() || chain.size() > 3) {
    throw KbsProtocolError("snp evidence: 'cert_chain' must be an array of 1 to 3 certificates");
  }
  snp::Evidence out;
  out.report = std::move(*report);
  for (const Json& entry : chain) {
    if (!entry.is_string() || entry.get_ref<const std::string&>().size() > 16384) {
      throw KbsProtocolError("snp evidence: each certificate must be a base64 string of at most 12 KiB");
    }
    auto der = base64_decode(entry.get_ref<const std::string&>());
    if (!der) throw KbsProtocolError("snp evidence: a certificate is not valid base64");
    auto certificates = parse_certificates(*der);
    if (certificates.size() != 1) throw KbsProtocolError("snp evidence: each entry must hold one certificate");
    out.certificates.push_back(std::move(certificates.front()));
  }
  return out;
}

Json snp_evidence_json(std::span<const uint8_t> report, std::span<const std::vector<uint8_t>> chain_der) {
  Json chain = Json::array();
  for (const auto& der : chain_der) chain.push_back(base64_encode(der));
  return Json{{"attestation_report", base64_encode(report)}, {"cert_chain", chain}};
}

ResourceId parse_resource_id(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.emplace_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos || parts.size() > 3) break;
    start = slash + 1;
  }
  if (parts.size() != 3) throw KbsProtocolError("resource path must be <repository>/<type>/<tag>");
  for (const auto& part : parts) {
    bool valid = !part.empty() && part.size() <= 128 && part != "." && part != ".." &&
                 std::all_of(part.begin(), part.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '-';
                 });
    if (!valid) throw KbsProtocolError("resource path parts must be 1 to 128 characters of [A-Za-z0-9._-]");
  }
  return ResourceId{parts[0], parts[1], parts[2]};
}

std::string serialize(const Problem& problem) {
  return Json{{"type", std::string(kProblemTypePrefix) + problem.type},
              {"title", problem.type},
              {"status", problem.status},
              {"detail", problem.detail}}
      .dump();
}

Problem parse_problem(int status, std::string_view body) {
  Problem problem;
  problem.status = status;
  Json object = Json::parse(body.substr(0, kMaxMessageSize), nullptr, false);
  if (object.is_object() && object.contains("type") && object["type"].is_string() && object.contains("detail") &&
      object["detail"].is_string()) {
    std::string type = object["type"];
    if (type.starts_with(kProblemTypePrefix)) type.erase(0, kProblemTypePrefix.size());
    problem.type = type.substr(0, 128);
    problem.detail = object["detail"].get<std::string>().substr(0, 1024);
  } else {
    problem.type = "Unknown";
    problem.detail = "HTTP " + std::to_string(status) + ": " + std::string(body.substr(0, 200));
  }
  return problem;
}

}  // namespace shelter::attest::kbs
