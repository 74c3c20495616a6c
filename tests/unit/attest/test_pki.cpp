#include "tests/unit/attest/test_pki.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "common/file.h"

namespace shelter::attest::testing {

EvpPkeyPtr generate_ec_key(const char* curve) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

X509Ptr make_certificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, const_cast<std::time_t*>(&spec.not_before));
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, const_cast<std::time_t*>(&spec.not_after));
  X509_set_pubkey(cert.get(), key);
  if (spec.ca) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(cert.get(), bc, -1);
    X509_EXTENSION_free(bc);
    X509_EXTENSION* ku = X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_add_ext(cert.get(), ku, -1);
    X509_EXTENSION_free(ku);
  }
  for (const auto& extension : spec.extensions) {
    ASN1_OBJECT* oid = OBJ_txt2obj(extension.oid.c_str(), 1);
    ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(value, extension.der_value.data(), static_cast<int>(extension.der_value.size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha384()) <= 0) {
    throw std::runtime_error("certificate signing failed");
  }
  return cert;
}

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

std::vector<uint8_t> to_der(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  std::vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

std::vector<uint8_t> read_vector(const std::filesystem::path& path) { return read_file(vectors_dir() / path, 16 << 20); }

std::filesystem::path vectors_dir() { return SHELTER_VECTORS_DIR; }

}  // namespace shelter::attest::testing
