#pragma once
// The image manifest: what guest-init runs and how. The copy guest-init obeys
// lives inside the verity-protected filesystem at kManifestPath; the copy in
// the image header serves host-side tools only.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace shelter::images {

inline constexpr std::string_view kManifestPath = ".shelter/manifest.json";

struct Manifest {
  std::vector<std::string> entrypoint;  // argv[0..] as in an OCI config
  std::vector<std::string> args;        // default arguments after the entrypoint
  std::vector<std::string> env;         // "KEY=VALUE"
  std::string workdir = "/";
  std::string user = "0:0";             // uid:gid, numeric
  bool console_output = true;           // false: the workload's stdout never reaches the host console
  bool allow_host_args = false;         // true: `shelter run IMG -- ARGS` may replace args

  bool operator==(const Manifest&) const = default;
};

nlohmann::json manifest_to_json(const Manifest& manifest);
// Throws images::FormatError naming the field for anything malformed.
Manifest manifest_from_json(const nlohmann::json& json);
// Parses untrusted text (bounded by the caller); throws images::FormatError.
Manifest parse_manifest(std::string_view text);

}  // namespace shelter::images
