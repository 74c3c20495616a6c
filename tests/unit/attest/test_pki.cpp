#include "tests/unit/attest/test_pki.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <functional>
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

TlsServerFiles write_tls_server_pki(const std::filesystem::path& dir, bool names_loopback) {
  std::time_t now = std::time(nullptr);
  std::time_t from = now - 3600, to = now + 86400;
  EvpPkeyPtr root_key = generate_ec_key("P-256"), intermediate_key = generate_ec_key("P-256"),
             server_key = generate_ec_key("P-256");
  // Each PKI gets its own names, so that a client holding another one's root
  // finds no issuer at all rather than a wrong signature.
  static int pki_count = 0;
  std::string suffix = " " + std::to_string(++pki_count);
  X509Ptr root = make_certificate({"Test TLS root" + suffix, from, to, true, {}}, root_key.get(), nullptr, nullptr);
  X509Ptr intermediate = make_certificate({"Test TLS intermediate" + suffix, from, to, true, {}},
                                          intermediate_key.get(), root.get(), root_key.get());
  // GeneralNames: SEQUENCE { [7] iPAddress 127.0.0.1 } or { [2] dNSName "broker.example" }.
  std::vector<uint8_t> names = names_loopback
                                   ? std::vector<uint8_t>{0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1}
                                   : std::vector<uint8_t>{0x30, 0x10, 0x82, 0x0e, 'b', 'r', 'o', 'k', 'e', 'r', '.',
                                                          'e', 'x', 'a', 'm', 'p', 'l', 'e'};
  X509Ptr server = make_certificate({names_loopback ? "127.0.0.1" : "broker.example", from, to, false,
                                     {{"2.5.29.17", names}}},
                                    server_key.get(), intermediate.get(), intermediate_key.get());

  TlsServerFiles files{dir / "tls-ca.pem", dir / "tls-chain.pem", dir / "tls-key.pem"};
  auto write_pem = [](const std::filesystem::path& path, int mode, const std::function<int(BIO*)>& write) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (write(bio) != 1) throw std::runtime_error("PEM encoding failed");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    write_file_atomic(path, std::vector<uint8_t>(data, data + size), mode);
    BIO_free(bio);
  };
  write_pem(files.ca, 0644, [&](BIO* bio) { return PEM_write_bio_X509(bio, root.get()); });
  write_pem(files.chain, 0644, [&](BIO* bio) {
    return PEM_write_bio_X509(bio, server.get()) & PEM_write_bio_X509(bio, intermediate.get());
  });
  write_pem(files.key, 0600, [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return files;
}

std::vector<uint8_t> read_vector(const std::filesystem::path& path) { return read_file(vectors_dir() / path, 16 << 20); }

std::filesystem::path vectors_dir() { return SHELTER_VECTORS_DIR; }

}  // namespace shelter::attest::testing
