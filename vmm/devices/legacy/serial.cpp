#include "vmm/devices/legacy/serial.h"

namespace shelter::vmm::devices {
namespace {

// Modem status in loopback mode mirrors the modem control outputs:
// CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2.
uint8_t loopback_modem_status(uint8_t mcr) {
  return static_cast<uint8_t>(((mcr & 0x02) << 3) | ((mcr & 0x01) << 5) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4));
}

constexpr uint8_t kModemStatusConnected = 0xb0;  // DCD, DSR, CTS

}  // namespace

void Serial::read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size(); ++i) data[i] = read_register(offset + i);
  update_interrupt();
}

void Serial::write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
  update_interrupt();
}

size_t Serial::enqueue_input(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  size_t taken = 0;
  while (taken < bytes.size() && receive_.size() < kFifoSize) receive_.push_back(bytes[taken++]);
  update_interrupt();
  return taken;
}

uint8_t Serial::interrupt_identification() const {
  if ((ier_ & kIerReceive) && !receive_.empty()) return kIirReceive;
  if ((ier_ & kIerTransmitEmpty) && transmit_empty_pending_) return kIirTransmitEmpty;
  return kIirNone;
}

uint8_t Serial::read_register(uint64_t offset) {
  bool dlab = lcr_ & kLcrDlab;
  switch (offset) {
    case kData: {
      if (dlab) return divisor_low_;
      if (receive_.empty()) return 0;
      uint8_t byte = receive_.front();
      receive_.pop_front();
      return byte;
    }
    case kIer:
      return dlab ? divisor_high_ : ier_;
    case kIir: {
      uint8_t iir = interrupt_identification();
      // Reading the IIR acknowledges a transmitter-empty interrupt.
      if (iir == kIirTransmitEmpty) transmit_empty_pending_ = false;
      return static_cast<uint8_t>(iir | ((fcr_ & 0x01) ? kIirFifo : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return static_cast<uint8_t>(kLsrThrEmpty | kLsrIdle | (receive_.empty() ? 0 : kLsrDataReady));
    case kMsr:
      return (mcr_ & kMcrLoop) ? loopback_modem_status(mcr_) : kModemStatusConnected;
    case kScr:
      return scr_;
    default:
      return 0xff;
  }
}

void Serial::write_register(uint64_t offset, uint8_t value) {
  bool dlab = lcr_ & kLcrDlab;
  switch (offset) {
    case kData:
      if (dlab) {
        divisor_low_ = value;
      } else {
        if (mcr_ & kMcrLoop) {
          if (receive_.size() < kFifoSize) receive_.push_back(value);
        } else {
          output_->write(value);
        }
        // Transmission is immediate: the holding register is empty again.
        transmit_empty_pending_ = true;
      }
      break;
    case kIer:
      if (dlab) {
        divisor_high_ = value;
      } else {
        // Enabling the transmitter-empty interrupt while empty raises it.
        if ((value & kIerTransmitEmpty) && !(ier_ & kIerTransmitEmpty)) transmit_empty_pending_ = true;
        ier_ = value & 0x0f;
      }
      break;
    case kIir:  // FCR when written
      fcr_ = value;
      if (value & 0x02) receive_.clear();
      break;
    case kLcr:
      lcr_ = value;
      break;
    case kMcr:
      mcr_ = value & 0x1f;
      break;
    case kScr:
      scr_ = value;
      break;
    default:  // LSR and MSR are read-only
      break;
  }
}

void Serial::update_interrupt() {
  bool level = interrupt_identification() != kIirNone;
  if (level == irq_level_) return;
  irq_level_ = level;
  irq_->set_level(level);
}

}  // namespace shelter::vmm::devices
