#include "attest/snp/vmsa.h"

#include <bit>
#include <cstddef>
#include <cstring>
#include <map>
#include <string>

namespace shelter::attest::snp {
namespace {

static_assert(std::endian::native == std::endian::little);

#pragma pack(push, 1)
struct VmcbSegment {
  uint16_t selector;
  uint16_t attrib;
  uint32_t limit;
  uint64_t base;
};

// The part of the save area that an initial vCPU state sets; the rest of the
// page stays zero.
struct SevEsSaveArea {
  VmcbSegment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
  uint8_t reserved_0a0[0xd0 - 0xa0];
  uint64_t efer;
  uint8_t reserved_0d8[0x148 - 0xd8];
  uint64_t cr4;
  uint64_t cr3;
  uint64_t cr0;
  uint64_t dr7;
  uint64_t dr6;
  uint64_t rflags;
  uint64_t rip;
  uint8_t reserved_180[0x268 - 0x180];
  uint64_t g_pat;
  uint8_t reserved_270[0x310 - 0x270];
  uint64_t rdx;
  uint8_t reserved_318[0x3b0 - 0x318];
  uint64_t sev_features;
  uint8_t reserved_3b8[0x3e8 - 0x3b8];
  uint64_t xcr0;
  uint8_t reserved_3f0[0x408 - 0x3f0];
  uint32_t mxcsr;
  uint16_t x87_ftw;
  uint16_t x87_fsw;
  uint16_t x87_fcw;
};
#pragma pack(pop)

static_assert(offsetof(SevEsSaveArea, cs) == 0x10);
static_assert(offsetof(SevEsSaveArea, tr) == 0x90);
static_assert(offsetof(SevEsSaveArea, efer) == 0xd0);
static_assert(offsetof(SevEsSaveArea, cr4) == 0x148);
static_assert(offsetof(SevEsSaveArea, cr0) == 0x158);
static_assert(offsetof(SevEsSaveArea, rflags) == 0x170);
static_assert(offsetof(SevEsSaveArea, rip) == 0x178);
static_assert(offsetof(SevEsSaveArea, g_pat) == 0x268);
static_assert(offsetof(SevEsSaveArea, rdx) == 0x310);
static_assert(offsetof(SevEsSaveArea, sev_features) == 0x3b0);
static_assert(offsetof(SevEsSaveArea, xcr0) == 0x3e8);
static_assert(offsetof(SevEsSaveArea, mxcsr) == 0x408);
static_assert(offsetof(SevEsSaveArea, x87_fcw) == 0x410);

constexpr uint32_t cpu_signature(uint32_t family, uint32_t model, uint32_t stepping) {
  uint32_t family_low = family > 0xf ? 0xf : family;
  uint32_t family_high = family > 0xf ? (family - 0xf) & 0xff : 0;
  return (family_high << 20) | (((model >> 4) & 0xf) << 16) | (family_low << 8) | ((model & 0xf) << 4) |
         (stepping & 0xf);
}

}  // namespace

std::optional<uint32_t> vcpu_signature(std::string_view cpu_type) {
  // QEMU's EPYC models (target/i386/cpu.c): family, model, stepping.
  static const std::map<std::string, uint32_t, std::less<>> kModels = {
      {"EPYC", cpu_signature(23, 1, 2)},          {"EPYC-v1", cpu_signature(23, 1, 2)},
      {"EPYC-v2", cpu_signature(23, 1, 2)},       {"EPYC-IBPB", cpu_signature(23, 1, 2)},
      {"EPYC-v3", cpu_signature(23, 1, 2)},       {"EPYC-v4", cpu_signature(23, 1, 2)},
      {"EPYC-Rome", cpu_signature(23, 49, 0)},    {"EPYC-Rome-v1", cpu_signature(23, 49, 0)},
      {"EPYC-Rome-v2", cpu_signature(23, 49, 0)}, {"EPYC-Rome-v3", cpu_signature(23, 49, 0)},
      {"EPYC-Milan", cpu_signature(25, 1, 1)},    {"EPYC-Milan-v1", cpu_signature(25, 1, 1)},
      {"EPYC-Milan-v2", cpu_signature(25, 1, 1)}, {"EPYC-Genoa", cpu_signature(25, 17, 0)},
      {"EPYC-Genoa-v1", cpu_signature(25, 17, 0)},
  };
  auto it = kModels.find(cpu_type);
  if (it == kModels.end()) return std::nullopt;
  return it->second;
}

std::array<uint8_t, 4096> qemu_vmsa_page(uint32_t eip, uint32_t signature, uint64_t sev_features) {
  SevEsSaveArea save{};
  const VmcbSegment data_segment{0, 0x93, 0xffff, 0};
  save.es = save.ss = save.ds = save.fs = save.gs = data_segment;
  save.cs = VmcbSegment{0xf000, 0x9b, 0xffff, eip & 0xffff0000u};
  save.gdtr = VmcbSegment{0, 0, 0xffff, 0};
  save.idtr = VmcbSegment{0, 0, 0xffff, 0};
  save.ldtr = VmcbSegment{0, 0x82, 0xffff, 0};
  save.tr = VmcbSegment{0, 0x8b, 0xffff, 0};
  save.efer = 0x1000;  // KVM sets EFER.SVME
  save.cr4 = 0x40;     // KVM sets CR4.MCE
  save.cr0 = 0x10;
  save.dr7 = 0x400;
  save.dr6 = 0xffff0ff0;
  save.rflags = 0x2;
  save.rip = eip & 0xffff;
  save.g_pat = 0x0007040600070406;
  save.rdx = signature;  // the reset value of EDX is the CPU signature
  save.sev_features = sev_features;
  save.xcr0 = 0x1;
  save.mxcsr = 0x1f80;
  save.x87_fcw = 0x37f;
  std::array<uint8_t, 4096> page{};
  std::memcpy(page.data(), &save, sizeof(save));
  return page;
}

}  // namespace shelter::attest::snp
