#pragma once
// RAII owners of the three KVM file descriptor kinds (kvmtool's kvm.c /
// kvm-cpu.c, Firecracker's vstate/): the KVM system (/dev/kvm), a VM, and a
// vCPU with its mapped kvm_run area. Every failed ioctl throws KvmError with
// the ioctl's name.
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/mapping.h"
#include "common/unique_fd.h"
#include "vmm/kvm/kvm_api.h"

namespace shelter::vmm::kvm {

class Vm;

class System {
 public:
  // Opens the KVM device and checks its API version; throws VmmError naming
  // the device and the reason ("No such file or directory", "Permission denied").
  static System open(KvmApi& api, const char* device = "/dev/kvm");

  int fd() const noexcept { return fd_.get(); }
  // KVM_CHECK_EXTENSION: 0 when unsupported, else the capability's value.
  long check_extension(long capability) const;
  size_t vcpu_mmap_size() const;
  // Throws VmmError naming the first capability the VMM needs that KVM lacks.
  void require_capabilities() const;
  // The most vCPUs one VM may have (KVM_CAP_MAX_VCPUS, then KVM_CAP_NR_VCPUS).
  unsigned max_vcpus() const;
  std::vector<kvm_cpuid_entry2> supported_cpuid() const;
  Vm create_vm() const;

 private:
  System(KvmApi& api, UniqueFd fd) : api_(&api), fd_(std::move(fd)) {}
  KvmApi* api_;
  UniqueFd fd_;
};

class Vcpu;

class Vm {
 public:
  Vm(KvmApi& api, UniqueFd fd) : api_(&api), fd_(std::move(fd)) {}
  int fd() const noexcept { return fd_.get(); }

  void set_tss_address(uint64_t address);
  void set_identity_map_address(uint64_t address);
  void create_irqchip();
  void create_pit2();
  void set_user_memory_region(uint32_t slot, uint64_t guest_address, uint64_t size,
                              void* host_address);
  void set_irq_line(uint32_t irq, bool level);
  // KVM_SET_GSI_ROUTING: replaces the whole routing table with routes.
  void set_gsi_routing(std::span<const kvm_irq_routing_entry> routes);
  // KVM_IRQFD: a write to eventfd raises gsi.
  void assign_irqfd(int eventfd, uint32_t gsi);
  // KVM_IOEVENTFD: a guest write of length bytes to the MMIO address
  // signals eventfd instead of exiting; assign false removes the binding.
  void set_mmio_ioeventfd(int eventfd, uint64_t address, uint32_t length, bool assign);
  Vcpu create_vcpu(unsigned id, size_t run_area_size);

 private:
  KvmApi* api_;
  UniqueFd fd_;
};

class Vcpu {
 public:
  Vcpu(KvmApi& api, unsigned id, UniqueFd fd, Mapping run_area)
      : api_(&api), id_(id), fd_(std::move(fd)), run_area_(std::move(run_area)) {}
  unsigned id() const noexcept { return id_; }
  int fd() const noexcept { return fd_.get(); }

  void set_cpuid(std::span<const kvm_cpuid_entry2> entries);
  void set_msrs(std::span<const kvm_msr_entry> entries);
  void set_regs(const kvm_regs& regs);
  kvm_sregs get_sregs();
  void set_sregs(const kvm_sregs& sregs);
  void set_fpu(const kvm_fpu& fpu);
  kvm_lapic_state get_lapic();
  void set_lapic(const kvm_lapic_state& lapic);

  // One KVM_RUN; the caller handles EINTR (a kick) and reads run_area().
  SysResult run();
  kvm_run& run_area() const noexcept { return *static_cast<kvm_run*>(run_area_.get()); }
  // The whole mapped area, for bounds checks of data_offset fields.
  std::span<uint8_t> run_area_bytes() const noexcept { return run_area_.bytes(); }

 private:
  void call(unsigned long request, void* arg, const char* name);
  KvmApi* api_;
  unsigned id_;
  UniqueFd fd_;
  Mapping run_area_;
};

}  // namespace shelter::vmm::kvm
