#pragma once
// The thin system-call surface the VMM uses to talk to KVM. Everything above
// it (RAII wrappers, the VM builder, the vCPU run loop) goes through this
// interface, so tests put a fake in its place that records every ioctl and
// scripts KVM_RUN exits.
#include <cstddef>

#include "common/mapping.h"

namespace shelter::vmm::kvm {

// A system call's result: value when error is 0, otherwise the errno.
struct SysResult {
  long value = 0;
  int error = 0;
  bool ok() const noexcept { return error == 0; }
};

class KvmApi {
 public:
  virtual ~KvmApi() = default;
  // open(path, O_RDWR | O_CLOEXEC).
  virtual SysResult open_device(const char* path) = 0;
  // ioctl(fd, request, arg) with a pointer argument.
  virtual SysResult ioctl_ptr(int fd, unsigned long request, void* arg) = 0;
  // ioctl(fd, request, arg) with an integer argument.
  virtual SysResult ioctl_value(int fd, unsigned long request, unsigned long arg) = 0;
  // The vCPU's shared kvm_run area (mmap of the vCPU fd); throws SystemError.
  virtual Mapping map_run_area(int vcpu_fd, size_t size) = 0;
};

// The implementation over the real system calls.
KvmApi& system_kvm_api();

}  // namespace shelter::vmm::kvm
