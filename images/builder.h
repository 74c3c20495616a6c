#pragma once
// `shelter build`: SRC -> staging tree -> EROFS -> (encryption) -> dm-verity
// tree -> one image file, written beside the output and renamed into place.
#include <array>
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "images/format.h"
#include "images/progress.h"
#include "images/reader.h"
#include "images/source.h"

namespace shelter::images {

struct ImageKey {
  std::array<uint8_t, kXtsKeySize> key{};
  std::array<uint8_t, kKeyIdSize> id{};
};

struct BuildOptions {
  std::filesystem::path source;
  std::filesystem::path output;
  std::optional<std::vector<std::string>> entrypoint;  // replaces the image's entrypoint and args
  std::vector<std::string> env;                        // KEY=VALUE, over the image's
  std::optional<std::string> workdir;
  bool force = false;                   // replace an existing output
  const ImageKey* encryption = nullptr;  // encrypt the filesystem area with this key
  ProgressSink* progress = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

// Builds the image and returns what its header now says. Throws Error; on
// any failure no output file (and no temporary) is left behind.
ImageInfo build_image(const BuildOptions& options);

// The manifest a build writes: OCI defaults, then the options' overrides;
// user names are resolved against the staging tree's /etc/passwd and /etc/group.
Manifest compose_manifest(const ImageConfig& config, const BuildOptions& options,
                          const std::filesystem::path& staging);

// Throws Error unless manifest.entrypoint[0] resolves, inside staging, to an
// executable regular file (searched on the manifest's PATH when it has no '/').
void check_entrypoint(const Manifest& manifest, const std::filesystem::path& staging);

}  // namespace shelter::images
