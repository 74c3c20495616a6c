#include "guest-init/key_release.h"

#include <algorithm>

#include "attest/kbs/jose.h"
#include "common/hex.h"

namespace shelter::guest {

namespace ak = attest::kbs;

EvidenceDevice detect_evidence_device(const std::function<bool(const char*)>& exists) {
  if (exists(kConfigfsTsmReport)) return EvidenceDevice::kConfigfsTsm;
  if (exists(kSevGuestDevice)) return EvidenceDevice::kSevGuest;
  if (exists(kTdxGuestDevice)) return EvidenceDevice::kTdxGuest;
  return EvidenceDevice::kNone;
}

std::unique_ptr<ak::EvidenceProvider> make_evidence_provider(const images::KeyReleaseParams& params,
                                                             FrameStream& channel,
                                                             const std::function<bool(const char*)>& exists,
                                                             TsmFs& tsm, SevGuestDevice& sev_guest) {
  if (params.tee == "sim") return std::make_unique<ChannelEvidenceProvider>(channel);
  EvidenceDevice device = detect_evidence_device(exists);
  if (device == EvidenceDevice::kNone)
    throw Error("the command line asks for " + params.tee + " evidence, but this guest has none of " +
                kConfigfsTsmReport + ", " + kSevGuestDevice + ", " + kTdxGuestDevice);
  if (params.tee == "snp" && device == EvidenceDevice::kConfigfsTsm)
    return std::make_unique<TsmSnpEvidenceProvider>(tsm, kConfigfsTsmReport);
  if (params.tee == "snp" && device == EvidenceDevice::kSevGuest)
    return std::make_unique<SevGuestEvidenceProvider>(sev_guest);
  throw Error("collecting " + params.tee + " evidence through " +
              (device == EvidenceDevice::kConfigfsTsm ? std::string(kConfigfsTsmReport)
               : device == EvidenceDevice::kSevGuest  ? std::string(kSevGuestDevice)
                                                      : std::string(kTdxGuestDevice)) +
              " is not implemented in guest-init yet");
}

void check_broker_token(const std::string& token, const std::vector<uint8_t>& pinned_sha256, std::time_t now) {
  try {
    attest::EvpPkeyPtr key = ak::token_signer_key(token);
    attest::Sha256Digest fingerprint = ak::public_key_fingerprint(key.get());
    if (!std::equal(fingerprint.begin(), fingerprint.end(), pinned_sha256.begin(), pinned_sha256.end()))
      throw Error("the key broker is not the pinned one: its token key has fingerprint " + to_hex(fingerprint) +
                  ", the measured command line pins " + to_hex(pinned_sha256));
    ak::verify_token(key.get(), token, now);
  } catch (const ak::KbsProtocolError& e) {
    throw Error(std::string("the key broker's attestation token is not acceptable: ") + e.what());
  }
}

std::vector<uint8_t> obtain_image_key(const images::KeyReleaseParams& params, ak::Transport& transport,
                                      ak::EvidenceProvider& evidence, std::function<std::time_t()> clock) {
  ak::ResourceId resource = ak::parse_resource_id(params.resource);
  ak::RcarClient client(transport, evidence);
  client.set_token_check([&](const std::string& token) { check_broker_token(token, params.broker_key_sha256, clock()); });
  return client.get_resource(resource);
}

}  // namespace shelter::guest
