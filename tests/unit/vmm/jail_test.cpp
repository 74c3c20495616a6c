// The jail, run for real in forked children (this machine has no /dev/kvm,
// so the jailed VMM runs over the fake KvmApi): the seccomp tables compile,
// allowed calls pass and a forbidden one ends the process with the named
// report and 125, filters apply per thread, and a jailed VMM has no
// capabilities, no_new_privs, a filter on every thread, an unprivileged uid
// and a mount table holding only its root and the files it was given.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <chrono>
#include <fstream>
#include <functional>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "tests/support/jail_support.h"
#include "tests/support/proc_status.h"
#include "tests/unit/vmm/fake_kvm_api.h"
#include "tests/unit/vmm/forbidden_call_port.h"
#include "vmm/devices/legacy/terminal_input.h"
#include "vmm/devices/pseudo/exit_port.h"
#include "vmm/jail/jail.h"
#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/uapi.h"
#include "vmm/machine.h"

namespace shelter::vmm::jail {
namespace {

const std::string kProbeDir = SHELTER_PROBE_DIR;

struct ChildResult {
  int status = -1;  // exit status, or 128+N when signal N killed it
  std::string err;
};

// Runs body in a forked child with stderr on a pipe; the child ends with
// body's return value (1 when it throws, after printing why).
ChildResult run_in_child(const std::function<int()>& body) {
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err_pipe[1], STDERR_FILENO);
    int status = 1;
    try {
      status = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child threw: %s\n", e.what());
    }
    ::_exit(status);
  }
  ::close(err_pipe[1]);
  ChildResult result;
  char buffer[512];
  for (ssize_t n; (n = ::read(err_pipe[0], buffer, sizeof buffer)) > 0;) result.err.append(buffer, static_cast<size_t>(n));
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string violation_line(const std::string& kind, const std::string& call, int nr) {
  return "shelter: error: seccomp: the " + kind + " thread made a forbidden system call: " + call + " (" +
         std::to_string(nr) + ")\n";
}

TEST(SeccompPolicy, EveryKindHasATableWithReasonsAndCompiles) {
  ASSERT_EQ(thread_policies().size(), 4u);
  for (size_t i = 0; i < thread_policies().size(); ++i) {
    const ThreadPolicy& policy = thread_policies()[i];
    EXPECT_EQ(static_cast<size_t>(policy.kind), i) << policy.name;
    for (const AllowedCall& call : policy.calls) EXPECT_GT(std::string(call.reason).size(), 10u) << call.name;
    EXPECT_FALSE(compile_filter(policy.kind, SeccompMode::kKill, ::getpid()).empty()) << policy.name;
  }
  for (const AllowedCall& call : common_calls()) EXPECT_GT(std::string(call.reason).size(), 10u) << call.name;
}

TEST(SeccompPolicy, PseudoFilterCodeShowsTheTableAndTheDefaultAction) {
  std::string vcpu = filter_text(ThreadKind::kVcpu, SeccompMode::kKill, ::getpid());
  // The default action traps (SIGSYS report); KVM_RUN and KVM_IRQ_LINE are the
  // only KVM requests a vCPU may make.
  EXPECT_NE(vcpu.find("action TRAP"), std::string::npos) << vcpu;
  EXPECT_NE(vcpu.find("# invalid architecture action\naction KILL_PROCESS;"), std::string::npos) << vcpu;
  EXPECT_NE(vcpu.find("\"ioctl\""), std::string::npos) << vcpu;
  EXPECT_NE(vcpu.find("$a1.lo32 == " + std::to_string(KVM_RUN)), std::string::npos) << vcpu;
  EXPECT_NE(vcpu.find("$a1.lo32 == " + std::to_string(KVM_IRQ_LINE)), std::string::npos) << vcpu;
  EXPECT_EQ(vcpu.find("$a1.lo32 == " + std::to_string(KVM_CREATE_VCPU)), std::string::npos) << vcpu;
  EXPECT_EQ(vcpu.find("\"read\""), std::string::npos) << vcpu;
  EXPECT_EQ(vcpu.find("\"accept4\""), std::string::npos) << vcpu;
  // The MSI-X route and the doorbells' move are the vCPU's other KVM requests.
  EXPECT_NE(vcpu.find("$a1.lo32 == " + std::to_string(shelter::vmm::kvm::uapi::kSetGsiRouting)), std::string::npos);
  EXPECT_NE(vcpu.find("$a1.lo32 == " + std::to_string(KVM_IOEVENTFD)), std::string::npos) << vcpu;
  std::string device = filter_text(ThreadKind::kDevice, SeccompMode::kKill, ::getpid());
  // The device thread serves queues and waits for doorbells, but never runs the guest.
  EXPECT_NE(device.find("\"epoll_wait\""), std::string::npos) << device;
  EXPECT_NE(device.find("\"pread64\""), std::string::npos) << device;
  EXPECT_NE(device.find("$a1.lo32 == " + std::to_string(KVM_IRQ_LINE)), std::string::npos) << device;
  EXPECT_EQ(device.find("$a1.lo32 == " + std::to_string(KVM_RUN)), std::string::npos) << device;
  EXPECT_EQ(device.find("$a1.lo32 == " + std::to_string(KVM_IOEVENTFD)), std::string::npos) << device;
  std::string terminal = filter_text(ThreadKind::kTerminalInput, SeccompMode::kLog, ::getpid());
  EXPECT_NE(terminal.find("action LOG"), std::string::npos) << terminal;
  EXPECT_NE(terminal.find("\"read\""), std::string::npos) << terminal;
  EXPECT_EQ(terminal.find("$a1.lo32 == " + std::to_string(KVM_RUN)), std::string::npos) << terminal;
}

TEST(ThreadFilter, AllowedCallsPassAndAForbiddenOneIsNamedWithStatus125) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kKill);
    enter_thread(ThreadKind::kVcpu);
    std::vector<char> big(8 << 20, 'x');  // malloc's mmap, then munmap
    if (::ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF) return 2;  // allowed: the kernel answers
    std::fprintf(stderr, "allowed calls passed\n");
    ::socket(AF_INET, SOCK_STREAM, 0);
    return 3;
  });
  EXPECT_EQ(r.status, kViolationExitStatus) << r.err;
  EXPECT_EQ(r.err, "allowed calls passed\n" + violation_line("vcpu", "socket", SYS_socket));
}

