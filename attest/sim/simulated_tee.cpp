#include "attest/sim/simulated_tee.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstring>
#include <ctime>
#include <string>

#include "attest/certificate_builder.h"
#include "attest/error.h"
#include "common/file.h"

namespace shelter::attest::sim {
namespace {

namespace fs = std::filesystem;

// TCB the simulated platform reports (and its VCEK certifies).
constexpr snp::TcbVersion kSimulatedTcb{0, 4, 0, 22, 213};
constexpr std::time_t kValidity = 20L * 365 * 24 * 3600;

std::array<uint8_t, 64> simulated_chip_id() {
  std::array<uint8_t, 64> chip_id{};
  std::memcpy(chip_id.data(), kSimulatedChipId, sizeof(kSimulatedChipId) - 1);
  return chip_id;
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
  EvpPkeyPtr key = parse_private_key_pem(read_file(path, 64 * 1024));
  if (!key) throw EvidenceError("simulated TEE: cannot read the VCEK key " + path.string());
  return key;
}

void create(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  EvpPkeyPtr ark_key(EVP_EC_gen("P-384")), ask_key(EVP_EC_gen("P-384")), vcek_key(EVP_EC_gen("P-384"));
  if (!ark_key || !ask_key || !vcek_key) throw EvidenceError("simulated TEE: key generation failed");
  std::time_t now = std::time(nullptr);
  std::time_t start = now - 24 * 3600, end = now + kValidity;
  X509Ptr ark = make_certificate({kSimulatedArkName, start, end, true, {}}, ark_key.get(), nullptr, nullptr);
  X509Ptr ask = make_certificate({"SEV-Milan Shelter simulated", start, end, true, {}}, ask_key.get(), ark.get(),
                                 ark_key.get());
  auto chip_id = simulated_chip_id();
  std::vector<CertificateExtension> vcek_extensions{
      {"1.3.6.1.4.1.3704.1.3.1", der_integer(kSimulatedTcb.bootloader)},
      {"1.3.6.1.4.1.3704.1.3.2", der_integer(kSimulatedTcb.tee)},
      {"1.3.6.1.4.1.3704.1.3.3", der_integer(kSimulatedTcb.snp)},
      {"1.3.6.1.4.1.3704.1.3.8", der_integer(kSimulatedTcb.microcode)},
      {"1.3.6.1.4.1.3704.1.4", {chip_id.begin(), chip_id.end()}}};
  X509Ptr vcek = make_certificate({"SEV-VCEK", start, end, false, std::move(vcek_extensions)}, vcek_key.get(),
                                  ask.get(), ask_key.get());
  // The key first, the ARK last: a folder with an ARK is complete.
  write_file_atomic(dir / "vcek-key.pem", private_key_pem(vcek_key.get()), 0600);
  write_file_atomic(dir / "vcek.pem", certificate_pem(vcek.get()), 0644);
  write_file_atomic(dir / "ask.pem", certificate_pem(ask.get()), 0644);
  write_file_atomic(dir / "ark.pem", certificate_pem(ark.get()), 0644);
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
