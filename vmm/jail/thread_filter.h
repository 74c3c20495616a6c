#pragma once
// Per-thread seccomp filters. arm_thread_filters() compiles every thread
// kind's filter once, for this process, and installs the SIGSYS report;
// from then on each thread applies its own kind's filter with
// enter_thread() as it starts (the main thread once the others exist), so
// no thread inherits another kind's list. Without arming, enter_thread()
// only records the kind (an unjailed VMM, and the tests of the VMM core).
#include "vmm/jail/seccomp_policy.h"
#include "vmm/jail/thread_kind.h"

namespace shelter::vmm::jail {

// The exit status of the process after a forbidden call.
inline constexpr int kViolationExitStatus = 125;

// Call once, while the process is still single-threaded. Throws VmmError.
void arm_thread_filters(SeccompMode mode);
bool thread_filters_armed() noexcept;

// Sets no_new_privs and applies kind's filter to the calling thread only
// (no SECCOMP_FILTER_FLAG_TSYNC); throws SystemError when the kernel
// refuses it.
void enter_thread(ThreadKind kind);

}  // namespace shelter::vmm::jail
