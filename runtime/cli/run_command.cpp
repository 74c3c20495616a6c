#include "runtime/cli/run_command.h"

#include <cstdio>
#include <memory>

#include "common/error.h"
#include "images/reader.h"
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
  uint32_t timeout = 0;
  std::vector<std::string> workload_args;
  launcher::RunOptions options;
};

int run(const RunArguments& a) {
  // The contract's other choices need pieces that do not exist yet; refuse
  // them plainly rather than run something else.
  if (a.tee != "auto") throw Error("--tee " + a.tee + " is not supported yet");
  if (a.vmm == "builtin") throw Error("--vmm builtin is not supported yet; use --vmm qemu");
  if (!a.kbs.empty()) throw Error("--kbs is not supported yet");
  if (!a.workload_args.empty()) throw Error("passing arguments to the workload is not supported yet");

  images::ImageInfo info = images::read_image(a.image);
  if (info.encryption) throw Error("encrypted images need attested key release, which `shelter run` does not do yet");

  launcher::RunOptions options = a.options;
  if (!a.kernel.empty()) options.kernel = a.kernel;
  if (!a.kernel_modules.empty()) options.modules_dir = a.kernel_modules;
  if (a.timeout) options.timeout_seconds = a.timeout;
  options.guest_init = launcher::default_guest_init();
  std::fprintf(stderr, "shelter: notice: no TEE in use: the guest's memory is not protected from this host\n");
  return launcher::run_image(a.image, info.verity, options);
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
  cmd->add_option("--kbs", a->kbs, "Key broker URL");
  cmd->add_option("--timeout", a->timeout, "Stop the guest after SEC seconds (exit 124)")->check(CLI::Range(1, 86400 * 365));
  cmd->add_flag("--show-console", a->options.show_kernel_console, "Copy the guest kernel's console to stderr");
  cmd->add_option("ARGS", a->workload_args, "Workload arguments after --");
  commands.push_back({cmd, [a] { return run(*a); }, launcher::kExitSetupFailure});
}

}  // namespace shelter::cli
