#pragma once
// A 16550A-compatible UART (the PC's 8250 family) at the legacy COM1 port:
// transmit goes straight to a ByteSink, receive holds bytes from the host
// terminal in a FIFO, and the interrupt line follows the IIR.
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>

#include "vmm/devices/bus.h"
#include "vmm/devices/vm_exit.h"

namespace shelter::vmm::devices {

inline constexpr uint16_t kCom1Port = 0x3f8;
inline constexpr uint16_t kCom1PortCount = 8;
inline constexpr uint32_t kCom1Irq = 4;

class Serial final : public BusDevice, public InputSink {
 public:
  // Registers (offsets from the base port).
  static constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
  static constexpr uint8_t kIerReceive = 0x01, kIerTransmitEmpty = 0x02;
  static constexpr uint8_t kIirNone = 0x01, kIirTransmitEmpty = 0x02, kIirReceive = 0x04, kIirFifo = 0xc0;
  static constexpr uint8_t kLcrDlab = 0x80;
  static constexpr uint8_t kMcrLoop = 0x10;
  static constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20, kLsrIdle = 0x40;
  static constexpr size_t kFifoSize = 64;

  Serial(ByteSink& output, InterruptLine& irq) : output_(&output), irq_(&irq) {}

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;
  // Input from the host; returns how many bytes fit in the receive FIFO.
  size_t enqueue_input(std::span<const uint8_t> bytes) override;

 private:
  uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  uint8_t interrupt_identification() const;
  void update_interrupt();

  std::mutex mutex_;
  ByteSink* output_;
  InterruptLine* irq_;
  std::deque<uint8_t> receive_;
  uint8_t ier_ = 0, lcr_ = 0x03, mcr_ = 0x08, scr_ = 0, fcr_ = 0;
  uint8_t divisor_low_ = 0x0c, divisor_high_ = 0;  // 9600 baud
  bool transmit_empty_pending_ = false;
  bool irq_level_ = false;
};

}  // namespace shelter::vmm::devices
