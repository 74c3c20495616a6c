#pragma once
// The seccomp allow-lists, one readable table per thread kind, and their
// compilation to BPF with libseccomp. Every row names the system call, what
// its arguments must be, and why the thread needs it (docs/jail.md lists
// them). Whatever is not listed traps: the SIGSYS report names the thread
// kind and the call and ends the process with 125 (or, in log mode, the
// kernel logs the call and lets it through).
#include <linux/filter.h>
#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "vmm/jail/thread_kind.h"

namespace shelter::vmm::jail {

enum class SeccompMode { kKill, kLog };

// What a row checks beyond the system call number.
enum class ArgCheck {
  kNone,
  kIoctlRequest,   // ioctl: the request (argument 1) equals the row's value
  kNotExecutable,  // mmap, mprotect: the protection (argument 2) lacks PROT_EXEC
  kOwnProcess,     // tgkill: the thread group (argument 0) is this process
  kUnixDomain,     // socket: the domain (argument 0) is AF_UNIX
};

struct AllowedCall {
  const char* name;  // the system call, as libseccomp names it
  ArgCheck check;
  unsigned long value;  // the ioctl request, for kIoctlRequest
  const char* reason;
};

struct ThreadPolicy {
  ThreadKind kind;
  const char* name;  // how reports and docs name the thread kind
  std::span<const AllowedCall> calls;
  // Whether the kind also gets virtqueue_calls(): the vCPU threads serve
  // queues on MMIO exits, the device threads on doorbells.
  bool serves_virtqueues;
};

// Every kind's table, in ThreadKind order.
std::span<const ThreadPolicy> thread_policies();
const ThreadPolicy& thread_policy(ThreadKind kind);
// What every thread may call, whatever its kind: memory, locks, the
// terminal restore on SIGINT/SIGTERM, the violation report itself.
std::span<const AllowedCall> common_calls();
// What serving a virtqueue calls, on whichever thread does it: the disk's
// reads, writes and flushes, the rng's entropy, vsock's connections to the
// host's sockets, and the interrupts that announce used buffers.
std::span<const AllowedCall> virtqueue_calls();
// What the ASan/UBSan runtimes call on their own; empty unless the build
// is a sanitizer build.
std::span<const AllowedCall> sanitizer_calls();

// kind's table plus the common (and sanitizer) calls, compiled to BPF for
// the native architecture. own_process is the pid tgkill is held to. Throws
// VmmError when libseccomp refuses a row.
std::vector<sock_filter> compile_filter(ThreadKind kind, SeccompMode mode, pid_t own_process);
// The same filter as libseccomp's pseudo filter code, for reading and tests.
std::string filter_text(ThreadKind kind, SeccompMode mode, pid_t own_process);

}  // namespace shelter::vmm::jail
