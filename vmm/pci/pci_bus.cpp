#include "vmm/pci/pci_bus.h"

#include <algorithm>
#include <cstring>

#include "vmm/kvm/error.h"

namespace shelter::vmm::pci {
namespace {

class HostBridge final : public PciFunction {
 public:
  HostBridge() : PciFunction({kHostBridgeVendorId, kHostBridgeDeviceId, kClassHostBridge}) {}
};

constexpr uint32_t kConfigEnable = 0x80000000u;
// Enable, bus, device, function and dword register; the rest reads as 0.
constexpr uint32_t kConfigAddressMask = 0x80fffffcu;

void fill_ones(std::span<uint8_t> data) { std::memset(data.data(), 0xff, data.size()); }

}  // namespace

uint64_t BarAllocator::allocate(uint64_t size) {
  for (auto range = free_.begin(); range != free_.end(); ++range) {
    uint64_t address = (range->start + size - 1) & ~(size - 1);
    if (address < range->start || address >= range->end || size > range->end - address) continue;
    Range before{range->start, address};
    Range after{address + size, range->end};
    range = free_.erase(range);
    if (after.start < after.end) range = free_.insert(range, after);
    if (before.start < before.end) free_.insert(range, before);
    return address;
  }
  throw VmmError("no room for a " + std::to_string(size) + "-byte PCI BAR in its MMIO window");
}

class PciBus::ConfigPorts final : public devices::BusDevice {
 public:
  explicit ConfigPorts(PciBus& bus) : bus_(&bus) {}
  void read(uint64_t offset, std::span<uint8_t> data) override {
    if (offset == 0 && data.size() == 4) {
      std::lock_guard lock(bus_->config_mutex_);
      std::memcpy(data.data(), &bus_->config_address_, 4);
      return;
    }
    uint32_t address;
    if (!data_access(offset, address)) return fill_ones(data);
    bus_->config_read(address >> 16 & 0xff, address >> 11 & 0x1f, address >> 8 & 0x7,
                      static_cast<uint16_t>((address & 0xfc) + offset - 4), data);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    if (offset == 0 && data.size() == 4) {
      uint32_t value;
      std::memcpy(&value, data.data(), 4);
      std::lock_guard lock(bus_->config_mutex_);
      bus_->config_address_ = value & kConfigAddressMask;
      return;
    }
    uint32_t address;
    if (!data_access(offset, address)) return;
    bus_->config_write(address >> 16 & 0xff, address >> 11 & 0x1f, address >> 8 & 0x7,
                       static_cast<uint16_t>((address & 0xfc) + offset - 4), data);
  }

 private:
  // Only dword accesses reach the address latch; byte and word accesses
  // to 0xcf8-0xcfb are not configuration cycles and are ignored.
  bool data_access(uint64_t offset, uint32_t& address) {
    if (offset < 4) return false;
    std::lock_guard lock(bus_->config_mutex_);
    address = bus_->config_address_;
    return (address & kConfigEnable) != 0;
  }
  PciBus* bus_;
};

class PciBus::Ecam final : public devices::BusDevice {
 public:
  explicit Ecam(PciBus& bus) : bus_(&bus) {}
  void read(uint64_t offset, std::span<uint8_t> data) override {
    if (!inside_one_function(offset, data.size())) return fill_ones(data);
    bus_->config_read(offset >> 20 & 0xff, offset >> 15 & 0x1f, offset >> 12 & 0x7, offset & 0xfff, data);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    if (!inside_one_function(offset, data.size())) return;
    bus_->config_write(offset >> 20 & 0xff, offset >> 15 & 0x1f, offset >> 12 & 0x7, offset & 0xfff, data);
  }

 private:
  static bool inside_one_function(uint64_t offset, size_t size) {
    return (offset & 0xfff) + size <= kExtendedConfigSpaceSize;
  }
  PciBus* bus_;
};

class PciBus::Window final : public devices::BusDevice {
 public:
  Window(PciBus& bus, uint64_t base) : bus_(&bus), base_(base) {}
  void read(uint64_t offset, std::span<uint8_t> data) override { bus_->mmio_read(base_ + offset, data); }
  void write(uint64_t offset, std::span<const uint8_t> data) override { bus_->mmio_write(base_ + offset, data); }

