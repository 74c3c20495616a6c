#include "vmm/virtio/pci_transport.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "vmm/kvm/error.h"

namespace shelter::vmm::virtio {
namespace {

constexpr uint8_t kStatusDriverSettable =
    kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk | kStatusFailed;
constexpr uint16_t kMaxQueueSize = 32768;
constexpr uint16_t kPciCfgBar = 4;      // offsets in virtio_pci_cfg_cap
constexpr uint16_t kPciCfgOffset = 8;
constexpr uint16_t kPciCfgLength = 12;
constexpr uint16_t kPciCfgData = 16;

// The sizes of the virtio_pci_common_cfg fields, by offset.
struct Field {
  uint16_t offset;
  uint8_t size;
};
constexpr Field kCommonFields[] = {
    {common::kDeviceFeatureSelect, 4}, {common::kDeviceFeature, 4}, {common::kDriverFeatureSelect, 4},
    {common::kDriverFeature, 4},       {common::kConfigMsixVector, 2}, {common::kNumQueues, 2},
    {common::kDeviceStatus, 1},        {common::kConfigGeneration, 1}, {common::kQueueSelect, 2},
    {common::kQueueSize, 2},           {common::kQueueMsixVector, 2},  {common::kQueueEnable, 2},
    {common::kQueueNotifyOff, 2},      {common::kQueueDesc, 8},        {common::kQueueDriver, 8},
    {common::kQueueDevice, 8},
};

// A virtio_pci_cap body (after cap_vndr and cap_next) with extra trailing bytes.
std::vector<uint8_t> capability(uint8_t type, uint64_t offset, uint64_t length, size_t extra = 0) {
  std::vector<uint8_t> body(14 + extra, 0);
  body[0] = static_cast<uint8_t>(16 + extra);  // cap_len
  body[1] = type;
  body[2] = 0;  // bar
  uint32_t offset32 = static_cast<uint32_t>(offset);
  uint32_t length32 = static_cast<uint32_t>(length);
  std::memcpy(&body[6], &offset32, 4);
  std::memcpy(&body[10], &length32, 4);
  return body;
}

uint16_t vector_count(const VirtioDevice& device) {
  size_t queues = device.queue_max_sizes().size();
  if (queues == 0 || queues > kMaxQueues)
    throw VmmError("a virtio device has " + std::to_string(queues) + " queues; the transport supports 1 to " +
                   std::to_string(kMaxQueues));
  return static_cast<uint16_t>(queues + 1);
}

pci::FunctionIdentity identity(const VirtioDevice& device) {
  uint32_t id = device.device_id();
  if (id == 0 || id > 0x3f) throw VmmError("virtio device ID " + std::to_string(id) + " has no PCI device ID");
  return {kPciVendorId, static_cast<uint16_t>(kPciDeviceIdBase + id), pci_class_code(id),
          1,  // revision 1: a modern-only (non-transitional) device
          kPciVendorId, static_cast<uint16_t>(id)};
}

}  // namespace

uint32_t pci_class_code(uint32_t device_id) {
  switch (device_id) {
    case kDeviceIdBlock:
      return 0x010000;  // mass storage, SCSI (what guests expect of virtio-blk)
    case kDeviceIdConsole:
    case kDeviceIdVsock:
      return 0x078000;  // communication, other
    default:
      return 0xff0000;  // unassigned class
  }
}

PciTransport::PciTransport(std::shared_ptr<VirtioDevice> device, const PciPlatform& platform)
    : PciFunction(identity(*device)),
      device_(std::move(device)),
      platform_(platform),
      device_features_(device_->device_features() | kFeatureVersion1 | kFeatureAccessPlatform),
      msi_vectors_(*platform.vm, *platform.routing, vector_count(*device_)),
      msix_(config_, vector_count(*device_), 0, static_cast<uint32_t>(kMsixTableOffset),
            static_cast<uint32_t>(kMsixPbaOffset), msi_vectors_) {
  for (uint16_t max : device_->queue_max_sizes()) {
    if (max == 0 || max > kMaxQueueSize || !std::has_single_bit(max))
      throw VmmError("a virtio queue's maximum size " + std::to_string(max) + " is not a power of two up to 32768");
    queues_.push_back({QueueConfig{max, false, 0, 0, 0}, max, kNoVector});
  }
  declare_bar(0, kBarSize, pci::BarKind::kMemory32);
  config_.set8(pci::kInterruptPin, 1);  // INTA#
  config_.add_capability(pci::kCapabilityVendor, capability(kCapCommonConfig, kCommonConfigOffset, kCommonConfigSize));
  std::vector<uint8_t> notify_cap =
      capability(kCapNotifyConfig, kNotifyOffset, queues_.size() * kNotifyOffMultiplier, 4);
  std::memcpy(&notify_cap[14], &kNotifyOffMultiplier, 4);
  config_.add_capability(pci::kCapabilityVendor, notify_cap);
  config_.add_capability(pci::kCapabilityVendor, capability(kCapIsrConfig, kIsrOffset, 1));
  config_.add_capability(pci::kCapabilityVendor, capability(kCapDeviceConfig, kDeviceConfigOffset, kDeviceConfigSize));
  pci_cfg_cap_ = config_.add_capability(pci::kCapabilityVendor, capability(kCapPciConfig, 0, 0, 4));
  config_.set_writable(pci_cfg_cap_ + kPciCfgBar, 1, 0xff);
  config_.set_writable(pci_cfg_cap_ + kPciCfgOffset, 4, 0xffffffff);
  config_.set_writable(pci_cfg_cap_ + kPciCfgLength, 4, 0xffffffff);
  config_.set_writable(pci_cfg_cap_ + kPciCfgData, 4, 0xffffffff);

  for (uint16_t q = 0; q < queues_.size(); ++q) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw SystemError("eventfd for a virtqueue doorbell", errno);
    doorbells_.emplace_back(fd);
    doorbell_bound_.push_back(false);
    platform_.doorbells->add(fd, [this, q] { notify(q); });
  }
}

