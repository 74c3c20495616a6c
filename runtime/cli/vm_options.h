#pragma once
// The options of `shelter vm`, declared once for both executables that take
// them: `shelter-cli` (the subcommand) and `shelter-vmm` (the VMM process,
// which `shelter vm` runs directly, see docs/vmm.md).
#include <CLI/CLI.hpp>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "vmm/machine.h"

namespace shelter::cli {

struct VmOptions {
  vmm::VmConfig config;              // everything but the disks
  std::vector<std::string> disks;    // --disk FILE[,ro|,rw], as given
  bool no_jail = false;
  std::string seccomp_action = "kill";  // or "log"
  std::optional<uid_t> jail_uid;
  std::optional<gid_t> jail_gid;

  // config with the disks parsed; throws Error on a --disk without a file.
  vmm::VmConfig resolved() const;
  // The command-line arguments that give these options again.
  std::vector<std::string> arguments() const;
};

// What `shelter vm --help` says of the command, in either executable.
inline constexpr const char* kVmDescription =
    "Boot a kernel under the built-in KVM VMM, without an image. Serial output goes to stdout; the exit status is "
    "the guest's (exit port), 0 on power-off or reset. The VMM runs jailed (docs/jail.md); 125 when the jail "
    "stopped a forbidden system call.";

// Declares --kernel, --initrd, --cmdline, --memory, --cpus, --disk,
// --vsock-uds and the jail's options on app, filling options.
void add_vm_options(CLI::App& app, VmOptions& options);

}  // namespace shelter::cli
