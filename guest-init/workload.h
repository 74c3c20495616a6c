#pragma once
// How guest-init turns the manifest into the workload's process: argv, env,
// working directory and identity, and where the entrypoint is found.
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "images/manifest.h"

namespace shelter::guest {

struct WorkloadPlan {
  std::vector<std::string> argv;  // entrypoint followed by args
  std::vector<std::string> env;   // KEY=VALUE
  std::string workdir;
  uid_t uid = 0;
  gid_t gid = 0;
  bool console_output = true;

  bool operator==(const WorkloadPlan&) const = default;
};

// PATH used to find a bare entrypoint name when the manifest sets none.
inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Throws images::FormatError when the manifest's user is not "UID:GID".
WorkloadPlan plan_workload(const images::Manifest& manifest);

// The file to execute for argv[0]: itself when it holds a '/', otherwise the
// first PATH entry (from env, else kDefaultPath) where `exists` finds it.
std::optional<std::string> find_executable(const std::string& argv0, const std::vector<std::string>& env,
                                           const std::function<bool(const std::string&)>& exists);

}  // namespace shelter::guest
