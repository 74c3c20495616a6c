#include "runtime/backend/qemu.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/unique_fd.h"

namespace shelter::backend {
namespace {

constexpr const char* kQemu = "qemu-system-x86_64";

// QEMU's option syntax doubles commas inside a value.
std::string escape_option_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(pos, end - pos) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    pos = end + 1;
  }
  return false;
}

class QemuProcess : public RunningVm {
 public:
  explicit QemuProcess(pid_t pid) : pid_(pid) {}
  ~QemuProcess() override {
    // The launcher reaps QEMU itself; this only makes sure it is gone.
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const override { return pid_; }
  void stop() override { ::kill(pid_, SIGKILL); }

 private:
  pid_t pid_;
};

}  // namespace

bool hardware_virtualisation_available() {
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!kvm || ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0) != KVM_API_VERSION) return false;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.starts_with("flags"))
      return line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos;
  return false;
}

std::vector<std::string> qemu_arguments(const launcher::VmConfig& config, Accelerator accelerator,
                                        const launcher::GuestChannelFds& channels) {
  std::vector<std::string> args = {
      kQemu,
      "-M", "q35",
      "-accel", accelerator == Accelerator::kKvm ? "kvm" : "tcg",
      "-cpu", accelerator == Accelerator::kKvm ? "host" : "max",
      "-m", std::to_string(config.memory_mib),
      "-smp", std::to_string(config.cpus),
      "-nodefaults", "-no-user-config", "-display", "none", "-net", "none", "-no-reboot",
      "-kernel", config.kernel.string(),
      "-initrd", config.initramfs.string(),
      "-append", config.cmdline,
      "-drive", "file=" + escape_option_value(config.disk.string()) + ",if=none,id=image,format=raw,readonly=on",
      "-device", "virtio-blk-pci,drive=image",
  };
  int port = 0;
  for (int fd : {channels.console, channels.stdout_port, channels.stderr_port, channels.status}) {
    std::string id = "port" + std::to_string(port++);
    args.insert(args.end(), {"-chardev", "socket,id=" + id + ",fd=" + std::to_string(fd), "-serial", "chardev:" + id});
  }
  // q35 has four ISA UARTs; the fifth port is a PCI one.
  if (channels.attestation >= 0)
    args.insert(args.end(), {"-chardev", "socket,id=attest,fd=" + std::to_string(channels.attestation), "-device",
                             "pci-serial,chardev=attest"});
  return args;
}

std::unique_ptr<RunningVm> QemuBackend::start(const launcher::VmConfig& config,
                                              const launcher::GuestChannelFds& channels) {
  if (!on_path(kQemu)) throw Error(std::string(kQemu) + " not found on PATH (install qemu-system-x86)");
  std::vector<std::string> args = qemu_arguments(config, accelerator_, channels);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t parent = ::getpid();
  pid_t pid = static_cast<pid_t>(check_syscall(::fork(), "fork"));
  if (pid == 0) {
    // QEMU gets its own process group, so a terminal's Ctrl-C reaches only
    // the launcher, which then stops it; and it dies with the launcher.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    for (int fd : {channels.console, channels.stdout_port, channels.stderr_port, channels.status, channels.attestation})
      if (fd >= 0) ::fcntl(fd, F_SETFD, 0);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return std::make_unique<QemuProcess>(pid);
}

}  // namespace shelter::backend
