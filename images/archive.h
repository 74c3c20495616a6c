#pragma once
// Safe extraction of tar archives (libarchive, any compression it reads):
// entries with absolute paths or "..", relative symlinks that climb out of
// the root, and writes through symlinks are refused, so nothing is ever
// written outside the root.
#include <filesystem>

namespace shelter::images {

enum class Whiteouts {
  kIgnore,  // an outer archive: names are taken as they are
  kApply,   // an OCI layer: ".wh.NAME" deletes NAME below, ".wh..wh..opq" empties its directory
};

// Extracts archive onto root (an existing directory), over what is there.
// Throws Error naming the archive for a corrupt, truncated or unsafe one.
void extract_archive(const std::filesystem::path& archive, const std::filesystem::path& root,
                     Whiteouts whiteouts);

}  // namespace shelter::images
