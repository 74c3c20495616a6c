#pragma once
// Verification of SEV-SNP evidence: the report's signature by the VCEK or
// VLEK, the chain VCEK/VLEK <- ASK/ASVK <- ARK up to a pinned AMD root, the
// certificate's TCB and chip id against the report, then the policy.
#include <ctime>
#include <span>
#include <vector>

#include "attest/crypto.h"
#include "attest/policy.h"
#include "attest/snp/report.h"
#include "attest/verdict.h"

namespace shelter::attest::snp {

struct Evidence {
  std::vector<uint8_t> report;
  // Leaf first: VCEK or VLEK, then ASK or ASVK, then the ARK.
  std::vector<X509Ptr> certificates;
};

// The certificate table of SNP_GET_EXT_REPORT (and configfs-tsm's auxblob):
// GUID, offset, length entries up to an all-zero one. Returns the
// certificates ordered VCEK/VLEK, ASK/ASVK, ARK; throws EvidenceError.
std::vector<X509Ptr> parse_certificate_table(std::span<const uint8_t> table);
// True when bytes start like a certificate table rather than a certificate.
bool looks_like_certificate_table(std::span<const uint8_t> bytes);

// The AMD root keys (ARKs) accepted, pinned by the SHA-256 of their DER.
struct PinnedRoot {
  Sha256Digest fingerprint;
  Product product;
};
std::span<const PinnedRoot> amd_roots();

// roots: the ARKs accepted (AMD's by default; a simulated TEE pins its own).
// cache, when given, remembers chains that verified (for repeated reports).
Verdict verify(const Evidence& evidence, const SnpPolicy& policy, std::time_t now,
               std::span<const PinnedRoot> roots = amd_roots(), ChainCache* cache = nullptr);

}  // namespace shelter::attest::snp
