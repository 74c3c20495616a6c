#include "attest/snp/report.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "attest/crypto.h"
#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest::snp {

std::string product_name(Product product) {
  switch (product) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
  }
  return "unknown";
}

TcbVersion decode_tcb(uint64_t raw, Product product) {
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  if (product == Product::kTurin) return TcbVersion{byte(0), byte(1), byte(2), byte(3), byte(7)};
  return TcbVersion{0, byte(0), byte(1), byte(6), byte(7)};
}

uint64_t encode_tcb(const TcbVersion& tcb, Product product) {
  auto at = [](uint8_t value, int i) { return static_cast<uint64_t>(value) << (8 * i); };
  if (product == Product::kTurin) {
    return at(tcb.fmc, 0) | at(tcb.bootloader, 1) | at(tcb.tee, 2) | at(tcb.snp, 3) | at(tcb.microcode, 7);
  }
  return at(tcb.bootloader, 0) | at(tcb.tee, 1) | at(tcb.snp, 6) | at(tcb.microcode, 7);
}

nlohmann::ordered_json tcb_json(const TcbVersion& tcb, Product product) {
  nlohmann::ordered_json out;
  if (product == Product::kTurin) out["fmc"] = tcb.fmc;
  out["bootloader"] = tcb.bootloader;
  out["tee"] = tcb.tee;
  out["snp"] = tcb.snp;
  out["microcode"] = tcb.microcode;
  return out;
}

AttestationReport parse_report(std::span<const uint8_t> bytes) {
  if (bytes.size() != sizeof(AttestationReport)) {
    throw EvidenceError("SNP report must be " + std::to_string(sizeof(AttestationReport)) + " bytes, got " +
                        std::to_string(bytes.size()));
  }
  AttestationReport report;
  std::memcpy(&report, bytes.data(), sizeof(report));
  if (report.version != 2 && report.version != 3) {
    throw EvidenceError("unsupported SNP report version " + std::to_string(report.version) +
                        " (versions 2 and 3 are understood)");
  }
  if (report.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    throw EvidenceError("unsupported SNP signature algorithm " + std::to_string(report.signature_algo));
  }
  return report;
}

SigningKey signing_key(const AttestationReport& report) {
  switch ((report.flags >> 2) & 0x7) {
    case 0:
      return SigningKey::kVcek;
    case 1:
      return SigningKey::kVlek;
    default:
      return SigningKey::kNone;
  }
}

std::span<const uint8_t> signed_bytes(const AttestationReport& report) {
  return {reinterpret_cast<const uint8_t*>(&report), kSignedSize};
}

void sign_report(AttestationReport& report, EVP_PKEY* key) {
  report.signature_algo = kSignatureAlgoEcdsaP384Sha384;
  auto rs = sign_ecdsa(key, "SHA384", signed_bytes(report), 48);
  std::memset(report.signature_r, 0, sizeof(report.signature_r));
  std::memset(report.signature_s, 0, sizeof(report.signature_s));
  std::reverse_copy(rs.begin(), rs.begin() + 48, report.signature_r);
  std::reverse_copy(rs.begin() + 48, rs.end(), report.signature_s);
}

nlohmann::ordered_json report_claims(const AttestationReport& r) {
  auto hex = [](const auto& field) { return to_hex(std::span<const uint8_t>(field, sizeof(field))); };
  char policy_hex[19];
  std::snprintf(policy_hex, sizeof(policy_hex), "0x%llx", static_cast<unsigned long long>(r.policy));
  nlohmann::ordered_json claims;
  claims["version"] = r.version;
  claims["measurement"] = hex(r.measurement);
  claims["report_data"] = hex(r.report_data);
  claims["host_data"] = hex(r.host_data);
  claims["policy"] = {
      {"raw", policy_hex},
      {"abi_major", (r.policy >> 8) & 0xff},
      {"abi_minor", r.policy & 0xff},
      {"smt", (r.policy & kPolicySmt) != 0},
      {"migrate_ma", (r.policy & kPolicyMigrateMa) != 0},
      {"debug", (r.policy & kPolicyDebug) != 0},
      {"single_socket", (r.policy & kPolicySingleSocket) != 0},
  };
  claims["vmpl"] = r.vmpl;
  claims["guest_svn"] = r.guest_svn;
  claims["family_id"] = hex(r.family_id);
  claims["image_id"] = hex(r.image_id);
  claims["id_key_digest"] = hex(r.id_key_digest);
  claims["author_key_digest"] = hex(r.author_key_digest);
  claims["report_id"] = hex(r.report_id);
  claims["report_id_ma"] = hex(r.report_id_ma);
  claims["chip_id"] = hex(r.chip_id);
  claims["platform_info"] = r.platform_info;
  SigningKey key = signing_key(r);
  claims["signing_key"] = key == SigningKey::kVcek ? "vcek" : key == SigningKey::kVlek ? "vlek" : "none";
  claims["firmware"] = std::to_string(r.current_major) + "." + std::to_string(r.current_minor) + "." +
                       std::to_string(r.current_build);
  return claims;
}

}  // namespace shelter::attest::snp
