#pragma once
// guest-init's side of attested key release: evidence from the TEE (or, for
// tee=sim only, the simulated one from the launcher), the RCAR exchange with
// the broker relayed by the host, the check that the broker is the one the
// measured command line pins, and the image key.
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attest/kbs/client.h"
#include "guest-init/attest_channel.h"
#include "guest-init/sev_guest.h"
#include "guest-init/tsm_report.h"
#include "images/kernel_cmdline.h"

namespace shelter::guest {

// Where hardware evidence comes from, in the order DESIGN.md gives.
enum class EvidenceDevice { kConfigfsTsm, kSevGuest, kTdxGuest, kNone };
inline constexpr const char* kConfigfsTsmReport = "/sys/kernel/config/tsm/report";
inline constexpr const char* kSevGuestDevice = "/dev/sev-guest";
inline constexpr const char* kTdxGuestDevice = "/dev/tdx_guest";

EvidenceDevice detect_evidence_device(const std::function<bool(const char* path)>& exists);

// The provider for params.tee: the channel for "sim"; for "snp" configfs-tsm
// when the kernel has it, else /dev/sev-guest. TDX is not implemented (a TD
// quote needs configfs-tsm's TDX provider or a quoting service). Throws Error
// naming what is missing.
std::unique_ptr<attest::kbs::EvidenceProvider> make_evidence_provider(const images::KeyReleaseParams& params,
                                                                      FrameStream& channel,
                                                                      const std::function<bool(const char*)>& exists,
                                                                      TsmFs& tsm, SevGuestDevice& sev_guest);

// Accepts a token only when its signing key has the pinned fingerprint and
// its signature and expiry check out; throws Error with the reason.
void check_broker_token(const std::string& token, const std::vector<uint8_t>& pinned_sha256, std::time_t now);

// Runs the exchange and returns the image key. Throws KbsRefused (the
// broker's reason), KbsUnavailable, ChannelError or Error.
std::vector<uint8_t> obtain_image_key(const images::KeyReleaseParams& params, attest::kbs::Transport& transport,
                                      attest::kbs::EvidenceProvider& evidence, std::function<std::time_t()> clock);

}  // namespace shelter::guest
