#pragma once
// `shelter vm`: the built-in VMM alone, booting a kernel with no image.
#include "runtime/cli/command.h"

namespace shelter::cli {

void add_vm_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
