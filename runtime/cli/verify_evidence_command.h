#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter verify-evidence --tee snp|tdx|nvgpu FILE ...`: verifies evidence
// offline and prints its claims and the verdict (exit 0 accepted, 1 not).
void add_verify_evidence_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
