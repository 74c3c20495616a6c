#pragma once
// A fake of the KVM system-call interface: it hands out real (eventfd) file
// descriptors so the RAII owners close something real, records every ioctl
// with a copy of the structure it carried, answers the queries a real KVM
// answers, and scripts what each vCPU's KVM_RUN returns.
#include <linux/kvm.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vmm/kvm/kvm_api.h"

namespace shelter::vmm::testing {

struct RecordedIoctl {
  enum class Target { kSystem, kVm, kVcpu };
  Target target;
  unsigned vcpu;  // for kVcpu
  unsigned long request;
  unsigned long value;            // the integer argument
  std::vector<uint8_t> payload;   // the pointed-to structure (fixed part)
  std::vector<kvm_cpuid_entry2> cpuid;  // KVM_SET_CPUID2 entries
  std::vector<kvm_msr_entry> msrs;      // KVM_SET_MSRS entries
  std::vector<kvm_irq_routing_entry> routes;  // KVM_SET_GSI_ROUTING entries

  template <typename T>
  T as() const {
    T object{};
    std::memcpy(&object, payload.data(), std::min(sizeof(T), payload.size()));
    return object;
  }
};

// One scripted KVM_RUN: fills the run area (exit_reason and its fields).
using ScriptedExit = std::function<void(kvm_run&)>;

ScriptedExit io_exit(uint8_t direction, uint16_t port, std::vector<uint8_t> data, uint8_t size = 1);
ScriptedExit mmio_exit(bool is_write, uint64_t address, std::vector<uint8_t> data);
ScriptedExit simple_exit(uint32_t reason);
ScriptedExit internal_error_exit(uint32_t suberror);
ScriptedExit fail_entry_exit(uint64_t reason);

class FakeKvmApi final : public kvm::KvmApi {
 public:
  FakeKvmApi();
  ~FakeKvmApi() override;

  kvm::SysResult open_device(const char* path) override;
  kvm::SysResult ioctl_ptr(int fd, unsigned long request, void* arg) override;
  kvm::SysResult ioctl_value(int fd, unsigned long request, unsigned long arg) override;
  Mapping map_run_area(int vcpu_fd, size_t size) override;

  // Configuration, before use.
  int open_error = 0;                 // errno for open_device, 0 to succeed
  long max_vcpus = 8;                 // KVM_CAP_MAX_VCPUS
  std::vector<long> missing_capabilities;  // KVM_CHECK_EXTENSION answers 0
  std::vector<kvm_cpuid_entry2> supported_cpuid;
  std::map<unsigned long, int> failing_ioctls;  // request -> errno
  void script(unsigned vcpu, std::vector<ScriptedExit> exits);

  // Observations.
  std::vector<RecordedIoctl> calls() const;
  std::vector<RecordedIoctl> calls_of(unsigned long request) const;
  std::vector<unsigned long> request_sequence() const;
  // Bytes the VMM left in the run area's I/O data for each port-in exit, per vCPU.
  std::vector<std::vector<uint8_t>> io_in_results(unsigned vcpu) const;
  std::optional<std::string> opened_path() const;
  // Blocks until count vCPUs idle in KVM_RUN with nothing left to script.
  void wait_for_idle_vcpus(unsigned count) const;

 private:
  struct Object {
    RecordedIoctl::Target target;
    unsigned vcpu;
  };
  struct VcpuState {
    kvm_run* run = nullptr;
    std::deque<ScriptedExit> script;
    bool last_was_io_in = false;
    std::vector<std::vector<uint8_t>> io_in_results;
  };
  kvm::SysResult new_fd(RecordedIoctl::Target target, unsigned vcpu);
  kvm::SysResult run(unsigned vcpu);

  mutable std::mutex mutex_;
  std::map<int, Object> objects_;
  std::map<unsigned, VcpuState> vcpus_;
  std::vector<RecordedIoctl> calls_;
  std::optional<std::string> opened_path_;
  kvm_lapic_state lapic_{};
  std::atomic<unsigned> idle_vcpus_{0};
};

// The size of the fake's run area: kvm_run plus the page KVM puts I/O data in.
inline constexpr size_t kFakeRunAreaSize = 2 * 4096;
inline constexpr uint32_t kFakeIoDataOffset = 4096;

}  // namespace shelter::vmm::testing
