// The VM builder and the vCPU run loop through the fake KVM: the ioctl
// sequence and structures, exit dispatch, every way a VM ends, and the
// clean stop of all vCPU threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tests/unit/vmm/acpi_parse.h"
#include "tests/unit/vmm/fake_kvm_api.h"
#include "vmm/kvm/uapi.h"
#include "vmm/acpi/pm_device.h"
#include "vmm/acpi/structures.h"
#include "vmm/acpi/tables.h"
#include "vmm/arch/x86_64/boot_params.h"
#include "vmm/arch/x86_64/reset_vector.h"
#include "vmm/arch/x86_64/start_info.h"
#include "vmm/kvm/error.h"
#include "vmm/machine.h"
#include "vmm/virtio/pci_transport.h"

namespace shelter::vmm {
namespace {

using devices::VmExit;
using testing::FakeKvmApi;
using testing::io_exit;
using testing::mmio_exit;

const std::string kProbeDir = SHELTER_PROBE_DIR;

struct StringSink final : devices::ByteSink {
  std::string text;
  void write(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
};

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  return e;
}

// The 4-byte MMIO read the previous exit asked for, as an exit-port status:
// 0 when it read expected.
testing::ScriptedExit exit_with_mmio_check(uint32_t expected) {
  return [expected](kvm_run& run) {
    uint32_t value;
    std::memcpy(&value, run.mmio.data, 4);
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = KVM_EXIT_IO_OUT;
    run.io.port = 0xf4;
    run.io.size = 1;
    run.io.count = 1;
    run.io.data_offset = testing::kFakeIoDataOffset;
    reinterpret_cast<uint8_t*>(&run)[testing::kFakeIoDataOffset] = value == expected ? 0 : 9;
  };
}

class MachineTest : public ::testing::Test {
 protected:
  MachineTest() { api.supported_cpuid = {leaf(0), leaf(1), leaf(0xb, 0), leaf(0xb, 1)}; }

  VmConfig config(const std::string& probe, unsigned cpus = 1) {
    VmConfig c;
    c.kernel = kProbeDir + "/" + probe;
    c.cmdline = "cpus=" + std::to_string(cpus);
    c.memory_mib = 64;
    c.cpus = cpus;
    return c;
  }

