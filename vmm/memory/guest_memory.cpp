#include "vmm/memory/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "common/error.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::memory {
namespace {

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

GuestMemory::GuestMemory(const MemoryLayout& layout) : layout_(layout) {
  fd_.reset(::memfd_create("shelter-guest-ram", MFD_CLOEXEC));
  if (!fd_) throw SystemError("memfd_create for guest memory", errno);
  if (::ftruncate(fd_.get(), static_cast<off_t>(layout_.ram_bytes())) != 0)
    throw SystemError("cannot size guest memory to " + std::to_string(layout_.ram_bytes() / kMiB) + " MiB",
                      errno);
  mapping_ = Mapping::map(layout_.ram_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd_.get());
}

void* GuestMemory::host_address(const RamRegion& region) const {
  return slice(region.guest_address, region.size).data();
}

std::span<uint8_t> GuestMemory::try_slice(uint64_t address, uint64_t size) const noexcept {
  // The regions are packed back to back in the memfd, in order.
  uint64_t offset = 0;
  for (const RamRegion& region : layout_.ram_regions()) {
    if (address >= region.guest_address && address - region.guest_address <= region.size &&
        size <= region.size - (address - region.guest_address))
      return mapping_.bytes().subspan(offset + (address - region.guest_address), size);
    offset += region.size;
  }
  return {};
}

std::span<uint8_t> GuestMemory::slice(uint64_t address, uint64_t size) const {
  std::span<uint8_t> bytes = try_slice(address, size);
  if (bytes.data() == nullptr)
    throw VmmError("guest memory range " + hex(address) + "+" + hex(size) + " is outside guest RAM");
  return bytes;
}

void GuestMemory::write(uint64_t address, std::span<const uint8_t> bytes) const {
  if (bytes.empty()) return;
  std::memcpy(slice(address, bytes.size()).data(), bytes.data(), bytes.size());
}

void GuestMemory::fill(uint64_t address, uint64_t size, uint8_t value) const {
  std::memset(slice(address, size).data(), value, size);
}

}  // namespace shelter::vmm::memory
