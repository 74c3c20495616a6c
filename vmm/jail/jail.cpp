#include "vmm/jail/jail.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"
#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::jail {
namespace {

namespace fs = std::filesystem;

// Where the new root is assembled: any existing directory does, since the
// tmpfs mounted on it is private to the new mount namespace and becomes "/"
// at the pivot. Sources are opened (O_PATH) before it hides anything.
constexpr const char* kStagingDir = "/tmp";
constexpr const char* kJailHostname = "shelter-vm";
constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr uint64_t kCpuPeriodUs = 100000;

// The signals the reaper passes on to the VMM, and for which the VMM, as
// PID 1 of its namespace (where default actions are ignored), installs a
// handler that ends it as the default action would have.
constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

volatile sig_atomic_t vmm_pid = 0;

void forward_signal(int signal) {
  if (vmm_pid > 0) ::kill(vmm_pid, signal);
}

void end_as_by_signal(int signal) { ::_exit(128 + signal); }

void set_handlers(void (*handler)(int)) {
  for (int signal : kForwardedSignals) {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(signal, &action, nullptr);
  }
}

// Writes text to a cgroup control file; false (with errno) when the kernel refuses it.
bool write_control(const fs::path& file, const std::string& text) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// This process's cgroup v2 path (the "0::" line), below kCgroupRoot.
std::optional<fs::path> own_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("0::", 0) == 0) return fs::path(kCgroupRoot) / fs::path(line.substr(3)).relative_path();
  return std::nullopt;
}

// The VMM's cgroup: a child of this process's group with cpu.max and
// memory.max, made before the VMM exists so that it can be born in it.
struct VmmCgroup {
  fs::path path;
  UniqueFd directory;  // for clone3's CLONE_INTO_CGROUP
};

// nullopt (with a debug line) where cgroup v2 is absent or not writable.
std::optional<VmmCgroup> make_cgroup(const JailConfig& config) {
  std::error_code ignored;
  if (!fs::exists(fs::path(kCgroupRoot) / "cgroup.controllers", ignored) || ::access(kCgroupRoot, W_OK) != 0) {
    spdlog::debug("jail: no writable cgroup v2 at {}; the VMM runs without cpu.max and memory.max", kCgroupRoot);
    return std::nullopt;
  }
  std::optional<fs::path> parent = own_cgroup();
  if (!parent) {
    spdlog::debug("jail: this process is in no cgroup v2 group; no cgroup limits");
    return std::nullopt;
  }
  fs::path group = *parent / ("shelter-vm-" + std::to_string(::getpid()));
  if (::mkdir(group.c_str(), 0755) != 0) {
    spdlog::debug("jail: cannot create cgroup {}: {}; no cgroup limits", group.string(), std::strerror(errno));
    return std::nullopt;
  }
  std::string cpu_max = std::to_string(config.cpus * kCpuPeriodUs) + " " + std::to_string(kCpuPeriodUs);
  bool limited = write_control(group / "cpu.max", cpu_max) &&
                 (config.memory_limit_bytes == 0 ||
                  write_control(group / "memory.max", std::to_string(config.memory_limit_bytes)));
  UniqueFd directory(limited ? ::open(group.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC) : -1);
  if (!directory) {
    spdlog::debug("jail: cgroup {} refused a limit ({}); no cgroup limits", group.string(), std::strerror(errno));
    ::rmdir(group.c_str());
    return std::nullopt;
  }
  return VmmCgroup{group, std::move(directory)};
}

// Forks the VMM, inside cgroup where there is one. clone3's
// CLONE_INTO_CGROUP (Linux 5.7) places the child at its birth; moving a
// running process (writing cgroup.procs) waits for an RCU grace period,
// which was most of the jail's start-up time. Where clone3 fails (older
// kernels, seccomp profiles that answer ENOSYS) the VMM is moved after a fork.
pid_t fork_vmm(const std::optional<VmmCgroup>& cgroup) {
  if (cgroup) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup->directory.get());
    // This process has one thread here, so a raw clone3 leaves the child's
    // C library state as consistent as fork() would.
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) return static_cast<pid_t>(pid);
    spdlog::debug("jail: clone3 into cgroup {} failed ({}); moving the VMM there after a fork",
                  cgroup->path.string(), std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid > 0 && cgroup && !write_control(cgroup->path / "cgroup.procs", std::to_string(pid)))
    spdlog::debug("jail: cgroup {} refused the VMM ({}); no cgroup limits", cgroup->path.string(),
                  std::strerror(errno));
  return pid;
}

