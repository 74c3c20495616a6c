#include "attest/nvgpu/verify.h"

#include <algorithm>
#include <array>

#include "attest/error.h"
#include "attest/nvgpu/spdm.h"
#include "common/hex.h"

namespace shelter::attest::nvgpu {
namespace {

constexpr std::array<Sha256Digest, 1> kNvidiaRoots = {
    // CN=NVIDIA Device Identity CA, O=NVIDIA
    pinned_sha256("102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"),
};

}  // namespace

std::span<const Sha256Digest> nvidia_roots() { return kNvidiaRoots; }

Verdict verify(const Evidence& evidence, const NvgpuPolicy& policy, std::time_t now, std::span<const Sha256Digest> roots,
               ChainCache* cache) {
  Report report;
  try {
    report = parse_report(evidence.report);
  } catch (const EvidenceError& e) {
    return Verdict::reject(std::string("malformed GPU report: ") + e.what(), {});
  }
  nlohmann::ordered_json claims = report_claims(report);
  if (evidence.chain.empty()) return Verdict::reject("no GPU certificate chain given", claims);
  EVP_PKEY* key = X509_get0_pubkey(evidence.chain.front().get());
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 384) {
    return Verdict::reject("GPU attestation certificate key is not ECDSA P-384", claims);
  }
  if (!verify_ecdsa(key, "SHA384", report.signed_bytes, report.signature.first(48), report.signature.subspan(48))) {
    return Verdict::reject("GPU report signature does not verify under the attestation certificate", claims);
  }
  ChainCheck check;
  for (const auto& cert : evidence.chain) check.chain.push_back(cert.get());
  check.trusted_roots.assign(roots.begin(), roots.end());
  check.now = now;
  if (auto problem = cache != nullptr ? cache->verify(check) : verify_chain(check)) {
    return Verdict::reject("GPU " + *problem, claims);
  }
  if (evidence.expected_nonce) {
    if (!std::equal(evidence.expected_nonce->begin(), evidence.expected_nonce->end(), report.request_nonce.begin(),
                    report.request_nonce.end())) {
      return Verdict::reject("GPU report nonce does not match the expected nonce", claims);
    }
    claims["nonce_checked"] = true;
  } else {
    claims["nonce_checked"] = false;
  }
  for (const auto& reference : policy.measurements) {
    const unsigned index = reference.first;
    const Bytes& expected = reference.second;
    auto block = std::find_if(report.blocks.begin(), report.blocks.end(),
                              [index](const MeasurementBlock& b) { return b.index == index; });
    if (block == report.blocks.end()) {
      return Verdict::reject("policy: GPU report has no measurement " + std::to_string(index), claims);
    }
    if (block->value != expected) {
      return Verdict::reject("policy: GPU measurement " + std::to_string(index) + " does not match its reference",
                             claims);
    }
  }
  return Verdict{true, "", std::move(claims)};
}

}  // namespace shelter::attest::nvgpu
