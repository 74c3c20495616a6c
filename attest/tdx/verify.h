#pragma once
// Verification of a TDX quote: the quote signature by the attestation key,
// the QE report signature by the PCK key, the binding of the attestation key
// to the QE report, the PCK chain to the Intel SGX Root CA (CRLs when
// given), TCB status from TCB info and QE identity collateral when given,
// then the policy.
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/crypto.h"
#include "attest/policy.h"
#include "attest/tdx/quote.h"
#include "attest/verdict.h"

namespace shelter::attest::tdx {

// Intel PCS collateral as served (JSON with a body and an ECDSA signature)
// and the issuer chain it came with, leaf first.
struct SignedCollateral {
  std::string json;
  std::vector<X509Ptr> chain;
};

struct Evidence {
  std::vector<uint8_t> quote;
  // Replaces the PCK chain carried in the quote (leaf first) when not empty.
  std::vector<X509Ptr> pck_chain;
  std::optional<SignedCollateral> tcb_info;
  std::optional<SignedCollateral> qe_identity;
  // Every CRL of the PCK chain (PCK CA and root CA) when revocation is checked.
  std::vector<X509CrlPtr> crls;
  // The CCEL event log; when given, replaying it must give the quote's RTMRs.
  std::optional<std::vector<uint8_t>> event_log;
};

// The production Intel SGX Root CA, pinned by the SHA-256 of its DER.
std::span<const Sha256Digest> intel_roots();

Verdict verify(const Evidence& evidence, const TdxPolicy& policy, std::time_t now,
               std::span<const Sha256Digest> roots = intel_roots(), ChainCache* cache = nullptr);

}  // namespace shelter::attest::tdx
