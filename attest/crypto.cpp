#include "attest/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <ctime>

#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct CertStackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::span<const uint8_t> bytes) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

template <typename Write>
std::vector<uint8_t> pem_text(Write write, const char* what) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) throw Error(std::string("cannot encode ") + what + " as PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, data + size};
}

template <size_t N>
std::array<uint8_t, N> digest_of(const char* name, std::span<const uint8_t> data) {
  std::array<uint8_t, N> out{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_get_digestbyname(name), nullptr) != 1 ||
      length != N) {
    throw Error(std::string("OpenSSL ") + name + " failed");
  }
  return out;
}

bool looks_like_pem(std::span<const uint8_t> bytes) {
  static constexpr std::string_view kMarker = "-----BEGIN ";
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return text.find(kMarker) != std::string_view::npos;
}

}  // namespace

Sha256Digest sha256(std::span<const uint8_t> data) { return digest_of<32>("SHA256", data); }
Sha384Digest sha384(std::span<const uint8_t> data) { return digest_of<48>("SHA384", data); }

Hasher::Hasher(Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  const EVP_MD* md = algorithm == Algorithm::kSha256 ? EVP_sha256() : EVP_sha384();
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw Error("OpenSSL digest initialisation failed");
  }
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

void Hasher::update(std::span<const uint8_t> data) {
  if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1) throw Error("OpenSSL digest update failed");
}

std::vector<uint8_t> Hasher::finish() {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &length) != 1) throw Error("OpenSSL digest final failed");
  out.resize(length);
  return out;
}

bool verify_ecdsa(EVP_PKEY* key, const char* digest, std::span<const uint8_t> message, std::span<const uint8_t> r,
                  std::span<const uint8_t> s) {
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* bn_r = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* bn_s = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (!sig || bn_r == nullptr || bn_s == nullptr || ECDSA_SIG_set0(sig.get(), bn_r, bn_s) != 1) {
    BN_free(bn_r);
    BN_free(bn_s);
    return false;
  }
  unsigned char* der = nullptr;
  int der_length = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_length <= 0) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_get_digestbyname(digest), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_length), message.data(), message.size()) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

std::vector<uint8_t> sign_ecdsa(EVP_PKEY* key, const char* digest, std::span<const uint8_t> message,
                                size_t field_size) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t der_length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_get_digestbyname(digest), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_length, message.data(), message.size()) != 1) {
    throw Error("OpenSSL ECDSA signing failed");
  }
  std::vector<uint8_t> der(der_length);
  if (EVP_DigestSign(ctx.get(), der.data(), &der_length, message.data(), message.size()) != 1) {
    throw Error("OpenSSL ECDSA signing failed");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_length)));
  std::vector<uint8_t> out(2 * field_size);
  if (!sig || BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(field_size)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + field_size, static_cast<int>(field_size)) < 0) {
    throw Error("OpenSSL ECDSA signature conversion failed");
  }
  return out;
}

EvpPkeyPtr ec_public_key_from_xy(const char* curve, std::span<const uint8_t> xy) {
  std::vector<uint8_t> point(1 + xy.size());
  point[0] = 0x04;  // uncompressed
  std::memcpy(point.data() + 1, xy.data(), xy.size());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    key = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return EvpPkeyPtr(key);
}

std::vector<X509Ptr> parse_certificates(std::span<const uint8_t> bytes) {
  std::vector<X509Ptr> certs;
  if (looks_like_pem(bytes)) {
    auto bio = memory_bio(bytes);
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  } else {
    const unsigned char* p = bytes.data();
    if (X509* cert = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) certs.emplace_back(cert);
  }
  ERR_clear_error();
  if (certs.empty()) throw EvidenceError("no certificate could be read (neither PEM nor DER)");
  return certs;
}

X509CrlPtr parse_crl(std::span<const uint8_t> bytes) {
  X509_CRL* crl = nullptr;
  if (looks_like_pem(bytes)) {
    auto bio = memory_bio(bytes);
    crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr);
  } else {
    const unsigned char* p = bytes.data();
    crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size()));
  }
  ERR_clear_error();
  if (crl == nullptr) throw EvidenceError("the CRL could be read neither as PEM nor as DER");
  return X509CrlPtr(crl);
}

std::vector<uint8_t> certificate_pem(X509* cert) {
  return pem_text([cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); }, "a certificate");
}

std::vector<uint8_t> private_key_pem(EVP_PKEY* key) {
  return pem_text([key](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); },
                  "a private key");
}

std::vector<uint8_t> public_key_pem(EVP_PKEY* key) {
  return pem_text([key](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key); }, "a public key");
}

EvpPkeyPtr parse_private_key_pem(std::span<const uint8_t> pem) {
  auto bio = memory_bio(pem);
  return EvpPkeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

EvpPkeyPtr parse_public_key_pem(std::span<const uint8_t> pem) {
  auto bio = memory_bio(pem);
  return EvpPkeyPtr(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

Sha256Digest certificate_fingerprint(X509* cert) {
  Sha256Digest out{};
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), out.data(), &length) != 1) throw Error("OpenSSL X509_digest failed");
  return out;
}

std::string subject_name(X509* cert) {
  char buffer[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof(buffer));
  return buffer;
}

