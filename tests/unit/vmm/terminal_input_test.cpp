// Terminal input to the UART, through a pseudo-terminal standing in for the
// user's terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/devices/legacy/terminal_input.h"

namespace shelter::vmm::devices {
namespace {

struct NullSink final : ByteSink {
  void write(uint8_t) override {}
};
struct NullLine final : InterruptLine {
  void set_level(bool) override {}
};

class TerminalInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(master_);
    ASSERT_EQ(::grantpt(master_.get()), 0);
    ASSERT_EQ(::unlockpt(master_.get()), 0);
    terminal_.reset(::open(::ptsname(master_.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(terminal_);
  }

  tcflag_t local_flags() {
    termios settings{};
    EXPECT_EQ(::tcgetattr(terminal_.get(), &settings), 0);
    return settings.c_lflag;
  }

  // Reads what the guest would read from the UART until count bytes came;
  // gives up after a generous bound so a broken thread fails instead of hanging.
  std::string guest_reads(size_t count) {
    std::string text;
    for (int tries = 0; text.size() < count && tries < 20000; ++tries) {
      uint8_t lsr = 0, data = 0;
      serial_.read(Serial::kLsr, std::span(&lsr, 1));
      if (lsr & Serial::kLsrDataReady) {
        serial_.read(Serial::kData, std::span(&data, 1));
        text.push_back(static_cast<char>(data));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return text;
  }

  void type(const std::string& text) {
    ASSERT_EQ(::write(master_.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  UniqueFd master_, terminal_;
  NullSink sink_;
  NullLine line_;
  Serial serial_{sink_, line_};
};

TEST_F(TerminalInputTest, KeystrokesReachTheGuestAtOnceWithoutEcho) {
  ASSERT_TRUE(local_flags() & ICANON);
  {
    TerminalInput input(terminal_.get(), serial_);
    tcflag_t flags = local_flags();
    EXPECT_FALSE(flags & ICANON);
    EXPECT_FALSE(flags & ECHO);
    EXPECT_TRUE(flags & ISIG);
    type("ls");  // no newline: canonical mode would hold these back
    EXPECT_EQ(guest_reads(2), "ls");
  }
  EXPECT_TRUE(local_flags() & ICANON);
  EXPECT_TRUE(local_flags() & ECHO);
}

TEST_F(TerminalInputTest, MoreThanTheFifoHoldsArrivesInOrder) {
  TerminalInput input(terminal_.get(), serial_);
  std::string text;
  for (int i = 0; i < 200; ++i) text.push_back(static_cast<char>('a' + i % 26));
  type(text);
  EXPECT_EQ(guest_reads(text.size()), text);
}

TEST_F(TerminalInputTest, ANonTerminalIsRefused) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  EXPECT_THROW(TerminalInput(read_end.get(), serial_), SystemError);
}

}  // namespace
}  // namespace shelter::vmm::devices