  std::string build_error(const VmConfig& c) {
    try {
      build_machine(api, c, console);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  FakeKvmApi api;
  StringSink console;
};

TEST_F(MachineTest, BuildIssuesTheKvmSetupSequence) {
  auto machine = build_machine(api, config("pvh-probe.elf", 2), console);
  using Requests = std::vector<unsigned long>;
  Requests expected = {KVM_GET_API_VERSION};
  expected.insert(expected.end(), 11, KVM_CHECK_EXTENSION);  // 10 required capabilities, then the vCPU limit
  Requests vm = {KVM_CREATE_VM,   KVM_SET_TSS_ADDR,           KVM_SET_IDENTITY_MAP_ADDR, KVM_CREATE_IRQCHIP,
                 KVM_CREATE_PIT2, KVM_SET_USER_MEMORY_REGION, KVM_GET_VCPU_MMAP_SIZE,    kvm::uapi::kGetSupportedCpuid};
  Requests boot_vcpu = {KVM_CREATE_VCPU, kvm::uapi::kSetCpuid2, kvm::uapi::kSetMsrs,  KVM_SET_FPU,  KVM_GET_SREGS,
                        KVM_SET_SREGS,   KVM_SET_REGS,   KVM_GET_LAPIC, KVM_SET_LAPIC};
  Requests application_vcpu = {KVM_CREATE_VCPU, kvm::uapi::kSetCpuid2, kvm::uapi::kSetMsrs,
                               KVM_SET_FPU,     KVM_GET_LAPIC,  KVM_SET_LAPIC};
  for (const Requests* part : {&vm, &boot_vcpu, &application_vcpu})
    expected.insert(expected.end(), part->begin(), part->end());
  Requests actual = api.request_sequence();
  ASSERT_GE(actual.size(), expected.size());
  EXPECT_EQ(Requests(actual.begin(), actual.begin() + static_cast<long>(expected.size())), expected);
  // Then only the PCI devices' interrupt wiring (the rng and console every VM has).
  for (size_t i = expected.size(); i < actual.size(); ++i)
    EXPECT_TRUE(actual[i] == KVM_IRQFD || actual[i] == kvm::uapi::kSetGsiRouting) << i << ": " << actual[i];
  EXPECT_EQ(api.calls_of(KVM_SET_TSS_ADDR).at(0).value, memory::kKvmTssAddress);
  EXPECT_EQ(api.calls_of(KVM_SET_IDENTITY_MAP_ADDR).at(0).as<uint64_t>(), memory::kKvmIdentityMapAddress);
  EXPECT_EQ(api.calls_of(KVM_CREATE_VCPU).at(1).value, 1u);
}

TEST_F(MachineTest, MemoryRegionsCoverRamOnBothSidesOfTheHole) {
  VmConfig c = config("pvh-probe.elf");
  c.memory_mib = 3 * 1024 + 64;
  auto machine = build_machine(api, c, console);
  auto regions = api.calls_of(KVM_SET_USER_MEMORY_REGION);
  ASSERT_EQ(regions.size(), 2u);
  auto low = regions[0].as<kvm_userspace_memory_region>();
  auto high = regions[1].as<kvm_userspace_memory_region>();
  EXPECT_EQ(low.slot, 0u);
  EXPECT_EQ(low.guest_phys_addr, 0u);
  EXPECT_EQ(low.memory_size, memory::kPciHoleStart);
  EXPECT_EQ(low.userspace_addr, reinterpret_cast<uint64_t>(machine->memory().slice(0, 1).data()));
  EXPECT_EQ(high.slot, 1u);
  EXPECT_EQ(high.guest_phys_addr, memory::kPciHoleEnd);
  EXPECT_EQ(high.memory_size, 64 * memory::kMiB);
}

TEST_F(MachineTest, EachVcpuGetsItsOwnApicIdAndTheBootVcpuTheEntryState) {
  auto machine = build_machine(api, config("pvh-probe.elf", 2), console);
  auto cpuid = api.calls_of(kvm::uapi::kSetCpuid2);
  ASSERT_EQ(cpuid.size(), 2u);
  for (unsigned vcpu = 0; vcpu < 2; ++vcpu) {
    EXPECT_EQ(cpuid[vcpu].vcpu, vcpu);
    for (const auto& e : cpuid[vcpu].cpuid) {
      if (e.function == 1) {
        EXPECT_EQ(e.ebx >> 24, vcpu);
      }
      if (e.function == 0xb) {
        EXPECT_EQ(e.edx, vcpu);
      }
    }
  }
  auto regs = api.calls_of(KVM_SET_REGS);
  ASSERT_EQ(regs.size(), 1u);  // the application processor waits for SIPI
  EXPECT_EQ(regs[0].vcpu, 0u);
  EXPECT_EQ(regs[0].as<kvm_regs>().rip, machine->boot_setup().entry);
  EXPECT_EQ(regs[0].as<kvm_regs>().rbx, memory::kPvhStartInfoAddress);
  auto sregs = api.calls_of(KVM_SET_SREGS).at(0).as<kvm_sregs>();
  EXPECT_EQ(sregs.cs.db, 1);
  EXPECT_EQ(sregs.apic_base, 0xfee00900u);  // kept from KVM_GET_SREGS
  auto lapic = api.calls_of(KVM_SET_LAPIC).at(1).as<kvm_lapic_state>();
  uint32_t lint0;
  std::memcpy(&lint0, lapic.regs + 0x350, 4);
  EXPECT_EQ((lint0 >> 8) & 7, 7u);
  EXPECT_EQ(api.calls_of(kvm::uapi::kSetMsrs).at(1).msrs.size(), 11u);
}

TEST_F(MachineTest, SerialOutputAndExitPortStatus) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {io_exit(KVM_EXIT_IO_OUT, 0x3f8, {'h', 'i'}), io_exit(KVM_EXIT_IO_IN, 0x3fd, {0}),
                 io_exit(KVM_EXIT_IO_IN, 0x2f8, {0, 0}, 2), io_exit(KVM_EXIT_IO_OUT, 0xf4, {7, 0, 0, 0}, 4)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kExitPort);
  EXPECT_EQ(exit.status, 7);
  EXPECT_EQ(console.text, "hi");  // a string OUT: both bytes, in order
  auto in = api.io_in_results(0);
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0], std::vector<uint8_t>{0x60});  // LSR: THR empty, idle
  EXPECT_EQ(in[1], (std::vector<uint8_t>{0xff, 0xff}));  // nothing at COM2
}

TEST_F(MachineTest, ResetThroughI8042StopsEveryVcpu) {
  auto machine = build_machine(api, config("pvh-probe.elf", 2), console);
  // vCPU 1 has no script: it idles in KVM_RUN until it is kicked. vCPU 0
  // resets the machine only once vCPU 1 is inside KVM_RUN, so run() can
  // return only if the kick reached it.
  auto reset = io_exit(KVM_EXIT_IO_OUT, 0x64, {0xfe});
  api.script(0, {io_exit(KVM_EXIT_IO_OUT, 0x3f8, {'x'}), [&](kvm_run& run) {
                   api.wait_for_idle_vcpus(1);
                   reset(run);
                 }});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kReset);
  EXPECT_EQ(exit.status, 0);
  EXPECT_EQ(console.text, "x");
}

