#include "tests/unit/vmm/fake_kvm_api.h"

#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <thread>

#include "vmm/kvm/uapi.h"

namespace shelter::vmm::testing {

ScriptedExit io_exit(uint8_t direction, uint16_t port, std::vector<uint8_t> data, uint8_t size) {
  return [=](kvm_run& run) {
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = direction;
    run.io.port = port;
    run.io.size = size;
    run.io.count = static_cast<uint32_t>(data.size() / size);
    run.io.data_offset = kFakeIoDataOffset;
    std::memcpy(reinterpret_cast<uint8_t*>(&run) + kFakeIoDataOffset, data.data(), data.size());
  };
}

ScriptedExit mmio_exit(bool is_write, uint64_t address, std::vector<uint8_t> data) {
  return [=](kvm_run& run) {
    run.exit_reason = KVM_EXIT_MMIO;
    run.mmio.phys_addr = address;
    run.mmio.is_write = is_write;
    run.mmio.len = static_cast<uint32_t>(data.size());
    std::memcpy(run.mmio.data, data.data(), data.size());
  };
}

ScriptedExit simple_exit(uint32_t reason) {
  return [=](kvm_run& run) { run.exit_reason = reason; };
}

ScriptedExit internal_error_exit(uint32_t suberror) {
  return [=](kvm_run& run) {
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.internal.suberror = suberror;
  };
}

ScriptedExit fail_entry_exit(uint64_t reason) {
  return [=](kvm_run& run) {
    run.exit_reason = KVM_EXIT_FAIL_ENTRY;
    run.fail_entry.hardware_entry_failure_reason = reason;
  };
}

FakeKvmApi::FakeKvmApi() {
  // A LAPIC as KVM leaves it after creation: LVTs masked.
  uint32_t masked = 1u << 16;
  std::memcpy(lapic_.regs + 0x350, &masked, 4);
  std::memcpy(lapic_.regs + 0x360, &masked, 4);
}

FakeKvmApi::~FakeKvmApi() = default;

kvm::SysResult FakeKvmApi::new_fd(RecordedIoctl::Target target, unsigned vcpu) {
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return {-1, errno};
  objects_[fd] = {target, vcpu};
  return {fd, 0};
}

kvm::SysResult FakeKvmApi::open_device(const char* path) {
  std::lock_guard lock(mutex_);
  opened_path_ = path;
  if (open_error != 0) return {-1, open_error};
  return new_fd(RecordedIoctl::Target::kSystem, 0);
}

kvm::SysResult FakeKvmApi::ioctl_value(int fd, unsigned long request, unsigned long arg) {
  if (request == KVM_RUN) {
    unsigned vcpu;
    {
      std::lock_guard lock(mutex_);
      vcpu = objects_.at(fd).vcpu;
      calls_.push_back({RecordedIoctl::Target::kVcpu, vcpu, request, arg, {}, {}, {}, {}});
      if (auto failing = failing_ioctls.find(request); failing != failing_ioctls.end()) return {-1, failing->second};
    }
    return run(vcpu);
  }
  std::lock_guard lock(mutex_);
  Object object = objects_.at(fd);
  calls_.push_back({object.target, object.vcpu, request, arg, {}, {}, {}, {}});
  if (auto failing = failing_ioctls.find(request); failing != failing_ioctls.end()) return {-1, failing->second};
  switch (request) {
    case KVM_GET_API_VERSION:
      return {KVM_API_VERSION, 0};
    case KVM_CHECK_EXTENSION:
      if (arg == KVM_CAP_MAX_VCPUS || arg == KVM_CAP_NR_VCPUS) return {max_vcpus, 0};
      if (std::find(missing_capabilities.begin(), missing_capabilities.end(), static_cast<long>(arg)) !=
          missing_capabilities.end())
        return {0, 0};
      return {1, 0};
    case KVM_GET_VCPU_MMAP_SIZE:
      return {kFakeRunAreaSize, 0};
    case KVM_CREATE_VM:
      return new_fd(RecordedIoctl::Target::kVm, 0);
    case KVM_CREATE_VCPU: {
      kvm::SysResult r = new_fd(RecordedIoctl::Target::kVcpu, static_cast<unsigned>(arg));
      vcpus_[static_cast<unsigned>(arg)];
      return r;
    }
    default:
      return {0, 0};
  }
}

kvm::SysResult FakeKvmApi::ioctl_ptr(int fd, unsigned long request, void* arg) {
  std::lock_guard lock(mutex_);
  Object object = objects_.at(fd);
  RecordedIoctl call{object.target, object.vcpu, request, 0, {}, {}, {}, {}};
  auto* bytes = static_cast<uint8_t*>(arg);
  call.payload.assign(bytes, bytes + _IOC_SIZE(request));
  if (request == kvm::uapi::kSetCpuid2) {
    auto* cpuid = static_cast<kvm::uapi::CpuidHeader*>(arg);
    auto* entries = kvm::uapi::entries_of<kvm_cpuid_entry2>(cpuid);
    call.cpuid.assign(entries, entries + cpuid->nent);
  } else if (request == kvm::uapi::kSetMsrs) {
    auto* msrs = static_cast<kvm::uapi::MsrsHeader*>(arg);
    auto* entries = kvm::uapi::entries_of<kvm_msr_entry>(msrs);
    call.msrs.assign(entries, entries + msrs->nmsrs);
  } else if (request == kvm::uapi::kSetGsiRouting) {
    auto* routing = static_cast<kvm::uapi::IrqRoutingHeader*>(arg);
    auto* entries = kvm::uapi::entries_of<kvm_irq_routing_entry>(routing);
    call.routes.assign(entries, entries + routing->nr);
  }
  calls_.push_back(std::move(call));
  if (auto failing = failing_ioctls.find(request); failing != failing_ioctls.end()) return {-1, failing->second};
  switch (request) {
    case kvm::uapi::kGetSupportedCpuid: {
      auto* cpuid = static_cast<kvm::uapi::CpuidHeader*>(arg);
      if (cpuid->nent < supported_cpuid.size()) return {-1, E2BIG};
      cpuid->nent = static_cast<uint32_t>(supported_cpuid.size());
      std::memcpy(kvm::uapi::entries_of<kvm_cpuid_entry2>(cpuid), supported_cpuid.data(), supported_cpuid.size() * sizeof(kvm_cpuid_entry2));
      return {0, 0};
    }
    case kvm::uapi::kSetMsrs:
      return {static_cast<long>(static_cast<kvm::uapi::MsrsHeader*>(arg)->nmsrs), 0};
    case KVM_GET_LAPIC:
      std::memcpy(arg, &lapic_, sizeof lapic_);
      return {0, 0};
    case KVM_GET_SREGS: {
      kvm_sregs sregs{};
      sregs.apic_base = 0xfee00900;
      std::memcpy(arg, &sregs, sizeof sregs);
      return {0, 0};
    }
    default:
      return {0, 0};
  }
}

Mapping FakeKvmApi::map_run_area(int vcpu_fd, size_t size) {
  Mapping area = Mapping::map(size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  std::lock_guard lock(mutex_);
  vcpus_[objects_.at(vcpu_fd).vcpu].run = static_cast<kvm_run*>(area.get());
  return area;
}

void FakeKvmApi::script(unsigned vcpu, std::vector<ScriptedExit> exits) {
  std::lock_guard lock(mutex_);
  for (auto& e : exits) vcpus_[vcpu].script.push_back(std::move(e));
}

kvm::SysResult FakeKvmApi::run(unsigned vcpu) {
  kvm_run* area;
  ScriptedExit next;
  {
    std::lock_guard lock(mutex_);
    VcpuState& state = vcpus_.at(vcpu);
    area = state.run;
    if (state.last_was_io_in) {
      auto* data = reinterpret_cast<uint8_t*>(area) + area->io.data_offset;
      state.io_in_results.emplace_back(data, data + area->io.size * area->io.count);
      state.last_was_io_in = false;
    }
    if (std::atomic_ref<uint8_t>(area->immediate_exit).load()) return {-1, EINTR};
    if (!state.script.empty()) {
      next = std::move(state.script.front());
      state.script.pop_front();
    }
  }
  if (next) {
    // Run outside the lock: a scripted exit may wait for other vCPUs.
    next(*area);
    std::lock_guard lock(mutex_);
    vcpus_.at(vcpu).last_was_io_in = area->exit_reason == KVM_EXIT_IO && area->io.direction == KVM_EXIT_IO_IN;
    return {0, 0};
  }
  // Out of script: the vCPU idles in the guest until it is kicked. Like
  // KVM_RUN it blocks in a call the vCPU's seccomp list allows: a futex wait
  // on the run area's first word, which holds immediate_exit. The kick sets
  // immediate_exit before it signals, so a wait entered after the set finds
  // the word changed and one entered before is interrupted by the signal.
  ++idle_vcpus_;
  static_assert(offsetof(kvm_run, immediate_exit) < sizeof(uint32_t));
  auto* first_word = reinterpret_cast<uint32_t*>(area);
  std::atomic_ref<uint8_t> immediate_exit(area->immediate_exit);
  while (!immediate_exit.load()) {
    uint32_t seen = std::atomic_ref<uint32_t>(*first_word).load();
    if (immediate_exit.load()) break;
    ::syscall(SYS_futex, first_word, FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
  }
  --idle_vcpus_;
  return {-1, EINTR};
}

void FakeKvmApi::wait_for_idle_vcpus(unsigned count) const {
  while (idle_vcpus_.load() < count) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

std::vector<RecordedIoctl> FakeKvmApi::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<RecordedIoctl> FakeKvmApi::calls_of(unsigned long request) const {
  std::vector<RecordedIoctl> matching;
  for (const RecordedIoctl& call : calls())
    if (call.request == request) matching.push_back(call);
  return matching;
}

std::vector<unsigned long> FakeKvmApi::request_sequence() const {
  std::vector<unsigned long> sequence;
  for (const RecordedIoctl& call : calls()) sequence.push_back(call.request);
  return sequence;
}

std::vector<std::vector<uint8_t>> FakeKvmApi::io_in_results(unsigned vcpu) const {
  std::lock_guard lock(mutex_);
  return vcpus_.at(vcpu).io_in_results;
}

std::optional<std::string> FakeKvmApi::opened_path() const {
  std::lock_guard lock(mutex_);
  return opened_path_;
}

}  // namespace shelter::vmm::testing
