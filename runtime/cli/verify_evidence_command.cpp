#include "runtime/cli/verify_evidence_command.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "attest/crypto.h"
#include "attest/policy.h"
#include "attest/snp/verify.h"
#include "attest/verdict.h"
#include "common/error.h"
#include "common/file.h"

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

attest::Verdict verify_snp(const Options& options, const attest::Policy& policy, std::time_t now) {
  attest::snp::Evidence evidence;
  evidence.report = read_file(options.evidence, kMaxEvidenceSize);
  for (const auto& path : options.certs) {
    for (auto& cert : load_certificates(path)) evidence.certificates.push_back(std::move(cert));
  }
  return attest::snp::verify(evidence, policy.snp, now);
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
  sub->add_option("--tee", options->tee, "Kind of evidence")->required()->check(CLI::IsMember({"snp"}));
  sub->add_option("FILE", options->evidence, "The evidence (SNP: the 0x4A0-byte report)")->required();
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
  commands.push_back(Command{sub, [options]() {
                               std::time_t now = verification_time(*options);
                               attest::Policy policy = load_policy(*options);
                               attest::Verdict verdict = verify_snp(*options, policy, now);
                               return report(*options, verdict, now);
                             }});
}

}  // namespace shelter::cli
