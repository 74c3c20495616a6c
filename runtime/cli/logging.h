#pragma once
#include <string>
#include <vector>

namespace shelter::cli {

const std::vector<std::string>& log_level_names();
// Sends spdlog's default logger to stderr at the named level.
void setup_logging(const std::string& level);
// The name (from log_level_names) of the default logger's level.
std::string current_log_level();

}  // namespace shelter::cli
