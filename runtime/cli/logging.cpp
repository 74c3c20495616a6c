#include "runtime/cli/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace shelter::cli {

const std::vector<std::string>& log_level_names() {
  static const std::vector<std::string> names{"trace", "debug", "info", "warn", "error", "off"};
  return names;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("shelter");
  logger->set_pattern("shelter: %l: %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

std::string current_log_level() {
  spdlog::level::level_enum level = spdlog::default_logger()->level();
  for (const std::string& name : log_level_names())
    if (spdlog::level::from_str(name) == level) return name;
  return "warn";
}

}  // namespace shelter::cli
