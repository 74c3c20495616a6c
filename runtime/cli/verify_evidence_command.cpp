#include "runtime/cli/verify_evidence_command.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/policy.h"
#include "attest/nvgpu/spdm.h"
#include "attest/nvgpu/verify.h"
#include "attest/snp/verify.h"
#include "attest/tdx/verify.h"
#include "attest/verdict.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"

namespace shelter::cli {
namespace {

constexpr size_t kMaxEvidenceSize = 1 << 20;

struct Options {
  std::string tee;
  std::string evidence;
  std::vector<std::string> certs;
  std::string at;
  std::string policy;
  bool json = false;
  std::string trust_root;
  std::string tcb_info;
  std::string tcb_info_chain;
  std::string qe_identity;
  std::string qe_identity_chain;
  std::vector<std::string> crls;
  std::string nonce;
  std::string event_log;
};

std::time_t verification_time(const Options& options) {
  if (options.at.empty()) return std::time(nullptr);
  auto when = attest::parse_rfc3339(options.at);
  return *when;  // validated by the option's check
}

attest::Policy load_policy(const Options& options) {
  if (options.policy.empty()) return {};
  auto text = read_file(options.policy, kMaxEvidenceSize);
  try {
    return attest::parse_policy(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const Error& e) {
    throw Error(options.policy + ": " + e.what());
  }
}

std::vector<attest::X509Ptr> load_certificates(const std::string& path) {
  auto bytes = read_file(path, kMaxEvidenceSize);
  try {
    if (attest::snp::looks_like_certificate_table(bytes)) return attest::snp::parse_certificate_table(bytes);
    return attest::parse_certificates(bytes);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::vector<attest::X509Ptr> certificates_of(const Options& options) {
  std::vector<attest::X509Ptr> certs;
  for (const auto& path : options.certs) {
    for (auto& cert : load_certificates(path)) certs.push_back(std::move(cert));
  }
  return certs;
}

// --trust-root replaces the built-in pinned roots with the given certificate.
std::vector<attest::Sha256Digest> trusted_roots(const Options& options,
                                                std::span<const attest::Sha256Digest> built_in) {
  if (options.trust_root.empty()) return {built_in.begin(), built_in.end()};
  auto certs = load_certificates(options.trust_root);
  return {attest::certificate_fingerprint(certs.front().get())};
}

std::optional<attest::tdx::SignedCollateral> collateral(const std::string& json_path, const std::string& chain_path,
                                                        const char* option) {
  if (json_path.empty()) return std::nullopt;
  if (chain_path.empty()) throw Error(std::string(option) + " needs its issuer chain (" + option + "-chain)");
  auto text = read_file(json_path, kMaxEvidenceSize);
  return attest::tdx::SignedCollateral{std::string(text.begin(), text.end()), load_certificates(chain_path)};
}

attest::Verdict verify_tdx(const Options& options, const attest::Policy& policy, std::time_t now) {
  attest::tdx::Evidence evidence;
  evidence.quote = read_file(options.evidence, kMaxEvidenceSize);
  evidence.pck_chain = certificates_of(options);
  evidence.tcb_info = collateral(options.tcb_info, options.tcb_info_chain, "--tcb-info");
  evidence.qe_identity = collateral(options.qe_identity, options.qe_identity_chain, "--qe-identity");
  for (const auto& path : options.crls) {
    try {
      evidence.crls.push_back(attest::parse_crl(read_file(path, kMaxEvidenceSize)));
    } catch (const attest::EvidenceError& e) {
      throw Error(path + ": " + e.what());
    }
  }
  if (!options.event_log.empty()) evidence.event_log = read_file(options.event_log, 16 * kMaxEvidenceSize);
  auto roots = trusted_roots(options, attest::tdx::intel_roots());
  return attest::tdx::verify(evidence, policy.tdx, now, roots);
}

attest::Verdict verify_snp(const Options& options, const attest::Policy& policy, std::time_t now) {
  attest::snp::Evidence evidence;
  evidence.report = read_file(options.evidence, kMaxEvidenceSize);
  evidence.certificates = certificates_of(options);
  return attest::snp::verify(evidence, policy.snp, now);
}

attest::Verdict verify_nvgpu(const Options& options, const attest::Policy& policy, std::time_t now) {
  attest::nvgpu::Evidence evidence;
  try {
    evidence.report = attest::nvgpu::decode_report_file(read_file(options.evidence, 4 * kMaxEvidenceSize));
  } catch (const attest::EvidenceError& e) {
    throw Error(options.evidence + ": " + e.what());
  }
  evidence.chain = certificates_of(options);
  if (!options.nonce.empty()) {
    auto nonce = from_hex(options.nonce);
    if (!nonce || nonce->size() != 32) throw Error("--nonce must be 32 bytes of hex");
    evidence.expected_nonce = *nonce;
  }
  auto roots = trusted_roots(options, attest::nvgpu::nvidia_roots());
  return attest::nvgpu::verify(evidence, policy.nvgpu, now, roots);
}

void print_claims(const nlohmann::ordered_json& value, const std::string& prefix) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) print_claims(item, prefix.empty() ? key : prefix + "." + key);
    return;
  }
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  std::printf("%s: %s\n", prefix.c_str(), text.c_str());
}

int report(const Options& options, const attest::Verdict& verdict, std::time_t now) {
  if (options.json) {
    nlohmann::ordered_json out;
    out["tee"] = options.tee;
    out["verified_at"] = attest::format_rfc3339(now);
    out["verdict"] = verdict.accepted ? "accepted" : "rejected";
    out["reason"] = verdict.reason.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(verdict.reason);
    out["claims"] = verdict.claims;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("tee: %s\nverified_at: %s\n", options.tee.c_str(), attest::format_rfc3339(now).c_str());
    print_claims(verdict.claims, "");
    if (verdict.accepted) {
      std::printf("verdict: accepted\n");
    } else {
      std::printf("verdict: rejected: %s\n", verdict.reason.c_str());
    }
  }
  std::fflush(stdout);
  return verdict.accepted ? kExitOk : kExitFailure;
}

}  // namespace

void add_verify_evidence_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("verify-evidence", "Verify TEE evidence offline and print its claims");
  sub->add_option("--tee", options->tee, "Kind of evidence")->required()->check(CLI::IsMember({"snp", "tdx", "nvgpu"}));
  sub->add_option("FILE", options->evidence, "The evidence (SNP: the 0x4A0-byte report; TDX: the quote; nvgpu: the SPDM report, hex or binary)")->required();
  sub->add_option("--certs", options->certs,
                  "Certificates, leaf first (PEM, DER, or an SNP certificate table / auxblob); repeatable");
  sub->add_option("--at", options->at, "Verify as of this RFC 3339 time instead of now")
      ->check(CLI::Validator(
          [](std::string& text) {
            return attest::parse_rfc3339(text) ? std::string() : "not an RFC 3339 time such as 2024-01-31T12:00:00Z";
          },
          "RFC3339"));
  sub->add_option("--policy", options->policy, "Appraisal policy (JSON, see docs/attestation.md)");
  sub->add_flag("--json", options->json, "Print the verdict and claims as JSON");
  sub->add_option("--trust-root", options->trust_root, "Trust this root certificate instead of the vendor's");
  sub->add_option("--tcb-info", options->tcb_info, "TDX: Intel PCS TCB info JSON");
  sub->add_option("--tcb-info-chain", options->tcb_info_chain, "TDX: its issuer chain (PEM, leaf first)");
  sub->add_option("--qe-identity", options->qe_identity, "TDX: Intel PCS QE identity JSON");
  sub->add_option("--qe-identity-chain", options->qe_identity_chain, "TDX: its issuer chain (PEM, leaf first)");
  sub->add_option("--event-log", options->event_log, "TDX: CCEL event log whose replay must give the RTMRs");
  sub->add_option("--nonce", options->nonce, "nvgpu: the nonce the report must answer (64 hex digits)");
  sub->add_option("--crl", options->crls, "TDX: CRLs of the PCK chain (PCK CA and root CA); repeatable");
  commands.push_back(Command{sub, [options]() {
                               std::time_t now = verification_time(*options);
                               attest::Policy policy = load_policy(*options);
                               attest::Verdict verdict = options->tee == "snp"   ? verify_snp(*options, policy, now)
                                                         : options->tee == "tdx" ? verify_tdx(*options, policy, now)
                                                                                 : verify_nvgpu(*options, policy, now);
                               return report(*options, verdict, now);
                             }});
}

}  // namespace shelter::cli
