// guest-init: PID 1 of the Shelter guest. It takes the image parameters from
// the measured kernel command line, loads the kernel modules it needs, puts
// dm-verity over the image disk (and, for an encrypted image, attests to the
// key broker through the launcher's relay, then puts dm-crypt over verity
// with the released key), mounts it with a writable overlay, switches into
// it, runs the manifest's workload, relays its output, and reports how it
// ended on the status channel before powering off.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "common/unique_fd.h"
#include "guest-init/attest_channel.h"
#include "guest-init/device_mapper.h"
#include "guest-init/key_release.h"
#include "guest-init/status.h"
#include "guest-init/workload.h"
#include "images/kernel_cmdline.h"
#include "images/kernel_modules.h"
#include "images/manifest.h"

namespace shelter::guest {
namespace {

constexpr size_t kMaxIndexFile = 8 << 20;
constexpr size_t kMaxManifest = 1 << 20;
constexpr auto kDiskWait = std::chrono::seconds(60);
constexpr const char* kDiskSysfs = "/sys/block/vda/dev";
constexpr const char* kImageNode = "/dev/shelter-image";
constexpr const char* kLower = "/mnt/lower";
constexpr const char* kWritable = "/mnt/rw";
constexpr const char* kNewRoot = "/mnt/root";
constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) throw SystemError("creating " + path, errno);
}

void mount_or_throw(const char* source, const std::string& target, const char* type, unsigned long flags,
                    const std::string& data, const std::string& what) {
  if (::mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    throw SystemError(what, errno);
}

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the host closed the channel; nothing more to do with it
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// A serial port in raw mode, so bytes pass unchanged.
UniqueFd open_port(const char* path, int access = O_WRONLY) {
  UniqueFd fd(static_cast<int>(check_syscall(::open(path, access | O_NOCTTY | O_CLOEXEC), std::string("opening ") + path)));
  termios tio{};
  check_syscall(::tcgetattr(fd.get(), &tio), std::string("reading the settings of ") + path);
  ::cfmakeraw(&tio);
  check_syscall(::tcsetattr(fd.get(), TCSANOW, &tio), std::string("setting ") + path + " to raw mode");
  return fd;
}

std::string read_text(const std::string& path, size_t max_size) {
  std::vector<uint8_t> bytes = read_file(path, max_size);
  return std::string(bytes.begin(), bytes.end());
}

// procfs files report size 0, so read_file() does not fit them.
std::string read_proc_file(const char* path, size_t max_size) {
  UniqueFd fd(static_cast<int>(check_syscall(::open(path, O_RDONLY | O_CLOEXEC), std::string("opening ") + path)));
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_size) throw Error(std::string(path) + " is too long");
  }
  if (n < 0) throw SystemError(std::string("reading ") + path, errno);
  return text;
}

