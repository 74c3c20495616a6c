// The I/O and MMIO bus and the legacy and pseudo devices, driven the way a
// guest drives them.
#include <gtest/gtest.h>

#include <vector>

#include "vmm/devices/bus.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/devices/pseudo/boot_timer.h"
#include "vmm/devices/pseudo/exit_port.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::devices {
namespace {

struct RecordingDevice final : BusDevice {
  std::vector<std::pair<uint64_t, size_t>> reads, writes;
  void read(uint64_t offset, std::span<uint8_t> data) override {
    reads.emplace_back(offset, data.size());
    for (auto& b : data) b = 0x5a;
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override { writes.emplace_back(offset, data.size()); }
};

struct RecordingExits final : ExitSink {
  std::vector<VmExit> exits;
  void request_exit(VmExit exit) override { exits.push_back(std::move(exit)); }
};

struct RecordingLine final : InterruptLine {
  std::vector<bool> levels;
  void set_level(bool high) override { levels.push_back(high); }
};

struct StringSink final : ByteSink {
  std::string text;
  void write(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
};

TEST(Bus, RoutesAccessesWithOffsets) {
  Bus bus;
  auto a = std::make_shared<RecordingDevice>();
  auto b = std::make_shared<RecordingDevice>();
  bus.insert(0x3f8, 8, a);
  bus.insert(0x60, 5, b);
  uint8_t data[2] = {};
  EXPECT_TRUE(bus.read(0x3fd, std::span(data, 1)));
  EXPECT_EQ(data[0], 0x5a);
  EXPECT_TRUE(bus.write(0x64, std::span<const uint8_t>(data, 1)));
  EXPECT_TRUE(bus.write(0x3fe, std::span<const uint8_t>(data, 2)));
  EXPECT_EQ(a->reads.at(0), std::make_pair(uint64_t{5}, size_t{1}));
  EXPECT_EQ(b->writes.at(0), std::make_pair(uint64_t{4}, size_t{1}));
  EXPECT_EQ(a->writes.at(0), std::make_pair(uint64_t{6}, size_t{2}));
}

TEST(Bus, UnclaimedAndStraddlingAccessesAreRefused) {
  Bus bus;
  auto a = std::make_shared<RecordingDevice>();
  bus.insert(0x100, 4, a);
  uint8_t data[4] = {};
  EXPECT_FALSE(bus.read(0xff, std::span(data, 1)));
  EXPECT_FALSE(bus.read(0x104, std::span(data, 1)));
  EXPECT_FALSE(bus.read(0x103, std::span(data, 2)));  // runs past the device
  EXPECT_FALSE(bus.write(UINT64_MAX, std::span<const uint8_t>(data, 4)));
  EXPECT_TRUE(a->reads.empty());
}

TEST(Bus, OverlappingRangesAreRejected) {
  Bus bus;
  bus.insert(0x100, 0x10, std::make_shared<RecordingDevice>());
  EXPECT_THROW(bus.insert(0x10f, 1, std::make_shared<RecordingDevice>()), VmmError);
  EXPECT_THROW(bus.insert(0xf0, 0x11, std::make_shared<RecordingDevice>()), VmmError);
  EXPECT_THROW(bus.insert(0x0, 0, std::make_shared<RecordingDevice>()), VmmError);
  EXPECT_THROW(bus.insert(UINT64_MAX, 2, std::make_shared<RecordingDevice>()), VmmError);
  bus.insert(0x110, 1, std::make_shared<RecordingDevice>());
  bus.insert(0xff, 1, std::make_shared<RecordingDevice>());
}

class SerialTest : public ::testing::Test {
 protected:
  uint8_t in(uint64_t offset) {
    uint8_t value = 0;
    serial.read(offset, std::span(&value, 1));
    return value;
  }
  void out(uint64_t offset, uint8_t value) { serial.write(offset, std::span<const uint8_t>(&value, 1)); }
  StringSink sink;
  RecordingLine line;
  Serial serial{sink, line};
};

TEST_F(SerialTest, TransmitsToTheSinkAndIsAlwaysReady) {
  EXPECT_EQ(in(Serial::kLsr) & Serial::kLsrThrEmpty, Serial::kLsrThrEmpty);
  for (char c : std::string("ok\n")) out(Serial::kData, static_cast<uint8_t>(c));
  EXPECT_EQ(sink.text, "ok\n");
  EXPECT_TRUE(line.levels.empty());  // no interrupt enabled, none raised
}

TEST_F(SerialTest, DivisorLatchHidesDataAndIer) {
  out(Serial::kLcr, Serial::kLcrDlab | 0x03);
  out(Serial::kData, 0x01);
  out(Serial::kIer, 0x00);
  EXPECT_EQ(in(Serial::kData), 0x01);
  EXPECT_TRUE(sink.text.empty());
  out(Serial::kLcr, 0x03);
  EXPECT_EQ(in(Serial::kIer), 0x00);
  EXPECT_EQ(in(Serial::kLcr), 0x03);
}

TEST_F(SerialTest, TransmitterEmptyInterruptIsRaisedAndAcknowledged) {
  out(Serial::kIer, Serial::kIerTransmitEmpty);
  ASSERT_EQ(line.levels, std::vector<bool>{true});
  EXPECT_EQ(in(Serial::kIir) & 0x0f, Serial::kIirTransmitEmpty);
  EXPECT_EQ(line.levels, (std::vector<bool>{true, false}));
  EXPECT_EQ(in(Serial::kIir) & 0x0f, Serial::kIirNone);
  out(Serial::kData, 'x');  // sent at once: empty again, interrupt again
  EXPECT_EQ(line.levels, (std::vector<bool>{true, false, true}));
}

TEST_F(SerialTest, ReceivedBytesRaiseDataReadyAndTheirInterrupt) {
  out(Serial::kIer, Serial::kIerReceive);
  std::vector<uint8_t> input{'a', 'b'};
  EXPECT_EQ(serial.enqueue_input(input), 2u);
  EXPECT_EQ(line.levels, std::vector<bool>{true});
  EXPECT_EQ(in(Serial::kLsr) & Serial::kLsrDataReady, Serial::kLsrDataReady);
  EXPECT_EQ(in(Serial::kIir) & 0x0f, Serial::kIirReceive);
  EXPECT_EQ(in(Serial::kData), 'a');
  EXPECT_EQ(in(Serial::kData), 'b');
  EXPECT_EQ(in(Serial::kLsr) & Serial::kLsrDataReady, 0);
  EXPECT_EQ(line.levels, (std::vector<bool>{true, false}));
  EXPECT_EQ(in(Serial::kData), 0);  // empty FIFO
}

TEST_F(SerialTest, ReceiveFifoIsBounded) {
  std::vector<uint8_t> input(100, 'z');
  EXPECT_EQ(serial.enqueue_input(input), Serial::kFifoSize);
  out(Serial::kIir, 0x03);  // FCR: enable and clear the receive FIFO
  EXPECT_EQ(in(Serial::kLsr) & Serial::kLsrDataReady, 0);
  EXPECT_EQ(in(Serial::kIir) & 0xc0, Serial::kIirFifo);
}

TEST_F(SerialTest, LoopbackReturnsWhatIsSent) {
  out(Serial::kMcr, Serial::kMcrLoop | 0x0b);  // loop, DTR, RTS, OUT2
  out(Serial::kData, 0x42);
  EXPECT_TRUE(sink.text.empty());
  EXPECT_EQ(in(Serial::kData), 0x42);
  EXPECT_EQ(in(Serial::kMsr), 0xb0);  // DCD<-OUT2, DSR<-DTR, CTS<-RTS
  out(Serial::kMcr, 0x08);
  EXPECT_EQ(in(Serial::kMsr), 0xb0);
  out(Serial::kScr, 0x99);
  EXPECT_EQ(in(Serial::kScr), 0x99);
}

TEST(I8042, ResetCommandEndsTheVmWithAReset) {
  RecordingExits exits;
  I8042 controller(exits);
  uint8_t status = 0xff;
  controller.read(I8042::kCommandOffset, std::span(&status, 1));
  EXPECT_EQ(status, 0);
  uint8_t other = 0xd1;
  controller.write(I8042::kCommandOffset, std::span<const uint8_t>(&other, 1));
  controller.write(0, std::span<const uint8_t>(&I8042::kCommandReset, 1));  // data port: no reset
  EXPECT_TRUE(exits.exits.empty());
  controller.write(I8042::kCommandOffset, std::span<const uint8_t>(&I8042::kCommandReset, 1));
  ASSERT_EQ(exits.exits.size(), 1u);
  EXPECT_EQ(exits.exits[0].reason, VmExit::Reason::kReset);
  EXPECT_EQ(exits.exits[0].status, 0);
}

TEST(ExitPort, WriteEndsTheVmWithTheLowByte) {
  RecordingExits exits;
  ExitPort port(exits);
  uint8_t word[4] = {0x2a, 0x01, 0, 0};
  port.write(0, std::span<const uint8_t>(word, 4));
  port.write(1, std::span<const uint8_t>(word, 1));  // not at the port's base: ignored
  ASSERT_EQ(exits.exits.size(), 1u);
  EXPECT_EQ(exits.exits[0].reason, VmExit::Reason::kExitPort);
  EXPECT_EQ(exits.exits[0].status, 42);
}

TEST(BootTimer, RecordsTheFirstMagicWriteOnly) {
  BootTimer timer(std::chrono::steady_clock::now());
  uint8_t other = 7;
  timer.write(0, std::span<const uint8_t>(&other, 1));
  EXPECT_FALSE(timer.boot_time());
  timer.write(0, std::span<const uint8_t>(&BootTimer::kMagic, 1));
  auto first = timer.boot_time();
  ASSERT_TRUE(first);
  timer.write(0, std::span<const uint8_t>(&BootTimer::kMagic, 1));
  EXPECT_EQ(timer.boot_time(), first);
}

}  // namespace
}  // namespace shelter::vmm::devices
