#include "tests/support/jail_support.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shelter::testing {

std::string jail_unavailable_reason() {
  if (::geteuid() != 0) return "the VMM jail needs root, and this runs as uid " + std::to_string(::geteuid());
  pid_t child = ::fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0)
    ::_exit(::unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET) == 0 ? 0 : errno);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return "the namespace check's child did not exit";
  if (WEXITSTATUS(status) != 0)
    return std::string("the VMM jail cannot create its namespaces here: ") + std::strerror(WEXITSTATUS(status));
  return "";
}

}  // namespace shelter::testing
