#pragma once
// A throw-away PKI for tests: keys and certificates made on the fly, so that
// verifier paths behind a valid signature (TCB, chip id, policy) and forged
// chains can be exercised.
#include <ctime>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "attest/certificate_builder.h"
#include "attest/crypto.h"

namespace shelter::attest::testing {

EvpPkeyPtr generate_ec_key(const char* curve);  // "P-256", "P-384"

// The product's certificate builder serves the tests' PKIs too.
using Extension = attest::CertificateExtension;
using attest::CertificateSpec;
using attest::der_integer;
using attest::make_certificate;
using attest::to_der;

// PEM files for an HTTPS server, made with the PKI above: a root CA, an
// intermediate, and a server certificate whose subjectAltName is IP
// 127.0.0.1 (names_loopback) or DNS broker.example (not).
struct TlsServerFiles {
  std::filesystem::path ca;     // the root certificate, for clients to trust
  std::filesystem::path chain;  // the server certificate, then the intermediate
  std::filesystem::path key;    // the server's private key, mode 0600
};
TlsServerFiles write_tls_server_pki(const std::filesystem::path& dir, bool names_loopback = true);
std::vector<uint8_t> read_vector(const std::filesystem::path& path);
std::filesystem::path vectors_dir();

}  // namespace shelter::attest::testing

// Skips the calling test when the public vectors are not present.
#define SHELTER_REQUIRE_VECTORS()                                                                     \
  do {                                                                                                \
    if (!std::filesystem::is_directory(::shelter::attest::testing::vectors_dir()))                    \
      GTEST_SKIP() << "public test vectors not found at " << ::shelter::attest::testing::vectors_dir() \
                   << "; skipping";                                                                   \
  } while (0)