TEST(ThreadFilter, TheDeviceThreadServesQueuesButCannotRunTheGuest) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kKill);
    enter_thread(ThreadKind::kDevice);
    char byte;
    if (::pread(-1, &byte, 1, 0) != -1 || errno != EBADF) return 2;  // allowed: the kernel answers
    if (::getrandom(&byte, 1, 0) != 1) return 2;
    UniqueFd unix_socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!unix_socket) return 2;
    std::fprintf(stderr, "allowed calls passed\n");
    ::ioctl(-1, KVM_RUN, 0);
    return 3;
  });
  EXPECT_EQ(r.status, kViolationExitStatus) << r.err;
  EXPECT_EQ(r.err, "allowed calls passed\n" + violation_line("device", "ioctl", SYS_ioctl));
}

TEST(ThreadFilter, AnIoctlRequestOutsideTheListIsForbidden) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kKill);
    enter_thread(ThreadKind::kVcpu);
    ::ioctl(-1, KVM_CREATE_VCPU, 0);
    return 3;
  });
  EXPECT_EQ(r.status, kViolationExitStatus) << r.err;
  EXPECT_EQ(r.err, violation_line("vcpu", "ioctl", SYS_ioctl));
}

TEST(ThreadFilter, ExecutableMemoryIsForbidden) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kKill);
    enter_thread(ThreadKind::kTerminalInput);
    ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return 3;
  });
  EXPECT_EQ(r.status, kViolationExitStatus) << r.err;
  EXPECT_EQ(r.err, violation_line("terminal-input", "mmap", SYS_mmap));
}

TEST(ThreadFilter, LogModeLetsAForbiddenCallThrough) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kLog);
    enter_thread(ThreadKind::kVcpu);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    return fd >= 0 ? 0 : 4;
  });
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

using shelter::testing::status_fields;
using shelter::testing::task_ids;