std::optional<std::vector<uint8_t>> extension_value(X509* cert, const char* oid) {
  ASN1_OBJECT* object = OBJ_txt2obj(oid, 1);
  if (object == nullptr) return std::nullopt;
  int index = X509_get_ext_by_OBJ(cert, object, -1);
  ASN1_OBJECT_free(object);
  if (index < 0) return std::nullopt;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
  const uint8_t* begin = ASN1_STRING_get0_data(data);
  return std::vector<uint8_t>(begin, begin + ASN1_STRING_length(data));
}

std::optional<std::string> verify_chain(const ChainCheck& check) {
  const auto& chain = check.chain;
  if (chain.empty()) return "no certificate chain";
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (X509_check_issued(chain[i + 1], chain[i]) != X509_V_OK) {
      return "certificate chain out of order: '" + subject_name(chain[i]) + "' is not issued by '" +
             subject_name(chain[i + 1]) + "'";
    }
  }
  X509* root = chain.back();
  if (X509_check_issued(root, root) != X509_V_OK) {
    return "certificate chain does not end in a self-signed root ('" + subject_name(root) + "')";
  }
  Sha256Digest fingerprint = certificate_fingerprint(root);
  bool pinned = false;
  for (const auto& trusted : check.trusted_roots) pinned = pinned || trusted == fingerprint;
  if (!pinned) {
    return "root certificate '" + subject_name(root) + "' (SHA-256 " + to_hex(fingerprint) +
           ") is not a trusted root";
  }

  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), CertStackFree> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted || X509_STORE_add_cert(store.get(), root) != 1) {
    throw Error("OpenSSL certificate store setup failed");
  }
  for (size_t i = 1; i + 1 < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i]);
  for (X509_CRL* crl : check.crls) X509_STORE_add_crl(store.get(), crl);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front(), untrusted.get()) != 1) {
    throw Error("OpenSSL certificate store setup failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, check.now);
  if (!check.crls.empty()) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  // A root's own signature is checked too (a pinned fingerprint of a forged
  // self-signed root must not pass on the fingerprint alone).
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CHECK_SS_SIGNATURE);
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok == 1) return std::nullopt;
  int error = X509_STORE_CTX_get_error(ctx.get());
  X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
  std::string reason = std::string("certificate chain rejected at ") + format_rfc3339(check.now) + ": " +
                       X509_verify_cert_error_string(error);
  if (failing != nullptr) reason += " ('" + subject_name(failing) + "')";
  return reason;
}

std::optional<std::time_t> parse_rfc3339(const std::string& text) {
  int year, month, day, hour, minute, second;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  long offset = 0;
  std::string zone = text.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int zh = 0, zm = 0;
    if (std::sscanf(zone.c_str() + 1, "%2d:%2d", &zh, &zm) != 2) return std::nullopt;
    offset = (zone[0] == '+' ? 1 : -1) * (zh * 3600L + zm * 60L);
  } else {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return timegm(&tm) - offset;
}

std::string format_rfc3339(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace shelter::attest

namespace shelter::attest {
namespace {

std::time_t asn1_time_to_epoch(const ASN1_TIME* when) {
  std::tm tm{};
  if (when == nullptr || ASN1_TIME_to_tm(when, &tm) != 1) return 0;
  return timegm(&tm);
}

Sha256Digest chain_key(const ChainCheck& check) {
  Hasher hasher(Hasher::Algorithm::kSha256);
  for (X509* cert : check.chain) hasher.update(certificate_fingerprint(cert));
  for (const auto& root : check.trusted_roots) hasher.update(root);
  for (X509_CRL* crl : check.crls) {
    Sha256Digest digest{};
    unsigned int length = 0;
    X509_CRL_digest(crl, EVP_sha256(), digest.data(), &length);
    hasher.update(digest);
  }
  auto bytes = hasher.finish();
  Sha256Digest key{};
  std::memcpy(key.data(), bytes.data(), key.size());
  return key;
}

}  // namespace

std::optional<std::string> ChainCache::verify(const ChainCheck& check) {
  Sha256Digest key = chain_key(check);
  for (const auto& [cached, window] : verified_) {
    if (cached == key && check.now >= window.not_before && check.now <= window.not_after) return std::nullopt;
  }
  auto reason = verify_chain(check);
  if (reason) return reason;
  Window window{0, std::numeric_limits<std::time_t>::max()};
  for (X509* cert : check.chain) {
    window.not_before = std::max(window.not_before, asn1_time_to_epoch(X509_get0_notBefore(cert)));
    window.not_after = std::min(window.not_after, asn1_time_to_epoch(X509_get0_notAfter(cert)));
  }
  for (X509_CRL* crl : check.crls) {
    window.not_before = std::max(window.not_before, asn1_time_to_epoch(X509_CRL_get0_lastUpdate(crl)));
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl)) {
      window.not_after = std::min(window.not_after, asn1_time_to_epoch(next));
    }
  }
  if (verified_.size() == kMaxEntries) verified_.clear();
  verified_.emplace_back(key, window);
  return std::nullopt;
}

const std::vector<X509Ptr>& ChainCache::certificates(std::span<const uint8_t> encoded) {
  Sha256Digest key = sha256(encoded);
  for (const auto& [cached, certs] : parsed_) {
    if (cached == key) return certs;
  }
  auto certs = parse_certificates(encoded);
  if (parsed_.size() == kMaxEntries) parsed_.clear();
  parsed_.emplace_back(key, std::move(certs));
  return parsed_.back().second;
}

}  // namespace shelter::attest
