#pragma once
// The guest kernel command line: the kernel's own options followed by the
// image parameters guest-init acts on (`shelter.*` keys). It is measured into
// the launch digest, so the same parameters always give the same bytes, and
// guest-init parses it as untrusted text: every shelter.* key must be known,
// appear once and hold a well-formed, bounded value.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "images/verity_params.h"

namespace shelter::images {

// For an encrypted image: how guest-init obtains the key. All four keys
// (`shelter.crypt`, `shelter.tee`, `shelter.kbs.resource`, `shelter.kbs.pin`)
// are present or none is.
struct KeyReleaseParams {
  std::string cipher = "aes-xts-plain64";  // the only one accepted
  std::string tee;                         // "sim", "snp" or "tdx"
  std::string resource;                    // <repository>/<type>/<tag> at the broker
  std::vector<uint8_t> broker_key_sha256;  // pins the broker's token-signing key

  bool operator==(const KeyReleaseParams&) const = default;
};

// The 8250 driver registers four UARTs unless told otherwise; the attestation
// channel is a fifth one (a PCI serial device, ttyS4).
inline constexpr std::string_view kAttestationUartOption = "8250.nr_uarts=5";

struct GuestParams {
  VerityParams verity;
  std::optional<KeyReleaseParams> key_release;

  bool operator==(const GuestParams&) const = default;
};

// Throws FormatError when the parameters are not ones guest-init accepts.
std::string format_kernel_cmdline(const GuestParams& params);

// Parses the whole command line (as in /proc/cmdline). Tokens without the
// `shelter.` prefix belong to the kernel and are ignored. Throws FormatError
// naming the offending key.
GuestParams parse_kernel_cmdline(std::string_view cmdline);

}  // namespace shelter::images
