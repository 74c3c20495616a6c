#pragma once
// Runs an external program (mkfs.erofs, the ELF loader) without a shell.
#include <string>
#include <vector>

namespace shelter::images {

struct ToolResult {
  int status = -1;     // exit status, or 128+N when killed by signal N
  std::string output;  // stdout and stderr together, the last 64 KiB
};

// Throws Error when argv[0] cannot be found or started.
ToolResult run_tool(const std::vector<std::string>& argv);

// The last non-empty line of a tool's output, for one-line error messages.
std::string last_line(const std::string& output);

}  // namespace shelter::images
