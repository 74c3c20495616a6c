#pragma once
// Thin RAII layer over OpenSSL 3 for the verifiers: digests, raw ECDSA
// signatures as the TEE vendors lay them out, certificates, CRLs, and one
// chain check that every verifier uses with an explicit verification time.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace shelter::attest {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct X509CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using X509CrlPtr = std::unique_ptr<X509_CRL, X509CrlFree>;

using Sha256Digest = std::array<uint8_t, 32>;
using Sha384Digest = std::array<uint8_t, 48>;

Sha256Digest sha256(std::span<const uint8_t> data);

// A pinned SHA-256 fingerprint written as 64 lower-case hex digits.
consteval Sha256Digest pinned_sha256(const char (&hex)[65]) {
  Sha256Digest out{};
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}
Sha384Digest sha384(std::span<const uint8_t> data);

// An incremental SHA-256 or SHA-384 (the launch digests hash many pieces).
class Hasher {
 public:
  enum class Algorithm { kSha256, kSha384 };
  explicit Hasher(Algorithm algorithm);
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  ~Hasher();
  void update(std::span<const uint8_t> data);
  std::vector<uint8_t> finish();

 private:
  EVP_MD_CTX* ctx_;
};

// Verifies an ECDSA signature given as big-endian r and s over message,
// hashed with digest ("SHA256" or "SHA384"). False on any mismatch.
bool verify_ecdsa(EVP_PKEY* key, const char* digest, std::span<const uint8_t> message,
                  std::span<const uint8_t> r, std::span<const uint8_t> s);

// Signs message (hashed with digest) with an EC key; r and s big-endian,
// each left-padded to half of the returned size (field_size bytes each).
std::vector<uint8_t> sign_ecdsa(EVP_PKEY* key, const char* digest, std::span<const uint8_t> message,
                                size_t field_size);

// An EC public key from its raw X||Y coordinates on the named curve
// ("P-256", "P-384"); nullptr when the point is not on the curve.
EvpPkeyPtr ec_public_key_from_xy(const char* curve, std::span<const uint8_t> xy);

// Every certificate in bytes: one DER certificate, or any number of PEM
// blocks. Throws EvidenceError when none can be read.
std::vector<X509Ptr> parse_certificates(std::span<const uint8_t> bytes);
// A CRL in DER or PEM; throws EvidenceError.
X509CrlPtr parse_crl(std::span<const uint8_t> bytes);

// PEM text of a certificate or key, as key files and state folders keep
// them; throws shelter::Error when OpenSSL cannot encode.
std::vector<uint8_t> certificate_pem(X509* cert);
std::vector<uint8_t> private_key_pem(EVP_PKEY* key);
std::vector<uint8_t> public_key_pem(EVP_PKEY* key);
// The first key in PEM text; nullptr when there is none.
EvpPkeyPtr parse_private_key_pem(std::span<const uint8_t> pem);
EvpPkeyPtr parse_public_key_pem(std::span<const uint8_t> pem);

Sha256Digest certificate_fingerprint(X509* cert);
std::string subject_name(X509* cert);

// The value of a non-standard extension, found by dotted OID; nullopt when
// the certificate lacks it.
std::optional<std::vector<uint8_t>> extension_value(X509* cert, const char* oid);

struct ChainCheck {
  // Certificates leaf first; the last one must be a self-signed root.
  std::vector<X509*> chain;
  // SHA-256 fingerprints of the roots this check accepts.
  std::vector<Sha256Digest> trusted_roots;
  std::vector<X509_CRL*> crls;
  // Validity of every certificate (and CRL) is judged at this instant.
  std::time_t now = 0;
};

// Checks order, root pinning, signatures, validity and revocation. Returns the
// reason for a rejection, or nullopt when the chain is good.
std::optional<std::string> verify_chain(const ChainCheck& check);

// "YYYY-MM-DDTHH:MM:SSZ" (or with a +HH:MM/-HH:MM offset, fractions ignored)
// to seconds since the epoch; nullopt when malformed.
std::optional<std::time_t> parse_rfc3339(const std::string& text);
std::string format_rfc3339(std::time_t when);

}  // namespace shelter::attest

namespace shelter::attest {

// Remembers chains that verified, so that a verifier seeing the same VCEK or
// PCK chain again only re-checks that "now" lies inside the window in which
// every certificate (and CRL) of the chain is valid.
class ChainCache {
 public:
  std::optional<std::string> verify(const ChainCheck& check);
  // parse_certificates(encoded), remembered by the SHA-256 of encoded (a TDX
  // quote carries its PCK chain as PEM text that would be parsed every time).
  const std::vector<X509Ptr>& certificates(std::span<const uint8_t> encoded);

 private:
  static constexpr size_t kMaxEntries = 1024;
  std::vector<std::pair<Sha256Digest, std::vector<X509Ptr>>> parsed_;
  struct Window {
    std::time_t not_before;
    std::time_t not_after;
  };
  std::vector<std::pair<Sha256Digest, Window>> verified_;
};

}  // namespace shelter::attest
