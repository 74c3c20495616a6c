// The KVM wrappers through the fake: opening, queries, and ioctl failures
// reported with the ioctl's name and errno.
#include <gtest/gtest.h>

#include <cerrno>

#include "tests/unit/vmm/fake_kvm_api.h"
#include "vmm/kvm/uapi.h"
#include "vmm/kvm/error.h"
#include "vmm/kvm/system.h"

namespace shelter::vmm {
namespace {

using testing::FakeKvmApi;

TEST(KvmSystem, MissingDeviceNamesDeviceAndReason) {
  FakeKvmApi api;
  api.open_error = ENOENT;
  try {
    kvm::System::open(api);
    FAIL() << "no error";
  } catch (const KvmError& e) {
    EXPECT_EQ(e.code(), ENOENT);
    std::string message = e.what();
    EXPECT_NE(message.find("/dev/kvm"), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }
  EXPECT_EQ(api.opened_path(), "/dev/kvm");
}

TEST(KvmSystem, PermissionDeniedIsReported) {
  FakeKvmApi api;
  api.open_error = EACCES;
  EXPECT_THROW(
      {
        try {
          kvm::System::open(api);
        } catch (const KvmError& e) {
          EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos);
          throw;
        }
      },
      KvmError);
}

TEST(KvmSystem, ChecksApiVersionThenAnswersQueries) {
  FakeKvmApi api;
  api.max_vcpus = 42;
  kvm::System system = kvm::System::open(api);
  EXPECT_EQ(system.max_vcpus(), 42u);
  EXPECT_EQ(system.vcpu_mmap_size(), testing::kFakeRunAreaSize);
  auto sequence = api.request_sequence();
  ASSERT_GE(sequence.size(), 1u);
  EXPECT_EQ(sequence[0], static_cast<unsigned long>(KVM_GET_API_VERSION));
}

TEST(KvmSystem, SupportedCpuidGrowsItsBufferOnE2big) {
  FakeKvmApi api;
  for (uint32_t i = 0; i < 300; ++i) {
    kvm_cpuid_entry2 e{};
    e.function = i;
    e.eax = i * 3;
    api.supported_cpuid.push_back(e);
  }
  kvm::System system = kvm::System::open(api);
  auto entries = system.supported_cpuid();
  ASSERT_EQ(entries.size(), 300u);
  EXPECT_EQ(entries[299].eax, 897u);
  // 128 and 256 were too small.
  EXPECT_EQ(api.calls_of(kvm::uapi::kGetSupportedCpuid).size(), 3u);
}

TEST(KvmSystem, FailedIoctlCarriesItsName) {
  FakeKvmApi api;
  api.failing_ioctls[KVM_CREATE_VM] = EPERM;
  kvm::System system = kvm::System::open(api);
  try {
    system.create_vm();
    FAIL() << "no error";
  } catch (const KvmError& e) {
    EXPECT_EQ(std::string(e.what()), "KVM_CREATE_VM: Operation not permitted");
  }
}

TEST(KvmVm, PassesStructuresThrough) {
  FakeKvmApi api;
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  int host = 0;
  vm.set_user_memory_region(3, 0x100000, 0x200000, &host);
  vm.set_irq_line(4, true);
  vm.create_pit2();
  auto region = api.calls_of(KVM_SET_USER_MEMORY_REGION).at(0).as<kvm_userspace_memory_region>();
  EXPECT_EQ(region.slot, 3u);
  EXPECT_EQ(region.guest_phys_addr, 0x100000u);
  EXPECT_EQ(region.memory_size, 0x200000u);
  EXPECT_EQ(region.userspace_addr, reinterpret_cast<uint64_t>(&host));
  auto line = api.calls_of(KVM_IRQ_LINE).at(0).as<kvm_irq_level>();
  EXPECT_EQ(line.irq, 4u);
  EXPECT_EQ(line.level, 1u);
  EXPECT_EQ(api.calls_of(KVM_CREATE_PIT2).at(0).as<kvm_pit_config>().flags, unsigned{KVM_PIT_SPEAKER_DUMMY});
}

TEST(KvmVcpu, FailedVcpuIoctlNamesTheVcpu) {
  FakeKvmApi api;
  api.failing_ioctls[KVM_SET_SREGS] = EINVAL;
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  kvm::Vcpu vcpu = vm.create_vcpu(1, system.vcpu_mmap_size());
  try {
    vcpu.set_sregs(kvm_sregs{});
    FAIL() << "no error";
  } catch (const KvmError& e) {
    EXPECT_EQ(std::string(e.what()), "KVM_SET_SREGS (vCPU 1): Invalid argument");
  }
}

TEST(KvmVcpu, SetCpuidAndMsrsCarryEveryEntry) {
  FakeKvmApi api;
  kvm::System system = kvm::System::open(api);
  kvm::Vm vm = system.create_vm();
  kvm::Vcpu vcpu = vm.create_vcpu(0, system.vcpu_mmap_size());
  std::vector<kvm_cpuid_entry2> cpuid(3);
  cpuid[2].function = 0xb;
  cpuid[2].edx = 7;
  vcpu.set_cpuid(cpuid);
  std::vector<kvm_msr_entry> msrs(2);
  msrs[1].index = 0x1a0;
  msrs[1].data = 1;
  vcpu.set_msrs(msrs);
  auto set_cpuid = api.calls_of(kvm::uapi::kSetCpuid2).at(0);
  ASSERT_EQ(set_cpuid.cpuid.size(), 3u);
  EXPECT_EQ(set_cpuid.cpuid[2].function, 0xbu);
  EXPECT_EQ(set_cpuid.cpuid[2].edx, 7u);
  auto set_msrs = api.calls_of(kvm::uapi::kSetMsrs).at(0);
  ASSERT_EQ(set_msrs.msrs.size(), 2u);
  EXPECT_EQ(set_msrs.msrs[1].index, 0x1a0u);
}

// The request codes a C program gets from <linux/kvm.h>: C++ sees the uapi
// structures with a flexible array one empty struct larger, and KVM answered
// the C++ macros with EINVAL (found when booting under real KVM).
TEST(KvmUapi, VariableLengthIoctlsUseTheKernelsSizes) {
  EXPECT_EQ(kvm::uapi::kGetSupportedCpuid, 0xc008ae05ul);
  EXPECT_EQ(kvm::uapi::kSetCpuid2, 0x4008ae90ul);
  EXPECT_EQ(kvm::uapi::kGetMsrs, 0xc008ae88ul);
  EXPECT_EQ(kvm::uapi::kSetMsrs, 0x4008ae89ul);
  EXPECT_EQ(kvm::uapi::kSetGsiRouting, 0x4008ae6aul);
}

}  // namespace
}  // namespace shelter::vmm
