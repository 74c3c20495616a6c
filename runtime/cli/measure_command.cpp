#include "runtime/cli/measure_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/error.h"
#include "attest/snp/launch_digest.h"
#include "attest/snp/ovmf_launch.h"
#include "attest/snp/vmsa.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"

namespace shelter::cli {
namespace {

constexpr size_t kMaxFirmwareSize = 64ull << 20;
constexpr size_t kMaxKernelSize = 1ull << 30;

struct Options {
  std::string tee;
  std::string firmware;
  std::string kernel;
  std::string initrd;
  std::string append;
  uint32_t vcpus = 1;
  std::string vcpu_type;
  std::string vcpu_sig;
  std::string guest_features = "0x1";
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

}  // namespace

void add_measure_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("measure", "Compute a TEE launch digest offline");
  sub->add_option("--tee", options->tee, "TEE whose digest to compute")->required()->check(CLI::IsMember({"snp"}));
  sub->add_option("--firmware", options->firmware, "OVMF (SNP) or TDVF (TDX) firmware image")->required();
  auto* kernel = sub->add_option("--kernel", options->kernel, "SNP: kernel booted directly (measured by hash)");
  sub->add_option("--initrd", options->initrd, "SNP: initrd for the direct boot")->needs(kernel);
  sub->add_option("--append", options->append, "SNP: kernel command line for the direct boot")->needs(kernel);
  sub->add_option("--vcpus", options->vcpus, "SNP: number of vCPUs")->check(CLI::Range(1, 4096));
  auto* type = sub->add_option("--vcpu-type", options->vcpu_type, "SNP: QEMU CPU model, e.g. EPYC-v4");
  auto* sig = sub->add_option("--vcpu-sig", options->vcpu_sig, "SNP: CPUID(1).EAX signature, e.g. 0x800f12");
  type->excludes(sig);
  sub->add_option("--guest-features", options->guest_features, "SNP: SEV_FEATURES of the VMSAs")
      ->capture_default_str();
  sub->add_flag("--json", options->json, "Print {\"tee\", \"digest\"} as JSON");
  commands.push_back(Command{sub, [options]() {
                               if (options->vcpu_type.empty() && options->vcpu_sig.empty()) {
                                 throw Error("--tee snp needs --vcpu-type or --vcpu-sig");
                               }
                               std::string digest = measure_snp(*options);
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