TEST(ThreadFilter, EachThreadGetsItsOwnFilterAndNoOtherThreadIsTouched) {
  ChildResult r = run_in_child([] {
    arm_thread_filters(SeccompMode::kKill);
    std::string main_status = "/proc/self/task/" + std::to_string(::gettid()) + "/status";
    std::mutex hold;
    std::atomic<pid_t> vcpu_tid{0};
    hold.lock();
    std::thread vcpu([&] {
      enter_thread(ThreadKind::kVcpu);
      vcpu_tid = ::gettid();
      std::lock_guard wait_for_main(hold);  // futex only: allowed
    });
    while (vcpu_tid == 0) {
    }
    std::fprintf(stderr, "vcpu thread Seccomp %s\n",
                 status_fields("/proc/self/task/" + std::to_string(vcpu_tid) + "/status")["Seccomp"].c_str());
    hold.unlock();
    vcpu.join();
    // The main thread was not given the vCPU's filter: it still opens files.
    std::fprintf(stderr, "main thread Seccomp %s\n", status_fields(main_status)["Seccomp"].c_str());
    std::thread forbidden([] {
      enter_thread(ThreadKind::kVcpu);
      ::socket(AF_INET, SOCK_STREAM, 0);
    });
    forbidden.join();
    return 3;
  });
  EXPECT_EQ(r.status, kViolationExitStatus) << r.err;
  EXPECT_EQ(r.err, "vcpu thread Seccomp 2\nmain thread Seccomp 0\n" + violation_line("vcpu", "socket", SYS_socket));
}

TEST(ThreadFilter, TheTerminalInputThreadCopiesKeystrokesUnderItsFilter) {
  struct NullSink final : devices::ByteSink {
    void write(uint8_t) override {}
  };
  struct NullLine final : devices::InterruptLine {
    void set_level(bool) override {}
  };
  ChildResult r = run_in_child([] {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) return 2;
    int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (terminal < 0) return 2;
    arm_thread_filters(SeccompMode::kKill);
    NullSink sink;
    NullLine line;
    devices::Serial serial(sink, line);
    std::string text;
    {
      devices::TerminalInput input(terminal, serial);  // its thread applies the terminal-input filter
      const std::string typed = "more than the sixteen-byte FIFO holds\n";
      if (::write(master, typed.data(), typed.size()) != static_cast<ssize_t>(typed.size())) return 2;
      for (int tries = 0; text.size() < typed.size() && tries < 20000; ++tries) {
        uint8_t lsr = 0, data = 0;
        serial.read(devices::Serial::kLsr, std::span(&lsr, 1));
        if (lsr & devices::Serial::kLsrDataReady) {
          serial.read(devices::Serial::kData, std::span(&data, 1));
          text.push_back(static_cast<char>(data));
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    }
    std::fprintf(stderr, "%s", text.c_str());
    return 0;
  });
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "more than the sixteen-byte FIFO holds\n");
}

#define REQUIRE_JAIL()                                                               \
  do {                                                                               \
    if (std::string why = shelter::testing::jail_unavailable_reason(); !why.empty()) \
      GTEST_SKIP() << why;                                                           \
  } while (0)

struct StderrSink final : devices::ByteSink {
  void write(uint8_t byte) override { [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, &byte, 1); }
};

JailConfig jail_config(const std::string& kernel) {
  JailConfig config;
  config.identity = default_jail_identity();
  config.read_only_files = {kernel};
  config.memory_limit_bytes = 256ull << 20;
  return config;
}

VmConfig vm_config(const std::string& kernel, unsigned cpus) {
  VmConfig c;
  c.kernel = kernel;
  c.cmdline = "cpus=" + std::to_string(cpus);
  c.memory_mib = 64;
  c.cpus = cpus;
  return c;
}

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  return e;
}

// The VMM side of a jailed run over the fake KVM, as `shelter vm` does it:
// jail, build, drop privileges, run. Returns the VM's exit status (or the
// reaper's view of it), never returning from the VMM's process.
int run_jailed_machine(const std::string& kernel, unsigned cpus,
                       const std::function<void(testing::FakeKvmApi&, Machine&)>& prepare) {
  JailConfig config = jail_config(kernel);
  if (std::optional<int> status = enter_jail(config)) return *status;
  try {
    testing::FakeKvmApi api;
    api.supported_cpuid = {leaf(0), leaf(1), leaf(0xb, 0), leaf(0xb, 1)};
    StderrSink console;
    std::unique_ptr<Machine> machine = build_machine(api, vm_config(kernel, cpus), console);
    prepare(api, *machine);
    drop_privileges(config);
    devices::VmExit exit = machine->run();
    machine.reset();
    ::_exit(exit.reason == devices::VmExit::Reason::kExitPort ? exit.status : 100);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jailed VMM failed: %s\n", e.what());
    ::_exit(101);
  }
}

