#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter run IMG [--tee auto] [--vmm auto|qemu] [--cpus N] [--memory MIB]
//  [--kernel K [--kernel-modules DIR]] [--timeout SEC]`
void add_run_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
