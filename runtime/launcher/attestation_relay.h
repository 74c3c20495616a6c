#pragma once
// The launcher's end of the guest's attestation channel: KBS requests are
// passed to the broker as they are (the host is not trusted with the key and
// never sees it: the answer is a JWE to the guest's ephemeral key), and, for
// the simulated TEE, evidence requests are answered with a report over the
// guest's REPORT_DATA. Everything the guest sends is parsed as untrusted.
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "attest/kbs/client.h"
#include "guest-init/attest_channel.h"

namespace shelter::launcher {

class AttestationRelay {
 public:
  // Produces tee-evidence for 64 bytes of REPORT_DATA; empty when the guest
  // may not ask the host for evidence (a real TEE).
  using EvidenceSource = std::function<nlohmann::json(std::span<const uint8_t> report_data)>;

  AttestationRelay(attest::kbs::Transport& broker, EvidenceSource evidence)
      : broker_(broker), evidence_(std::move(evidence)) {}

  // Bytes from the guest in; the bytes to send back out. Throws
  // guest::ChannelError when the guest breaks the protocol.
  std::string feed(std::span<const uint8_t> bytes);

 private:
  std::string answer(const guest::Frame& frame);

  attest::kbs::Transport& broker_;
  EvidenceSource evidence_;
  guest::FrameDecoder decoder_;
};

}  // namespace shelter::launcher
