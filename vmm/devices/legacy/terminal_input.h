#pragma once
// The host side of a guest console's input: while it exists, a terminal
// (normally stdin) leaves canonical mode and echo (the guest echoes; the
// signal keys still work), and a thread copies its bytes into a guest
// console's input (the UART's receive FIFO, virtio-console's receive queue)
// at the pace the guest drains it. The terminal's settings are
// restored on destruction, and by the handler of SIGINT and SIGTERM should
// one of them end the process first.
#include <thread>

#include "common/unique_fd.h"
#include "vmm/devices/vm_exit.h"

namespace shelter::vmm::devices {

class TerminalInput {
 public:
  // terminal_fd must be a terminal; throws SystemError otherwise.
  TerminalInput(int terminal_fd, InputSink& console);
  TerminalInput(const TerminalInput&) = delete;
  TerminalInput& operator=(const TerminalInput&) = delete;
  ~TerminalInput();

 private:
  void copy_input();

  int terminal_fd_;
  InputSink* console_;
  UniqueFd stop_;
  std::thread thread_;
};

}  // namespace shelter::vmm::devices