TEST_F(MachineTest, AnyVcpuCanEndTheVm) {
  auto machine = build_machine(api, config("pvh-probe.elf", 2), console);
  api.script(1, {io_exit(KVM_EXIT_IO_OUT, 0xf4, {3})});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kExitPort);
  EXPECT_EQ(exit.status, 3);
}

TEST_F(MachineTest, TripleFaultIsAReset) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {testing::simple_exit(KVM_EXIT_SHUTDOWN)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kReset);
  EXPECT_NE(exit.message.find("triple fault"), std::string::npos);
}

TEST_F(MachineTest, HaltExitIsPowerOff) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {testing::simple_exit(KVM_EXIT_HLT)});
  EXPECT_EQ(machine->run().reason, VmExit::Reason::kPowerOff);
}

TEST_F(MachineTest, EmulationFailureIsAnError) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {testing::internal_error_exit(KVM_INTERNAL_ERROR_EMULATION)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kError);
  EXPECT_EQ(exit.message, "vCPU 0: KVM_EXIT_INTERNAL_ERROR: instruction emulation failed (suberror 1)");
}

TEST_F(MachineTest, FailedEntryIsAnError) {
  auto machine = build_machine(api, config("pvh-probe.elf", 2), console);
  api.script(1, {testing::fail_entry_exit(0x80000021)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kError);
  EXPECT_EQ(exit.message, "vCPU 1: KVM_EXIT_FAIL_ENTRY, hardware entry failure reason 0x80000021");
}

TEST_F(MachineTest, FailingKvmRunIsAnErrorNamingTheIoctl) {
  api.failing_ioctls[KVM_RUN] = EFAULT;
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kError);
  EXPECT_EQ(exit.message, "KVM_RUN (vCPU 0): Bad address");
}

TEST_F(MachineTest, MalformedIoExitIsAnErrorNotACrash) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {[](kvm_run& run) {
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = KVM_EXIT_IO_IN;
    run.io.size = 4;
    run.io.count = 1000000;
    run.io.data_offset = testing::kFakeIoDataOffset;
  }});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kError);
  EXPECT_NE(exit.message.find("malformed KVM_EXIT_IO"), std::string::npos);
}

TEST_F(MachineTest, BootTimerAndUnclaimedMmio) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  // The unclaimed MMIO read must be answered with zeros.
  api.script(0, {mmio_exit(true, memory::kBootTimerAddress, {123}), mmio_exit(false, 0xf0000000, {1, 2, 3, 4}),
                 exit_with_mmio_check(0)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.status, 0);
  EXPECT_TRUE(machine->boot_time());
}

TEST_F(MachineTest, SerialInterruptGoesThroughKvmIrqLine) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {io_exit(KVM_EXIT_IO_OUT, 0x3f9, {0x02}), io_exit(KVM_EXIT_IO_IN, 0x3fa, {0}),
                 io_exit(KVM_EXIT_IO_OUT, 0xf4, {0})});
  machine->run();
  auto lines = api.calls_of(KVM_IRQ_LINE);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].as<kvm_irq_level>().irq, 4u);
  EXPECT_EQ(lines[0].as<kvm_irq_level>().level, 1u);
  EXPECT_EQ(lines[1].as<kvm_irq_level>().level, 0u);
}

TEST_F(MachineTest, TooManyVcpusForKvmIsRejected) {
  api.max_vcpus = 2;
  EXPECT_EQ(build_error(config("pvh-probe.elf", 3)), "--cpus 3: KVM on this machine allows at most 2 vCPUs");
}

