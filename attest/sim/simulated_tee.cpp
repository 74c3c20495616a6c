#include "attest/sim/simulated_tee.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstring>
#include <ctime>
#include <string>

#include "attest/error.h"
#include "common/file.h"

namespace shelter::attest::sim {
namespace {

namespace fs = std::filesystem;

// TCB the simulated platform reports (and its VCEK certifies).
constexpr snp::TcbVersion kSimulatedTcb{0, 4, 0, 22, 213};
constexpr std::time_t kValidity = 20L * 365 * 24 * 3600;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::vector<uint8_t> der_integer(uint64_t value) {
  ASN1_INTEGER* integer = ASN1_INTEGER_new();
  ASN1_INTEGER_set_uint64(integer, value);
  unsigned char* der = nullptr;
  int length = i2d_ASN1_INTEGER(integer, &der);
  std::vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  ASN1_INTEGER_free(integer);
  return out;
}

void add_raw_extension(X509* cert, const char* oid_text, std::span<const uint8_t> value) {
  ASN1_OBJECT* oid = OBJ_txt2obj(oid_text, 1);
  ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(octets, value.data(), static_cast<int>(value.size()));
  X509_EXTENSION* extension = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, octets);
  bool added = extension != nullptr && X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  ASN1_OCTET_STRING_free(octets);
  ASN1_OBJECT_free(oid);
  if (!added) throw EvidenceError("simulated TEE: cannot add a certificate extension");
}

void add_nid_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool added = extension != nullptr && X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  if (!added) throw EvidenceError("simulated TEE: cannot add a certificate extension");
}

// Unsigned: extensions may still be added; sign_certificate() finishes it.
X509Ptr make_certificate(const char* common_name, EVP_PKEY* key, X509* issuer, bool ca) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  uint8_t serial[8];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  std::time_t now = std::time(nullptr);
  std::time_t start = now - 24 * 3600;
  std::time_t end = now + kValidity;
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &start);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &end);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (ca) {
    add_nid_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_nid_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  return cert;
}

std::array<uint8_t, 64> simulated_chip_id() {
  std::array<uint8_t, 64> chip_id{};
  std::memcpy(chip_id.data(), kSimulatedChipId, sizeof(kSimulatedChipId) - 1);
  return chip_id;
}

void sign_certificate(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha384()) <= 0) throw EvidenceError("simulated TEE: certificate signing failed");
}

std::vector<uint8_t> pem_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, data + size};
}

std::vector<uint8_t> pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, data + size};
}

X509Ptr load_certificate(const fs::path& path) {
  auto certificates = parse_certificates(read_file(path, 64 * 1024));
  if (certificates.size() != 1) throw EvidenceError("simulated TEE: " + path.string() + " must hold one certificate");
  return std::move(certificates.front());
}

EvpPkeyPtr load_private_key(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    throw EvidenceError("simulated TEE: " + path.string() + " is readable by others (expected mode 0600)");
  }
  auto pem = read_file(path, 64 * 1024);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw EvidenceError("simulated TEE: cannot read the VCEK key " + path.string());
  return key;
}