PciTransport::~PciTransport() {
  // Device threads may still signal through this transport until reset.
  std::unique_lock life(lifecycle_);
  if (activated_) device_->reset();
}

PciTransport::Queue* PciTransport::selected_queue() {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}

const PciTransport::Queue* PciTransport::selected_queue() const {
  return queue_select_ < queues_.size() ? &queues_[queue_select_] : nullptr;
}

uint64_t PciTransport::read_common_field(uint16_t field) const {
  const Queue* queue = selected_queue();
  switch (field) {
    case common::kDeviceFeatureSelect:
      return device_feature_select_;
    case common::kDeviceFeature:
      return device_feature_select_ < 2 ? static_cast<uint32_t>(device_features_ >> (32 * device_feature_select_))
                                        : 0;
    case common::kDriverFeatureSelect:
      return driver_feature_select_;
    case common::kDriverFeature:
      return driver_feature_select_ < 2 ? static_cast<uint32_t>(driver_features_ >> (32 * driver_feature_select_))
                                        : 0;
    case common::kConfigMsixVector:
      return config_vector_;
    case common::kNumQueues:
      return queues_.size();
    case common::kDeviceStatus:
      return status_;
    case common::kConfigGeneration:
      return config_generation_;
    case common::kQueueSelect:
      return queue_select_;
    case common::kQueueSize:
      return queue ? queue->config.size : 0;  // 0: no such queue
    case common::kQueueMsixVector:
      return queue ? queue->vector : kNoVector;
    case common::kQueueEnable:
      return queue && queue->config.ready ? 1 : 0;
    case common::kQueueNotifyOff:
      return queue ? queue_select_ : 0;
    case common::kQueueDesc:
      return queue ? queue->config.descriptor_table : 0;
    case common::kQueueDriver:
      return queue ? queue->config.driver_area : 0;
    case common::kQueueDevice:
      return queue ? queue->config.device_area : 0;
    default:
      return 0;
  }
}

