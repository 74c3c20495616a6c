#pragma once
// The launcher: turns an image and the run options into one VmConfig, starts
// it on a backend, streams the workload's output, and maps how the guest
// ended to `shelter run`'s exit status (DESIGN.md, CLI contract).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "images/kernel_cmdline.h"
#include "images/verity_params.h"
#include "runtime/backend/backend.h"
#include "runtime/launcher/attestation_relay.h"
#include "runtime/launcher/key_release.h"
#include "runtime/launcher/vm_config.h"

namespace shelter::launcher {

inline constexpr int kExitTimeout = 124;
inline constexpr int kExitSetupFailure = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

struct RunOptions {
  std::optional<std::filesystem::path> kernel;       // default: newest /boot/vmlinuz-*
  std::optional<std::filesystem::path> modules_dir;  // default: /lib/modules/<release>
  std::filesystem::path guest_init;                  // the static shelter-init
  uint32_t memory_mib = 512;
  uint32_t cpus = 1;
  std::optional<uint32_t> timeout_seconds;
  bool show_kernel_console = false;  // copy the guest kernel's console to stderr
  // Encrypted images: how guest-init gets the key (on the measured command line).
  std::optional<images::KeyReleaseParams> key_release;
  // Tests only: appended to the command line after the reference digest was
  // taken, as a host that changes the launch would (SHELTER_TEST_TAMPER_CMDLINE).
  std::string test_cmdline_tamper;
};

// Where shelter-init lives: next to the running executable.
std::filesystem::path default_guest_init();

// Everything a run needs, assembled once; the initramfs is written into
// `work_dir`. Throws Error for a missing kernel, modules or guest-init.
VmConfig make_vm_config(const std::filesystem::path& image, const images::VerityParams& verity,
                        const RunOptions& options, const std::filesystem::path& work_dir);

// Boots the VM and returns the exit status for `shelter run`; prints
// `shelter: error: ...` itself for every outcome but the workload's own exit.
// With a relay, the guest gets the attestation channel.
int run_vm(const VmConfig& config, backend::VmBackend& backend, const RunOptions& options,
           AttestationRelay* relay = nullptr);

// make_vm_config and run_vm with the QEMU backend (KVM or TCG, the latter
// with a notice) and a private working folder removed afterwards. With
// key_release (an encrypted image) the guest attests for its key first.
int run_image(const std::filesystem::path& image, const images::VerityParams& verity, RunOptions options,
              const std::optional<KeyReleaseOptions>& key_release = std::nullopt);

}  // namespace shelter::launcher
