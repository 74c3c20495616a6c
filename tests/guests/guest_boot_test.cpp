// End-to-end: the probe guests booted by `shelter vm` under real KVM, with
// 1 and 2 vCPUs. Each probe checks what the VMM handed it and reports on the
// serial port; the exit port's status is shelter vm's. Without a usable
// /dev/kvm every case skips, saying so.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/syscall.h>
#include <seccomp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <ostream>
#include <vector>

#include "common/unique_fd.h"
#include "tests/support/jail_support.h"
#include "tests/support/proc_status.h"
#include "tests/support/run_command.h"

namespace shelter {
namespace {

using testing::run_command;

const std::string kShelter = SHELTER_BINARY;
// The user and group the jailed VMM runs as where a test names them.
constexpr unsigned kJailId = 65534;
const std::string kProbeDir = SHELTER_PROBE_DIR;

bool kvm_usable() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// `shelter vm` runs the VMM jailed, which needs root and namespaces.
#define REQUIRE_KVM()                                                                  \
  do {                                                                                 \
    if (!kvm_usable()) GTEST_SKIP() << "no /dev/kvm on this machine";                  \
    if (std::string why = testing::jail_unavailable_reason(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

uint32_t fnv1a(const std::vector<uint8_t>& bytes) {
  uint32_t hash = 2166136261u;
  for (uint8_t b : bytes) hash = (hash ^ b) * 16777619u;
  return hash;
}

struct BootCase {
  std::string probe;
  unsigned cpus;
  bool with_initrd;
};

void PrintTo(const BootCase& c, std::ostream* os) {
  *os << c.probe << ", " << c.cpus << " vCPU(s)" << (c.with_initrd ? ", initrd" : "");
}

class ProbeBoot : public ::testing::TestWithParam<BootCase> {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/shelter-boot-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_P(ProbeBoot, ProbePassesEveryCheck) {
  REQUIRE_KVM();
  const BootCase& c = GetParam();
  std::string cmdline = "shelter.probe cpus=" + std::to_string(c.cpus) + " mem_mib=128";
  std::string initrd_option;
  if (c.with_initrd) {
    std::vector<uint8_t> initrd(300000);
    for (size_t i = 0; i < initrd.size(); ++i) initrd[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
    std::string path = (dir_ / "initrd").string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(initrd.data()), static_cast<std::streamsize>(initrd.size()));
    char fnv[16];
    std::snprintf(fnv, sizeof fnv, "%08x", fnv1a(initrd));
    cmdline += " initrd_size=" + std::to_string(initrd.size()) + " initrd_fnv=" + fnv;
    initrd_option = " --initrd " + path;
  }
  auto r = run_command(kShelter + " vm --kernel " + kProbeDir + "/" + c.probe + initrd_option + " --cmdline '" +
                       cmdline + "' --memory 128 --cpus " + std::to_string(c.cpus) + " </dev/null");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PROBE PASS\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAIL "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ncmdline: " + cmdline + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(c.with_initrd ? "PASS initrd\n" : "PASS initrd (none)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vcpus: " + std::to_string(c.cpus) + "\n"), std::string::npos) << r.out;
  if (c.cpus > 1) {
    EXPECT_NE(r.out.find("PASS application-processors\n"), std::string::npos) << r.out;
  }
  EXPECT_EQ(r.err, "");
}

INSTANTIATE_TEST_SUITE_P(Probes, ProbeBoot,
                         ::testing::Values(BootCase{"bzimage-probe.bin", 1, true}, BootCase{"bzimage-probe.bin", 2, true},
                                           BootCase{"bzimage-probe.bin", 1, false}, BootCase{"pvh-probe.elf", 1, true},
                                           BootCase{"pvh-probe.elf", 2, true}, BootCase{"pvh-probe.elf", 2, false}),
                         [](const auto& test_case) {
                           std::string name = test_case.param.probe.substr(0, test_case.param.probe.find('-')) + "_" +
                                              std::to_string(test_case.param.cpus) + "cpu" +
                                              (test_case.param.with_initrd ? "_initrd" : "");
                           return name;
                         });

// The host end of the guest's vsock connection to port 5000: the VMM dials
// <uds>_5000, where this listener echoes one connection's bytes.
class EchoListener {
 public:
  // socket_owner: who owns the socket (and its directory); the jailed VMM
  // dials as its jail user, which needs write permission on the socket.
  EchoListener(const std::filesystem::path& socket_dir, uid_t socket_owner) {
    std::filesystem::create_directory(socket_dir);
    uds_ = (socket_dir / "vsock").string();
    path_ = uds_ + "_5000";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_.get(), 1) != 0 || ::chmod(path_.c_str(), 0755) != 0 ||
        ::chown(socket_dir.c_str(), socket_owner, socket_owner) != 0 ||
        ::chown(path_.c_str(), socket_owner, socket_owner) != 0)
      ADD_FAILURE() << "cannot set up the echo socket " << path_ << ": " << std::strerror(errno);
    echo_ = std::thread([this] {
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      char buffer[256];
      ssize_t n;
      while (connection && (n = ::read(connection.get(), buffer, sizeof buffer)) > 0) {
        echoed_.append(buffer, static_cast<size_t>(n));
        if (::write(connection.get(), buffer, static_cast<size_t>(n)) != n) break;
      }
    });
  }
  ~EchoListener() { stop(); }
  const std::string& uds() const { return uds_; }
  const std::string& path() const { return path_; }
  // Ends accept() if the guest never connected; what the guest sent.
  const std::string& stop() {
    if (echo_.joinable()) {
      ::shutdown(listener_.get(), SHUT_RDWR);
      echo_.join();
    }
    return echoed_;
  }

 private:
  std::string uds_, path_, echoed_;
  UniqueFd listener_{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  std::thread echo_;
};

std::string jail_identity_options() {
  return " --jail-uid " + std::to_string(kJailId) + " --jail-gid " + std::to_string(kJailId);
}

// Shelter's PCI bus and virtio-pci devices driven by the probe's own
// virtio driver (checked against QEMU's devices below): rng, console
// (hvc0 shares the serial output), a read-only disk whose checksum the
// probe compares with the one on its command line, and vsock.
class ProbePci : public ProbeBoot {};

TEST_P(ProbePci, VirtioDevicesPassTheProbesDriver) {
  REQUIRE_KVM();
  const BootCase& c = GetParam();
  std::vector<uint8_t> disk(100 * 512);
  for (size_t i = 0; i < disk.size(); ++i) disk[i] = static_cast<uint8_t>(i * 13 + i / 512);
  std::string path = (dir_ / "disk.img").string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(disk.data()), disk.size());
  char fnv[16];
  std::snprintf(fnv, sizeof fnv, "%x", fnv1a(disk));
  // The socket is the jail user's, as a deployment would arrange.
  EchoListener echo(dir_ / "vsock-sockets", kJailId);
  std::string cmdline =
      "cpus=" + std::to_string(c.cpus) + " pci=1 blk_size=51200 blk_fnv=" + fnv + " vsock_port=5000";
  auto r = run_command(kShelter + " vm --kernel " + kProbeDir + "/" + c.probe + " --cmdline '" + cmdline +
                       "' --cpus " + std::to_string(c.cpus) + " --disk " + path + ",ro --vsock-uds " + echo.uds() +
                       jail_identity_options() + " </dev/null");
  EXPECT_EQ(echo.stop(), "ping from the probe\n");
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  for (const char* line : {"PASS virtio-rng\n", "hvc0: hello from the probe\n", "PASS virtio-console\n",
                           "virtio-blk bytes: 51200\n", "PASS virtio-blk\n", "virtio-vsock guest cid: 3\n",
                           "PASS virtio-vsock\n", "PASS pci\n", "PROBE PASS\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << r.out;
  EXPECT_EQ(r.err, "");
}

// A host socket the jail user may not write (root's, mode 0755): the
// jailed VMM's connect fails with EACCES, the guest gets RST, and the
// warning names the socket and the reason.
TEST_F(ProbeBoot, AVsockSocketTheJailUserCannotWriteIsNamedInAWarning) {
  REQUIRE_KVM();
  EchoListener echo(dir_ / "vsock-sockets", 0);
  auto r = run_command(kShelter + " vm --kernel " + kProbeDir + "/pvh-probe.elf --cmdline 'pci=1 vsock_port=5000'" +
                       " --vsock-uds " + echo.uds() + jail_identity_options() + " </dev/null");
  EXPECT_EQ(echo.stop(), "");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL virtio-vsock: no RESPONSE to the connection request\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "shelter: warning: vsock: guest connection to port 5000: " + echo.path() +
                       ": Permission denied (the jailed VMM connects as its --jail-uid user, which needs write "
                       "permission on that socket)\n");
}

INSTANTIATE_TEST_SUITE_P(Probes, ProbePci,
                         ::testing::Values(BootCase{"bzimage-probe.bin", 1, false}, BootCase{"pvh-probe.elf", 1, false},
                                           BootCase{"pvh-probe.elf", 2, false}),
                         [](const ::testing::TestParamInfo<BootCase>& test_case) {
                           return test_case.param.probe.substr(0, test_case.param.probe.find('-')) + "_" +
                                  std::to_string(test_case.param.cpus) + "cpu";
                         });

TEST(GuestBoot, ProbeFailureBecomesTheExitStatus) {
  REQUIRE_KVM();
  // A checksum that cannot match: the probe reports FAIL and exits with 1.
  auto r = run_command(kShelter + " vm --kernel " + kProbeDir +
                       "/pvh-probe.elf --cmdline 'initrd_size=1 initrd_fnv=0' </dev/null");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL initrd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PROBE FAIL 1\n"), std::string::npos) << r.out;
}

TEST(GuestBoot, ForeignPvhGuestResetsThroughTheI8042AndExitsZero) {
  REQUIRE_KVM();
  for (unsigned cpus : {1u, 2u}) {
    auto r = run_command(kShelter + " vm --kernel " + kProbeDir + "/foreign-pvh.elf --cpus " + std::to_string(cpus) +
                         " </dev/null");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello from a PVH guest that knows nothing of Shelter\n");
  }
}

using testing::status_fields;

// `shelter vm` running the probe with `hold=1`: the probe has passed its
// checks and spins, so the jailed VMM can be looked at from outside.
// `shelter` stays as the reaper; its one child is the VMM. With
// refuse_clone3, clone3 fails with ENOSYS for it, as under older kernels
// and container runtimes whose seccomp profiles predate clone3.
class HeldVmm {
 public:
  explicit HeldVmm(unsigned cpus, bool refuse_clone3 = false) {
    int out[2];
    if (::pipe(out) != 0) return;
    shelter_ = ::fork();
    if (shelter_ == 0) {
      // No terminal on stdin: no terminal-input thread, so the VMM's threads
      // are main, the doorbell (device) thread and the vCPUs.
      ::dup2(::open("/dev/null", O_RDONLY | O_CLOEXEC), STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      if (refuse_clone3) {
        scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
        if (filter == nullptr || seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0 ||
            seccomp_load(filter) != 0)
          ::_exit(126);
      }
      std::string cpus_text = std::to_string(cpus);
      std::string cmdline = "hold=1 cpus=" + cpus_text;
      ::execl(kShelter.c_str(), kShelter.c_str(), "vm", "--kernel", kernel().c_str(), "--cmdline", cmdline.c_str(),
              "--cpus", cpus_text.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    output_fd_ = UniqueFd(out[0]);
    char buffer[256];
    for (ssize_t n; output_.find("PROBE HOLD\n") == std::string::npos &&
                    (n = ::read(output_fd_.get(), buffer, sizeof buffer)) > 0;)
      output_.append(buffer, static_cast<size_t>(n));
    if (output_.find("PROBE HOLD\n") == std::string::npos) return;
    vmm_ = testing::child_of(shelter_);
  }
  ~HeldVmm() { stop(); }
  static std::string kernel() { return kProbeDir + "/pvh-probe.elf"; }
  // 0 unless the probe holds and the VMM was found.
  pid_t vmm() const { return vmm_; }
  // The process `shelter vm` became: the jail's reaper.
  pid_t reaper() const { return shelter_; }
  const std::string& output() const { return output_; }
  // SIGTERM to the reaper, which passes it on; shelter's wait status.
  int stop() {
    if (shelter_ <= 0) return -1;
    ::kill(shelter_, SIGTERM);
    ::waitpid(shelter_, &status_, 0);
    shelter_ = 0;
    return status_;
  }

 private:
  pid_t shelter_ = 0;
  pid_t vmm_ = 0;
  int status_ = -1;
  UniqueFd output_fd_;
  std::string output_;
};

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(JailedVmm, EveryThreadIsFilteredUnprivilegedAndAloneInItsRoot) {
  REQUIRE_KVM();
  for (unsigned cpus : {1u, 2u}) {
    HeldVmm held(cpus);
    ASSERT_GT(held.vmm(), 0) << held.output();
    std::string base = "/proc/" + std::to_string(held.vmm());
    std::vector<std::string> tasks = testing::task_ids(held.vmm());
    EXPECT_EQ(tasks.size(), 2 + cpus);
    for (const std::string& task : tasks) {
      auto fields = status_fields(base + "/task/" + task + "/status");
      EXPECT_EQ(fields["CapEff"], "0000000000000000") << task;
      EXPECT_EQ(fields["CapBnd"], "0000000000000000") << task;
      EXPECT_EQ(fields["NoNewPrivs"], "1") << task;
      EXPECT_EQ(fields["Seccomp"], "2") << task;
      EXPECT_NE(fields["Uid"].substr(0, 2), "0\t") << task;
    }
    std::ifstream mountinfo(base + "/mountinfo");
    std::set<std::string> points;
    for (std::string line; std::getline(mountinfo, line);) {
      std::istringstream in(line);
      std::string id, parent, device, root, point;
      in >> id >> parent >> device >> root >> point;
      points.insert(point);
    }
    EXPECT_EQ(points, (std::set<std::string>{"/", "/dev/kvm", HeldVmm::kernel()}));
    // SIGTERM reaches the VMM through the reaper; it ends as by the signal.
    int status = held.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM) << status;
  }
}

// Where this process's cgroup v2 group delegates the cpu and memory
// controllers to new child groups, the VMM gets one with cpu.max of --cpus
// CPUs and memory.max of guest memory + kernel + 256 MiB, removed after it.
TEST(JailedVmm, ItsCgroupLimitsFollowTheVmSize) {
  REQUIRE_KVM();
  std::string own = first_line("/proc/self/cgroup");
  if (own.rfind("0::", 0) != 0) GTEST_SKIP() << "no cgroup v2 here (/proc/self/cgroup: " << own << ")";
  std::filesystem::path group = "/sys/fs/cgroup" + own.substr(3);
  std::string controllers = first_line(group / "cgroup.subtree_control");
  if (controllers.find("cpu") == std::string::npos || controllers.find("memory") == std::string::npos)
    GTEST_SKIP() << group << " does not delegate cpu and memory (cgroup.subtree_control: " << controllers << ")";
  uint64_t kernel_size = std::filesystem::file_size(HeldVmm::kernel());
  // Born in its group through clone3, or moved there after a plain fork.
  for (auto [cpus, refuse_clone3] : {std::pair{1u, false}, std::pair{2u, false}, std::pair{1u, true}}) {
    SCOPED_TRACE(refuse_clone3 ? "clone3 refused" : "clone3");
    HeldVmm held(cpus, refuse_clone3);
    ASSERT_GT(held.vmm(), 0) << held.output();
    std::string name = "shelter-vm-" + std::to_string(held.reaper());
    std::filesystem::path vmm_group = group / name;
    EXPECT_EQ(first_line("/proc/" + std::to_string(held.vmm()) + "/cgroup"),
              "0::" + (std::filesystem::path(own.substr(3)) / name).string());
    EXPECT_EQ(first_line(vmm_group / "cpu.max"), std::to_string(cpus * 100000) + " 100000");
    uint64_t memory = (128ull << 20) + kernel_size + (256ull << 20);
    EXPECT_EQ(first_line(vmm_group / "memory.max"), std::to_string(memory / 4096 * 4096));
    held.stop();
    EXPECT_FALSE(std::filesystem::exists(vmm_group)) << vmm_group;
  }
}

// The test-only VMM (tests/guests/forbidden_call_vmm.cpp) runs the probe
// with a device that makes a forbidden system call (socket of AF_INET) when
// the probe writes its port: on the vCPU thread that handles the write, or
// on the doorbell thread the write signals. The jail ends the VMM naming
// the thread kind and the call, with status 125.
TEST(JailedVmm, AForbiddenCallEndsTheVmmNamingTheThreadKind) {
  REQUIRE_KVM();
  for (const char* kind : {"vcpu", "device"}) {
    for (unsigned cpus : {1u, 2u}) {
      auto r = run_command(std::string(SHELTER_FORBIDDEN_CALL_VMM) + " " + kProbeDir +
                           "/pvh-probe.elf " + kind + " " + std::to_string(cpus) + " </dev/null");
      EXPECT_EQ(r.status, 125) << kind << ", " << cpus << " vCPUs: " << r.out << r.err;
      EXPECT_NE(r.out.find("PROBE PASS\nPROBE FORBIDDEN CALL\n"), std::string::npos) << r.out;
      EXPECT_NE(r.err.find(std::string("shelter: error: seccomp: the ") + kind +
                           " thread made a forbidden system call: socket (" +
                           std::to_string(SYS_socket) + ")\n"),
                std::string::npos)
          << kind << ", " << cpus << " vCPUs: " << r.err;
    }
  }
}

// The probes themselves checked against a reference VMM: QEMU's microvm
// (TCG, no KVM needed) boots PVH kernels, so the PVH probe's own code (its
// long-mode switch, serial output, checks and exit port) runs here. QEMU's
// PVH memory map ends in an empty entry, which the probe rightly rejects, so
// the e820 check is the one expected to fail there. The foreign guest's
// reset through the i8042 is checked on q35.
bool qemu_available() { return run_command("command -v qemu-system-x86_64").status == 0; }

// machine: microvm (no i8042) or q35 (SeaBIOS, with an i8042).
std::string qemu(const std::string& machine, const std::string& kernel, const std::string& extra) {
  return "timeout 60 qemu-system-x86_64 -M " + machine +
         " -m 128 -nodefaults -no-user-config -nographic -no-reboot -serial stdio "
         "-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel " +
         kProbeDir + "/" + kernel + " " + extra + " </dev/null";
}

TEST(ReferenceVmm, PvhProbeRunsItsChecksUnderQemu) {
  if (!qemu_available()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
  auto r = run_command(qemu("microvm", "pvh-probe.elf", "-smp 2 -append 'cpus=2 initrd_size=1 initrd_fnv=0'"));
  for (const char* line : {"PASS start-info\n", "PASS cmdline\n", "cmdline: cpus=2 initrd_size=1 initrd_fnv=0\n",
                           "PASS long-mode\n", "vcpus: 2\n", "PASS cpus\n", "ap apic id: 1\n",
                           "PASS application-processors\n", "FAIL e820: empty entry\n",
                           "FAIL initrd: size differs\n", "PROBE FAIL 2\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << r.out;
  // isa-debug-exit turns the probe's status 1 into (1 << 1) | 1.
  EXPECT_EQ(r.status, 3) << r.err;
}

TEST(ReferenceVmm, ForeignPvhGuestResetsUnderQemu) {
  if (!qemu_available()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
  // q35, since microvm has no i8042; SeaBIOS prints its banner first.
  auto r = run_command(qemu("q35", "foreign-pvh.elf", ""));
  const std::string hello = "hello from a PVH guest that knows nothing of Shelter\n";
  ASSERT_GE(r.out.size(), hello.size()) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - hello.size()), hello);
  EXPECT_EQ(r.status, 0) << r.err;  // -no-reboot: the i8042 reset ends QEMU
}

// The probe's PCI enumeration and virtio-pci driver checked against QEMU's
// own devices (q35, TCG): the same code later drives Shelter's devices.
TEST(ReferenceVmm, PciProbeDrivesQemusVirtioDevices) {
  if (!qemu_available()) GTEST_SKIP() << "qemu-system-x86_64 is not installed";
  char pattern[] = "/tmp/shelter-pci-probe-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  std::filesystem::path dir = pattern;
  std::vector<uint8_t> disk(100 * 512);
  for (size_t i = 0; i < disk.size(); ++i) disk[i] = static_cast<uint8_t>(i * 7 + i / 512);
  std::ofstream(dir / "disk.img", std::ios::binary).write(reinterpret_cast<const char*>(disk.data()), disk.size());
  char fnv[16];
  std::snprintf(fnv, sizeof fnv, "%x", fnv1a(disk));
  auto devices = [&](const std::string& expected_fnv) {
    return "-device virtio-rng-pci,disable-legacy=on -drive file=" + (dir / "disk.img").string() +
           ",if=none,id=d0,format=raw,readonly=on -device virtio-blk-pci,drive=d0,disable-legacy=on "
           "-device virtio-serial-pci,disable-legacy=on -chardev file,id=c0,path=" + (dir / "hvc0").string() +
           " -device virtconsole,chardev=c0 -append 'pci=1 pci_ecam=b0000000 blk_size=51200 blk_fnv=" +
           expected_fnv + "'";
  };
  auto r = run_command(qemu("q35", "pvh-probe.elf", devices(fnv)));
  for (const char* line : {"PASS virtio-rng\n", "virtio-blk bytes: 51200\n", "PASS virtio-blk\n",
                           "PASS virtio-console\n", "PASS pci\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << r.out;
  std::ifstream console(dir / "hvc0");
  std::string text((std::istreambuf_iterator<char>(console)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "hvc0: hello from the probe\n");
  // A checksum that cannot match is reported: the check can fail.
  r = run_command(qemu("q35", "pvh-probe.elf", devices("0")));
  EXPECT_NE(r.out.find("FAIL virtio-blk: the disk's checksum differs from blk_fnv=\n"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace shelter
