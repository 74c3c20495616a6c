#pragma once
// The host side of attested key release for `shelter run` on an encrypted
// image, with the simulated TEE: the launcher plays the security processor
// (reports signed by the simulated chain under $SHELTER_HOME/sim-tee, whose
// MEASUREMENT is the digest of exactly what is launched) and relays the
// guest's KBS traffic either to an embedded broker on loopback, which holds
// the key from the local keystore and expects this launch's digest, or to a
// remote broker given by URL and pinned by its token key.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "attest/crypto.h"
#include "images/kernel_cmdline.h"
#include "runtime/launcher/attestation_relay.h"
#include "runtime/launcher/vm_config.h"

namespace shelter::launcher {

struct KeyReleaseOptions {
  std::string key_id;                            // hex, from the image header
  std::optional<std::string> kbs_url;            // a remote broker; else an embedded one
  std::optional<std::filesystem::path> kbs_key;  // the remote broker's token public key (PEM)
  std::string resource;                          // empty: default/key/<key id>
  std::filesystem::path shelter_home;            // keys/ and sim-tee/
};

// The simulated launch digest of a VM configuration: the files it loads, its
// command line and vCPUs (attest/sim/launch.h).
attest::Sha384Digest simulated_launch_digest(const VmConfig& config);

class KeyRelease {
 public:
  // Opens the simulated TEE, and the embedded broker (state in work_dir) or
  // the remote broker's pinned key. Throws Error.
  KeyRelease(const KeyReleaseOptions& options, const std::filesystem::path& work_dir);
  ~KeyRelease();

  // What the measured command line tells guest-init.
  images::KeyReleaseParams guest_params() const;
  // The embedded broker releases the key only to a launch with this digest
  // (no effect with a remote broker, whose policy its administrator sets).
  void expect_launch(const attest::Sha384Digest& reference);
  // The relay for a guest launched with this digest, valid while this lives.
  AttestationRelay& relay_for(const attest::Sha384Digest& launched);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace shelter::launcher
