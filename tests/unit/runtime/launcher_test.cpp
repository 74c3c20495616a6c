#include "runtime/launcher/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "runtime/backend/qemu.h"

namespace shelter::launcher {
namespace {

VmConfig config() {
  VmConfig c;
  c.kernel = "/boot/vmlinuz-6.1.0-test";
  c.initramfs = "/tmp/run/initramfs.cpio";
  c.cmdline = "console=ttyS0 shelter.verity.alg=sha256";
  c.disk = "/images/a,b.img";
  c.memory_mib = 768;
  c.cpus = 2;
  return c;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += a + " ";
  return out;
}

TEST(QemuBackend, ArgumentsDescribeTheVmExactly) {
  std::vector<std::string> args = backend::qemu_arguments(config(), backend::Accelerator::kTcg, {10, 11, 12, 13, -1});
  std::string line = joined(args);
  EXPECT_EQ(args.at(0), "qemu-system-x86_64");
  for (const char* expected : {"-M q35 ", "-accel tcg -cpu max ", "-m 768 ", "-smp 2 ", "-nodefaults ", "-net none ",
                               "-no-reboot ", "-kernel /boot/vmlinuz-6.1.0-test ", "-initrd /tmp/run/initramfs.cpio ",
                               "-device virtio-blk-pci,drive=image ",
                               "-drive file=/images/a,,b.img,if=none,id=image,format=raw,readonly=on ",
                               "-chardev socket,id=port0,fd=10 -serial chardev:port0 -chardev socket,id=port1,fd=11 "
                               "-serial chardev:port1 -chardev socket,id=port2,fd=12 -serial chardev:port2 "
                               "-chardev socket,id=port3,fd=13 -serial chardev:port3 "})
    EXPECT_NE(line.find(expected), std::string::npos) << expected << " in " << line;
  auto append = std::find(args.begin(), args.end(), "-append");
  ASSERT_NE(append, args.end());
  EXPECT_EQ(*(append + 1), config().cmdline);  // one argument, spaces and all
  EXPECT_NE(joined(backend::qemu_arguments(config(), backend::Accelerator::kKvm, {1, 2, 3, 4, -1})).find("-accel kvm -cpu host "),
            std::string::npos);
  EXPECT_EQ(line.find("pci-serial"), std::string::npos);  // no attestation channel for a plain image
}

TEST(QemuBackend, AttestationChannelIsAFifthPciUart) {
  std::string line = joined(backend::qemu_arguments(config(), backend::Accelerator::kTcg, {10, 11, 12, 13, 14}));
  EXPECT_NE(line.find("-chardev socket,id=port3,fd=13 -serial chardev:port3 -chardev socket,id=attest,fd=14 "
                      "-device pci-serial,chardev=attest "),
            std::string::npos)
      << line;
}

TEST(QemuBackend, MissingQemuIsAClearErrorNotAChildThatFails) {
  std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent", 1);
  backend::QemuBackend qemu(backend::Accelerator::kTcg);
  try {
    qemu.start(config(), {10, 11, 12, 13, -1});
    ADD_FAILURE() << "started without qemu on PATH";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qemu-system-x86_64 not found"), std::string::npos) << e.what();
  }
  ::setenv("PATH", saved.c_str(), 1);
}

// A stand-in VMM: a child process that writes a script to the guest's
// channels and exits, or hangs until stopped.
struct Script {
  std::string stdout_text = {};
  std::string stderr_text = {};
  std::string console = {};
  std::string status = {};
  int exit_code = 0;
  bool hang = false;
  // Written on the status channel by a leftover process once the stand-in
  // VMM has exited and been reaped.
  std::string late_status = {};
};

// Whether the pid is gone for good (reaped), peeking without reaping it.
bool reaped(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

class FakeVm : public backend::RunningVm {
 public:
  explicit FakeVm(pid_t pid) : pid_(pid) {}
  ~FakeVm() override {
    if (reaped(pid_)) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const override { return pid_; }
  void stop() override {
    if (reaped(pid_)) {
      ++stops_after_reaping;  // a reaped pid may already name another process
      return;
    }
    ::kill(pid_, SIGKILL);
  }
  static inline int stops_after_reaping = 0;

 private:
  pid_t pid_;
};

class FakeBackend : public backend::VmBackend {
 public:
  explicit FakeBackend(Script script) : script_(std::move(script)) {}
  std::unique_ptr<backend::RunningVm> start(const VmConfig&, const GuestChannelFds& fds) override {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto put = [](int fd, const std::string& s) { (void)!::write(fd, s.data(), s.size()); };
      put(fds.console, script_.console);
      put(fds.stdout_port, script_.stdout_text);
      put(fds.stderr_port, script_.stderr_text);
      put(fds.status, script_.status);
      std::string vmm = "/proc/" + std::to_string(::getpid());
      if (!script_.late_status.empty() && ::fork() == 0) {
        // A zombie keeps its /proc entry: gone means reaped.
        while (::access(vmm.c_str(), F_OK) == 0) ::usleep(1000);
        put(fds.status, script_.late_status);
        ::_exit(0);
      }
      if (script_.hang) ::pause();
      ::_exit(script_.exit_code);
    }
    return std::make_unique<FakeVm>(pid);
  }

 private:
  Script script_;
};

int run(Script script, RunOptions options = {}) {
  FakeBackend fake(std::move(script));
  return run_vm(config(), fake, options);
}

TEST(Launcher, WorkloadExitAndSignalMapToTheExitStatus) {
  EXPECT_EQ(run({.stdout_text = "hi\n", .status = "started\nexited 0\n"}), 0);
  EXPECT_EQ(run({.status = "started\nexited 42\n"}), 42);
  EXPECT_EQ(run({.status = "started\nkilled 9\n"}), 137);
}

TEST(Launcher, GuestFailuresMapTo125To127) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run({.status = "not-found entrypoint /x not found\n"}), kExitNotFound);
  EXPECT_EQ(run({.status = "not-executable entrypoint /x cannot be executed\n"}), kExitNotExecutable);
  EXPECT_EQ(run({.status = "setup-failed mounting: Input/output error\n"}), kExitSetupFailure);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("shelter: error: entrypoint /x not found\n"), std::string::npos) << err;
  EXPECT_NE(err.find("shelter: error: guest setup failed: mounting: Input/output error\n"), std::string::npos) << err;
}

