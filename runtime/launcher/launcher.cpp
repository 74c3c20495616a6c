#include "runtime/launcher/launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.h"
#include "common/file.h"
#include "common/unique_fd.h"
#include "guest-init/status.h"
#include "images/initramfs.h"
#include "images/kernel_cmdline.h"
#include "runtime/backend/qemu.h"

namespace shelter::launcher {
namespace {

namespace fs = std::filesystem;

constexpr size_t kConsoleTail = 64 * 1024;
constexpr uint32_t kMinMemoryMib = 128;

void print_error(const std::string& message) { std::fprintf(stderr, "shelter: error: %s\n", message.c_str()); }

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // our own stdout is gone; keep running the guest to its end
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// A private folder removed with everything in it.
class WorkDir {
 public:
  WorkDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/shelter-run-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw SystemError("creating a working folder", errno);
    path_ = pattern;
  }
  ~WorkDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The last lines the guest kernel printed, for the report of a guest that
// died without a status.
std::string panic_line(const std::string& console) {
  size_t at = console.rfind("Kernel panic - not syncing");
  if (at == std::string::npos) return {};
  size_t end = console.find_first_of("\r\n", at);
  return console.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

fs::path default_guest_init() { return executable_directory() / "shelter-init"; }

VmConfig make_vm_config(const fs::path& image, const images::VerityParams& verity, const RunOptions& options,
                        const fs::path& work_dir) {
  if (options.memory_mib < kMinMemoryMib)
    throw Error("--memory " + std::to_string(options.memory_mib) + " MiB is too little for the guest (at least " +
                std::to_string(kMinMemoryMib) + ")");
  if (options.cpus == 0) throw Error("--cpus must be at least 1");
  if (!fs::is_regular_file(image)) throw Error("image " + image.string() + " not found");
  if (!fs::is_regular_file(options.guest_init))
    throw Error("guest init " + options.guest_init.string() + " not found (build the shelter-init target)");
  images::GuestKernel kernel = images::find_guest_kernel(options.kernel, options.modules_dir);
  VmConfig config;
  config.kernel = kernel.kernel;
  config.initramfs = work_dir / "initramfs.cpio";
  std::vector<uint8_t> initramfs = images::build_initramfs(options.guest_init, kernel);
  write_file_atomic(config.initramfs, initramfs, 0600);
  config.cmdline = images::format_kernel_cmdline(images::GuestParams{verity, options.key_release});
  config.disk = image;
  config.memory_mib = options.memory_mib;
  config.cpus = options.cpus;
  return config;
}

int run_vm(const VmConfig& config, backend::VmBackend& backend, const RunOptions& options, AttestationRelay* relay) {
  enum { kConsole, kStdout, kStderr, kStatus, kAttestation, kChannels };
  // Host ends [i][0] stay here, guest ends [i][1] go to the VMM.
  std::array<UniqueFd, kChannels> host, guest;
  for (size_t i = 0; i < host.size(); ++i) {
    if (i == kAttestation && !relay) continue;
    int pair[2];
    check_syscall(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), "socketpair");
    host[i].reset(pair[0]);
    guest[i].reset(pair[1]);
  }

  sigset_t handled, previous;
  sigemptyset(&handled);
  for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&handled, sig);
  check_syscall(::sigprocmask(SIG_BLOCK, &handled, &previous), "blocking signals");
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};
  UniqueFd signals(static_cast<int>(check_syscall(::signalfd(-1, &handled, SFD_CLOEXEC), "signalfd")));

  std::unique_ptr<backend::RunningVm> vm =
      backend.start(config, {guest[kConsole].get(), guest[kStdout].get(), guest[kStderr].get(), guest[kStatus].get(),
                             guest[kAttestation].get()});
  for (UniqueFd& fd : guest) fd.reset();

  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> deadline;
  if (options.timeout_seconds) deadline = Clock::now() + std::chrono::seconds(*options.timeout_seconds);

  guest::StatusDecoder status;
  std::string protocol_error;
  std::string console;
  std::optional<int> vm_status;
  int stopped_by_signal = 0;
  bool timed_out = false;
  std::array<bool, kChannels> open = {true, true, true, true, relay != nullptr};
  // Once reaped, the VMM's pid may belong to another process: never signal it.
  auto stop_vm = [&] {
    if (!vm_status) vm->stop();
  };

