#pragma once
// The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1):
// the platform's TCB components, PCE SVN, FMSPC and PCE ID.
#include <openssl/x509.h>

#include <array>
#include <cstdint>

namespace shelter::attest::tdx {

struct PckExtensions {
  std::array<uint8_t, 16> sgx_tcb_components{};
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> cpu_svn{};
  std::array<uint8_t, 6> fmspc{};
  std::array<uint8_t, 2> pce_id{};
};

// Throws EvidenceError when the certificate lacks the extension or it is malformed.
PckExtensions parse_pck_extensions(X509* pck);

}  // namespace shelter::attest::tdx