PciTransport::Lifecycle PciTransport::write_common_field(uint16_t field, uint64_t value) {
  Queue* queue = selected_queue();
  // The driver sets queues and features up before DRIVER_OK and FEATURES_OK.
  bool queue_writable = queue != nullptr && !queue->config.ready && !activated_;
  bool features_writable = (status_ & kStatusFeaturesOk) == 0;
  switch (field) {
    case common::kDeviceFeatureSelect:
      device_feature_select_ = static_cast<uint32_t>(value);
      break;
    case common::kDriverFeatureSelect:
      driver_feature_select_ = static_cast<uint32_t>(value);
      break;
    case common::kDriverFeature:
      if (features_writable && driver_feature_select_ < 2) {
        unsigned shift = 32 * driver_feature_select_;
        driver_features_ = (driver_features_ & ~(uint64_t{0xffffffff} << shift)) | (value & 0xffffffff) << shift;
      }
      break;
    case common::kConfigMsixVector:
      // An unusable vector reads back as NO_VECTOR (virtio 1.2, 4.1.5.1.2).
      config_vector_ = value < msix_.vector_count() ? static_cast<uint16_t>(value) : kNoVector;
      break;
    case common::kDeviceStatus:
      return write_status(static_cast<uint8_t>(value));
    case common::kQueueSelect:
      queue_select_ = static_cast<uint16_t>(value);
      break;
    case common::kQueueSize:
      if (queue_writable && value != 0 && value <= queue->max_size && std::has_single_bit(value))
        queue->config.size = static_cast<uint16_t>(value);
      break;
    case common::kQueueMsixVector:
      if (queue != nullptr) queue->vector = value < msix_.vector_count() ? static_cast<uint16_t>(value) : kNoVector;
      break;
    case common::kQueueEnable:
      if (queue_writable && value == 1) queue->config.ready = true;
      break;
    case common::kQueueDesc:
      if (queue_writable) queue->config.descriptor_table = value;
      break;
    case common::kQueueDriver:
      if (queue_writable) queue->config.driver_area = value;
      break;
    case common::kQueueDevice:
      if (queue_writable) queue->config.device_area = value;
      break;
    default:  // read-only fields
      break;
  }
  return Lifecycle::kNone;
}

PciTransport::Lifecycle PciTransport::write_status(uint8_t value) {
  if (value == 0) return Lifecycle::kReset;
  uint8_t added = static_cast<uint8_t>(value & kStatusDriverSettable & ~status_);
  if (added & kStatusFeaturesOk) {
    // FEATURES_OK stays clear (the driver reads it back) unless the driver
    // took VERSION_1 and nothing the device did not offer.
    bool acceptable = (driver_features_ & ~device_features_) == 0 && (driver_features_ & kFeatureVersion1) != 0;
    if (!acceptable) added &= static_cast<uint8_t>(~kStatusFeaturesOk);
  }
  Lifecycle action = Lifecycle::kNone;
  if (added & kStatusDriverOk) {
    if (((status_ | added) & kStatusFeaturesOk) == 0)
      added &= static_cast<uint8_t>(~kStatusDriverOk);
    else
      action = Lifecycle::kActivate;
  }
  status_ |= added;
  return action;
}

void PciTransport::reset_registers() {
  device_feature_select_ = 0;
  driver_feature_select_ = 0;
  driver_features_ = 0;
  status_ = 0;
  queue_select_ = 0;
  config_vector_ = kNoVector;
  for (Queue& queue : queues_) queue = {QueueConfig{queue.max_size, false, 0, 0, 0}, queue.max_size, kNoVector};
  isr_ = 0;
  activated_ = false;
  update_intx();
}

