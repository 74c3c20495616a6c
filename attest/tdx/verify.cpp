#include "attest/tdx/verify.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>

#include "attest/error.h"
#include "attest/tdx/event_log.h"
#include "attest/tdx/pck.h"
#include "common/hex.h"
#include "common/json_member.h"

namespace shelter::attest::tdx {
namespace {

using Json = nlohmann::json;

constexpr std::array<Sha256Digest, 1> kIntelRoots = {
    // CN=Intel SGX Root CA, O=Intel Corporation (certificates.trustedservices.intel.com)
    pinned_sha256("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"),
};

std::vector<X509*> raw(const std::vector<X509Ptr>& certs) {
  std::vector<X509*> out;
  for (const auto& cert : certs) out.push_back(cert.get());
  return out;
}

std::string upper_hex(std::span<const uint8_t> bytes) {
  std::string text = to_hex(bytes);
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

bool hex_equals(const Json& value, std::span<const uint8_t> bytes) {
  return value.is_string() && upper_hex(bytes) == [&] {
    std::string text = value.get<std::string>();
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
    return text;
  }();
}

// Intel signs the exact text of the body member ({"tcbInfo":BODY,"signature":"..."}).
std::optional<std::string> verify_collateral(const SignedCollateral& collateral, const std::string& member,
                                             std::span<const Sha256Digest> roots, std::time_t now,
                                             ChainCache* cache, Json& body) {
  const std::string prefix = "{\"" + member + "\":";
  const std::string suffix_marker = ",\"signature\":\"";
  const std::string& text = collateral.json;
  size_t end = text.rfind(suffix_marker);
  if (text.rfind(prefix, 0) != 0 || end == std::string::npos || end < prefix.size()) {
    return member + " collateral is not in Intel PCS layout ({\"" + member + "\":...,\"signature\":...})";
  }
  Json document = Json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.contains("signature") || !document["signature"].is_string()) {
    return member + " collateral is not valid JSON with a signature";
  }
  auto signature = from_hex(document["signature"].get<std::string>());
  if (!signature || signature->size() != 64) return member + " collateral signature is not 64 bytes of hex";
  if (collateral.chain.empty()) return member + " collateral has no issuer chain";
  ChainCheck check{raw(collateral.chain), {roots.begin(), roots.end()}, {}, now};
  if (auto problem = cache != nullptr ? cache->verify(check) : verify_chain(check)) {
    return member + " issuer chain: " + *problem;
  }
  std::string_view signed_text(text.data() + prefix.size(), end - prefix.size());
  std::span<const uint8_t> message(reinterpret_cast<const uint8_t*>(signed_text.data()), signed_text.size());
  if (!verify_ecdsa(X509_get0_pubkey(collateral.chain.front().get()), "SHA256", message,
                    std::span(*signature).first(32), std::span(*signature).subspan(32))) {
    return member + " collateral signature does not verify";
  }
  body = document[member];
  auto issue = parse_rfc3339(json_string_member(body, "issueDate"));
  auto next = parse_rfc3339(json_string_member(body, "nextUpdate"));
  if (!issue || !next) return member + " collateral lacks issueDate/nextUpdate";
  if (now < *issue) return member + " collateral is not yet valid at " + format_rfc3339(now);
  if (now > *next) return member + " collateral expired at " + json_string_member(body, "nextUpdate");
  return std::nullopt;
}

bool components_at_least(const Json& levels, std::span<const uint8_t> have) {
  if (!levels.is_array() || levels.size() != have.size()) return false;
  for (size_t i = 0; i < have.size(); ++i) {
    const Json& svn = json_member(levels[i], "svn");
    if (!svn.is_number_unsigned() || have[i] < svn.get<uint64_t>()) return false;
  }
  return true;
}

std::optional<std::string> tcb_status(const Json& tcb_info, const PckExtensions& pck, const Quote& quote) {
  if (json_string_member(tcb_info, "id") != "TDX") return std::nullopt;
  const Json& levels = json_member(tcb_info, "tcbLevels");
  if (!levels.is_array()) return std::nullopt;
  for (const Json& level : levels) {
    const Json& tcb = json_member(level, "tcb");
    const Json& pce_svn = json_member(tcb, "pcesvn");
    if (!pce_svn.is_number_unsigned()) continue;
    if (components_at_least(json_member(tcb, "sgxtcbcomponents"), pck.sgx_tcb_components) &&
        pck.pce_svn >= pce_svn.get<uint64_t>() &&
        components_at_least(json_member(tcb, "tdxtcbcomponents"), quote.body.tee_tcb_svn)) {
      return json_string_member(level, "tcbStatus");
    }
  }
  return std::nullopt;
}

// TCB info names the TDX module's signer and SEAM attributes (under a mask).
std::optional<std::string> check_tdx_module(const Json& tcb_info, const Quote& quote) {
  const Json& module = json_member(tcb_info, "tdxModule");
  if (module.is_null()) return std::nullopt;
  if (!hex_equals(json_member(module, "mrsigner"), quote.body.mr_signer_seam)) {
    return "TDX module MRSIGNERSEAM does not match the TCB info";
  }
  auto attributes = from_hex(json_string_member(module, "attributes"));
  auto mask = from_hex(json_string_member(module, "attributesMask"));
  if (!attributes || !mask || attributes->size() != 8 || mask->size() != 8) {
    return "TCB info tdxModule attributes are malformed";
  }
  for (size_t i = 0; i < 8; ++i) {
    if ((quote.body.seam_attributes[i] & (*mask)[i]) != ((*attributes)[i] & (*mask)[i])) {
      return "TDX module SEAM attributes do not match the TCB info";
    }
  }
  return std::nullopt;
}

std::optional<std::string> qe_status(const Json& identity, const EnclaveReport& qe, std::string& problem) {
  auto masked_equal = [](const Json& expected_hex, const Json& mask_hex, std::span<const uint8_t> have) {
    auto expected = from_hex(expected_hex.is_string() ? expected_hex.get<std::string>() : "");
    auto mask = from_hex(mask_hex.is_string() ? mask_hex.get<std::string>() : "");
    if (!expected || !mask || expected->size() != have.size() || mask->size() != have.size()) return false;
    for (size_t i = 0; i < have.size(); ++i) {
      if ((have[i] & (*mask)[i]) != ((*expected)[i] & (*mask)[i])) return false;
    }
    return true;
  };
  uint8_t misc[4];
  for (int i = 0; i < 4; ++i) misc[i] = static_cast<uint8_t>(qe.misc_select >> (8 * (3 - i)));  // big-endian hex
  if (json_string_member(identity, "id") != "TD_QE") {
    problem = "QE identity is not for the TD quoting enclave";
  } else if (!hex_equals(json_member(identity, "mrsigner"), qe.mr_signer)) {
    problem = "QE report MRSIGNER does not match the QE identity";
  } else if (!json_member(identity, "isvprodid").is_number_unsigned() ||
             json_member(identity, "isvprodid").get<uint64_t>() != qe.isv_prod_id) {
    problem = "QE report ISVPRODID does not match the QE identity";
  } else if (!masked_equal(json_member(identity, "miscselect"), json_member(identity, "miscselectMask"), misc)) {
    problem = "QE report MISCSELECT does not match the QE identity";
  } else if (!masked_equal(json_member(identity, "attributes"), json_member(identity, "attributesMask"), qe.attributes)) {
    problem = "QE report attributes do not match the QE identity";
  }
  if (!problem.empty()) return std::nullopt;
  const Json& levels = json_member(identity, "tcbLevels");
  if (levels.is_array()) {
    for (const Json& level : levels) {
      const Json& svn = json_member(json_member(level, "tcb"), "isvsvn");
      if (svn.is_number_unsigned() && qe.isv_svn >= svn.get<uint64_t>()) return json_string_member(level, "tcbStatus");
    }
  }
  problem = "QE identity: no matching TCB level for ISVSVN " + std::to_string(qe.isv_svn);
  return std::nullopt;
}

std::optional<std::string> check_policy(const Quote& quote, const TdxPolicy& policy) {
  const TdReportBody& b = quote.body;
  if ((td_attributes(quote) & kTdAttributeDebug) != 0 && !policy.allow_debug) {
    return "policy: TD is debuggable (TD_ATTRIBUTES.DEBUG=1)";
  }
  if (!policy.mrtds.empty() && std::none_of(policy.mrtds.begin(), policy.mrtds.end(), [&](const Bytes& m) {
        return std::equal(m.begin(), m.end(), std::begin(b.mr_td));
      })) {
    return "policy: MRTD is not one of the reference values";
  }
  for (size_t i = 0; i < 4; ++i) {
    if (policy.rtmrs[i] && !std::equal(policy.rtmrs[i]->begin(), policy.rtmrs[i]->end(), std::begin(b.rtmr[i]))) {
      return "policy: RTMR" + std::to_string(i) + " does not match";
    }
  }
  if (policy.report_data &&
      !std::equal(policy.report_data->begin(), policy.report_data->end(), std::begin(b.report_data))) {
    return "policy: report_data does not match";
  }
  return std::nullopt;
}

bool accepted_status(const TdxPolicy& policy, const std::string& status) {
  return std::find(policy.accepted_tcb_statuses.begin(), policy.accepted_tcb_statuses.end(), status) !=
         policy.accepted_tcb_statuses.end();
}

}  // namespace

std::span<const Sha256Digest> intel_roots() { return kIntelRoots; }

Verdict verify(const Evidence& evidence, const TdxPolicy& policy, std::time_t now, std::span<const Sha256Digest> roots,
               ChainCache* cache) {
  Quote quote;
  std::vector<X509Ptr> parsed_chain;  // owns the chain when no cache does
  try {
    quote = parse_quote(evidence.quote);
  } catch (const EvidenceError& e) {
    return Verdict::reject(std::string("malformed quote: ") + e.what(), {});
  }
  nlohmann::ordered_json claims = quote_claims(quote);

  auto attestation_key = ec_public_key_from_xy("P-256", quote.attestation_key);
  if (!attestation_key) return Verdict::reject("attestation key is not a P-256 point", claims);
  if (!verify_ecdsa(attestation_key.get(), "SHA256", quote.signed_bytes, std::span(quote.signature).first(32),
                    std::span(quote.signature).subspan(32))) {
    return Verdict::reject("quote signature does not verify under the attestation key", claims);
  }

  std::vector<X509*> pck_chain;
  if (!evidence.pck_chain.empty()) {
    pck_chain = raw(evidence.pck_chain);
  } else {
    if (quote.pck_data_type != kCertificationPckChain) {
      return Verdict::reject("quote carries no PCK certificate chain (certification data type " +
                                 std::to_string(quote.pck_data_type) + "); give the chain separately",
                             claims);
    }
    try {
      if (cache != nullptr) {
        pck_chain = raw(cache->certificates(quote.pck_data));
      } else {
        parsed_chain = parse_certificates(quote.pck_data);
        pck_chain = raw(parsed_chain);
      }
    } catch (const EvidenceError& e) {
      return Verdict::reject(std::string("PCK certificate chain in the quote: ") + e.what(), claims);
    }
  }
  X509* pck = pck_chain.front();
  EVP_PKEY* pck_key = X509_get0_pubkey(pck);
  if (pck_key == nullptr || !verify_ecdsa(pck_key, "SHA256", quote.qe_report_bytes,
                                          std::span(quote.qe_report_signature).first(32),
                                          std::span(quote.qe_report_signature).subspan(32))) {
    return Verdict::reject("QE report signature does not verify under the PCK certificate", claims);
  }
  std::vector<uint8_t> binding(quote.attestation_key, quote.attestation_key + 64);
  binding.insert(binding.end(), quote.qe_auth_data.begin(), quote.qe_auth_data.end());
  Sha256Digest expected_binding = sha256(binding);
  if (!std::equal(expected_binding.begin(), expected_binding.end(), quote.qe_report.report_data) ||
      std::any_of(quote.qe_report.report_data + 32, quote.qe_report.report_data + 64, [](uint8_t b) { return b != 0; })) {
    return Verdict::reject("QE report does not bind the attestation key (report_data != SHA-256(key || auth data))",
                           claims);
  }

  std::vector<X509_CRL*> crls;
  for (const auto& crl : evidence.crls) crls.push_back(crl.get());
  ChainCheck check{pck_chain, {roots.begin(), roots.end()}, crls, now};
  if (auto problem = cache != nullptr ? cache->verify(check) : verify_chain(check)) {
    return Verdict::reject("PCK " + *problem, claims);
  }
  PckExtensions extensions;
  try {
    extensions = parse_pck_extensions(pck);
  } catch (const EvidenceError& e) {
    return Verdict::reject(e.what(), claims);
  }
  claims["fmspc"] = to_hex(extensions.fmspc);
  claims["pce_id"] = to_hex(extensions.pce_id);

  if (evidence.tcb_info) {
    Json body;
    if (auto problem = verify_collateral(*evidence.tcb_info, "tcbInfo", roots, now, cache, body)) {
      return Verdict::reject(*problem, claims);
    }
    if (!hex_equals(body["fmspc"], extensions.fmspc) || !hex_equals(body["pceId"], extensions.pce_id)) {
      return Verdict::reject("TCB info is for another platform (FMSPC or PCE ID differs from the PCK certificate)",
                             claims);
    }
    if (auto problem = check_tdx_module(body, quote)) return Verdict::reject(*problem, claims);
    auto status = tcb_status(body, extensions, quote);
    if (!status) return Verdict::reject("TCB info: no matching TCB level", claims);
    claims["tcb_status"] = *status;
    if (!accepted_status(policy, *status)) return Verdict::reject("policy: TCB status " + *status + " not accepted", claims);
  }
  if (evidence.qe_identity) {
    Json body;
    if (auto problem = verify_collateral(*evidence.qe_identity, "enclaveIdentity", roots, now, cache, body)) {
      return Verdict::reject(*problem, claims);
    }
    std::string problem;
    auto status = qe_status(body, quote.qe_report, problem);
    if (!status) return Verdict::reject(problem, claims);
    claims["qe_status"] = *status;
    if (!accepted_status(policy, *status)) {
      return Verdict::reject("policy: QE TCB status " + *status + " not accepted", claims);
    }
  }
  if (evidence.event_log) {
    RtmrReplay replay;
    try {
      replay = replay_rtmrs(*evidence.event_log);
    } catch (const EvidenceError& e) {
      return Verdict::reject(std::string("malformed event log: ") + e.what(), claims);
    }
    for (size_t i = 0; i < 4; ++i) {
      if (!std::equal(replay.rtmrs[i].begin(), replay.rtmrs[i].end(), std::begin(quote.body.rtmr[i]))) {
        return Verdict::reject("event log does not reproduce RTMR" + std::to_string(i), claims);
      }
    }
    claims["event_log_events"] = replay.extended_events;
  }
  if (auto problem = check_policy(quote, policy)) return Verdict::reject(*problem, claims);
  return Verdict{true, "", std::move(claims)};
}

}  // namespace shelter::attest::tdx
