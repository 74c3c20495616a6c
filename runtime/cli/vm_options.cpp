#include "runtime/cli/vm_options.h"

#include "common/error.h"
#include "vmm/arch/x86_64/cpuid.h"

namespace shelter::cli {
namespace {

// --disk FILE[,ro]: the last comma-separated field may say ro or rw.
vmm::DiskConfig parse_disk(const std::string& text) {
  vmm::DiskConfig disk{text, false};
  if (size_t comma = text.rfind(','); comma != std::string::npos) {
    std::string mode = text.substr(comma + 1);
    if (mode == "ro" || mode == "rw") {
      disk.path = text.substr(0, comma);
      disk.read_only = mode == "ro";
    }
  }
  if (disk.path.empty()) throw Error("--disk " + text + ": no file named");
  return disk;
}

}  // namespace

vmm::VmConfig VmOptions::resolved() const {
  vmm::VmConfig resolved_config = config;
  resolved_config.disks.clear();
  for (const std::string& disk : disks) resolved_config.disks.push_back(parse_disk(disk));
  return resolved_config;
}

std::vector<std::string> VmOptions::arguments() const {
  std::vector<std::string> args{"--kernel", config.kernel.string(), "--cmdline", config.cmdline,
                                "--memory", std::to_string(config.memory_mib), "--cpus", std::to_string(config.cpus)};
  if (config.initrd) args.insert(args.end(), {"--initrd", config.initrd->string()});
  for (const std::string& disk : disks) args.insert(args.end(), {"--disk", disk});
  if (config.vsock_uds) args.insert(args.end(), {"--vsock-uds", config.vsock_uds->string()});
  if (no_jail) args.push_back("--no-jail");
  args.insert(args.end(), {"--seccomp", seccomp_action});
  if (jail_uid) args.insert(args.end(), {"--jail-uid", std::to_string(*jail_uid)});
  if (jail_gid) args.insert(args.end(), {"--jail-gid", std::to_string(*jail_gid)});
  return args;
}

void add_vm_options(CLI::App& app, VmOptions& options) {
  vmm::VmConfig& config = options.config;
  app.add_option("--kernel", config.kernel, "bzImage, PVH ELF or ELF64 kernel")->required();
  app.add_option("--initrd", config.initrd, "Initial ramdisk");
  app.add_option("--cmdline", config.cmdline, "Kernel command line");
  app.add_option("--memory", config.memory_mib, "Guest memory in MiB")
      ->check(CLI::Range(vmm::kMinMemoryMib, vmm::kMaxMemoryMib))
      ->capture_default_str();
  app.add_option("--cpus", config.cpus, "Number of vCPUs")
      ->check(CLI::Range(1u, vmm::x86_64::kMaxVcpus))
      ->capture_default_str();
  app.add_option("--disk", options.disks, "virtio-blk disk backed by FILE, read-write unless FILE,ro (repeatable)")
      ->type_name("FILE[,ro]");
  app.add_option("--vsock-uds", config.vsock_uds,
                 "virtio-vsock bridged to Unix sockets: the host listens at PATH (CONNECT <port>), guest "
                 "connections to port P go to PATH_P");
  app.add_flag("--no-jail", options.no_jail,
               "Debugging only: run the VMM without namespaces, capability drop or seccomp (weakens isolation)");
  app.add_option("--seccomp", options.seccomp_action,
                 "What a forbidden system call does: kill (report it and exit 125) or log (the kernel logs it)")
      ->check(CLI::IsMember({"kill", "log"}))
      ->capture_default_str();
  app.add_option("--jail-uid", options.jail_uid,
                 "User the jailed VMM runs as (default: the shelter user if present, else 65534)")
      ->check(CLI::Range(1u, 4294967294u));
  app.add_option("--jail-gid", options.jail_gid,
                 "Group the jailed VMM runs as (default: the shelter user's group if present, else 65534)")
      ->check(CLI::Range(1u, 4294967294u));
}

}  // namespace shelter::cli
