#include "vmm/jail/thread_filter.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::jail {
namespace {

// System call names for the SIGSYS report, resolved while arming: the
// handler may only use async-signal-safe calls, and libseccomp's resolver
// allocates.
constexpr int kNamedSyscalls = 512;
using SyscallName = std::array<char, 32>;

struct ArmedFilters {
  std::vector<std::vector<sock_filter>> programs;  // indexed by ThreadKind
  std::array<SyscallName, kNamedSyscalls> names{};
};

ArmedFilters* armed = nullptr;  // set once, before any other thread starts
thread_local const char* current_kind_name = "unlabelled";

size_t index_of(ThreadKind kind) { return static_cast<size_t>(kind); }

size_t append(char* line, size_t at, size_t capacity, const char* text) {
  while (*text != '\0' && at + 1 < capacity) line[at++] = *text++;
  return at;
}

size_t append_number(char* line, size_t at, size_t capacity, unsigned long value) {
  char digits[24];
  size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0 && at + 1 < capacity) line[at++] = digits[--count];
  return at;
}

// SIGSYS from SECCOMP_RET_TRAP: one line naming the thread kind and the
// call, then the whole process ends. Async-signal-safe: write and exit_group.
void report_violation(int, siginfo_t* info, void*) {
  char line[200];
  size_t at = append(line, 0, sizeof line, "shelter: error: seccomp: the ");
  at = append(line, at, sizeof line, current_kind_name);
  at = append(line, at, sizeof line, " thread made a forbidden system call: ");
  int nr = info->si_syscall;
  if (armed != nullptr && nr >= 0 && nr < kNamedSyscalls && armed->names[static_cast<size_t>(nr)][0] != '\0')
    at = append(line, at, sizeof line, armed->names[static_cast<size_t>(nr)].data());
  else
    at = append(line, at, sizeof line, "an unknown call");
  at = append(line, at, sizeof line, " (");
  at = append_number(line, at, sizeof line, static_cast<unsigned long>(nr));
  at = append(line, at, sizeof line, ")\n");
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, line, at);
  // exit_group directly: sanitizer runtimes intercept _exit with work of
  // their own, which the filter may refuse inside this very handler.
  ::syscall(SYS_exit_group, kViolationExitStatus);
}

}  // namespace

void arm_thread_filters(SeccompMode mode) {
  if (armed != nullptr) throw VmmError("seccomp: the thread filters are already armed");
  auto filters = std::make_unique<ArmedFilters>();
  pid_t self = ::getpid();
  filters->programs.resize(thread_policies().size());
  for (const ThreadPolicy& policy : thread_policies())
    filters->programs[index_of(policy.kind)] = compile_filter(policy.kind, mode, self);
  uint32_t arch = seccomp_arch_native();
  for (int nr = 0; nr < kNamedSyscalls; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name == nullptr) continue;
    std::strncpy(filters->names[static_cast<size_t>(nr)].data(), name, sizeof(SyscallName) - 1);
    std::free(name);
  }
  struct sigaction action {};
  action.sa_sigaction = report_violation;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  check_syscall(::sigaction(SIGSYS, &action, nullptr), "sigaction for SIGSYS");
  armed = filters.release();  // lives as long as the process: threads may trap until its end
}

bool thread_filters_armed() noexcept { return armed != nullptr; }

void enter_thread(ThreadKind kind) {
  current_kind_name = thread_policy(kind).name;
  if (armed == nullptr) return;
  std::vector<sock_filter>& program = armed->programs[index_of(kind)];
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  check_syscall(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");
  check_syscall(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog), "seccomp(SECCOMP_SET_MODE_FILTER)");
}

}  // namespace shelter::vmm::jail
