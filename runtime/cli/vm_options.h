#pragma once
// The options of `shelter vm`, declared once for both executables that take
// them: `shelter` (the subcommand) and `shelter-vmm` (the VMM process the
// subcommand runs, see docs/vmm.md).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "vmm/machine.h"

namespace shelter::cli {

struct VmOptions {
  vmm::VmConfig config;              // everything but the disks
  std::vector<std::string> disks;    // --disk FILE[,ro|,rw], as given

  // config with the disks parsed; throws Error on a --disk without a file.
  vmm::VmConfig resolved() const;
  // The command-line arguments that give these options again.
  std::vector<std::string> arguments() const;
};

// Declares --kernel, --initrd, --cmdline, --memory, --cpus, --disk and
// --vsock-uds on app, filling options.
void add_vm_options(CLI::App& app, VmOptions& options);

}  // namespace shelter::cli