TEST_F(MachineTest, MissingKvmCapabilityIsNamed) {
  api.missing_capabilities = {KVM_CAP_IMMEDIATE_EXIT};
  EXPECT_EQ(build_error(config("pvh-probe.elf")), "KVM on this machine lacks KVM_CAP_IMMEDIATE_EXIT");
  EXPECT_TRUE(api.calls_of(KVM_CREATE_VM).empty());
}

TEST_F(MachineTest, VcpuCountBeyondXapicIsRejectedBeforeKvm) {
  EXPECT_EQ(build_error(config("pvh-probe.elf", 255)), "--cpus 255: the VM supports 1 to 254 vCPUs");
  EXPECT_EQ(build_error(config("pvh-probe.elf", 0)), "--cpus 0: the VM supports 1 to 254 vCPUs");
  EXPECT_FALSE(api.opened_path());
}

TEST_F(MachineTest, MemoryOutsideItsRangeIsRejectedBeforeKvm) {
  VmConfig c = config("pvh-probe.elf");
  c.memory_mib = 1;
  EXPECT_EQ(build_error(c), "--memory 1: must be 2 to 1048576 MiB");
  c.memory_mib = kMaxMemoryMib + 1;
  EXPECT_EQ(build_error(c), "--memory 1048577: must be 2 to 1048576 MiB");
  EXPECT_FALSE(api.opened_path());
}

TEST_F(MachineTest, MissingKvmIsOneClearError) {
  api.open_error = ENOENT;
  std::string error = build_error(config("pvh-probe.elf"));
  EXPECT_EQ(error, "cannot open /dev/kvm (is KVM available and may this user use it?): No such file or directory");
}

TEST_F(MachineTest, BadKernelIsReportedBeforeKvmIsOpened) {
  VmConfig c = config("pvh-probe.elf");
  c.kernel = kProbeDir + "/no-such-kernel";
  std::string error = build_error(c);
  EXPECT_NE(error.find("kernel " + kProbeDir + "/no-such-kernel: cannot open"), std::string::npos) << error;
  c.kernel = std::string(SHELTER_SOURCE_DIR) + "/tests/guests/probe.h";
  EXPECT_EQ(build_error(c), "kernel " + c.kernel.string() + ": not a kernel (neither a bzImage nor an ELF file)");
  c = config("bzimage-probe.bin");
  c.memory_mib = 16;
  EXPECT_NE(build_error(c).find("use a larger --memory"), std::string::npos);
  EXPECT_FALSE(api.opened_path());
}

TEST_F(MachineTest, InitrdFileIsLoadedAsAModule) {
  VmConfig c = config("pvh-probe.elf");
  c.initrd = kProbeDir + "/foreign-pvh.elf";
  auto machine = build_machine(api, c, console);
  EXPECT_GT(machine->boot_setup().initrd_size, 0u);
  auto info = machine->memory().read_object<x86_64::HvmStartInfo>(memory::kPvhStartInfoAddress);
  EXPECT_EQ(+info.nr_modules, 1u);
}

// The RSDP's address as the guest reads it from its boot structure, and
// the MADT found by walking the installed tables from there.
TEST_F(MachineTest, AcpiTablesAreInstalledAndTheBootStructuresPointAtThem) {
  for (const char* probe : {"pvh-probe.elf", "bzimage-probe.bin"}) {
    SCOPED_TRACE(probe);
    auto machine = build_machine(api, config(probe, 2), console);
    const memory::GuestMemory& memory = machine->memory();
    uint64_t rsdp = std::string(probe) == "pvh-probe.elf"
                        ? memory.read_object<x86_64::HvmStartInfo>(memory::kPvhStartInfoAddress).rsdp_paddr
                        : memory.read_object<x86_64::BootParams>(memory::kZeroPageAddress).acpi_rsdp_addr;
    EXPECT_EQ(rsdp, memory::kAcpiTablesAddress);
    auto area = memory.slice(memory::kAcpiTablesAddress, memory::kAcpiTablesMaxSize);
    auto tables = acpi::testing::parse_tables(area, memory::kAcpiTablesAddress, rsdp);
    EXPECT_EQ(tables.tables.at("APIC").size(),
              sizeof(acpi::Madt) + 2 * sizeof(acpi::MadtLocalApic) + sizeof(acpi::MadtIoApic) +
                  sizeof(acpi::MadtLocalApicNmi));
  }
}

