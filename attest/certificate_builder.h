#pragma once
// Issues X.509 certificates: the simulated TEE's ARK/ASK/VCEK chain and the
// tests' throw-away PKIs are made the same way.
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "attest/crypto.h"

namespace shelter::attest {

struct CertificateExtension {
  std::string oid;                 // dotted text, e.g. AMD's "1.3.6.1.4.1.3704.1.4"
  std::vector<uint8_t> der_value;  // the extnValue contents
};

struct CertificateSpec {
  std::string common_name;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool ca = false;  // basicConstraints CA:TRUE and keyCertSign, both critical
  std::vector<CertificateExtension> extensions;
};

// Signed with SHA-384 by issuer_key, or by key itself when issuer_key is null
// (self-signed when issuer is null too). Throws shelter::Error when OpenSSL
// refuses a step.
X509Ptr make_certificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key);

// DER INTEGER, as AMD's TCB extensions hold them.
std::vector<uint8_t> der_integer(uint64_t value);

std::vector<uint8_t> to_der(X509* cert);

}  // namespace shelter::attest
