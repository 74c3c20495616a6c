#pragma once
// KVM's variable-length ioctl arguments as the kernel lays them out. The
// uapi headers declare their trailing arrays with __DECLARE_FLEX_ARRAY,
// which in C++ wraps an empty struct of size 1: sizeof(kvm_cpuid2) is 12
// there instead of the kernel's 8, so both the ioctl numbers (they encode
// the size) and the entries' offset are wrong, and KVM answers EINVAL.
// These restate the fixed part and the ioctl numbers built from it.
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shelter::vmm::kvm::uapi {

struct CpuidHeader {  // struct kvm_cpuid2 without entries[]
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {  // struct kvm_msrs without entries[]
  uint32_t nmsrs;
  uint32_t pad;
};
struct IrqRoutingHeader {  // struct kvm_irq_routing without entries[]
  uint32_t nr;
  uint32_t flags;
};
static_assert(sizeof(CpuidHeader) == 8 && offsetof(CpuidHeader, padding) == 4);
static_assert(sizeof(MsrsHeader) == 8 && offsetof(MsrsHeader, pad) == 4);
static_assert(sizeof(IrqRoutingHeader) == 8 && offsetof(IrqRoutingHeader, flags) == 4);

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, IrqRoutingHeader);
// Same request codes as the kernel's names, less the size field.
static_assert(_IOC_NR(kGetSupportedCpuid) == _IOC_NR(KVM_GET_SUPPORTED_CPUID) &&
              _IOC_DIR(kGetSupportedCpuid) == _IOC_DIR(KVM_GET_SUPPORTED_CPUID));
static_assert(_IOC_NR(kSetCpuid2) == _IOC_NR(KVM_SET_CPUID2) && _IOC_NR(kSetMsrs) == _IOC_NR(KVM_SET_MSRS) &&
              _IOC_NR(kGetMsrs) == _IOC_NR(KVM_GET_MSRS) && _IOC_NR(kSetGsiRouting) == _IOC_NR(KVM_SET_GSI_ROUTING));

// A header followed by count entries, in 8-byte aligned storage.
template <typename Header, typename Entry>
class VariableStruct {
 public:
  explicit VariableStruct(size_t count)
      : storage_((sizeof(Header) + count * sizeof(Entry) + sizeof(uint64_t) - 1) / sizeof(uint64_t)) {}
  Header* header() { return reinterpret_cast<Header*>(storage_.data()); }
  Entry* entries() { return entries_of<Entry>(header()); }

 private:
  std::vector<uint64_t> storage_;
};

// The entries that follow a header in an ioctl argument.
template <typename Entry, typename Header>
Entry* entries_of(Header* header) {
  return reinterpret_cast<Entry*>(reinterpret_cast<uint8_t*>(header) + sizeof(Header));
}

}  // namespace shelter::vmm::kvm::uapi