const std::string kProbe = kProbeDir + "/pvh-probe.elf";

TEST(JailedMachine, TheGuestsExitStatusPropagatesThroughTheReaper) {
  REQUIRE_JAIL();
  for (unsigned cpus : {1u, 2u}) {
    ChildResult r = run_in_child([cpus] {
      return run_jailed_machine(kProbe, cpus, [](testing::FakeKvmApi& api, Machine&) {
        api.script(0, {testing::io_exit(KVM_EXIT_IO_OUT, devices::kCom1Port, {'o', 'k', '\n'}),
                       testing::io_exit(KVM_EXIT_IO_OUT, devices::kExitPort, {42})});
      });
    });
    EXPECT_EQ(r.status, 42) << cpus << " vCPUs: " << r.err;
    EXPECT_EQ(r.err, "ok\n") << cpus << " vCPUs";
  }
}

TEST(JailedMachine, AForbiddenCallInADeviceEndsTheVmmNamingTheVcpuThread) {
  REQUIRE_JAIL();
  for (unsigned cpus : {1u, 2u}) {
    ChildResult r = run_in_child([cpus] {
      return run_jailed_machine(kProbe, cpus, [cpus](testing::FakeKvmApi& api, Machine& machine) {
        machine.io_bus().insert(testing::kForbiddenCallPort, 1, std::make_shared<testing::ForbiddenCallPort>());
        api.script(cpus - 1, {testing::io_exit(KVM_EXIT_IO_OUT, testing::kForbiddenCallPort, {1})});
      });
    });
    EXPECT_EQ(r.status, kViolationExitStatus) << cpus << " vCPUs: " << r.err;
    EXPECT_EQ(r.err, violation_line("vcpu", "socket", SYS_socket)) << cpus << " vCPUs";
  }
}

TEST(JailedMachine, AForbiddenCallOnTheDoorbellThreadEndsTheVmmNamingTheDeviceThread) {
  REQUIRE_JAIL();
  for (unsigned cpus : {1u, 2u}) {
    ChildResult r = run_in_child([cpus] {
      return run_jailed_machine(kProbe, cpus, [cpus](testing::FakeKvmApi& api, Machine& machine) {
        machine.io_bus().insert(testing::kForbiddenDoorbellPort, 1,
                                std::make_shared<testing::ForbiddenCallDoorbell>(machine.doorbells()));
        api.script(cpus - 1, {testing::io_exit(KVM_EXIT_IO_OUT, testing::kForbiddenDoorbellPort, {1})});
      });
    });
    EXPECT_EQ(r.status, kViolationExitStatus) << cpus << " vCPUs: " << r.err;
    EXPECT_EQ(r.err, violation_line("device", "socket", SYS_socket)) << cpus << " vCPUs";
  }
}

// The pid of the only child of parent, once it exists (0 if it never does).
pid_t wait_for_child_of(pid_t parent) {
  for (int attempt = 0; attempt < 5000; ++attempt) {
    if (pid_t found = shelter::testing::child_of(parent)) return found;
    ::usleep(2000);
  }
  return 0;
}