struct Bind {
  fs::path target;
  UniqueFd source;  // O_PATH
  unsigned long flags;
};

std::vector<Bind> open_binds(const JailConfig& config) {
  std::vector<Bind> binds;
  auto add = [&](const std::vector<fs::path>& paths, unsigned long flags) {
    for (const fs::path& path : paths) {
      fs::path absolute = fs::absolute(path).lexically_normal();
      UniqueFd fd(::open(absolute.c_str(), O_PATH | O_CLOEXEC));
      if (!fd) {
        if (errno == ENOENT) continue;  // the VMM reports the missing path itself
        throw SystemError("jail: cannot open " + absolute.string(), errno);
      }
      binds.push_back(Bind{absolute, std::move(fd), flags});
    }
  };
  add(config.devices, MS_NOSUID | MS_NOEXEC);
  add(config.read_only_files, MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC);
  add(config.read_write_files, MS_NODEV | MS_NOSUID | MS_NOEXEC);
  // Outer paths first: a bind inside a bound directory (a read-only disk in
  // the vsock socket's directory) must land on top, not be hidden by it.
  std::stable_sort(binds.begin(), binds.end(), [](const Bind& a, const Bind& b) {
    return std::distance(a.target.begin(), a.target.end()) < std::distance(b.target.begin(), b.target.end());
  });
  return binds;
}

