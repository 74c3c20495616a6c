#pragma once
// Verification of an NVIDIA GPU attestation report: the signature by the
// chain's leaf (the GPU's attestation key), the chain to the NVIDIA device
// identity root, the nonce, then reference measurements from the policy.
#include <ctime>
#include <optional>
#include <span>
#include <vector>

#include "attest/crypto.h"
#include "attest/policy.h"
#include "attest/verdict.h"

namespace shelter::attest::nvgpu {

struct Evidence {
  std::vector<uint8_t> report;      // request followed by response
  std::vector<X509Ptr> chain;       // leaf first, as the GPU returns it
  std::optional<Bytes> expected_nonce;  // the verifier's challenge
};

// The NVIDIA Device Identity CA, pinned by the SHA-256 of its DER.
std::span<const Sha256Digest> nvidia_roots();

Verdict verify(const Evidence& evidence, const NvgpuPolicy& policy, std::time_t now,
               std::span<const Sha256Digest> roots = nvidia_roots(), ChainCache* cache = nullptr);

}  // namespace shelter::attest::nvgpu
