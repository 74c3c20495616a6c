// Verifications per second on one core: SNP reports and TDX quotes, with
// certificate chains verified every time and with a chain cache, next to the
// bare ECDSA verification of the same signature (the floor). It also writes
// that signature, its key and its message to OUT_DIR so that run.sh can time
// `openssl dgst -verify` on exactly the same input.
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "attest/crypto.h"
#include "attest/snp/verify.h"
#include "attest/tdx/quote.h"
#include "attest/tdx/verify.h"
#include "common/file.h"

namespace {

using namespace shelter;
using namespace shelter::attest;

double per_second(const char* name, double seconds, const std::function<bool()>& operation) {
  if (!operation()) {
    std::fprintf(stderr, "bench_verify: %s does not verify\n", name);
    std::exit(1);
  }
  using Clock = std::chrono::steady_clock;
  long count = 0;
  auto start = Clock::now();
  std::chrono::duration<double> elapsed{};
  do {
    for (int i = 0; i < 16; ++i) operation();
    count += 16;
    elapsed = Clock::now() - start;
  } while (elapsed.count() < seconds);
  double rate = static_cast<double>(count) / elapsed.count();
  std::printf("%-28s %10.0f /s\n", name, rate);
  return rate;
}

void export_signature(const std::filesystem::path& dir, const std::string& prefix, EVP_PKEY* key,
                      std::span<const uint8_t> message, std::span<const uint8_t> r, std::span<const uint8_t> s) {
  write_file_atomic(dir / (prefix + ".msg"), message, 0644);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr),
                 BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr));
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig, &der);
  write_file_atomic(dir / (prefix + ".sig"), std::span<const uint8_t>(der, static_cast<size_t>(length)), 0644);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* pem = nullptr;
  long pem_length = BIO_get_mem_data(bio, &pem);
  write_file_atomic(dir / (prefix + ".pub"),
                    std::span<const uint8_t>(reinterpret_cast<uint8_t*>(pem), static_cast<size_t>(pem_length)), 0644);
  BIO_free(bio);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s VECTORS_DIR OUT_DIR [SECONDS]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path vectors = argv[1];
  const std::filesystem::path out = argv[2];
  const double seconds = argc > 3 ? std::stod(argv[3]) : 2.0;

  snp::Evidence snp_evidence;
  snp_evidence.report = read_file(vectors / "sev-snp/attestation.bin", 4096);
  snp_evidence.certificates = parse_certificates(read_file(vectors / "sev-snp/vcek.testcer", 1 << 16));
  for (auto& cert : parse_certificates(read_file(vectors / "sev-snp/ask_ark_milan.pem", 1 << 16))) {
    snp_evidence.certificates.push_back(std::move(cert));
  }
  SnpPolicy snp_policy;
  snp_policy.allow_debug = true;
  const std::time_t snp_now = *parse_rfc3339("2024-01-01T00:00:00Z");
  auto report = snp::parse_report(snp_evidence.report);
  std::array<uint8_t, 72> r{}, s{};
  std::reverse_copy(std::begin(report.signature_r), std::end(report.signature_r), r.begin());
  std::reverse_copy(std::begin(report.signature_s), std::end(report.signature_s), s.begin());
  EVP_PKEY* vcek = X509_get0_pubkey(snp_evidence.certificates.front().get());
  export_signature(out, "snp", vcek, snp::signed_bytes(report), r, s);

  tdx::Evidence tdx_evidence;
  tdx_evidence.quote = read_file(vectors / "tdx/tdx_prod_quote_SPR_E4.dat", 1 << 16);
  const std::time_t tdx_now = *parse_rfc3339("2023-07-01T00:00:00Z");
  auto quote = tdx::parse_quote(tdx_evidence.quote);
  auto attestation_key = ec_public_key_from_xy("P-256", quote.attestation_key);
  export_signature(out, "tdx", attestation_key.get(), quote.signed_bytes, std::span(quote.signature).first(32),
                   std::span(quote.signature).subspan(32));

  std::printf("one core, %.1f s per measurement\n", seconds);
  double snp_raw = per_second("snp ecdsa-p384 (floor)", seconds, [&] {
    return verify_ecdsa(vcek, "SHA384", snp::signed_bytes(report), r, s);
  });
  double snp_uncached = per_second("snp verify, chain each time", seconds, [&] {
    return snp::verify(snp_evidence, snp_policy, snp_now).accepted;
  });
  ChainCache snp_cache;
  double snp_cached = per_second("snp verify, chain cached", seconds, [&] {
    return snp::verify(snp_evidence, snp_policy, snp_now, snp::amd_roots(), &snp_cache).accepted;
  });
  double tdx_raw = per_second("tdx ecdsa-p256 (floor)", seconds, [&] {
    return verify_ecdsa(attestation_key.get(), "SHA256", quote.signed_bytes, std::span(quote.signature).first(32),
                        std::span(quote.signature).subspan(32));
  });
  double tdx_uncached = per_second("tdx verify, chain each time", seconds, [&] {
    return tdx::verify(tdx_evidence, TdxPolicy{}, tdx_now).accepted;
  });
  ChainCache tdx_cache;
  double tdx_cached = per_second("tdx verify, chain cached", seconds, [&] {
    return tdx::verify(tdx_evidence, TdxPolicy{}, tdx_now, tdx::intel_roots(), &tdx_cache).accepted;
  });
  std::printf("ratio snp cached/floor: %.2fx slower; uncached/floor: %.2fx\n", snp_raw / snp_cached,
              snp_raw / snp_uncached);
  std::printf("ratio tdx cached/floor: %.2fx slower; uncached/floor: %.2fx\n", tdx_raw / tdx_cached,
              tdx_raw / tdx_uncached);
  // A quote needs two P-256 verifications (the quote, and the QE report by the PCK key).
  std::printf("ratio tdx cached/two-signature floor: %.2fx\n", tdx_raw / 2 / tdx_cached);
  return 0;
}
