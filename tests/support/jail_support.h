#pragma once
// Whether the VMM jail (vmm/jail/) can run on this machine, for tests that
// run it: it needs root and the right to create PID, mount, IPC, UTS and
// network namespaces, which an unprivileged user, or a container without
// CAP_SYS_ADMIN, lacks.
#include <string>

namespace shelter::testing {

// Why the jail cannot run here, or "" when it can. Tries the namespaces in
// a forked child.
std::string jail_unavailable_reason();

}  // namespace shelter::testing