void PciTransport::write_common(uint64_t offset, std::span<const uint8_t> data) {
  std::unique_lock life(lifecycle_);
  std::unique_lock lock(mutex_);
  Lifecycle action = Lifecycle::kNone;
  for (const Field& field : kCommonFields) {
    uint64_t start = std::max<uint64_t>(offset, field.offset);
    uint64_t end = std::min<uint64_t>(offset + data.size(), field.offset + field.size);
    if (start >= end) continue;
    // Merge the written bytes into the field's current value, so any width
    // at any offset acts like byte writes to the fields it covers.
    uint64_t value = read_common_field(field.offset);
    for (uint64_t at = start; at < end; ++at) {
      unsigned shift = static_cast<unsigned>(8 * (at - field.offset));
      value = (value & ~(uint64_t{0xff} << shift)) | uint64_t{data[at - offset]} << shift;
    }
    if (Lifecycle next = write_common_field(field.offset, value); next != Lifecycle::kNone) action = next;
  }
  if (action == Lifecycle::kReset) {
    lock.unlock();
    device_->reset();
    lock.lock();
    reset_registers();
  } else if (action == Lifecycle::kActivate) {
    Activation activation{platform_.memory, driver_features_, {}, this};
    for (const Queue& queue : queues_) activation.queues.push_back(queue.config);
    activated_ = true;
    lock.unlock();
    device_->activate(std::move(activation));
  }
}

void PciTransport::bar_read(unsigned /*bar*/, uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (offset < kIsrOffset) {
    std::lock_guard lock(mutex_);
    for (const Field& field : kCommonFields) {
      uint64_t value = read_common_field(field.offset);
      for (unsigned i = 0; i < field.size; ++i) {
        uint64_t at = field.offset + i;
        if (at >= offset && at < offset + data.size()) data[at - offset] = static_cast<uint8_t>(value >> (8 * i));
      }
    }
  } else if (offset < kDeviceConfigOffset) {
    if (offset != kIsrOffset) return;
    // Reading the ISR status clears it and lowers INTx (4.1.4.5).
    std::lock_guard lock(mutex_);
    data[0] = isr_;
    isr_ = 0;
    update_intx();
  } else if (offset < kNotifyOffset) {
    std::shared_lock life(lifecycle_);
    device_->read_config(offset - kDeviceConfigOffset, data);
  } else if (offset >= kMsixTableOffset && offset < kMsixPbaOffset) {
    std::lock_guard lock(mutex_);
    msix_.table_read(offset - kMsixTableOffset, data);
  } else if (offset >= kMsixPbaOffset) {
    std::lock_guard lock(mutex_);
    msix_.pba_read(offset - kMsixPbaOffset, data);
  }
}

void PciTransport::bar_write(unsigned /*bar*/, uint64_t offset, std::span<const uint8_t> data) {
  if (offset < kIsrOffset) {
    write_common(offset, data);
  } else if (offset >= kDeviceConfigOffset && offset < kNotifyOffset) {
    std::shared_lock life(lifecycle_);
    device_->write_config(offset - kDeviceConfigOffset, data);
  } else if (offset >= kNotifyOffset && offset < kMsixTableOffset) {
    notify(static_cast<uint16_t>(std::min<uint64_t>((offset - kNotifyOffset) / kNotifyOffMultiplier, 0xffff)));
  } else if (offset >= kMsixTableOffset && offset < kMsixPbaOffset) {
    std::lock_guard lock(mutex_);
    msix_.table_write(offset - kMsixTableOffset, data);
  }
}

void PciTransport::notify(uint16_t queue) {
  std::shared_lock life(lifecycle_);
  // activated_ and ready change only under the exclusive lifecycle lock.
  if (!activated_ || queue >= queues_.size() || !queues_[queue].config.ready) return;
  device_->queue_notify(queue);
}

void PciTransport::raise(uint16_t vector, uint8_t isr_bit) {
  if (msix_.enabled()) {
    if (vector != kNoVector) msix_.signal(vector);
    return;
  }
  isr_ |= isr_bit;
  update_intx();
}

void PciTransport::update_intx() {
  bool level = isr_ != 0 && !msix_.enabled() && (config_.get16(pci::kCommand) & pci::kCommandInterruptDisable) == 0;
  uint16_t status = config_.get16(pci::kStatus);
  config_.set16(pci::kStatus, level ? status | pci::kStatusInterrupt : status & ~pci::kStatusInterrupt);
  if (level == intx_level_) return;
  intx_level_ = level;
  platform_.intx->set_level(level);
}

