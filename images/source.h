#pragma once
// Turns a build's SRC into a staging tree: a plain directory, an OCI image
// layout directory, or an OCI/docker archive (.tar).
#include <filesystem>
#include <string>
#include <vector>

namespace shelter::images {

// The run defaults an OCI image config carries (empty for a plain directory).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
};

// Fills staging (an empty directory) from source; scratch is an empty
// private directory for intermediate files. Throws Error on a missing,
// unreadable, corrupt or unsafe source.
ImageConfig stage_source(const std::filesystem::path& source, const std::filesystem::path& staging,
                         const std::filesystem::path& scratch);

}  // namespace shelter::images
