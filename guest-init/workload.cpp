#include "guest-init/workload.h"

#include <charconv>
#include <limits>

#include "images/error.h"

namespace shelter::guest {
namespace {

uint32_t parse_id(std::string_view text) {
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  // (uid_t)-1 means "unchanged" to setuid-family calls, so it is no identity.
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      value == std::numeric_limits<uint32_t>::max())
    throw images::FormatError("manifest: user must be numeric UID:GID");
  return value;
}

}  // namespace

WorkloadPlan plan_workload(const images::Manifest& manifest) {
  WorkloadPlan plan;
  plan.argv = manifest.entrypoint;
  plan.argv.insert(plan.argv.end(), manifest.args.begin(), manifest.args.end());
  plan.env = manifest.env;
  plan.workdir = manifest.workdir;
  size_t colon = manifest.user.find(':');
  if (colon == std::string::npos) throw images::FormatError("manifest: user must be numeric UID:GID");
  plan.uid = parse_id(std::string_view(manifest.user).substr(0, colon));
  plan.gid = parse_id(std::string_view(manifest.user).substr(colon + 1));
  plan.console_output = manifest.console_output;
  return plan;
}

std::optional<std::string> find_executable(const std::string& argv0, const std::vector<std::string>& env,
                                           const std::function<bool(const std::string&)>& exists) {
  if (argv0.empty()) return std::nullopt;
  if (argv0.find('/') != std::string::npos) return argv0;
  std::string path = kDefaultPath;
  for (const std::string& entry : env)
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(pos, end - pos);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + argv0;
    if (exists(candidate)) return candidate;
    pos = end + 1;
  }
  return std::nullopt;
}

}  // namespace shelter::guest