void mount_early_filesystems() {
  for (const char* dir : {"/proc", "/sys", "/dev"}) make_dir(dir, 0755);
  mount_or_throw("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mounting /proc");
  mount_or_throw("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "mounting /sys");
  mount_or_throw("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", "mounting /dev");
}

void load_modules() {
  utsname uts{};
  check_syscall(::uname(&uts), "uname");
  std::string dir = std::string("/lib/modules/") + uts.release + "/";
  images::ModuleIndex index = images::ModuleIndex::parse(
      read_text(dir + "modules.dep", kMaxIndexFile), read_text(dir + "modules.softdep", kMaxIndexFile),
      read_text(dir + "modules.alias", kMaxIndexFile), read_text(dir + "modules.builtin", kMaxIndexFile));
  std::vector<std::string_view> wanted(images::kGuestModules.begin(), images::kGuestModules.end());
  for (const images::ModuleLoad& module : index.load_order(wanted)) {
    UniqueFd fd(::open((dir + module.path).c_str(), O_RDONLY | O_CLOEXEC));
    int err = 0;
    if (!fd) err = errno;
    else if (::syscall(SYS_finit_module, fd.get(), "", 0) != 0 && errno != EEXIST) err = errno;
    if (err != 0 && module.required) throw SystemError("loading kernel module " + module.path, err);
  }
}

dev_t wait_for_disk() {
  auto deadline = std::chrono::steady_clock::now() + kDiskWait;
  while (std::chrono::steady_clock::now() < deadline) {
    UniqueFd fd(::open(kDiskSysfs, O_RDONLY | O_CLOEXEC));
    if (fd) {
      char text[32] = {};
      ssize_t n = ::read(fd.get(), text, sizeof text - 1);
      unsigned maj = 0, min = 0;
      if (n > 0 && std::sscanf(text, "%u:%u", &maj, &min) == 2) return makedev(maj, min);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw Error("the image disk (virtio-blk /dev/vda) did not appear");
}

// Mounts the verified (and decrypted) filesystem with a tmpfs overlay at
// kNewRoot and returns the manifest read from the verified (lower) layer.
images::Manifest mount_image(dev_t image) {
  ::unlink(kImageNode);
  check_syscall(::mknod(kImageNode, S_IFBLK | 0600, image), "creating the image device node");
  for (const char* dir : {"/mnt", kLower, kWritable, kNewRoot}) make_dir(dir, 0755);
  mount_or_throw(kImageNode, kLower, "erofs", MS_RDONLY, "", "mounting the image filesystem (erofs)");
  mount_or_throw("tmpfs", kWritable, "tmpfs", 0, "mode=0755", "mounting the overlay's tmpfs");
  make_dir(std::string(kWritable) + "/upper", 0755);
  make_dir(std::string(kWritable) + "/work", 0755);
  mount_or_throw("overlay", kNewRoot, "overlay", 0,
                 std::string("lowerdir=") + kLower + ",upperdir=" + kWritable + "/upper,workdir=" + kWritable + "/work",
                 "mounting the overlay");
  std::string manifest_path = std::string(kLower) + "/" + std::string(images::kManifestPath);
  return images::parse_manifest(read_text(manifest_path, kMaxManifest));
}

// Moves the early mounts into the new root and makes it "/".
void switch_root() {
  for (std::string dir : {"/dev", "/proc", "/sys"}) {
    make_dir(kNewRoot + dir, 0755);
    mount_or_throw(dir.c_str(), kNewRoot + dir, nullptr, MS_MOVE, "", "moving " + dir + " into the image");
  }
  check_syscall(::chdir(kNewRoot), "entering the image root");
  mount_or_throw(".", "/", nullptr, MS_MOVE, "", "moving the image root to /");
  check_syscall(::chroot("."), "chroot into the image");
  check_syscall(::chdir("/"), "chdir /");
  make_dir("/run", 0755);
  make_dir("/tmp", 01777);
  mount_or_throw("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", "mounting /run");
  mount_or_throw("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", "mounting /tmp");
}

// What the child reports through its close-on-exec pipe when it fails before
// or at execve.
struct ChildFailure {
  int step;  // 0: chdir, 1: identity, 2: execve
  int error;
};

[[noreturn]] void run_child(const WorkloadPlan& plan, const std::string& path, int out, int err, int failure_pipe) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  ::dup2(null, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  auto fail = [&](int step) {
    ChildFailure failure{step, errno};
    (void)!::write(failure_pipe, &failure, sizeof failure);
    ::_exit(127);
  };
  if (::chdir(plan.workdir.c_str()) != 0) fail(0);
  if (::setgroups(0, nullptr) != 0 || ::setgid(plan.gid) != 0 || ::setuid(plan.uid) != 0) fail(1);
  std::vector<char*> argv, envp;
  for (const std::string& a : plan.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (const std::string& e : plan.env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  fail(2);
  ::_exit(127);
}

StatusMessage failure_status(const ChildFailure& failure, const std::string& path, const WorkloadPlan& plan) {
  std::string why = std::strerror(failure.error);
  if (failure.step == 0) return {StatusKind::kSetupFailed, 0, "cannot enter workdir " + plan.workdir + ": " + why};
  if (failure.step == 1) return {StatusKind::kSetupFailed, 0, "cannot switch to the manifest's user: " + why};
  if (failure.error == ENOENT) return {StatusKind::kNotFound, 0, "entrypoint " + path + " not found: " + why};
  if (failure.error == EACCES || failure.error == ENOEXEC || failure.error == EISDIR || failure.error == EPERM)
    return {StatusKind::kNotExecutable, 0, "entrypoint " + path + " cannot be executed: " + why};
  return {StatusKind::kSetupFailed, 0, "executing " + path + ": " + why};
}

// Reads what is in `fd` now; returns false at end of file.
bool relay(int from, int to) {
  char buffer[16384];
  ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (to >= 0) write_all(to, buffer, static_cast<size_t>(n));
  return true;
}

void drain(int from, int to) {
  ::fcntl(from, F_SETFL, O_NONBLOCK);
  char buffer[16384];
  ssize_t n;
  while ((n = ::read(from, buffer, sizeof buffer)) > 0)
    if (to >= 0) write_all(to, buffer, static_cast<size_t>(n));
}

// Runs the workload to its end; stays PID 1 meanwhile: reaps every child and
// forwards termination signals to the workload.
StatusMessage run_workload(const WorkloadPlan& plan, int stdout_port, int stderr_port, int status_port) {
  std::optional<std::string> path = find_executable(plan.argv.at(0), plan.env, [](const std::string& p) {
    struct stat st{};
    return ::stat(p.c_str(), &st) == 0;
  });
  if (!path) return {StatusKind::kNotFound, 0, "entrypoint " + plan.argv[0] + " not found in PATH"};

  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (int sig : kForwardedSignals) sigaddset(&handled, sig);
  check_syscall(::sigprocmask(SIG_BLOCK, &handled, nullptr), "blocking signals");
  UniqueFd signals(static_cast<int>(check_syscall(::signalfd(-1, &handled, SFD_CLOEXEC), "signalfd")));

  int out[2], err[2], failure[2];
  check_syscall(::pipe2(out, O_CLOEXEC), "pipe");
  check_syscall(::pipe2(err, O_CLOEXEC), "pipe");
  check_syscall(::pipe2(failure, O_CLOEXEC), "pipe");
  UniqueFd out_read(out[0]), out_write(out[1]), err_read(err[0]), err_write(err[1]);
  UniqueFd failure_read(failure[0]), failure_write(failure[1]);

  pid_t child = static_cast<pid_t>(check_syscall(::fork(), "fork"));
  if (child == 0) run_child(plan, *path, out_write.get(), err_write.get(), failure_write.get());
  out_write.reset();
  err_write.reset();
  failure_write.reset();

  ChildFailure child_failure{};
  if (::read(failure_read.get(), &child_failure, sizeof child_failure) == sizeof child_failure) {
    ::waitpid(child, nullptr, 0);
    return failure_status(child_failure, *path, plan);
  }
  std::string started = encode_status({StatusKind::kStarted, 0, {}});
  write_all(status_port, started.data(), started.size());

  int to_stdout = plan.console_output ? stdout_port : -1;
  int to_stderr = plan.console_output ? stderr_port : -1;
  bool out_open = true, err_open = true;
  std::optional<int> wait_status;
  while (!wait_status) {
    pollfd fds[3] = {{signals.get(), POLLIN, 0}, {out_open ? out_read.get() : -1, POLLIN, 0},
                     {err_open ? err_read.get() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw SystemError("poll", errno);
    }
    if (fds[1].revents) out_open = relay(out_read.get(), to_stdout);
    if (fds[2].revents) err_open = relay(err_read.get(), to_stderr);
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo info{};
    if (::read(signals.get(), &info, sizeof info) != sizeof info) continue;
    if (info.ssi_signo != SIGCHLD) {
      ::kill(child, static_cast<int>(info.ssi_signo));
      continue;
    }
    int status = 0;
    pid_t reaped;
    while ((reaped = ::waitpid(-1, &status, WNOHANG)) > 0)
      if (reaped == child) wait_status = status;
  }
  // The workload is gone: pass on what it left in the pipes, then stop
  // (a background process still holding them open does not keep the VM up).
  drain(out_read.get(), to_stdout);
  drain(err_read.get(), to_stderr);
  if (WIFSIGNALED(*wait_status)) return {StatusKind::kKilled, WTERMSIG(*wait_status), {}};
  return {StatusKind::kExited, WEXITSTATUS(*wait_status), {}};
}

// Attests to the broker through the launcher and puts dm-crypt over verity
// with the released key, which lives only in the kernel afterwards.
dev_t unlock_image(DeviceMapper& mapper, const images::GuestParams& params, dev_t verity) {
  UniqueFd port = open_port(kAttestationPort, O_RDWR);
  FrameStream channel(port.get());
  ChannelTransport transport(channel);
  auto exists = [](const char* path) { return ::access(path, F_OK) == 0; };
  KernelTsmFs tsm;
  KernelSevGuestDevice sev_guest(kSevGuestDevice);
  std::unique_ptr<attest::kbs::EvidenceProvider> evidence =
      make_evidence_provider(*params.key_release, channel, exists, tsm, sev_guest);
  std::vector<uint8_t> key = obtain_image_key(*params.key_release, transport, *evidence, [] { return std::time(nullptr); });
  struct Wipe {
    std::vector<uint8_t>& key;
    ~Wipe() { explicit_bzero(key.data(), key.size()); }
  } wipe{key};
  return setup_crypt(mapper, params.verity, verity, key);
}

bool verity_device_reports_corruption() {
  try {
    KernelDmControl control;
    DeviceMapper mapper(control);
    return verity_found_corruption(mapper);
  } catch (const Error&) {
    return false;  // no verity device (yet): nothing to report
  }
}

constexpr const char* kIntegrityFailure =
    "the image failed integrity verification: dm-verity found a block that does not match the root hash";

[[noreturn]] void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  for (;;) ::pause();
}

void send_final(int status_port, int stdout_port, int stderr_port, const StatusMessage& message) {
  // Drained ports mean the host has every byte of output before the status.
  for (int fd : {stdout_port, stderr_port})
    if (fd >= 0) ::tcdrain(fd);
  if (status_port < 0) return;
  std::string line = encode_status(message);
  write_all(status_port, line.data(), line.size());
  ::tcdrain(status_port);
}

int guest_main() {
  UniqueFd status_port, stdout_port, stderr_port;
  StatusMessage final_status;
  try {
    if (::getpid() != 1) throw Error("must run as PID 1 of the guest");
    mount_early_filesystems();
    status_port = open_port(kStatusPort);
    stdout_port = open_port(kStdoutPort);
    stderr_port = open_port(kStderrPort);
    images::GuestParams params = images::parse_kernel_cmdline(read_proc_file("/proc/cmdline", 8192));
    load_modules();
    dev_t disk = wait_for_disk();
    KernelDmControl control;
    DeviceMapper mapper(control);
    dev_t image = setup_verity(mapper, params.verity, disk);
    if (params.key_release) image = unlock_image(mapper, params, image);
    images::Manifest manifest = mount_image(image);
    switch_root();
    WorkloadPlan plan = plan_workload(manifest);
    final_status = run_workload(plan, stdout_port.get(), stderr_port.get(), status_port.get());
    if (verity_device_reports_corruption()) final_status = {StatusKind::kSetupFailed, 0, kIntegrityFailure};
  } catch (const std::exception& e) {
    std::string reason = e.what();
    if (verity_device_reports_corruption()) reason = std::string(kIntegrityFailure) + " (" + reason + ")";
    final_status = {StatusKind::kSetupFailed, 0, reason};
  }
  if (final_status.kind == StatusKind::kSetupFailed || final_status.kind == StatusKind::kNotFound ||
      final_status.kind == StatusKind::kNotExecutable)
    std::fprintf(stderr, "shelter-init: error: %s\n", final_status.reason.c_str());
  send_final(status_port.get(), stdout_port.get(), stderr_port.get(), final_status);
  power_off();
}

}  // namespace
}  // namespace shelter::guest

int main() { return shelter::guest::guest_main(); }