TEST(Launcher, MissingOrMalformedStatusIsASetupFailureNeverSuccess) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run({.console = "[ 1.0] Kernel panic - not syncing: No working init found.\r\n"}), kExitSetupFailure);
  EXPECT_EQ(run({.status = "started\n"}), kExitSetupFailure);
  EXPECT_EQ(run({.status = "exited 999\n", .hang = true}), kExitSetupFailure);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("shelter: error: the guest kernel panicked: Kernel panic - not syncing: No working init found.\n"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("without reporting how the workload ended (the workload had started)"), std::string::npos) << err;
  EXPECT_NE(err.find("broke the status protocol"), std::string::npos) << err;
}

TEST(Launcher, AProtocolErrorAfterTheVmmWasReapedSignalsNoStalePid) {
  FakeVm::stops_after_reaping = 0;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run({.status = "started\n", .late_status = "exited 999\n"}), kExitSetupFailure);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("broke the status protocol"), std::string::npos);
  EXPECT_EQ(FakeVm::stops_after_reaping, 0);
}

TEST(Launcher, TimeoutStopsAHangingGuestWith124) {
  RunOptions options;
  options.timeout_seconds = 1;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run({.status = "started\n", .hang = true}, options), kExitTimeout);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("did not finish within 1 s"), std::string::npos);
}

TEST(Launcher, RejectsUnusableOptionsBeforeBooting) {
  RunOptions options;
  options.guest_init = "/nonexistent/shelter-init";
  images::VerityParams verity;
  options.memory_mib = 64;
  EXPECT_THROW(make_vm_config("/nonexistent.img", verity, options, "/tmp"), Error);
  options.memory_mib = 512;
  EXPECT_THROW(make_vm_config("/nonexistent.img", verity, options, "/tmp"), Error);
}

}  // namespace
}  // namespace shelter::launcher
