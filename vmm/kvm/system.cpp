#include "vmm/kvm/system.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "vmm/kvm/error.h"
#include "vmm/kvm/uapi.h"

namespace shelter::vmm::kvm {
namespace {

long checked(SysResult r, const char* name) {
  if (!r.ok()) throw KvmError(name, r.error);
  return r.value;
}

constexpr int kKvmApiVersion = 12;
// The count of supported CPUID entries can exceed any fixed guess on new
// processors; the buffer grows on E2BIG up to this bound.
constexpr size_t kMaxCpuidEntries = 4096;

}  // namespace

System System::open(KvmApi& api, const char* device) {
  SysResult r = api.open_device(device);
  if (!r.ok())
    throw KvmError(std::string("cannot open ") + device + " (is KVM available and may this user use it?)",
                   r.error);
  System system(api, UniqueFd(static_cast<int>(r.value)));
  long version = checked(api.ioctl_value(system.fd(), KVM_GET_API_VERSION, 0), "KVM_GET_API_VERSION");
  if (version != kKvmApiVersion)
    throw VmmError(std::string(device) + ": KVM API version " + std::to_string(version) +
                   ", expected " + std::to_string(kKvmApiVersion));
  return system;
}

long System::check_extension(long capability) const {
  return checked(api_->ioctl_value(fd(), KVM_CHECK_EXTENSION, static_cast<unsigned long>(capability)),
                 "KVM_CHECK_EXTENSION");
}

size_t System::vcpu_mmap_size() const {
  long size = checked(api_->ioctl_value(fd(), KVM_GET_VCPU_MMAP_SIZE, 0), "KVM_GET_VCPU_MMAP_SIZE");
  if (static_cast<size_t>(size) < sizeof(kvm_run))
    throw VmmError("KVM_GET_VCPU_MMAP_SIZE: " + std::to_string(size) + " bytes is smaller than kvm_run");
  return static_cast<size_t>(size);
}

void System::require_capabilities() const {
  struct Capability {
    long id;
    const char* name;
  };
  // immediate_exit closes the race between a stop request and KVM_RUN.
  static constexpr Capability kRequired[] = {
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},   {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
      {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
      {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},           {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},       {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
      // PCI interrupts and doorbells: MSI routes, irqfds, ioeventfds.
      {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},   {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
      {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
  };
  for (const Capability& capability : kRequired)
    if (check_extension(capability.id) <= 0)
      throw VmmError(std::string("KVM on this machine lacks ") + capability.name);
}

unsigned System::max_vcpus() const {
  if (long max = check_extension(KVM_CAP_MAX_VCPUS); max > 0) return static_cast<unsigned>(max);
  if (long nr = check_extension(KVM_CAP_NR_VCPUS); nr > 0) return static_cast<unsigned>(nr);
  return 4;  // the documented default when neither capability is reported
}

std::vector<kvm_cpuid_entry2> System::supported_cpuid() const {
  for (size_t count = 128; count <= kMaxCpuidEntries; count *= 2) {
    uapi::VariableStruct<uapi::CpuidHeader, kvm_cpuid_entry2> cpuid(count);
    cpuid.header()->nent = static_cast<uint32_t>(count);
    SysResult r = api_->ioctl_ptr(fd(), uapi::kGetSupportedCpuid, cpuid.header());
    if (r.error == E2BIG) continue;
    checked(r, "KVM_GET_SUPPORTED_CPUID");
    uint32_t n = std::min<uint32_t>(cpuid.header()->nent, static_cast<uint32_t>(count));
    return {cpuid.entries(), cpuid.entries() + n};
  }
  throw KvmError("KVM_GET_SUPPORTED_CPUID", E2BIG);
}

Vm System::create_vm() const {
  long fd = checked(api_->ioctl_value(this->fd(), KVM_CREATE_VM, 0), "KVM_CREATE_VM");
  return Vm(*api_, UniqueFd(static_cast<int>(fd)));
}

void Vm::set_tss_address(uint64_t address) {
  checked(api_->ioctl_value(fd(), KVM_SET_TSS_ADDR, address), "KVM_SET_TSS_ADDR");
}

void Vm::set_identity_map_address(uint64_t address) {
  checked(api_->ioctl_ptr(fd(), KVM_SET_IDENTITY_MAP_ADDR, &address), "KVM_SET_IDENTITY_MAP_ADDR");
}

void Vm::create_irqchip() { checked(api_->ioctl_value(fd(), KVM_CREATE_IRQCHIP, 0), "KVM_CREATE_IRQCHIP"); }

void Vm::create_pit2() {
  kvm_pit_config config{};
  config.flags = KVM_PIT_SPEAKER_DUMMY;
  checked(api_->ioctl_ptr(fd(), KVM_CREATE_PIT2, &config), "KVM_CREATE_PIT2");
}

void Vm::set_user_memory_region(uint32_t slot, uint64_t guest_address, uint64_t size,
                                void* host_address) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_address;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host_address);
  checked(api_->ioctl_ptr(fd(), KVM_SET_USER_MEMORY_REGION, &region), "KVM_SET_USER_MEMORY_REGION");
}

void Vm::set_irq_line(uint32_t irq, bool level) {
  kvm_irq_level line{};
  line.irq = irq;
  line.level = level ? 1 : 0;
  checked(api_->ioctl_ptr(fd(), KVM_IRQ_LINE, &line), "KVM_IRQ_LINE");
}

void Vm::set_gsi_routing(std::span<const kvm_irq_routing_entry> routes) {
  uapi::VariableStruct<uapi::IrqRoutingHeader, kvm_irq_routing_entry> routing(routes.size());
  *routing.header() = uapi::IrqRoutingHeader{};
  routing.header()->nr = static_cast<uint32_t>(routes.size());
  std::memcpy(routing.entries(), routes.data(), routes.size_bytes());
  checked(api_->ioctl_ptr(fd(), uapi::kSetGsiRouting, routing.header()), "KVM_SET_GSI_ROUTING");
}

void Vm::assign_irqfd(int eventfd, uint32_t gsi) {
  kvm_irqfd irqfd{};
  irqfd.fd = static_cast<uint32_t>(eventfd);
  irqfd.gsi = gsi;
  checked(api_->ioctl_ptr(fd(), KVM_IRQFD, &irqfd), "KVM_IRQFD");
}

void Vm::set_mmio_ioeventfd(int eventfd, uint64_t address, uint32_t length, bool assign) {
  kvm_ioeventfd ioeventfd{};
  ioeventfd.addr = address;
  ioeventfd.len = length;
  ioeventfd.fd = eventfd;
  ioeventfd.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN;
  checked(api_->ioctl_ptr(fd(), KVM_IOEVENTFD, &ioeventfd), "KVM_IOEVENTFD");
}

Vcpu Vm::create_vcpu(unsigned id, size_t run_area_size) {
  long fd = checked(api_->ioctl_value(this->fd(), KVM_CREATE_VCPU, id), "KVM_CREATE_VCPU");
  UniqueFd vcpu_fd(static_cast<int>(fd));
  Mapping run_area = api_->map_run_area(vcpu_fd.get(), run_area_size);
  return Vcpu(*api_, id, std::move(vcpu_fd), std::move(run_area));
}

void Vcpu::call(unsigned long request, void* arg, const char* name) {
  SysResult r = api_->ioctl_ptr(fd(), request, arg);
  if (!r.ok()) throw KvmError(std::string(name) + " (vCPU " + std::to_string(id_) + ")", r.error);
}

void Vcpu::set_cpuid(std::span<const kvm_cpuid_entry2> entries) {
  uapi::VariableStruct<uapi::CpuidHeader, kvm_cpuid_entry2> cpuid(entries.size());
  cpuid.header()->nent = static_cast<uint32_t>(entries.size());
  std::memcpy(cpuid.entries(), entries.data(), entries.size_bytes());
  call(uapi::kSetCpuid2, cpuid.header(), "KVM_SET_CPUID2");
}

void Vcpu::set_msrs(std::span<const kvm_msr_entry> entries) {
  uapi::VariableStruct<uapi::MsrsHeader, kvm_msr_entry> msrs(entries.size());
  msrs.header()->nmsrs = static_cast<uint32_t>(entries.size());
  std::memcpy(msrs.entries(), entries.data(), entries.size_bytes());
  SysResult r = api_->ioctl_ptr(fd(), uapi::kSetMsrs, msrs.header());
  if (!r.ok()) throw KvmError("KVM_SET_MSRS (vCPU " + std::to_string(id_) + ")", r.error);
  // KVM_SET_MSRS returns how many it set; it stops at the first it rejects.
  if (static_cast<size_t>(r.value) != entries.size())
    throw VmmError("KVM_SET_MSRS (vCPU " + std::to_string(id_) + "): MSR 0x" +
                   [&] {
                     char hex[16];
                     std::snprintf(hex, sizeof hex, "%x", entries[static_cast<size_t>(r.value)].index);
                     return std::string(hex);
                   }() +
                   " rejected");
}

void Vcpu::set_regs(const kvm_regs& regs) {
  kvm_regs copy = regs;
  call(KVM_SET_REGS, &copy, "KVM_SET_REGS");
}

kvm_sregs Vcpu::get_sregs() {
  kvm_sregs sregs{};
  call(KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
  return sregs;
}

void Vcpu::set_sregs(const kvm_sregs& sregs) {
  kvm_sregs copy = sregs;
  call(KVM_SET_SREGS, &copy, "KVM_SET_SREGS");
}

void Vcpu::set_fpu(const kvm_fpu& fpu) {
  kvm_fpu copy = fpu;
  call(KVM_SET_FPU, &copy, "KVM_SET_FPU");
}

kvm_lapic_state Vcpu::get_lapic() {
  kvm_lapic_state lapic{};
  call(KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC");
  return lapic;
}

void Vcpu::set_lapic(const kvm_lapic_state& lapic) {
  kvm_lapic_state copy = lapic;
  call(KVM_SET_LAPIC, &copy, "KVM_SET_LAPIC");
}

SysResult Vcpu::run() { return api_->ioctl_value(fd(), KVM_RUN, 0); }

}  // namespace shelter::vmm::kvm
