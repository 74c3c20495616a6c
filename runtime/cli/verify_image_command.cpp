#include "runtime/cli/verify_image_command.h"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "images/error.h"
#include "images/reader.h"
#include "images/verity.h"

namespace shelter::cli {
namespace {

int run_verify(const std::string& path) {
  images::FileImageSource source(path);
  images::ImageInfo info = images::read_image(source);
  images::TerminalProgress progress;
  auto bad = images::verify_hash_tree(source.fd(), info.verity, ::isatty(STDERR_FILENO) ? &progress : nullptr);
  if (bad) {
    std::string where = bad->area == images::BadBlock::Area::kData
                            ? "data block " + std::to_string(bad->index)
                            : "hash block " + std::to_string(bad->index) + " of tree level " +
                                  std::to_string(bad->level);
    throw images::FormatError(path + ": " + where + " (byte offset " + std::to_string(bad->file_offset) +
                              ") does not match the root hash");
  }
  std::printf("%s: ok, %llu data blocks match root hash\n", path.c_str(),
              static_cast<unsigned long long>(info.verity.data_blocks()));
  return kExitOk;
}

}  // namespace

void add_verify_image_command(CLI::App& app, Commands& commands) {
  auto image = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("verify-image", "Check every block of an image against its root hash");
  cmd->add_option("IMG", *image, "Image file")->required();
  commands.push_back({cmd, [image] { return run_verify(*image); }});
}

}  // namespace shelter::cli