 private:
  PciBus* bus_;
  uint64_t base_;
};

PciBus::PciBus(const memory::MemoryLayout& layout)
    : mmio64_start_(layout.pci_mmio64_start()),
      mmio32_(memory::kPciMmio32Start, memory::kPciMmio32End),
      mmio64_(mmio64_start_, mmio64_start_ + memory::kPciMmio64Size),
      routes_(std::make_shared<const std::vector<Route>>()) {
  slots_[0] = std::make_shared<HostBridge>();
}

unsigned PciBus::free_slot() const {
  for (unsigned slot = 0; slot < kSlotCount; ++slot)
    if (!slots_[slot]) return slot;
  throw VmmError("the PCI bus has no free slot (at most " + std::to_string(kSlotCount - 1) + " devices)");
}

void PciBus::add(unsigned slot, std::shared_ptr<PciFunction> function) {
  if (slot >= kSlotCount || slots_[slot]) throw VmmError("PCI slot " + std::to_string(slot) + " is taken");
  const auto& bars = function->bar_declarations();
  for (unsigned i = 0; i < kBarCount; ++i) {
    if (bars[i].size == 0) continue;
    BarAllocator& window = bars[i].kind == BarKind::kMemory32 ? mmio32_ : mmio64_;
    function->place_bar(i, window.allocate(bars[i].size));
  }
  std::lock_guard lock(config_mutex_);
  slots_[slot] = std::move(function);
}

PciFunction* PciBus::find(unsigned bus, unsigned device, unsigned function) const {
  if (bus != 0 || function != 0 || device >= kSlotCount) return nullptr;
  return slots_[device].get();
}

void PciBus::config_read(unsigned bus, unsigned device, unsigned function, uint16_t offset,
                         std::span<uint8_t> data) {
  std::lock_guard lock(config_mutex_);
  PciFunction* target = find(bus, device, function);
  if (target == nullptr || offset + data.size() > kExtendedConfigSpaceSize) return fill_ones(data);
  target->config_read(offset, data);
}

void PciBus::config_write(unsigned bus, unsigned device, unsigned function, uint16_t offset,
                          std::span<const uint8_t> data) {
  std::lock_guard lock(config_mutex_);
  PciFunction* target = find(bus, device, function);
  if (target == nullptr || offset + data.size() > kExtendedConfigSpaceSize) return;
  target->config_write(offset, data);
  refresh_routes();
}

bool PciBus::inside_a_window(const DecodedBar& bar) const {
  auto inside = [&](uint64_t start, uint64_t end) {
    return bar.address >= start && bar.address < end && bar.size <= end - bar.address;
  };
  return inside(memory::kPciMmio32Start, memory::kPciMmio32End) ||
         inside(mmio64_start_, mmio64_start_ + memory::kPciMmio64Size);
}

void PciBus::refresh_routes() {
  auto routes = std::make_shared<std::vector<Route>>();
  std::vector<PciFunction*> changed;
  for (unsigned slot = 0; slot < kSlotCount; ++slot) {
    if (!slots_[slot]) continue;
    std::vector<DecodedBar> decoded = slots_[slot]->decoded_bars();
    for (const DecodedBar& bar : decoded)
      if (inside_a_window(bar)) routes->push_back({bar.address, bar.size, slots_[slot].get(), bar.index});
    if (decoded != decoded_[slot]) {
      decoded_[slot] = std::move(decoded);
      changed.push_back(slots_[slot].get());
    }
  }
  if (changed.empty()) return;
  // Overlapping BARs (a guest may program them) stay harmless: an access
  // goes to the one whose base is the closest below it, if it fits there.
  std::stable_sort(routes->begin(), routes->end(), [](const Route& a, const Route& b) { return a.base < b.base; });
  {
    std::unique_lock lock(routes_mutex_);
    routes_ = std::move(routes);
  }
  for (PciFunction* function : changed) function->decoding_changed();
}

const PciBus::Route* PciBus::route(const std::vector<Route>& routes, uint64_t address, size_t size) const {
  auto next = std::upper_bound(routes.begin(), routes.end(), address,
                               [](uint64_t a, const Route& r) { return a < r.base; });
  if (next == routes.begin()) return nullptr;
  const Route& candidate = *std::prev(next);
  uint64_t offset = address - candidate.base;
  if (offset >= candidate.size || size > candidate.size - offset) return nullptr;
  return &candidate;
}

void PciBus::mmio_read(uint64_t address, std::span<uint8_t> data) const {
  std::shared_ptr<const std::vector<Route>> routes;
  {
    std::shared_lock lock(routes_mutex_);
    routes = routes_;
  }
  const Route* target = route(*routes, address, data.size());
  if (target == nullptr) return fill_ones(data);
  target->function->bar_read(target->bar, address - target->base, data);
}

void PciBus::mmio_write(uint64_t address, std::span<const uint8_t> data) const {
  std::shared_ptr<const std::vector<Route>> routes;
  {
    std::shared_lock lock(routes_mutex_);
    routes = routes_;
  }
  const Route* target = route(*routes, address, data.size());
  if (target == nullptr) return;
  target->function->bar_write(target->bar, address - target->base, data);
}

void PciBus::attach(devices::Bus& io, devices::Bus& mmio) {
  io.insert(kConfigAddressPort, kConfigPortCount, std::make_shared<ConfigPorts>(*this));
  mmio.insert(memory::kPciEcamAddress, memory::kPciEcamSize, std::make_shared<Ecam>(*this));
  mmio.insert(memory::kPciMmio32Start, memory::kPciMmio32End - memory::kPciMmio32Start,
              std::make_shared<Window>(*this, memory::kPciMmio32Start));
  mmio.insert(mmio64_start_, memory::kPciMmio64Size, std::make_shared<Window>(*this, mmio64_start_));
}

}  // namespace shelter::vmm::pci
