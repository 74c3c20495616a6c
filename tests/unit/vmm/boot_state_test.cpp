// The first vCPU state, computed without KVM: segments from the GDT, the
// registers of each entry mode, CPUID normalisation, boot MSRs, LAPIC LINTs.
#include <gtest/gtest.h>

#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/arch/x86_64/gdt.h"
#include "vmm/arch/x86_64/msrs.h"
#include "vmm/arch/x86_64/regs.h"
#include "vmm/memory/layout.h"

namespace shelter::vmm::x86_64 {
namespace {

TEST(Gdt, DescriptorsDecodeToFlatSegments) {
  kvm_segment code64 = segment_from_gdt_entry(kCode64Selector, kBootGdt[2]);
  EXPECT_EQ(code64.base, 0u);
  EXPECT_EQ(code64.limit, 0xffffffffu);
  EXPECT_EQ(code64.selector, kCode64Selector);
  EXPECT_EQ(code64.type, 0xb);
  EXPECT_EQ(code64.present, 1);
  EXPECT_EQ(code64.s, 1);
  EXPECT_EQ(code64.l, 1);
  EXPECT_EQ(code64.db, 0);
  EXPECT_EQ(code64.g, 1);
  kvm_segment code32 = segment_from_gdt_entry(kCode32Selector, kBootGdt[1]);
  EXPECT_EQ(code32.l, 0);
  EXPECT_EQ(code32.db, 1);
  EXPECT_EQ(code32.limit, 0xffffffffu);
  kvm_segment data = segment_from_gdt_entry(kDataSelector, kBootGdt[3]);
  EXPECT_EQ(data.type, 0x3);
  EXPECT_EQ(data.db, 1);
  kvm_segment tss = segment_from_gdt_entry(kTssSelector, kBootGdt[4]);
  EXPECT_EQ(tss.type, 0xb);
  EXPECT_EQ(tss.s, 0);
  EXPECT_EQ(tss.limit, 0x67u);
  EXPECT_EQ(tss.g, 0);
}

TEST(Gdt, EncodesBaseAndLimitBits) {
  uint64_t entry = gdt_entry(0x4093, 0x12345678, 0xabcde);
  kvm_segment s = segment_from_gdt_entry(0x18, entry);
  EXPECT_EQ(s.base, 0x12345678u);
  EXPECT_EQ(s.limit, 0xabcdeu);
  EXPECT_EQ(s.g, 0);
  EXPECT_EQ(s.db, 1);
  EXPECT_EQ(s.present, 1);
  kvm_segment absent = segment_from_gdt_entry(0, 0);
  EXPECT_EQ(absent.unusable, 1);
}

BootSetup long_mode_setup() {
  return BootSetup{EntryMode::kLongMode, 0x1000200, memory::kZeroPageAddress, 0x1000000, 0x1100000, 0, 0};
}

TEST(Regs, LongModeEntryFollowsThe64BitBootProtocol) {
  kvm_regs regs = boot_regs(long_mode_setup());
  EXPECT_EQ(regs.rip, 0x1000200u);
  EXPECT_EQ(regs.rsi, memory::kZeroPageAddress);
  EXPECT_EQ(regs.rflags, 2u);
  EXPECT_EQ(regs.rsp, memory::kBootStackTop);
  kvm_sregs current{};
  current.apic_base = 0xfee00900;
  kvm_sregs sregs = boot_sregs(long_mode_setup(), current);
  EXPECT_EQ(sregs.apic_base, 0xfee00900u);
  EXPECT_EQ(sregs.cs.selector, 0x10);
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.ds.selector, 0x18);
  EXPECT_EQ(sregs.ss.selector, 0x18);
  EXPECT_EQ(sregs.cr0 & (kCr0Paging | kCr0ProtectionEnable), kCr0Paging | kCr0ProtectionEnable);
  EXPECT_EQ(sregs.cr3, memory::kPml4Address);
  EXPECT_EQ(sregs.cr4 & kCr4Pae, kCr4Pae);
  EXPECT_EQ(sregs.efer, kEferLme | kEferLma);
  EXPECT_EQ(sregs.gdt.base, memory::kGdtAddress);
  EXPECT_EQ(sregs.gdt.limit, sizeof(kBootGdt) - 1);
  EXPECT_EQ(sregs.tr.selector, kTssSelector);
}

TEST(Regs, PvhEntryIsFlat32BitProtectedModeWithoutPaging) {
  BootSetup setup{EntryMode::kProtectedMode32, 0x1000010, memory::kPvhStartInfoAddress, 0x1000000, 0x1002000, 0, 0};
  kvm_regs regs = boot_regs(setup);
  EXPECT_EQ(regs.rip, 0x1000010u);
  EXPECT_EQ(regs.rbx, memory::kPvhStartInfoAddress);
  EXPECT_EQ(regs.rflags, 2u);  // IF clear
  kvm_sregs sregs = boot_sregs(setup, kvm_sregs{});
  EXPECT_EQ(sregs.cs.selector, kCode32Selector);
  EXPECT_EQ(sregs.cs.db, 1);
  EXPECT_EQ(sregs.cs.l, 0);
  EXPECT_EQ(sregs.cs.limit, 0xffffffffu);
  EXPECT_EQ(sregs.ds.type, 0x3);
  EXPECT_EQ(sregs.cr0, kCr0ProtectionEnable | kCr0ExtensionType);
  EXPECT_EQ(sregs.cr4, 0u);
  EXPECT_EQ(sregs.efer, 0u);
  EXPECT_EQ(sregs.tr.limit, 0x67u);
}

TEST(Regs, FpuStartsAtResetValues) {
  kvm_fpu fpu = boot_fpu();
  EXPECT_EQ(fpu.fcw, 0x37f);
  EXPECT_EQ(fpu.mxcsr, 0x1f80u);
}

kvm_cpuid_entry2 leaf(uint32_t function, uint32_t index = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  return e;
}

std::vector<kvm_cpuid_entry2> sample_supported() {
  std::vector<kvm_cpuid_entry2> s;
  auto l1 = leaf(1);
  l1.ebx = 0xff0f0800;  // host APIC ID 0xff, 15 logical processors
  l1.edx = 1u << 28;
  l1.ecx = 0x1;
  s.push_back(l1);
  auto l4 = leaf(4, 0);
  l4.eax = 0x121;  // level 1 data cache
  s.push_back(l4);
  auto l4_l3 = leaf(4, 3);
  l4_l3.eax = 0x163;  // level 3 unified cache
  s.push_back(l4_l3);
  auto l4_end = leaf(4, 4);
  s.push_back(l4_end);
  for (uint32_t i = 0; i < 3; ++i) {
    auto b = leaf(0xb, i);
    b.eax = 0x55;
    b.edx = 0x99;
    s.push_back(b);
  }
  s.push_back(leaf(0x80000008));
  s.push_back(leaf(0x8000001e));
  auto other = leaf(0x7);
  other.ebx = 0x12345;
  s.push_back(other);
  return s;
}

const kvm_cpuid_entry2& find(const std::vector<kvm_cpuid_entry2>& entries, uint32_t function, uint32_t index = 0) {
  for (const auto& e : entries)
    if (e.function == function && e.index == index) return e;
  throw std::runtime_error("leaf missing");
}

TEST(Cpuid, SetsApicIdCountAndHypervisorBit) {
  auto entries = normalized_cpuid(sample_supported(), 1, 2);
  const auto& l1 = find(entries, 1);
  EXPECT_EQ(l1.ebx >> 24, 1u);
  EXPECT_EQ((l1.ebx >> 16) & 0xff, 2u);
  EXPECT_EQ(l1.ebx & 0xffff, 0x0800u);  // the rest of EBX is the host's
  EXPECT_TRUE(l1.ecx & kCpuid1EcxHypervisor);
  EXPECT_TRUE(l1.ecx & 1);
  EXPECT_TRUE(l1.edx & kCpuid1EdxHtt);
  auto single = normalized_cpuid(sample_supported(), 0, 1);
  EXPECT_FALSE(find(single, 1).edx & kCpuid1EdxHtt);
  EXPECT_EQ(find(single, 1).ebx >> 24, 0u);
}

TEST(Cpuid, TopologyLeavesDescribeOneSocketOfSingleThreadCores) {
  auto entries = normalized_cpuid(sample_supported(), 2, 3);
  const auto& smt = find(entries, 0xb, 0);
  EXPECT_EQ(smt.eax, 0u);
  EXPECT_EQ(smt.ebx, 1u);
  EXPECT_EQ(smt.ecx, 0x100u);
  EXPECT_EQ(smt.edx, 2u);
  const auto& core = find(entries, 0xb, 1);
  EXPECT_EQ(core.eax, 2u);  // 3 cores need 2 APIC ID bits
  EXPECT_EQ(core.ebx, 3u);
  EXPECT_EQ(core.ecx, 0x201u);
  EXPECT_EQ(core.edx, 2u);
  const auto& end = find(entries, 0xb, 2);
  EXPECT_EQ(end.ecx, 2u);
  EXPECT_EQ(end.ebx, 0u);
  EXPECT_EQ(find(entries, 0x80000008).ecx & 0xff, 2u);
  EXPECT_EQ(find(entries, 0x8000001e).eax, 2u);
}

TEST(Cpuid, CacheLeavesCountCoresAndSharing) {
  auto entries = normalized_cpuid(sample_supported(), 0, 4);
  const auto& l1d = find(entries, 4, 0);
  EXPECT_EQ(l1d.eax >> 26, 3u);
  EXPECT_EQ((l1d.eax >> 14) & 0xfff, 0u);
  EXPECT_EQ(l1d.eax & 0x3fff, 0x121u);
  const auto& l3 = find(entries, 4, 3);
  EXPECT_EQ((l3.eax >> 14) & 0xfff, 3u);
  EXPECT_EQ(find(entries, 4, 4).eax, 0u);  // the terminating leaf stays empty
}

TEST(Cpuid, LeavesItDoesNotOwnPassThrough) {
  auto entries = normalized_cpuid(sample_supported(), 0, 2);
  EXPECT_EQ(find(entries, 7).ebx, 0x12345u);
  EXPECT_EQ(entries.size(), sample_supported().size());
}

// KVM on an AMD host may list no leaf 0xB while the maximum basic leaf is
// above it (seen under real KVM): the topology must still read as cpus=.
TEST(Cpuid, SynthesisesTopologyLeafKvmDoesNotList) {
  std::vector<kvm_cpuid_entry2> supported = {leaf(0), leaf(1)};
  supported[0].eax = 0xd;
  auto entries = normalized_cpuid(supported, 1, 2);
  const auto& core = find(entries, 0xb, 1);
  EXPECT_EQ(core.ebx, 2u);
  EXPECT_EQ(core.edx, 1u);
  EXPECT_EQ(core.flags, static_cast<uint32_t>(KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
  EXPECT_EQ(find(entries, 0xb, 2).ecx, 2u);
  supported[0].eax = 0xa;  // below 0xB: nothing to add
  EXPECT_EQ(normalized_cpuid(supported, 0, 2).size(), 2u);
}

TEST(Msrs, BootListMatchesThePcResetState) {
  auto msrs = boot_msrs();
  auto value = [&](uint32_t index) -> uint64_t {
    for (const auto& m : msrs)
      if (m.index == index) return m.data;
    ADD_FAILURE() << std::hex << index << " missing";
    return 0;
  };
  EXPECT_EQ(value(kMsrMiscEnable), kMiscEnableFastString);
  EXPECT_EQ(value(kMsrMtrrDefType), 0x806u);
  EXPECT_EQ(value(kMsrLstar), 0u);
  EXPECT_EQ(value(kMsrTsc), 0u);
  EXPECT_EQ(msrs.size(), 11u);
}

TEST(Lapic, Lint0IsExtIntAndLint1IsNmi) {
  kvm_lapic_state lapic{};
  uint32_t masked_fixed = (1u << 16) | 0x20;
  std::memcpy(lapic.regs + kLapicLvtLint0, &masked_fixed, 4);
  std::memcpy(lapic.regs + kLapicLvtLint1, &masked_fixed, 4);
  kvm_lapic_state wired = with_legacy_lint_wiring(lapic);
  EXPECT_EQ(lapic_register(wired, kLapicLvtLint0), (1u << 16) | 0x20 | (7u << 8));
  EXPECT_EQ(lapic_register(wired, kLapicLvtLint1), (1u << 16) | 0x20 | (4u << 8));
}

}  // namespace
}  // namespace shelter::vmm::x86_64
