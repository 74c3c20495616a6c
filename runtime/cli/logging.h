#pragma once
#include <string>
#include <vector>

namespace shelter::cli {

const std::vector<std::string>& log_level_names();
// Sends spdlog's default logger to stderr at the named level.
void setup_logging(const std::string& level);

}  // namespace shelter::cli
