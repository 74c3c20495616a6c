#pragma once
// Errors of the VMM library. KvmError names the failed ioctl and its errno.
#include <string>

#include "common/error.h"

namespace shelter::vmm {

// A guest cannot be built or run: bad kernel, bad configuration, device error.
class VmmError : public Error {
 public:
  using Error::Error;
};

// A KVM system call failed: "<ioctl name>: <strerror>".
class KvmError : public SystemError {
 public:
  KvmError(const std::string& call, int err) : SystemError(call, err) {}
};

}  // namespace shelter::vmm
