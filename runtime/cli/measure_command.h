#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter measure --tee snp|tdx --firmware F ...`: the launch digest a TEE
// will report for a launch, computed offline (SNP MEASUREMENT, TDX MRTD).
void add_measure_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
