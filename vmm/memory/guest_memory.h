#pragma once
// Guest RAM: one memfd (so a guest_memfd can take its place for
// confidential guests) mapped once into the VMM, and addressed by
// guest-physical address through bounds-checked accessors only.
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "common/mapping.h"
#include "common/unique_fd.h"
#include "vmm/memory/layout.h"

namespace shelter::vmm::memory {

class GuestMemory {
 public:
  // Creates and maps the memfd for layout's RAM; throws SystemError.
  explicit GuestMemory(const MemoryLayout& layout);

  const MemoryLayout& layout() const noexcept { return layout_; }
  int fd() const noexcept { return fd_.get(); }
  // Host address of a RAM region's first byte (for KVM_SET_USER_MEMORY_REGION).
  void* host_address(const RamRegion& region) const;

  // The bytes [address, address + size) when they lie inside one RAM region;
  // throws VmmError otherwise.
  std::span<uint8_t> slice(uint64_t address, uint64_t size) const;
  // As slice(), but an empty span instead of an exception: for device
  // emulation that must treat a guest's wild address as data, not an error.
  std::span<uint8_t> try_slice(uint64_t address, uint64_t size) const noexcept;

  void write(uint64_t address, std::span<const uint8_t> bytes) const;
  void fill(uint64_t address, uint64_t size, uint8_t value) const;

  template <typename T>
  void write_object(uint64_t address, const T& object) const {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(slice(address, sizeof(T)).data(), &object, sizeof(T));
  }
  template <typename T>
  T read_object(uint64_t address) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T object;
    std::memcpy(&object, slice(address, sizeof(T)).data(), sizeof(T));
    return object;
  }

 private:
  MemoryLayout layout_;
  UniqueFd fd_;
  Mapping mapping_;
};

}  // namespace shelter::vmm::memory
