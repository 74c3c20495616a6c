#include "runtime/cli/inspect_command.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "images/reader.h"

namespace shelter::cli {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

void print_text(const std::string& path, const images::ImageInfo& info) {
  const auto& m = info.manifest;
  const auto& v = info.verity;
  std::cout << "image:       " << path << " (" << info.image_size << " bytes, format "
            << info.format_version << ")\n"
            << "entrypoint:  " << join(m.entrypoint) << "\n"
            << "args:        " << join(m.args) << "\n"
            << "env:         " << join(m.env) << "\n"
            << "workdir:     " << m.workdir << "\n"
            << "user:        " << m.user << "\n"
            << "filesystem:  erofs, " << info.filesystem_size << " bytes\n"
            << "verity:      " << v.algorithm << ", data " << v.data_size << " bytes at " << v.data_offset
            << ", hash tree at " << v.hash_offset << "\n"
            << "root hash:   " << to_hex(v.root_hash) << "\n"
            << "salt:        " << to_hex(v.salt) << "\n";
  if (info.encryption) {
    std::cout << "encryption:  " << info.encryption->cipher << ", " << info.encryption->sector_size
              << "-byte sectors, key id " << info.encryption->key_id_hex() << "\n";
  } else {
    std::cout << "encryption:  none\n";
  }
}

}  // namespace

void add_inspect_command(CLI::App& app, Commands& commands) {
  auto image = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("inspect", "Show an image's manifest, verity parameters and encryption");
  cmd->add_option("IMG", *image, "Image file")->required();
  cmd->add_flag("--json", *json, "Print JSON");
  commands.push_back({cmd, [image, json] {
                        images::ImageInfo info = images::read_image(*image);
                        if (*json) {
                          std::cout << images::image_info_to_json(info).dump(2) << "\n";
                        } else {
                          print_text(*image, info);
                        }
                        return kExitOk;
                      }});
}

}  // namespace shelter::cli