TEST_F(MachineTest, AcpiSleepControlPowersOffTheVm) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  uint8_t s5 = acpi::kSleepEnable | (acpi::kSleepTypeS5 << acpi::kSleepTypeShift);
  api.script(0, {io_exit(KVM_EXIT_IO_OUT, acpi::kSleepStatusPort, {0x80}), io_exit(KVM_EXIT_IO_OUT, acpi::kSleepControlPort, {s5})});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kPowerOff);
  EXPECT_EQ(exit.status, 0);
}

TEST_F(MachineTest, AcpiResetRegisterResetsTheVm) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  api.script(0, {io_exit(KVM_EXIT_IO_IN, acpi::kSleepStatusPort, {0xff}), io_exit(KVM_EXIT_IO_OUT, acpi::kResetPort, {acpi::kResetValue})});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kReset);
  EXPECT_EQ(api.io_in_results(0).at(0), std::vector<uint8_t>{0});
}

// Linux reboots a hardware-reduced machine without EFI through the BIOS
// reset vector; the code there must write the FADT's reset register.
TEST_F(MachineTest, ResetVectorWritesTheAcpiResetRegister) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  auto code = machine->memory().slice(x86_64::kResetVectorAddress, 9);
  std::vector<uint8_t> expected = {0xb0, acpi::kResetValue,  // mov al, value
                                   0xba, static_cast<uint8_t>(acpi::kResetPort), static_cast<uint8_t>(acpi::kResetPort >> 8),
                                   0xee, 0xf4, 0xeb, 0xfd};  // out dx, al; hlt; jmp to the hlt
  EXPECT_EQ(std::vector<uint8_t>(code.begin(), code.end()), expected);
  auto fadt_reset = acpi::build_fadt(0);
  acpi::Fadt fadt;
  std::memcpy(&fadt, fadt_reset.data(), sizeof fadt);
  EXPECT_EQ(code[1], fadt.reset_value);
  EXPECT_EQ(code[3] | (code[4] << 8), static_cast<int>(fadt.reset_reg.address));
}

}  // namespace
}  // namespace shelter::vmm

namespace shelter::vmm {
namespace {

// A virtio device with two queues, only here to be enumerated.
struct EnumeratedDevice final : virtio::VirtioDevice {
  uint32_t device_id() const override { return virtio::kDeviceIdRng; }
  uint64_t device_features() const override { return virtio::kFeatureVersion1; }
  std::vector<uint16_t> queue_max_sizes() const override { return {64, 64}; }
  void read_config(uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0); }
  void write_config(uint64_t, std::span<const uint8_t>) override {}
  void activate(virtio::Activation) override {}
  void queue_notify(uint16_t) override {}
  void reset() override {}
};

TEST_F(MachineTest, PciBusAnswersThroughPortsAndEcamAndCarriesVirtioDevices) {
  auto machine = build_machine(api, config("pvh-probe.elf"), console);
  machine->add_virtio_device(std::make_shared<EnumeratedDevice>());
  api.script(0, {io_exit(KVM_EXIT_IO_OUT, 0xcf8, {0, 0, 0, 0x80}, 4), io_exit(KVM_EXIT_IO_IN, 0xcfc, {0, 0, 0, 0}, 4),
                 mmio_exit(false, memory::kPciEcamAddress + (3u << 15), {0, 0, 0, 0}),
                 exit_with_mmio_check(uint32_t{0x1044} << 16 | virtio::kPciVendorId)});
  VmExit exit = machine->run();
  EXPECT_EQ(exit.reason, VmExit::Reason::kExitPort);
  // Slots 1 and 2 hold the rng and console every VM has.
  EXPECT_EQ(exit.status, 0) << "slot 3 did not read as a virtio-rng function";
  auto in = api.io_in_results(0);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0], (std::vector<uint8_t>{0x36, 0x1b, 0x08, 0x00}));  // the host bridge at 00:00.0
  // One irqfd per MSI-X vector, configuration plus each queue: 2 for the
  // rng, 3 for the console, 3 for this device.
  auto irqfds = api.calls_of(KVM_IRQFD);
  ASSERT_EQ(irqfds.size(), 8u);
  EXPECT_EQ(irqfds[0].as<kvm_irqfd>().gsi, memory::kMsiGsiBase);
}

}  // namespace
}  // namespace shelter::vmm
