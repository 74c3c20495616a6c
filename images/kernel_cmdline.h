#pragma once
// The guest kernel command line: the kernel's own options followed by the
// image parameters guest-init acts on (`shelter.*` keys). It is measured into
// the launch digest, so the same parameters always give the same bytes, and
// guest-init parses it as untrusted text: every shelter.* key must be known,
// appear once and hold a well-formed, bounded value.
#include <string>
#include <string_view>

#include "images/verity_params.h"

namespace shelter::images {

struct GuestParams {
  VerityParams verity;

  bool operator==(const GuestParams&) const = default;
};

// Throws FormatError when the parameters are not ones guest-init accepts.
std::string format_kernel_cmdline(const GuestParams& params);

// Parses the whole command line (as in /proc/cmdline). Tokens without the
// `shelter.` prefix belong to the kernel and are ignored. Throws FormatError
// naming the offending key.
GuestParams parse_kernel_cmdline(std::string_view cmdline);

}  // namespace shelter::images
