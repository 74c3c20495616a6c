#include "vmm/jail/seccomp_policy.h"

#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "common/unique_fd.h"
#include "vmm/kvm/error.h"
#include "vmm/kvm/uapi.h"

namespace shelter::vmm::jail {
namespace {

constexpr ArgCheck kAny = ArgCheck::kNone;
constexpr ArgCheck kIoctl = ArgCheck::kIoctlRequest;
constexpr ArgCheck kNoExec = ArgCheck::kNotExecutable;
constexpr ArgCheck kOwn = ArgCheck::kOwnProcess;
constexpr ArgCheck kUnix = ArgCheck::kUnixDomain;

// clang-format off
const AllowedCall kCommonCalls[] = {
  {"futex",           kAny,    0,      "mutexes, condition variables, call_once and thread joins"},
  {"write",           kAny,    0,      "log lines and the violation report on stderr; the console on stdout"},
  {"exit",            kAny,    0,      "a thread's end"},
  {"exit_group",      kAny,    0,      "the process's end, the violation report's exit 125 included"},
  {"brk",             kAny,    0,      "malloc's main heap"},
  {"mmap",            kNoExec, 0,      "malloc's large blocks and per-thread arenas; never executable"},
  {"mprotect",        kNoExec, 0,      "malloc grows a thread arena by opening reserved pages; never executable"},
  {"munmap",          kAny,    0,      "free of large blocks; the teardown of guest memory and run areas"},
  {"madvise",         kAny,    0,      "glibc returns a finished thread's stack and trimmed arenas"},
  {"rt_sigreturn",    kAny,    0,      "return from a signal handler (the vCPU kick lands on any thread)"},
  {"rt_sigprocmask",  kAny,    0,      "glibc blocks signals around pthread_kill, raise and thread exit"},
  {"rt_sigaction",    kAny,    0,      "the terminal restore on SIGINT/SIGTERM resets the handler"},
  {"ioctl",           kIoctl,  TCSETS, "the terminal restore on SIGINT/SIGTERM (tcsetattr), on whichever thread it lands"},
  {"getpid",          kAny,    0,      "raise and pthread_kill name this process"},
  {"gettid",          kAny,    0,      "raise names the calling thread"},
  {"tgkill",          kOwn,    0,      "raise and pthread_kill, held to this process's own threads"},
  {"clock_gettime",   kAny,    0,      "log timestamps and the boot timer; the vDSO makes the call itself when the host's clocksource has no vDSO read (hpet, acpi_pm: nested virtualisation)"},
};

// The calls ASan and UBSan make behind the program's back beyond the
// common list (their allocator's mmap/munmap/madvise and their reports'
// write are there already), found by running the jail tests in the
// sanitizer build. Release builds leave them out.
const AllowedCall kSanitizerCalls[] = {
  {"sigaltstack",     kAny,    0,      "ASan sets and removes each thread's alternate signal stack"},
  {"pipe2",           kAny,    0,      "UBSan's vptr check probes whether an object is readable through a pipe"},
  {"close",           kAny,    0,      "UBSan closes that probe pipe"},
};

const AllowedCall kMainCalls[] = {
  {"close",           kAny,    0,      "the teardown closes the VM and vCPU descriptors"},
  {"fsync",           kAny,    0,      "spdlog flushes its sinks at exit"},
  {"unlink",          kAny,    0,      "the teardown removes the vsock listening socket"},
};

const AllowedCall kVirtqueueCalls[] = {
  {"pread64",         kAny,    0,      "virtio-blk reads a sector range of its disk file"},
  {"pwrite64",        kAny,    0,      "virtio-blk writes a sector range of its disk file"},
  {"fdatasync",       kAny,    0,      "virtio-blk's flush request"},
  {"getrandom",       kAny,    0,      "virtio-rng fills the guest's buffers from the host's entropy"},
  {"socket",          kUnix,   0,      "virtio-vsock: a guest connection opens a Unix socket to <uds>_<port>; AF_UNIX only"},
  {"connect",         kAny,    0,      "virtio-vsock: ... and connects it (a path inside the jail root only)"},
  {"sendto",          kAny,    0,      "virtio-vsock: the guest's bytes and the OK line go to the host socket"},
  {"recvfrom",        kAny,    0,      "virtio-vsock: the host socket's bytes go to the guest"},
  {"shutdown",        kAny,    0,      "virtio-vsock: the guest finished sending (SHUT_WR)"},
  {"epoll_ctl",       kAny,    0,      "virtio-vsock: a new connection's socket joins the event thread's epoll"},
  {"close",           kAny,    0,      "virtio-vsock: a connection ends (its socket closes)"},
  {"ioctl",           kIoctl,  KVM_IRQ_LINE, "INTx: the device raises or lowers its PCI interrupt line"},
  {"ioctl",           kIoctl,  shelter::vmm::kvm::uapi::kSetGsiRouting,
                                       "MSI-X: a vector's first (or changed) message programs its GSI route"},
};

const AllowedCall kVcpuCalls[] = {
  {"ioctl",           kIoctl,  KVM_RUN,       "run the guest until its next exit"},
  {"ioctl",           kIoctl,  KVM_IOEVENTFD, "the guest moved a virtio BAR: the doorbell ioeventfds follow it"},
};

const AllowedCall kDeviceCalls[] = {
  {"epoll_wait",      kAny,    0,      "wait for a doorbell, a host vsock client, or the stop request"},
  {"read",            kAny,    0,      "empty a doorbell eventfd"},
  {"accept4",         kAny,    0,      "a host client connects to the vsock socket"},
};

const AllowedCall kTerminalInputCalls[] = {
  {"poll",            kAny,    0,            "wait for a keystroke, the stop request, or room in the UART FIFO"},
  {"read",            kAny,    0,            "the terminal's bytes"},
  {"ioctl",           kIoctl,  KVM_IRQ_LINE, "the UART raises its receive interrupt"},
};

const ThreadPolicy kPolicies[] = {
  {ThreadKind::kMain,          "main",           kMainCalls,          false},
  {ThreadKind::kVcpu,          "vcpu",           kVcpuCalls,          true},
  {ThreadKind::kTerminalInput, "terminal-input", kTerminalInputCalls, false},
  {ThreadKind::kDevice,        "device",         kDeviceCalls,        true},
};
// clang-format on

#ifdef SHELTER_SANITIZER_RUNTIME
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

using FilterContext = std::unique_ptr<void, decltype(&seccomp_release)>;

// One 64-bit argument comparison; for SCMP_CMP_MASKED_EQ, a is the mask.
scmp_arg_cmp compare(unsigned arg, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) { return {arg, op, a, b}; }

void add_rule(scmp_filter_ctx ctx, const AllowedCall& call, pid_t own_process) {
  int nr = seccomp_syscall_resolve_name(call.name);
  if (nr == __NR_SCMP_ERROR) throw VmmError(std::string("seccomp: unknown system call ") + call.name);
  int rc = 0;
  switch (call.check) {
    case ArgCheck::kNone:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
      break;
    case ArgCheck::kIoctlRequest:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, compare(1, SCMP_CMP_EQ, call.value));
      break;
    case ArgCheck::kNotExecutable:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, compare(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
      break;
    case ArgCheck::kUnixDomain:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, compare(0, SCMP_CMP_EQ, AF_UNIX));
      break;
    case ArgCheck::kOwnProcess:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, compare(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(own_process)));
      break;
  }
  if (rc < 0) throw SystemError(std::string("seccomp: rule for ") + call.name, -rc);
}

