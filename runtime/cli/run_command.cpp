#include "runtime/cli/run_command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/error.h"
#include "images/reader.h"
#include "runtime/keystore.h"
#include "runtime/launcher/launcher.h"

namespace shelter::cli {
namespace {

struct RunArguments {
  std::string image;
  std::string tee = "auto";
  std::string vmm = "auto";
  std::string kernel;
  std::string kernel_modules;
  std::string kbs;
  std::string kbs_key;
  std::string kbs_resource;
  uint32_t timeout = 0;
  std::vector<std::string> workload_args;
  launcher::RunOptions options;
};

int run(const RunArguments& a) {
  // The contract's other choices need pieces that do not exist yet; refuse
  // them plainly rather than run something else.
  if (a.tee == "snp" || a.tee == "tdx")
    throw Error("--tee " + a.tee + ": this launcher cannot start " + a.tee +
                " guests yet (it has no confidential launch); use --tee sim for the simulated TEE");
  if (a.vmm == "builtin") throw Error("--vmm builtin is not supported yet; use --vmm qemu");
  if (!a.workload_args.empty()) throw Error("passing arguments to the workload is not supported yet");

  images::ImageInfo info = images::read_image(a.image);
  if (!info.encryption && (!a.kbs.empty() || !a.kbs_key.empty() || !a.kbs_resource.empty()))
    throw Error("--kbs, --kbs-key and --kbs-resource apply to encrypted images only; " + a.image + " is not encrypted");
  if (!info.encryption && a.tee == "sim")
    throw Error("--tee sim applies to encrypted images, whose key the simulated TEE attests for; " + a.image +
                " is not encrypted");

  launcher::RunOptions options = a.options;
  if (!a.kernel.empty()) options.kernel = a.kernel;
  if (!a.kernel_modules.empty()) options.modules_dir = a.kernel_modules;
  if (a.timeout) options.timeout_seconds = a.timeout;
  options.guest_init = launcher::default_guest_init();
  if (!info.encryption) {
    std::fprintf(stderr, "shelter: notice: no TEE in use: the guest's memory is not protected from this host\n");
    return launcher::run_image(a.image, info.verity, options);
  }

  // There is no SNP/TDX launch yet, so auto means the simulated TEE.
  launcher::KeyReleaseOptions release;
  release.key_id = info.encryption->key_id_hex();
  if (!a.kbs.empty()) release.kbs_url = a.kbs;
  if (!a.kbs_key.empty()) release.kbs_key = a.kbs_key;
  release.resource = a.kbs_resource;
  release.shelter_home = runtime::Keystore::open_default().keys_dir().parent_path();
  if (const char* tamper = std::getenv("SHELTER_TEST_TAMPER_CMDLINE"); tamper && *tamper)
    options.test_cmdline_tamper = tamper;
  std::fprintf(stderr,
               "shelter: notice: simulated TEE: the launcher signs the attestation evidence itself; this run gives NO "
               "confidentiality (the guest's memory and the released key are open to this host)\n");
  return launcher::run_image(a.image, info.verity, options, release);
}

}  // namespace

void add_run_command(CLI::App& app, Commands& commands) {
  auto a = std::make_shared<RunArguments>();
  CLI::App* cmd = app.add_subcommand("run", "Boot an image in a VM and run its workload");
  cmd->add_option("IMG", a->image, "Image file")->required();
  cmd->add_option("--tee", a->tee, "TEE to use")->check(CLI::IsMember({"auto", "sim", "snp", "tdx"}))->capture_default_str();
  cmd->add_option("--vmm", a->vmm, "VMM backend")->check(CLI::IsMember({"auto", "builtin", "qemu"}))->capture_default_str();
  cmd->add_option("--cpus", a->options.cpus, "Guest vCPUs")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--memory", a->options.memory_mib, "Guest memory in MiB")->capture_default_str();
  cmd->add_option("--kernel", a->kernel, "Guest kernel (default: the newest /boot/vmlinuz-*)");
  cmd->add_option("--kernel-modules", a->kernel_modules, "Modules folder of --kernel (default: /lib/modules/<release>)");
  cmd->add_option("--kbs", a->kbs, "Key broker URL (default: an embedded broker on loopback)");
  cmd->add_option("--kbs-key", a->kbs_key, "PEM public key the --kbs broker signs its tokens with (pinned by the guest)");
  cmd->add_option("--kbs-resource", a->kbs_resource, "Resource holding the image key (default: default/key/<key id>)");
  cmd->add_option("--timeout", a->timeout, "Stop the guest after SEC seconds (exit 124)")->check(CLI::Range(1, 86400 * 365));
  cmd->add_flag("--show-console", a->options.show_kernel_console, "Copy the guest kernel's console to stderr");
  cmd->add_option("ARGS", a->workload_args, "Workload arguments after --");
  commands.push_back({cmd, [a] { return run(*a); }, launcher::kExitSetupFailure});
}

}  // namespace shelter::cli