void make_mount_point(const fs::path& point, int source_fd) {
  struct stat st {};
  check_syscall(::fstat(source_fd, &st), "jail: fstat " + point.string());
  fs::create_directories(point.parent_path());
  if (S_ISDIR(st.st_mode)) {
    fs::create_directory(point);
  } else {
    UniqueFd created(::open(point.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    if (!created) throw SystemError("jail: cannot create the mount point " + point.string(), errno);
  }
}

// An empty tmpfs root with the binds at their own paths, read-only itself,
// then pivoted into; the old root is detached. The working directory is
// recreated (empty) so that relative paths to bound files still resolve.
void build_root(std::vector<Bind>& binds) {
  fs::path working_directory = fs::current_path();
  check_syscall(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "jail: making mounts private");
  check_syscall(::mount("tmpfs", kStagingDir, "tmpfs", MS_NODEV | MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k"),
                "jail: mounting the root tmpfs");
  for (Bind& bind : binds) {
    fs::path point = fs::path(kStagingDir) / bind.target.relative_path();
    make_mount_point(point, bind.source.get());
    std::string source = "/proc/self/fd/" + std::to_string(bind.source.get());
    check_syscall(::mount(source.c_str(), point.c_str(), nullptr, MS_BIND, nullptr),
                  "jail: binding " + bind.target.string());
    check_syscall(::mount(nullptr, point.c_str(), nullptr, MS_BIND | MS_REMOUNT | bind.flags, nullptr),
                  "jail: restricting " + bind.target.string());
    bind.source.reset();
  }
  fs::create_directories(fs::path(kStagingDir) / working_directory.relative_path());
  check_syscall(
      ::mount(nullptr, kStagingDir, nullptr, MS_REMOUNT | MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC, nullptr),
      "jail: making the root read-only");
  check_syscall(::chdir(kStagingDir), "jail: chdir to the new root");
  check_syscall(::syscall(SYS_pivot_root, ".", "."), "jail: pivot_root");
  check_syscall(::umount2(".", MNT_DETACH), "jail: detaching the old root");
  check_syscall(::chdir(working_directory.c_str()), "jail: chdir to the working directory");
}

// Runs in the VMM's process, right after the fork.
void enter_namespaces_and_root(const JailConfig& config, int go_fd) {
  check_syscall(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "jail: prctl(PR_SET_PDEATHSIG)");
  char go = 0;
  if (::read(go_fd, &go, 1) != 1) ::_exit(125);  // the reaper died before letting the VMM go
  ::close(go_fd);
  int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (config.new_network_namespace ? CLONE_NEWNET : 0);
  check_syscall(::unshare(flags), "jail: unshare");
  check_syscall(::sethostname(kJailHostname, std::strlen(kJailHostname)), "jail: sethostname");
  std::vector<Bind> binds = open_binds(config);
  build_root(binds);
  set_handlers(end_as_by_signal);
}

int wait_for_vmm(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw SystemError("jail: waitpid for the VMM", errno);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int signal = WTERMSIG(status);
  if (signal == SIGSYS)
    spdlog::error("the jailed VMM was killed by SIGSYS: a forbidden system call");
  else
    spdlog::error("the jailed VMM was killed by signal {} ({})", signal, ::strsignal(signal));
  return signal == SIGSYS ? kViolationExitStatus : 128 + signal;
}

}  // namespace

JailIdentity default_jail_identity() {
  // /etc/passwd read directly (fgetpwent), not through NSS: NSS loads shared
  // modules, which a statically linked VMM cannot (and a jail user is local).
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen("/etc/passwd", "re"), &std::fclose);
  if (file) {
    while (const passwd* user = ::fgetpwent(file.get()))
      if (std::strcmp(user->pw_name, "shelter") == 0) return {user->pw_uid, user->pw_gid};
  }
  return {65534, 65534};
}

std::optional<int> enter_jail(const JailConfig& config) {
  if (::geteuid() != 0)
    throw VmmError("the VMM jail needs root to create its namespaces (run as root, or --no-jail to debug)");
  // The reaper keeps its own PID namespace for any later child (the
  // sanitizers' leak checker clones one at exit): only the VMM is forked
  // into the new one.
  UniqueFd own_pid_namespace(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
  if (!own_pid_namespace) throw SystemError("jail: opening /proc/self/ns/pid", errno);
  check_syscall(::unshare(CLONE_NEWPID), "jail: unshare(CLONE_NEWPID)");
  int go[2];
  check_syscall(::pipe2(go, O_CLOEXEC), "jail: pipe");
  UniqueFd go_read(go[0]), go_write(go[1]);
  std::optional<VmmCgroup> cgroup = make_cgroup(config);
  pid_t pid = fork_vmm(cgroup);
  if (pid < 0) {
    int error = errno;
    if (cgroup) ::rmdir(cgroup->path.c_str());
    throw SystemError("jail: fork", error);
  }
  if (pid == 0) {
    go_write.reset();
    cgroup.reset();  // no handle on a host directory inside the jail
    enter_namespaces_and_root(config, go_read.release());
    return std::nullopt;
  }
  go_read.reset();
  check_syscall(::setns(own_pid_namespace.get(), CLONE_NEWPID), "jail: setns back to the reaper's PID namespace");
  vmm_pid = pid;
  set_handlers(forward_signal);
  char go_byte = 1;
  [[maybe_unused]] ssize_t written = ::write(go_write.get(), &go_byte, 1);
  go_write.reset();
  int status = wait_for_vmm(pid);
  for (int signal : kForwardedSignals) ::signal(signal, SIG_DFL);
  vmm_pid = 0;
  if (cgroup) ::rmdir(cgroup->path.c_str());
  return status;
}

void drop_privileges(const JailConfig& config) {
  rlimit files{kJailOpenFileLimit, kJailOpenFileLimit};
  check_syscall(::setrlimit(RLIMIT_NOFILE, &files), "jail: setrlimit(RLIMIT_NOFILE)");
  rlimit no_core{0, 0};
  check_syscall(::setrlimit(RLIMIT_CORE, &no_core), "jail: setrlimit(RLIMIT_CORE)");
  check_syscall(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "jail: prctl(PR_SET_NO_NEW_PRIVS)");
  for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(cap_max_bits()); ++cap)
    check_syscall(cap_drop_bound(cap), "jail: dropping capability " + std::to_string(cap) + " from the bounding set");
  check_syscall(cap_reset_ambient(), "jail: clearing the ambient capabilities");
  check_syscall(::setgroups(0, nullptr), "jail: setgroups");
  check_syscall(::setresgid(config.identity.gid, config.identity.gid, config.identity.gid), "jail: setresgid");
  check_syscall(::setresuid(config.identity.uid, config.identity.uid, config.identity.uid), "jail: setresuid");
  // The credential change cleared the parent-death signal; the VMM must
  // still end with its reaper.
  check_syscall(::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "jail: prctl(PR_SET_PDEATHSIG)");
  cap_t none = cap_init();
  if (none == nullptr) throw SystemError("jail: cap_init", errno);
  int rc = cap_set_proc(none);
  int error = errno;
  cap_free(none);
  if (rc != 0) throw SystemError("jail: dropping every capability", error);
  // Guest memory must never land in a core file or be read through /proc;
  // set after the uid change, which resets the flag.
  check_syscall(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "jail: prctl(PR_SET_DUMPABLE)");
  // State libraries create lazily, with system calls no thread may make
  // later: spdlog's default logger asks whether stderr is a terminal, the
  // time functions read the zone file.
  spdlog::default_logger();
  ::tzset();
  arm_thread_filters(config.seccomp);
}

}  // namespace shelter::vmm::jail