std::vector<uint8_t> to_der(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  std::vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

void create(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  EvpPkeyPtr ark_key(EVP_EC_gen("P-384")), ask_key(EVP_EC_gen("P-384")), vcek_key(EVP_EC_gen("P-384"));
  if (!ark_key || !ask_key || !vcek_key) throw EvidenceError("simulated TEE: key generation failed");
  X509Ptr ark = make_certificate(kSimulatedArkName, ark_key.get(), nullptr, true);
  sign_certificate(ark.get(), ark_key.get());
  X509Ptr ask = make_certificate("SEV-Milan Shelter simulated", ask_key.get(), ark.get(), true);
  sign_certificate(ask.get(), ark_key.get());
  X509Ptr vcek = make_certificate("SEV-VCEK", vcek_key.get(), ask.get(), false);
  add_raw_extension(vcek.get(), "1.3.6.1.4.1.3704.1.3.1", der_integer(kSimulatedTcb.bootloader));
  add_raw_extension(vcek.get(), "1.3.6.1.4.1.3704.1.3.2", der_integer(kSimulatedTcb.tee));
  add_raw_extension(vcek.get(), "1.3.6.1.4.1.3704.1.3.3", der_integer(kSimulatedTcb.snp));
  add_raw_extension(vcek.get(), "1.3.6.1.4.1.3704.1.3.8", der_integer(kSimulatedTcb.microcode));
  add_raw_extension(vcek.get(), "1.3.6.1.4.1.3704.1.4", simulated_chip_id());
  sign_certificate(vcek.get(), ask_key.get());
  // The key first, the ARK last: a folder with an ARK is complete.
  write_file_atomic(dir / "vcek-key.pem", pem_of(vcek_key.get()), 0600);
  write_file_atomic(dir / "vcek.pem", pem_of(vcek.get()), 0644);
  write_file_atomic(dir / "ask.pem", pem_of(ask.get()), 0644);
  write_file_atomic(dir / "ark.pem", pem_of(ark.get()), 0644);
}

}  // namespace

SimulatedTee SimulatedTee::open(const fs::path& dir) {
  if (!fs::exists(dir / "ark.pem")) create(dir);
  SimulatedTee tee;
  tee.vcek_key_ = load_private_key(dir / "vcek-key.pem");
  tee.vcek_ = load_certificate(dir / "vcek.pem");
  tee.ask_ = load_certificate(dir / "ask.pem");
  tee.ark_ = load_certificate(dir / "ark.pem");
  if (X509_check_private_key(tee.vcek_.get(), tee.vcek_key_.get()) != 1) {
    throw EvidenceError("simulated TEE: the VCEK key in " + dir.string() + " does not match vcek.pem");
  }
  return tee;
}

std::vector<uint8_t> SimulatedTee::report(const ReportInputs& inputs) const {
  snp::AttestationReport report;
  std::memset(&report, 0, sizeof(report));
  report.version = 3;
  report.guest_svn = 0;
  report.policy = inputs.policy;
  report.signature_algo = snp::kSignatureAlgoEcdsaP384Sha384;
  uint64_t tcb = snp::encode_tcb(kSimulatedTcb, snp::Product::kMilan);
  report.current_tcb = report.reported_tcb = report.committed_tcb = report.launch_tcb = tcb;
  std::memcpy(report.report_data, inputs.report_data.data(), sizeof(report.report_data));
  std::memcpy(report.measurement, inputs.measurement.data(), sizeof(report.measurement));
  std::memcpy(report.host_data, inputs.host_data.data(), sizeof(report.host_data));
  auto chip_id = simulated_chip_id();
  std::memcpy(report.chip_id, chip_id.data(), sizeof(report.chip_id));
  RAND_bytes(report.report_id, sizeof(report.report_id));
  snp::sign_report(report, vcek_key_.get());
  const auto* bytes = reinterpret_cast<const uint8_t*>(&report);
  return {bytes, bytes + sizeof(report)};
}

std::vector<std::vector<uint8_t>> SimulatedTee::chain_der() const {
  return {to_der(vcek_.get()), to_der(ask_.get()), to_der(ark_.get())};
}

snp::PinnedRoot SimulatedTee::root() const { return {certificate_fingerprint(ark_.get()), snp::Product::kMilan}; }

snp::PinnedRoot load_simulated_root(const fs::path& ark_file) {
  X509Ptr ark = load_certificate(ark_file);
  return {certificate_fingerprint(ark.get()), snp::Product::kMilan};
}

bool is_simulated(const snp::AttestationReport& report) {
  auto chip_id = simulated_chip_id();
  return std::memcmp(report.chip_id, chip_id.data(), chip_id.size()) == 0;
}

}  // namespace shelter::attest::sim
