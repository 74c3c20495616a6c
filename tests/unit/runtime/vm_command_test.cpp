// `shelter vm` against bad input: each case is one line naming the file or
// option and the reason, and a non-zero exit, on machines with or without
// /dev/kvm (the kernel is checked before KVM is opened).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "tests/support/jail_support.h"
#include "tests/support/run_command.h"

namespace shelter {
namespace {

using testing::run_command;

const std::string kShelter = SHELTER_BINARY;
const std::string kProbeDir = SHELTER_PROBE_DIR;

class VmCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/shelter-vm-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  std::vector<uint8_t> bzimage_probe() { return read_file(kProbeDir + "/bzimage-probe.bin", 1 << 20); }

  // Runs shelter vm and checks the one-line error; returns that line. The
  // VMM checks its input the same way jailed or not; where the jail cannot
  // run here, the run is unjailed and the --no-jail warning line dropped.
  std::string expect_error(const std::string& arguments, int status = 1) {
    static const std::string jail_unavailable = testing::jail_unavailable_reason();
    auto r = run_command(kShelter + " vm " + (jail_unavailable.empty() ? "" : "--no-jail ") + arguments +
                         " </dev/null");
    if (!jail_unavailable.empty() && r.err.rfind("shelter: warning: --no-jail: ", 0) == 0)
      r.err.erase(0, r.err.find('\n') + 1);
    EXPECT_EQ(r.status, status) << r.err;
    EXPECT_EQ(r.err.rfind("shelter: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.out, "");
    return r.err;
  }

  std::filesystem::path dir_;
};

TEST_F(VmCommand, HelpNamesTheOptions) {
  auto r = run_command(kShelter + " vm --help");
  EXPECT_EQ(r.status, 0);
  for (const char* option : {"--kernel", "--initrd", "--cmdline", "--memory", "--cpus", "--disk", "--vsock-uds",
                             "--no-jail", "--seccomp", "--jail-uid", "--jail-gid"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

TEST_F(VmCommand, KernelIsRequired) { expect_error("", 2); }

// `shelter vm` is served by shelter-vmm alone: a shelter without the
// shelter-cli beside it still runs it (global options included), and says
// which executable is missing for any other command.
TEST_F(VmCommand, VmIsServedWithoutTheRestOfTheCli) {
  std::filesystem::path bin = dir_ / "bin";
  std::filesystem::create_directories(bin);
  std::filesystem::copy_file(kShelter, bin / "shelter");
  std::filesystem::copy_file(std::filesystem::path(kShelter).parent_path() / "shelter-vmm", bin / "shelter-vmm");
  const std::string shelter = (bin / "shelter").string();

  auto help = run_command(shelter + " vm --help");
  EXPECT_EQ(help.status, 0) << help.err;
  EXPECT_NE(help.out.find("shelter vm"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--kernel"), std::string::npos) << help.out;
  for (const char* global : {"--log-level debug", "--log-level=debug"}) {
    auto r = run_command(shelter + " " + global + " vm --no-jail --kernel " + (dir_ / "absent").string() +
                         " </dev/null");
    EXPECT_EQ(r.status, 1) << global;
    EXPECT_NE(r.err.find("shelter: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("absent"), std::string::npos) << r.err;
  }
  auto bad_level = run_command(shelter + " --log-level loud vm --kernel x");
  EXPECT_EQ(bad_level.status, 2) << bad_level.err;
  EXPECT_NE(bad_level.err.find("--log-level"), std::string::npos) << bad_level.err;

  auto other = run_command(shelter + " build --help");
  EXPECT_EQ(other.status, 1);
  EXPECT_EQ(other.err, "shelter: error: cannot run " + (bin / "shelter-cli").string() +
                           ": No such file or directory\n");
}

TEST_F(VmCommand, MissingKernelFile) {
  std::string path = (dir_ / "absent").string();
  std::string err = expect_error("--kernel " + path);
  EXPECT_NE(err.find("kernel " + path + ": cannot open"), std::string::npos) << err;
}

TEST_F(VmCommand, FileThatIsNotAKernel) {
  std::string path = write("notes.txt", std::vector<uint8_t>(3000, 'n'));
  EXPECT_EQ(expect_error("--kernel " + path),
            "shelter: error: kernel " + path + ": not a kernel (neither a bzImage nor an ELF file)\n");
}

TEST_F(VmCommand, TruncatedBzImage) {
  auto image = bzimage_probe();
  image.resize(image.size() - 100);
  std::string path = write("truncated", image);
  std::string err = expect_error("--kernel " + path);
  EXPECT_NE(err.find("kernel " + path + ": truncated"), std::string::npos) << err;
}

TEST_F(VmCommand, BootProtocolTooOld) {
  auto image = bzimage_probe();
  image[0x206] = 0x0b;  // protocol 2.11
  std::string path = write("old", image);
  EXPECT_EQ(expect_error("--kernel " + path),
            "shelter: error: kernel " + path + ": boot protocol 2.11 is too old (need 2.12 or later)\n");
}

TEST_F(VmCommand, InitrdAboveInitrdAddrMax) {
  auto image = bzimage_probe();
  uint32_t initrd_addr_max = 0x01100000 - 1;
  std::memcpy(image.data() + 0x22c, &initrd_addr_max, 4);
  std::string kernel = write("kernel", image);
  std::string initrd = write("initrd", std::vector<uint8_t>(2 << 20, 1));
  std::string err = expect_error("--kernel " + kernel + " --initrd " + initrd);
  EXPECT_NE(err.find("initrd " + initrd + ": 2097152 bytes do not fit"), std::string::npos) << err;
  EXPECT_NE(err.find("initrd_addr_max"), std::string::npos) << err;
}

TEST_F(VmCommand, MissingInitrdFile) {
  std::string initrd = (dir_ / "no-initrd").string();
  std::string err = expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --initrd " + initrd);
  EXPECT_NE(err.find("initrd " + initrd + ": cannot open"), std::string::npos) << err;
}

TEST_F(VmCommand, MissingDiskFile) {
  std::string disk = (dir_ / "absent.img").string();
  EXPECT_EQ(expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --disk " + disk + ",ro"),
            "shelter: error: disk " + disk + ": No such file or directory\n");
}

TEST_F(VmCommand, DiskWithoutAFileName) {
  EXPECT_EQ(expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --disk ,ro"),
            "shelter: error: --disk ,ro: no file named\n");
}

TEST_F(VmCommand, VsockSocketPathThatExists) {
  std::string existing = (dir_ / "vsock.sock").string();
  std::ofstream(existing) << "x";
  std::string err = expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --vsock-uds " + existing);
  EXPECT_NE(err.find(existing), std::string::npos) << err;
}

TEST_F(VmCommand, MemoryTooSmallForKernelAndInitrd) {
  std::string err = expect_error("--kernel " + kProbeDir + "/bzimage-probe.bin --memory 16");
  EXPECT_NE(err.find("but the VM has 16 MiB (use a larger --memory)"), std::string::npos) << err;
  std::string initrd = write("initrd", std::vector<uint8_t>(8 << 20, 1));
  err = expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --memory 20 --initrd " + initrd);
  EXPECT_NE(err.find("initrd " + initrd), std::string::npos) << err;
}

TEST_F(VmCommand, OutOfRangeSizesAreUsageErrors) {
  expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --cpus 0", 2);
  expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --cpus 300", 2);
  expect_error("--kernel " + kProbeDir + "/pvh-probe.elf --memory 1", 2);
}

TEST_F(VmCommand, WithoutKvmTheErrorNamesTheDevice) {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    GTEST_SKIP() << "/dev/kvm opens on this machine";
  }
  std::string err = expect_error("--kernel " + kProbeDir + "/pvh-probe.elf");
  EXPECT_EQ(err.rfind("shelter: error: cannot open /dev/kvm", 0), 0u) << err;
}

TEST_F(VmCommand, JailOptionsAreChecked) {
  const std::string kernel = "--kernel " + kProbeDir + "/pvh-probe.elf ";
  expect_error(kernel + "--seccomp allow", 2);
  expect_error(kernel + "--jail-uid 0", 2);  // the jail never runs the VMM as root
  expect_error(kernel + "--jail-gid 0", 2);
  expect_error(kernel + "--jail-uid nobody", 2);
}

TEST_F(VmCommand, NoJailSaysIsolationIsWeakened) {
  // Without KVM the run then fails; with it the probe runs unjailed. Either
  // way the warning comes first, on one line.
  auto r = run_command(kShelter + " vm --no-jail --kernel " + kProbeDir + "/pvh-probe.elf </dev/null");
  EXPECT_EQ(r.err.rfind("shelter: warning: --no-jail: ", 0), 0u) << r.err;
  std::string warning = r.err.substr(0, r.err.find('\n'));
  EXPECT_NE(warning.find("isolation from the guest is weakened"), std::string::npos) << warning;
}

TEST_F(VmCommand, JailedErrorsAreStillOneLineFromTheVmm) {
  if (std::string why = testing::jail_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  // The default run is jailed (as root): a bad kernel relative to the
  // working directory is still found and refused by the VMM, in one line.
  std::string path = write("not-a-kernel", std::vector<uint8_t>(4096, 0x5a));
  auto r = run_command("cd " + dir_.string() + " && " + kShelter + " vm --kernel not-a-kernel </dev/null");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.err, "shelter: error: kernel not-a-kernel: not a kernel (neither a bzImage nor an ELF file)\n");
}

}  // namespace
}  // namespace shelter
