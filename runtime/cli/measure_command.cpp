#include "runtime/cli/measure_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/error.h"
#include "attest/snp/launch_digest.h"
#include "attest/snp/ovmf_launch.h"
#include "attest/snp/vmsa.h"
#include "attest/tdx/mrtd.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"
#include "images/reader.h"
#include "runtime/launcher/launcher.h"

namespace shelter::cli {
namespace {

constexpr size_t kMaxFirmwareSize = 64ull << 20;
constexpr size_t kMaxKernelSize = 1ull << 30;

struct Options {
  std::string image;
  std::string tee;
  std::string firmware;
  std::string kernel;
  std::string initrd;
  std::string append;
  uint32_t vcpus = 1;
  std::string vcpu_type;
  std::string vcpu_sig;
  std::string guest_features = "0x1";
  std::string kernel_modules;
  std::string kbs_key;
  std::string kbs_resource;
  bool json = false;
};

uint64_t parse_number(const std::string& text, const char* option) {
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw Error(std::string(option) + ": '" + text + "' is not a number");
  return value;
}

std::string measure_snp(const Options& options) {
  attest::snp::OvmfLaunch launch;
  launch.firmware = read_file(options.firmware, kMaxFirmwareSize);
  if (!options.kernel.empty()) {
    attest::snp::DirectBoot boot;
    boot.kernel = read_file(options.kernel, kMaxKernelSize);
    if (!options.initrd.empty()) boot.initrd = read_file(options.initrd, kMaxKernelSize);
    boot.cmdline = options.append;
    launch.direct_boot = std::move(boot);
  }
  launch.vcpus = options.vcpus;
  if (!options.vcpu_type.empty()) {
    auto signature = attest::snp::vcpu_signature(options.vcpu_type);
    if (!signature) throw Error("--vcpu-type: unknown CPU model '" + options.vcpu_type + "' (give --vcpu-sig)");
    launch.vcpu_signature = *signature;
  } else {
    launch.vcpu_signature = static_cast<uint32_t>(parse_number(options.vcpu_sig, "--vcpu-sig"));
  }
  launch.guest_features = parse_number(options.guest_features, "--guest-features");
  try {
    return to_hex(attest::snp::launch_digest(attest::snp::describe_ovmf_launch(launch)));
  } catch (const attest::EvidenceError& e) {
    throw Error(options.firmware + ": " + e.what());
  }
}

std::string measure_tdx(const Options& options) {
  auto firmware = read_file(options.firmware, kMaxFirmwareSize);
  try {
    return to_hex(attest::tdx::mrtd(attest::tdx::describe_tdvf_launch(firmware)));
  } catch (const attest::EvidenceError& e) {
    throw Error(options.firmware + ": " + e.what());
  }
}

// The launch `shelter run IMG --kbs URL --kbs-key PEM` makes, with the same
// kernel, modules, vCPUs and resource.
std::string measure_image(const Options& options) {
  images::ImageInfo info = images::read_image(options.image);
  if (!info.encryption) {
    throw Error(options.image + " is not encrypted: it runs without a TEE, so no key broker checks its launch digest");
  }
  launcher::RunOptions run;
  if (!options.kernel.empty()) run.kernel = options.kernel;
  if (!options.kernel_modules.empty()) run.modules_dir = options.kernel_modules;
  run.cpus = options.vcpus;
  run.guest_init = launcher::default_guest_init();
  launcher::KeyReleaseOptions release;
  release.key_id = info.encryption->key_id_hex();
  release.kbs_key = options.kbs_key;
  release.resource = options.kbs_resource;
  return to_hex(launcher::measure_simulated_launch(options.image, info.verity, run, release));
}

}  // namespace

void add_measure_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand(
      "measure", "Compute a launch digest offline (of a shelter run launch, an SNP MEASUREMENT, a TDX MRTD)");
  sub->add_option("IMG", options->image, "Encrypted image whose `shelter run --kbs` launch to measure (--tee sim)");
  sub->add_option("--tee", options->tee, "TEE whose digest to compute")
      ->required()
      ->check(CLI::IsMember({"sim", "snp", "tdx"}));
  auto* firmware = sub->add_option("--firmware", options->firmware, "OVMF (SNP) or TDVF (TDX) firmware image");
  auto* kernel = sub->add_option("--kernel", options->kernel, "Kernel booted directly (IMG: default as for shelter run)");
  auto* initrd = sub->add_option("--initrd", options->initrd, "SNP: initrd for the direct boot")->needs(kernel);
  auto* append = sub->add_option("--append", options->append, "SNP: kernel command line for the direct boot")->needs(kernel);
  sub->add_option("--vcpus", options->vcpus, "Number of vCPUs (IMG: shelter run's --cpus)")->check(CLI::Range(1, 4096));
  auto* type = sub->add_option("--vcpu-type", options->vcpu_type, "SNP: QEMU CPU model, e.g. EPYC-v4");
  auto* sig = sub->add_option("--vcpu-sig", options->vcpu_sig, "SNP: CPUID(1).EAX signature, e.g. 0x800f12");
  type->excludes(sig);
  auto* vcpus = sub->get_option("--vcpus");
  auto* features = sub->add_option("--guest-features", options->guest_features, "SNP: SEV_FEATURES of the VMSAs")
                       ->capture_default_str();
  auto* modules = sub->add_option("--kernel-modules", options->kernel_modules, "IMG: modules folder of --kernel");
  auto* kbs_key = sub->add_option("--kbs-key", options->kbs_key, "IMG: the broker's token public key (as for run)");
  auto* kbs_resource = sub->add_option("--kbs-resource", options->kbs_resource, "IMG: resource holding the key (as for run)");
  const std::vector<CLI::Option*> snp_only = {kernel, vcpus, type, sig, features};
  const std::vector<CLI::Option*> raw_only = {firmware, initrd, append, type, sig, features};
  const std::vector<CLI::Option*> image_only = {modules, kbs_key, kbs_resource};
  sub->add_flag("--json", options->json, "Print {\"tee\", \"digest\"} as JSON");
  commands.push_back(Command{sub, [options, snp_only, raw_only, image_only]() {
                               auto refuse_given = [](const std::vector<CLI::Option*>& list, const std::string& why) {
                                 for (const CLI::Option* option : list) {
                                   if (option->count() > 0) throw Error(option->get_name() + " " + why);
                                 }
                               };
                               std::string digest;
                               if (!options->image.empty()) {
                                 if (options->tee != "sim") {
                                   throw Error("measure IMG --tee " + options->tee + ": shelter run cannot start " +
                                               options->tee + " guests yet; use --tee sim");
                                 }
                                 refuse_given(raw_only, "applies to the firmware form, not to IMG");
                                 if (options->kbs_key.empty()) {
                                   throw Error("measure IMG needs --kbs-key, the broker's token public key the launch pins");
                                 }
                                 digest = measure_image(*options);
                               } else if (options->tee == "sim") {
                                 throw Error("--tee sim measures a shelter run launch: give IMG");
                               } else if (options->firmware.empty()) {
                                 throw Error("--tee " + options->tee + " needs --firmware (or give IMG with --tee sim)");
                               } else if (options->tee == "tdx") {
                                 refuse_given(image_only, "applies to IMG only");
                                 refuse_given(snp_only, "applies to --tee snp only");
                                 digest = measure_tdx(*options);
                               } else {
                                 refuse_given(image_only, "applies to IMG only");
                                 if (options->vcpu_type.empty() && options->vcpu_sig.empty()) {
                                   throw Error("--tee snp needs --vcpu-type or --vcpu-sig");
                                 }
                                 digest = measure_snp(*options);
                               }
                               if (options->json) {
                                 nlohmann::ordered_json out = {{"tee", options->tee}, {"digest", digest}};
                                 std::printf("%s\n", out.dump(2).c_str());
                               } else {
                                 std::printf("%s\n", digest.c_str());
                               }
                               return kExitOk;
                             }});
}

}  // namespace shelter::cli
