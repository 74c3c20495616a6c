#include "attest/certificate_builder.h"

#include <openssl/asn1.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/error.h"

namespace shelter::attest {
namespace {

void require(bool ok, const char* step) {
  if (!ok) throw Error(std::string("certificate: ") + step + " failed");
}

void set_random_serial(X509* cert) {
  uint8_t serial[8];
  require(RAND_bytes(serial, sizeof(serial)) == 1, "random serial");
  serial[0] &= 0x7F;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  bool set = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  require(set, "serial number");
}

void add_nid_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool added = extension != nullptr && X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  require(added, "extension");
}

void add_raw_extension(X509* cert, const CertificateExtension& extension) {
  ASN1_OBJECT* oid = OBJ_txt2obj(extension.oid.c_str(), 1);
  ASN1_OCTET_STRING* octets = ASN1_OCTET_STRING_new();
  bool added = oid != nullptr && octets != nullptr &&
               ASN1_OCTET_STRING_set(octets, extension.der_value.data(), static_cast<int>(extension.der_value.size())) == 1;
  X509_EXTENSION* made = added ? X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, octets) : nullptr;
  added = made != nullptr && X509_add_ext(cert, made, -1) == 1;
  X509_EXTENSION_free(made);
  ASN1_OCTET_STRING_free(octets);
  ASN1_OBJECT_free(oid);
  require(added, "extension");
}

}  // namespace

X509Ptr make_certificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  require(cert != nullptr, "allocation");
  require(X509_set_version(cert.get(), 2) == 1, "version");
  set_random_serial(cert.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  require(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0) == 1,
          "subject name");
  require(X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1,
          "issuer name");
  std::time_t not_before = spec.not_before, not_after = spec.not_after;
  require(X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &not_before) != nullptr, "notBefore");
  require(X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &not_after) != nullptr, "notAfter");
  require(X509_set_pubkey(cert.get(), key) == 1, "public key");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (spec.ca) {
    add_nid_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_nid_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  for (const auto& extension : spec.extensions) add_raw_extension(cert.get(), extension);
  require(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha384()) > 0, "signing");
  return cert;
}

std::vector<uint8_t> der_integer(uint64_t value) {
  ASN1_INTEGER* integer = ASN1_INTEGER_new();
  unsigned char* der = nullptr;
  int length = integer != nullptr && ASN1_INTEGER_set_uint64(integer, value) == 1 ? i2d_ASN1_INTEGER(integer, &der) : -1;
  ASN1_INTEGER_free(integer);
  require(length > 0, "DER INTEGER");
  std::vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

std::vector<uint8_t> to_der(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  require(length > 0, "DER encoding");
  std::vector<uint8_t> out(der, der + length);
  OPENSSL_free(der);
  return out;
}

}  // namespace shelter::attest