TEST(JailedMachine, EveryThreadIsFilteredWithoutCapabilitiesOrRootInAnEmptyRoot) {
  REQUIRE_JAIL();
  const unsigned cpus = 2;
  // The reaper's and the VMM's stderr, kept so that a VMM that ended early
  // says why.
  UniqueFd err(::memfd_create("jailed-vmm-stderr", MFD_CLOEXEC));
  ASSERT_TRUE(err);
  pid_t reaper = ::fork();
  if (reaper == 0) {
    ::dup2(err.get(), STDERR_FILENO);
    int status = 1;
    try {
      // No script: both vCPUs idle in (fake) KVM_RUN until the test ends them.
      status = run_jailed_machine(kProbe, cpus, [](testing::FakeKvmApi&, Machine&) {});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "threw: %s\n", e.what());
    }
    ::_exit(status);
  }
  ASSERT_GT(reaper, 0);
  struct EndReaper {  // the VMM follows its reaper (PR_SET_PDEATHSIG)
    pid_t pid;
    ~EndReaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } end_reaper{reaper};
  pid_t vmm = 0;
  auto what_happened = [&] {
    // WNOWAIT: the reaper stays a zombie, so that its pid cannot be reused
    // before EndReaper kills it.
    siginfo_t info{};
    bool ended = ::waitid(P_PID, static_cast<id_t>(reaper), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                 info.si_pid == reaper;
    std::string text = ended ? "the reaper ended (code " + std::to_string(info.si_code) + ", status " +
                                   std::to_string(info.si_status) + ")"
                             : "the reaper still runs";
    if (vmm > 0) {
      text += "; the VMM's threads:";
      for (const std::string& task : task_ids(vmm)) {
        auto fields = status_fields("/proc/" + std::to_string(vmm) + "/task/" + task + "/status");
        text += " " + task + " " + fields["Name"] + " (Seccomp " + fields["Seccomp"] + ")";
      }
    }
    char buffer[4096];
    ssize_t n = ::pread(err.get(), buffer, sizeof buffer, 0);
    return text + "; stderr: " + std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  };
  vmm = wait_for_child_of(reaper);
  ASSERT_GT(vmm, 0) << what_happened();
  // The threads: main, the doorbell (device) thread and the vCPUs. The main
  // thread applies its filter once the others exist: wait (boundedly) until
  // every thread reports one.
  std::vector<std::string> tasks;
  for (int attempt = 0; attempt < 5000; ++attempt) {
    tasks = task_ids(vmm);
    bool all_filtered = tasks.size() == 2 + cpus;
    for (const std::string& task : tasks)
      all_filtered = all_filtered &&
                     status_fields("/proc/" + std::to_string(vmm) + "/task/" + task + "/status")["Seccomp"] == "2";
    if (all_filtered) break;
    ::usleep(2000);
  }
  ASSERT_EQ(tasks.size(), 2 + cpus) << what_happened();
  JailIdentity identity = default_jail_identity();
  for (const std::string& task : tasks) {
    auto fields = status_fields("/proc/" + std::to_string(vmm) + "/task/" + task + "/status");
    EXPECT_EQ(fields["Seccomp"], "2") << "task " << task;
    EXPECT_EQ(fields["NoNewPrivs"], "1") << "task " << task;
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
      EXPECT_EQ(fields[set], "0000000000000000") << set << " of task " << task;
    std::string uid = std::to_string(identity.uid), gid = std::to_string(identity.gid);
    EXPECT_EQ(fields["Uid"], uid + "\t" + uid + "\t" + uid + "\t" + uid) << "task " << task;
    EXPECT_EQ(fields["Gid"], gid + "\t" + gid + "\t" + gid + "\t" + gid) << "task " << task;
    EXPECT_NE(fields["Uid"].substr(0, 2), "0\t");
  }
  auto fields = status_fields("/proc/" + std::to_string(vmm) + "/status");
  EXPECT_EQ(fields["NSpid"], std::to_string(vmm) + "\t1");  // PID 1 of its own PID namespace
  // The mount table: the tmpfs root and the kernel bound read-only, nothing else.
  std::ifstream mountinfo("/proc/" + std::to_string(vmm) + "/mountinfo");
  std::map<std::string, std::string> mounts;  // mount point -> "fstype options"
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields_in(line);
    std::string id, parent, device, root, point, options, field;
    fields_in >> id >> parent >> device >> root >> point >> options;
    while (fields_in >> field && field != "-") {
    }
    std::string fstype;
    fields_in >> fstype;
    mounts[point] = fstype + " " + options;
  }
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts["/"].rfind("tmpfs ro,", 0), 0u) << mounts["/"];
  ASSERT_TRUE(mounts.count(kProbe)) << "the kernel is not bound at its own path";
  EXPECT_EQ(mounts[kProbe].find(" ro,"), mounts[kProbe].find(' ')) << mounts[kProbe];
  std::ifstream uts("/proc/" + std::to_string(vmm) + "/root/etc/hostname");
  EXPECT_FALSE(uts.good()) << "the jail root holds an /etc";
}

}  // namespace
}  // namespace shelter::vmm::jail