FilterContext build(ThreadKind kind, SeccompMode mode, pid_t own_process) {
  FilterContext ctx(seccomp_init(mode == SeccompMode::kKill ? SCMP_ACT_TRAP : SCMP_ACT_LOG), &seccomp_release);
  if (!ctx) throw VmmError("seccomp: cannot create a filter");
  // A call from a foreign ABI (i386, x32) ends the process outright.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    throw SystemError("seccomp: setting the foreign-architecture action", -rc);
  const ThreadPolicy& policy = thread_policy(kind);
  std::span<const AllowedCall> virtqueue = policy.serves_virtqueues ? virtqueue_calls() : std::span<const AllowedCall>();
  for (std::span<const AllowedCall> table : {common_calls(), sanitizer_calls(), virtqueue, policy.calls})
    for (const AllowedCall& call : table) add_rule(ctx.get(), call, own_process);
  return ctx;
}

// libseccomp 2.5 exports only to a descriptor; a memfd carries it back.
std::string export_through_memfd(scmp_filter_ctx ctx, int (*exporter)(const scmp_filter_ctx, int)) {
  UniqueFd fd(::memfd_create("seccomp-filter", MFD_CLOEXEC));
  if (!fd) throw SystemError("memfd_create for the seccomp filter", errno);
  if (int rc = exporter(ctx, fd.get()); rc < 0) throw SystemError("seccomp: exporting the filter", -rc);
  off_t size = check_syscall(::lseek(fd.get(), 0, SEEK_END), "lseek on the seccomp filter");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (::pread(fd.get(), bytes.data(), bytes.size(), 0) != size) throw SystemError("reading the seccomp filter", errno);
  return bytes;
}

}  // namespace

std::span<const ThreadPolicy> thread_policies() { return kPolicies; }

const ThreadPolicy& thread_policy(ThreadKind kind) {
  for (const ThreadPolicy& policy : kPolicies)
    if (policy.kind == kind) return policy;
  throw VmmError("seccomp: no policy for a thread kind");
}

std::span<const AllowedCall> common_calls() { return kCommonCalls; }

std::span<const AllowedCall> virtqueue_calls() { return kVirtqueueCalls; }

std::span<const AllowedCall> sanitizer_calls() {
  if constexpr (kSanitizerBuild) return kSanitizerCalls;
  return {};
}

std::vector<sock_filter> compile_filter(ThreadKind kind, SeccompMode mode, pid_t own_process) {
  FilterContext ctx = build(kind, mode, own_process);
  std::string bytes = export_through_memfd(ctx.get(), seccomp_export_bpf);
  std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data(), program.size() * sizeof(sock_filter));
  return program;
}

std::string filter_text(ThreadKind kind, SeccompMode mode, pid_t own_process) {
  FilterContext ctx = build(kind, mode, own_process);
  return export_through_memfd(ctx.get(), seccomp_export_pfc);
}

}  // namespace shelter::vmm::jail
