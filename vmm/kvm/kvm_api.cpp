#include "vmm/kvm/kvm_api.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>

namespace shelter::vmm::kvm {
namespace {

SysResult result_of(long value) {
  if (value < 0) return {value, errno};
  return {value, 0};
}

class SystemKvmApi final : public KvmApi {
 public:
  SysResult open_device(const char* path) override {
    return result_of(::open(path, O_RDWR | O_CLOEXEC));
  }
  SysResult ioctl_ptr(int fd, unsigned long request, void* arg) override {
    return result_of(::ioctl(fd, request, arg));
  }
  SysResult ioctl_value(int fd, unsigned long request, unsigned long arg) override {
    return result_of(::ioctl(fd, request, arg));
  }
  Mapping map_run_area(int vcpu_fd, size_t size) override {
    return Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
  }
};

}  // namespace

KvmApi& system_kvm_api() {
  static SystemKvmApi api;
  return api;
}

}  // namespace shelter::vmm::kvm
