#include "attest/snp/verify.h"

#include <openssl/asn1.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "attest/bytes.h"
#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest::snp {
namespace {

constexpr Sha256Digest fingerprint(const char (&hex)[65]) {
  Sha256Digest out{};
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

// ARK-Milan, ARK-Genoa and ARK-Turin as published by AMD's key distribution
// service (kdsintf.amd.com/vcek/v1/<product>/cert_chain).
constexpr std::array<PinnedRoot, 3> kAmdRoots = {{
    {fingerprint("69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"), Product::kMilan},
    {fingerprint("4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"), Product::kGenoa},
    {fingerprint("1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"), Product::kTurin},
}};

// GUIDs of the certificate table entries, in their on-wire (mixed-endian) form.
using Guid = std::array<uint8_t, 16>;
constexpr Guid kVcekGuid = {0x8d, 0x75, 0xda, 0x63, 0x64, 0xe6, 0x64, 0x45,
                            0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
constexpr Guid kVlekGuid = {0xc2, 0x4b, 0x07, 0xa8, 0x5a, 0xa2, 0x3e, 0x48,
                            0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
constexpr Guid kAskGuid = {0x79, 0xb3, 0xb7, 0x4a, 0xac, 0xbb, 0xe4, 0x4f,
                           0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
constexpr Guid kArkGuid = {0xa4, 0x06, 0xb4, 0xc0, 0x03, 0xa8, 0x52, 0x49,
                           0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
constexpr size_t kTableEntrySize = 24;
constexpr size_t kMaxTableEntries = 64;

std::optional<uint64_t> integer_extension(X509* cert, const char* oid) {
  auto value = extension_value(cert, oid);
  if (!value) return std::nullopt;
  const unsigned char* p = value->data();
  ASN1_INTEGER* integer = d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(value->size()));
  if (integer == nullptr) return std::nullopt;
  uint64_t out = 0;
  int ok = ASN1_INTEGER_get_uint64(&out, integer);
  ASN1_INTEGER_free(integer);
  if (ok != 1) return std::nullopt;
  return out;
}

// The VCEK/VLEK carries the TCB it was derived from; it must be the report's.
std::optional<std::string> check_certificate_tcb(X509* leaf, const AttestationReport& report, Product product) {
  TcbVersion reported = decode_tcb(report.reported_tcb, product);
  struct Component {
    const char* oid;
    const char* name;
    uint8_t reported;
  };
  std::vector<Component> components = {
      {"1.3.6.1.4.1.3704.1.3.1", "bootloader", reported.bootloader},
      {"1.3.6.1.4.1.3704.1.3.2", "tee", reported.tee},
      {"1.3.6.1.4.1.3704.1.3.3", "snp", reported.snp},
      {"1.3.6.1.4.1.3704.1.3.8", "microcode", reported.microcode},
  };
  if (product == Product::kTurin) components.push_back({"1.3.6.1.4.1.3704.1.3.9", "fmc", reported.fmc});
  for (const auto& component : components) {
    auto value = integer_extension(leaf, component.oid);
    if (!value) return std::string("signing certificate lacks its ") + component.name + " TCB extension";
    if (*value != component.reported) {
      return std::string("signing certificate's ") + component.name + " TCB " + std::to_string(*value) +
             " differs from the report's reported_tcb (" + std::to_string(component.reported) + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_chip_id(X509* vcek, const AttestationReport& report, Product product) {
  if ((report.flags & 0x2) != 0) return std::nullopt;  // MASK_CHIP_ID: the report carries zeros
  auto hwid = extension_value(vcek, "1.3.6.1.4.1.3704.1.4");
  if (!hwid) return "VCEK lacks its hwID extension";
  // Turin VCEKs carry the first 8 bytes of the chip id.
  size_t length = product == Product::kTurin ? 8 : sizeof(report.chip_id);
  if (hwid->size() != length || std::memcmp(hwid->data(), report.chip_id, length) != 0) {
    return "VCEK hwID does not match the report's chip_id";
  }
  return std::nullopt;
}

bool at_least(const TcbVersion& have, const SnpTcbMinimum& want, std::string& which) {
  const std::array<std::tuple<const char*, uint8_t, uint8_t>, 5> parts = {{
      {"fmc", have.fmc, want.fmc},
      {"bootloader", have.bootloader, want.bootloader},
      {"tee", have.tee, want.tee},
      {"snp", have.snp, want.snp},
      {"microcode", have.microcode, want.microcode},
  }};
  for (const auto& [name, value, minimum] : parts) {
    if (value < minimum) {
      which = std::string(name) + " " + std::to_string(value) + " < " + std::to_string(minimum);
      return false;
    }
  }
  return true;
}

std::optional<std::string> check_policy(const AttestationReport& r, const SnpPolicy& policy, Product product) {
  if ((r.policy & kPolicyDebug) != 0 && !policy.allow_debug) return "policy: guest policy allows debugging (DEBUG=1)";
  if ((r.policy & kPolicySmt) != 0 && !policy.allow_smt) return "policy: guest policy allows SMT";
  if ((r.policy & kPolicyMigrateMa) != 0 && !policy.allow_migration_agent) {
    return "policy: guest policy allows a migration agent";
  }
  if (policy.minimum_tcb) {
    std::string which;
    if (!at_least(decode_tcb(r.reported_tcb, product), *policy.minimum_tcb, which)) {
      return "policy: reported TCB below the minimum (" + which + ")";
    }
  }
  if (policy.vmpl && r.vmpl != *policy.vmpl) {
    return "policy: report is from VMPL " + std::to_string(r.vmpl) + ", policy requires VMPL " +
           std::to_string(*policy.vmpl);
  }
  if (!policy.measurements.empty()) {
    bool found = std::any_of(policy.measurements.begin(), policy.measurements.end(), [&](const Bytes& m) {
      return std::equal(m.begin(), m.end(), std::begin(r.measurement), std::end(r.measurement));
    });
    if (!found) return "policy: measurement is not one of the reference values";
  }
  if (policy.report_data &&
      !std::equal(policy.report_data->begin(), policy.report_data->end(), std::begin(r.report_data))) {
    return "policy: report_data does not match";
  }
  if (policy.host_data && !std::equal(policy.host_data->begin(), policy.host_data->end(), std::begin(r.host_data))) {
    return "policy: host_data does not match";
  }
  return std::nullopt;
}

std::string common_name(X509* cert) {
  char buffer[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof(buffer));
  return buffer;
}

}  // namespace

std::span<const PinnedRoot> amd_roots() { return kAmdRoots; }

bool looks_like_certificate_table(std::span<const uint8_t> bytes) {
  if (bytes.size() < kTableEntrySize) return false;
  for (const Guid& guid : {kVcekGuid, kVlekGuid, kAskGuid, kArkGuid}) {
    if (std::equal(guid.begin(), guid.end(), bytes.begin())) return true;
  }
  return false;
}

std::vector<X509Ptr> parse_certificate_table(std::span<const uint8_t> table) {
  ByteReader reader(table, "SNP certificate table");
  std::array<std::optional<std::span<const uint8_t>>, 3> roles;  // leaf, ASK, ARK
  for (size_t entry = 0;; ++entry) {
    if (entry == kMaxTableEntries) throw EvidenceError("SNP certificate table has no terminating entry");
    auto guid_bytes = reader.bytes(16);
    uint32_t offset = reader.le<uint32_t>();
    uint32_t length = reader.le<uint32_t>();
    Guid guid;
    std::copy(guid_bytes.begin(), guid_bytes.end(), guid.begin());
    if (guid == Guid{} && offset == 0 && length == 0) break;
    if (offset > table.size() || length > table.size() - offset) {
      throw EvidenceError("SNP certificate table entry " + std::to_string(entry) + " points outside the table");
    }
    auto bytes = table.subspan(offset, length);
    size_t role = guid == kVcekGuid || guid == kVlekGuid ? 0 : guid == kAskGuid ? 1 : guid == kArkGuid ? 2 : 3;
    if (role == 3) continue;  // other entries (e.g. a CRL) are not part of the chain
    if (roles[role]) throw EvidenceError("SNP certificate table has two entries of the same kind");
    roles[role] = bytes;
  }
  std::vector<X509Ptr> certs;
  for (const auto& role : roles) {
    if (!role) continue;
    auto parsed = parse_certificates(*role);
    certs.push_back(std::move(parsed.front()));
  }
  return certs;
}

Verdict verify(const Evidence& evidence, const SnpPolicy& policy, std::time_t now, std::span<const PinnedRoot> roots,
               ChainCache* cache) {
  AttestationReport report;
  try {
    report = parse_report(evidence.report);
  } catch (const EvidenceError& e) {
    return Verdict::reject(std::string("malformed report: ") + e.what(), {});
  }
  nlohmann::ordered_json claims = report_claims(report);
  SigningKey key = signing_key(report);
  if (key == SigningKey::kNone) return Verdict::reject("report is not signed (SIGNING_KEY is neither VCEK nor VLEK)", claims);
  if (evidence.certificates.empty()) return Verdict::reject("no VCEK/VLEK certificate given", claims);

  X509* leaf = evidence.certificates.front().get();
  const char* expected_cn = key == SigningKey::kVcek ? "SEV-VCEK" : "SEV-VLEK";
  if (common_name(leaf) != expected_cn) {
    return Verdict::reject(std::string("report is signed by the ") + (key == SigningKey::kVcek ? "VCEK" : "VLEK") +
                               " but the first certificate is '" + common_name(leaf) + "'",
                           claims);
  }
  EVP_PKEY* leaf_key = X509_get0_pubkey(leaf);
  if (leaf_key == nullptr || EVP_PKEY_get_base_id(leaf_key) != EVP_PKEY_EC || EVP_PKEY_get_bits(leaf_key) != 384) {
    return Verdict::reject(std::string(expected_cn) + " key is not an ECDSA P-384 key", claims);
  }
  // r and s are little-endian; only the low 48 bytes can be non-zero.
  std::array<uint8_t, 72> r{}, s{};
  std::reverse_copy(std::begin(report.signature_r), std::end(report.signature_r), r.begin());
  std::reverse_copy(std::begin(report.signature_s), std::end(report.signature_s), s.begin());
  if (!verify_ecdsa(leaf_key, "SHA384", signed_bytes(report), r, s)) {
    return Verdict::reject(std::string("report signature does not verify under the ") + expected_cn, claims);
  }

  ChainCheck check;
  for (const auto& cert : evidence.certificates) check.chain.push_back(cert.get());
  for (const auto& root : roots) check.trusted_roots.push_back(root.fingerprint);
  check.now = now;
  auto chain_problem = cache != nullptr ? cache->verify(check) : verify_chain(check);
  if (chain_problem) return Verdict::reject(*chain_problem, claims);
  Sha256Digest root_fingerprint = certificate_fingerprint(check.chain.back());
  Product product = std::find_if(roots.begin(), roots.end(), [&](const PinnedRoot& root) {
                      return root.fingerprint == root_fingerprint;
                    })->product;
  claims["product"] = product_name(product);
  claims["reported_tcb"] = tcb_json(decode_tcb(report.reported_tcb, product), product);
  claims["current_tcb"] = tcb_json(decode_tcb(report.current_tcb, product), product);
  claims["committed_tcb"] = tcb_json(decode_tcb(report.committed_tcb, product), product);
  claims["launch_tcb"] = tcb_json(decode_tcb(report.launch_tcb, product), product);

  if (auto problem = check_certificate_tcb(leaf, report, product)) return Verdict::reject(*problem, claims);
  if (key == SigningKey::kVcek) {
    if (auto problem = check_chip_id(leaf, report, product)) return Verdict::reject(*problem, claims);
  }
  if (auto problem = check_policy(report, policy, product)) return Verdict::reject(*problem, claims);
  return Verdict{true, "", std::move(claims)};
}

}  // namespace shelter::attest::snp
