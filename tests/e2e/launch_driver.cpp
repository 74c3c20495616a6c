// Runs an image with known verity parameters through the launcher, the way
// `shelter run` does once it has read them from the image: lets the
// end-to-end tests boot images made with mkfs.erofs and veritysetup alone.
//   launch_driver IMAGE VERITY_JSON --guest-init PATH [--timeout S] [--show-console]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"
#include "runtime/launcher/launcher.h"

int main(int argc, char** argv) {
  using namespace shelter;
  CLI::App app{"end-to-end launcher driver"};
  std::string image, verity_json;
  launcher::RunOptions options;
  uint32_t timeout = 0;
  app.add_option("image", image)->required();
  app.add_option("verity", verity_json)->required();
  std::string guest_init;
  app.add_option("--guest-init", guest_init)->required();
  app.add_option("--timeout", timeout);
  app.add_option("--memory", options.memory_mib);
  app.add_flag("--show-console", options.show_kernel_console);
  CLI11_PARSE(app, argc, argv);
  if (timeout) options.timeout_seconds = timeout;
  try {
    std::vector<uint8_t> text = read_file(verity_json, 1 << 16);
    nlohmann::json j = nlohmann::json::parse(text.begin(), text.end());
    images::VerityParams verity;
    verity.data_offset = j.at("data_offset");
    verity.data_size = j.at("data_size");
    verity.hash_offset = j.at("hash_offset");
    verity.root_hash = from_hex(j.at("root_hash").get<std::string>()).value();
    verity.salt = from_hex(j.at("salt").get<std::string>()).value();
    options.guest_init = guest_init;
    return launcher::run_image(image, verity, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shelter: error: %s\n", e.what());
    return launcher::kExitSetupFailure;
  }
}