  auto read_channel = [&](size_t i) {
    char buffer[16384];
    ssize_t n = ::read(host[i].get(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      open[i] = false;
      return;
    }
    size_t size = static_cast<size_t>(n);
    if (i == kStdout) write_all(STDOUT_FILENO, buffer, size);
    if (i == kStderr) write_all(STDERR_FILENO, buffer, size);
    if (i == kConsole) {
      if (options.show_kernel_console) write_all(STDERR_FILENO, buffer, size);
      console.append(buffer, size);
      if (console.size() > kConsoleTail) console.erase(0, console.size() - kConsoleTail);
    }
    if (i == kAttestation && protocol_error.empty()) {
      try {
        std::string answer = relay->feed({reinterpret_cast<const uint8_t*>(buffer), size});
        write_all(host[kAttestation].get(), answer.data(), answer.size());
      } catch (const guest::ChannelError& e) {
        protocol_error = std::string("the guest broke the attestation channel protocol: ") + e.what();
        stop_vm();
      }
    }
    if (i == kStatus && protocol_error.empty()) {
      try {
        status.feed({reinterpret_cast<const uint8_t*>(buffer), size});
      } catch (const guest::ProtocolError& e) {
        protocol_error = std::string("the guest broke the status protocol: ") + e.what();
        stop_vm();
      }
    }
  };

  // Runs until the VMM has exited and every channel reached end of file.
  while (!vm_status || std::find(open.begin(), open.end(), true) != open.end()) {
    std::array<pollfd, kChannels + 1> fds{};
    for (size_t i = 0; i < kChannels; ++i) fds[i] = {open[i] ? host[i].get() : -1, POLLIN, 0};
    fds[kChannels] = {signals.get(), POLLIN, 0};
    int timeout_ms = -1;
    if (deadline && !vm_status)
      timeout_ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count() + 1));
    int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) throw SystemError("poll", errno);
    if (deadline && !vm_status && !timed_out && Clock::now() >= *deadline) {
      timed_out = true;
      stop_vm();
    }
    if (ready <= 0) continue;
    for (size_t i = 0; i < kChannels; ++i)
      if (fds[i].revents) read_channel(i);
    if (!(fds[kChannels].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (::read(signals.get(), &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo == SIGCHLD) {
      int wait_status = 0;
      if (::waitpid(vm->pid(), &wait_status, WNOHANG) == vm->pid()) vm_status = wait_status;
    } else if (!stopped_by_signal) {
      stopped_by_signal = static_cast<int>(info.ssi_signo);
      stop_vm();
    }
  }

  if (stopped_by_signal) {
    print_error(std::string("stopped the guest on ") + ::strsignal(stopped_by_signal));
    return 128 + stopped_by_signal;
  }
  if (!protocol_error.empty()) {
    print_error(protocol_error);
    return kExitSetupFailure;
  }
  if (const std::optional<guest::StatusMessage>& final = status.final_status()) {
    switch (final->kind) {
      case guest::StatusKind::kExited: return final->value;
      case guest::StatusKind::kKilled: return 128 + final->value;
      case guest::StatusKind::kNotFound: print_error(final->reason); return kExitNotFound;
      case guest::StatusKind::kNotExecutable: print_error(final->reason); return kExitNotExecutable;
      case guest::StatusKind::kSetupFailed: print_error("guest setup failed: " + final->reason); return kExitSetupFailure;
      case guest::StatusKind::kStarted: break;
    }
  }
  if (timed_out) {
    print_error("the guest did not finish within " + std::to_string(*options.timeout_seconds) + " s; stopped it");
    return kExitTimeout;
  }
  if (std::string panic = panic_line(console); !panic.empty()) {
    print_error("the guest kernel panicked: " + panic);
    return kExitSetupFailure;
  }
  std::string how = WIFEXITED(*vm_status) ? "exit status " + std::to_string(WEXITSTATUS(*vm_status))
                                          : std::string("signal ") + ::strsignal(WTERMSIG(*vm_status));
  print_error(std::string("the guest stopped without reporting how the workload ended") +
              (status.started() ? " (the workload had started)" : "") + "; the VMM ended with " + how);
  return kExitSetupFailure;
}

int run_image(const fs::path& image, const images::VerityParams& verity, RunOptions options,
              const std::optional<KeyReleaseOptions>& key_release) {
  WorkDir work;
  std::optional<KeyRelease> release;
  if (key_release) {
    release.emplace(*key_release, work.path() / "kbs");
    options.key_release = release->guest_params();
  }
  VmConfig config = make_vm_config(image, verity, options, work.path());
  AttestationRelay* relay = nullptr;
  if (release) {
    release->expect_launch(simulated_launch_digest(config));
    if (!options.test_cmdline_tamper.empty()) config.cmdline += " " + options.test_cmdline_tamper;
    relay = &release->relay_for(simulated_launch_digest(config));
  }
  backend::Accelerator accelerator = backend::Accelerator::kKvm;
  if (!backend::hardware_virtualisation_available()) {
    accelerator = backend::Accelerator::kTcg;
    std::fprintf(stderr, "shelter: notice: no hardware virtualisation (KVM with VMX/SVM); emulating the guest with QEMU TCG, which is much slower\n");
  }
  backend::QemuBackend qemu(accelerator);
  return run_vm(config, qemu, options, relay);
}

attest::Sha384Digest measure_simulated_launch(const fs::path& image, const images::VerityParams& verity,
                                              RunOptions options, const KeyReleaseOptions& key_release) {
  WorkDir work;
  options.key_release = remote_key_release_params(key_release);
  return simulated_launch_digest(make_vm_config(image, verity, options, work.path()));
}

}  // namespace shelter::launcher
