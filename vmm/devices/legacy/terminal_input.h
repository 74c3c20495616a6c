#pragma once
// The host side of the serial console's input: while it exists, a terminal
// (normally stdin) leaves canonical mode and echo (the guest echoes; the
// signal keys still work), and a thread copies its bytes into the UART's
// receive FIFO at the pace the guest drains it. The terminal's settings are
// restored on destruction, and by the handler of SIGINT and SIGTERM should
// one of them end the process first.
#include <thread>

#include "common/unique_fd.h"
#include "vmm/devices/legacy/serial.h"

namespace shelter::vmm::devices {

class TerminalInput {
 public:
  // terminal_fd must be a terminal; throws SystemError otherwise.
  TerminalInput(int terminal_fd, Serial& serial);
  TerminalInput(const TerminalInput&) = delete;
  TerminalInput& operator=(const TerminalInput&) = delete;
  ~TerminalInput();

 private:
  void copy_input();

  int terminal_fd_;
  Serial* serial_;
  UniqueFd stop_;
  std::thread thread_;
};

}  // namespace shelter::vmm::devices
