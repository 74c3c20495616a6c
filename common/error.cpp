#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace shelter {

SystemError::SystemError(const std::string& what, int err)
    : Error(what + ": " + std::strerror(err)), code_(err) {}

long check_syscall(long result, const std::string& what) {
  if (result < 0) throw SystemError(what, errno);
  return result;
}

}  // namespace shelter
