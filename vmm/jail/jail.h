#pragma once
// The VMM's jail: what stands between a guest that has broken the device
// emulation and the host. In order:
//   enter_jail()       new PID, mount, IPC, UTS (and network) namespaces, a
//                      cgroup with cpu.max and memory.max where cgroup v2 is
//                      writable, and a pivot into an empty read-only tmpfs
//                      root that holds only the devices and files named;
//   (the VMM opens /dev/kvm, reads its inputs and builds the VM, still root)
//   drop_privileges()  rlimits, not dumpable, no_new_privs, the jail uid/gid,
//                      no capabilities (bounding set included), and the
//                      per-thread seccomp filters armed;
//   each thread        applies its own kind's filter as it starts
//                      (vmm/jail/thread_filter.h).
// docs/jail.md describes each step and each thread kind's allowed calls.
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "vmm/jail/seccomp_policy.h"

namespace shelter::vmm::jail {

struct JailIdentity {
  uid_t uid;
  gid_t gid;
};

// The `shelter` user of /etc/passwd and its group when the host has them,
// otherwise nobody/nogroup (65534), which owns no files.
JailIdentity default_jail_identity();

struct JailConfig {
  JailIdentity identity{65534, 65534};
  // Bound at the same path, read-write, nosuid and noexec (/dev/kvm).
  std::vector<std::filesystem::path> devices;
  // Bound at the same path, read-only, nodev, nosuid and noexec (the
  // kernel, the initrd, read-only disks).
  std::vector<std::filesystem::path> read_only_files;
  // Bound at the same path, read-write, nodev, nosuid and noexec (writable
  // disks, the vsock socket directory).
  std::vector<std::filesystem::path> read_write_files;
  // False when the VM uses a host TAP device, which lives in the host's
  // network namespace.
  bool new_network_namespace = true;
  // cgroup limits: cpu.max of this many CPUs, memory.max of this many bytes.
  unsigned cpus = 1;
  uint64_t memory_limit_bytes = 0;
  SeccompMode seccomp = SeccompMode::kKill;
};

// The open-file limit inside the jail: vCPU, device and event descriptors
// with room to spare, far below the host's default.
inline constexpr rlim_t kJailOpenFileLimit = 1024;

// Forks. The caller's process stays outside as a reaper: it forwards
// SIGINT, SIGTERM, SIGHUP and SIGQUIT to the VMM, waits for it, removes its
// cgroup and returns its exit status (128+N when signal N killed it, with a
// line on stderr). The VMM's process returns nullopt: PID 1 of its own PID
// namespace, inside the jail root, still privileged. Paths that do not exist
// are left out of the root, so the VMM reports them itself as it would
// unjailed. Throws VmmError (in the caller, before the fork, or in the VMM).
// Needs root, and a caller with one thread (the VMM may be forked with a
// raw clone3). The VMM's process should leave through _exit: static
// destructors and at-exit hooks (the sanitizers' leak check wants /proc and
// ptrace) would run under the main thread's filter, in the empty root.
std::optional<int> enter_jail(const JailConfig& config);

// In the VMM after enter_jail() and once the VM is built. Throws SystemError.
void drop_privileges(const JailConfig& config);

}  // namespace shelter::vmm::jail