void PciTransport::used_buffers(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!activated_ || queue >= queues_.size()) return;
  raise(queues_[queue].vector, kIsrQueue);
}

void PciTransport::config_changed() {
  std::lock_guard lock(mutex_);
  ++config_generation_;
  // No configuration interrupt before DRIVER_OK (4.1.4.5).
  if (activated_) raise(config_vector_, kIsrConfig);
}

void PciTransport::needs_reset() {
  std::lock_guard lock(mutex_);
  if (!activated_ || (status_ & kStatusDeviceNeedsReset) != 0) return;
  status_ |= kStatusDeviceNeedsReset;
  raise(config_vector_, kIsrConfig);
}

void PciTransport::on_config_write(uint16_t /*offset*/, size_t /*size*/) {
  // MSI-X enable, its function mask, and INTx disable may have changed.
  msix_.control_written();
  update_intx();
}

bool PciTransport::touches_cfg_data(uint16_t offset, size_t size) const {
  size_t data = size_t{pci_cfg_cap_} + kPciCfgData;
  return offset < data + 4 && offset + size > data;
}

bool PciTransport::cfg_access(CfgAccess& access) const {
  std::lock_guard lock(mutex_);
  uint8_t bar = config_.get8(pci_cfg_cap_ + kPciCfgBar);
  access.offset = config_.get32(pci_cfg_cap_ + kPciCfgOffset);
  access.length = config_.get32(pci_cfg_cap_ + kPciCfgLength);
  // virtio 1.2, 4.1.4.9: lengths 1, 2 or 4, aligned, inside the BAR.
  return bar == 0 && (access.length == 1 || access.length == 2 || access.length == 4) &&
         access.offset % access.length == 0 && access.offset + access.length <= kBarSize;
}

void PciTransport::before_config_read(uint16_t offset, size_t size) {
  CfgAccess access;
  if (!touches_cfg_data(offset, size) || !cfg_access(access)) return;
  uint8_t bytes[4] = {};
  bar_read(0, access.offset, std::span(bytes, access.length));
  std::lock_guard lock(mutex_);
  for (unsigned i = 0; i < 4; ++i) config_.set8(pci_cfg_cap_ + kPciCfgData + i, bytes[i]);
}

void PciTransport::after_config_write(uint16_t offset, size_t size) {
  CfgAccess access;
  if (!touches_cfg_data(offset, size) || !cfg_access(access)) return;
  uint8_t bytes[4];
  {
    std::lock_guard lock(mutex_);
    for (unsigned i = 0; i < 4; ++i) bytes[i] = config_.get8(pci_cfg_cap_ + kPciCfgData + i);
  }
  bar_write(0, access.offset, std::span<const uint8_t>(bytes, access.length));
}

void PciTransport::decoding_changed() {
  std::vector<pci::DecodedBar> decoded = decoded_bars();
  std::optional<uint64_t> base;
  if (!decoded.empty()) base = decoded.front().address + kNotifyOffset;
  std::lock_guard lock(mutex_);
  if (base == doorbell_base_) return;
  // A doorbell that cannot be bound only costs speed: the notify write then
  // exits to the VMM and reaches notify() through bar_write().
  for (size_t q = 0; q < doorbells_.size(); ++q) {
    int fd = doorbells_[q].get();
    try {
      if (doorbell_bound_[q]) {
        doorbell_bound_[q] = false;
        platform_.vm->set_mmio_ioeventfd(fd, *doorbell_base_ + q * kNotifyOffMultiplier, 2, false);
      }
      if (base) {
        platform_.vm->set_mmio_ioeventfd(fd, *base + q * kNotifyOffMultiplier, 2, true);
        doorbell_bound_[q] = true;
      }
    } catch (const KvmError& e) {
      spdlog::warn("virtio-pci doorbell of queue {}: {}", q, e.what());
    }
  }
  doorbell_base_ = base;
}

}  // namespace shelter::vmm::virtio
