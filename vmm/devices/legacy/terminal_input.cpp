#include "vmm/devices/legacy/terminal_input.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <span>

#include "common/error.h"
#include "vmm/jail/thread_filter.h"

namespace shelter::vmm::devices {
namespace {

// One terminal at a time is handed to a guest; these let the signal handler
// put it back.
struct termios saved_settings;
int saved_fd = -1;

void restore_terminal_and_reraise(int signal) {
  ::tcsetattr(saved_fd, TCSANOW, &saved_settings);
  ::signal(signal, SIG_DFL);
  ::raise(signal);
  // Still here: as PID 1 of the jail's PID namespace, the default action
  // of the signal is ignored. End as it would have.
  ::_exit(128 + signal);
}

}  // namespace

TerminalInput::TerminalInput(int terminal_fd, InputSink& console)
    : terminal_fd_(terminal_fd), console_(&console), stop_(::eventfd(0, EFD_CLOEXEC)) {
  if (!stop_) throw SystemError("eventfd for the terminal input thread", errno);
  check_syscall(::tcgetattr(terminal_fd_, &saved_settings), "tcgetattr on the console terminal");
  saved_fd = terminal_fd_;
  struct termios settings = saved_settings;
  settings.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  settings.c_cc[VMIN] = 1;
  settings.c_cc[VTIME] = 0;
  ::signal(SIGINT, restore_terminal_and_reraise);
  ::signal(SIGTERM, restore_terminal_and_reraise);
  check_syscall(::tcsetattr(terminal_fd_, TCSANOW, &settings), "tcsetattr on the console terminal");
  thread_ = std::thread([this] {
    try {
      jail::enter_thread(jail::ThreadKind::kTerminalInput);
    } catch (const Error& e) {
      spdlog::error("the terminal input thread stops: {}", e.what());
      return;
    }
    copy_input();
  });
}

TerminalInput::~TerminalInput() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
  thread_.join();
  ::tcsetattr(terminal_fd_, TCSANOW, &saved_settings);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  saved_fd = -1;
}

void TerminalInput::copy_input() {
  pollfd fds[2] = {{terminal_fd_, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  uint8_t buffer[64];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    ssize_t n = ::read(terminal_fd_, buffer, sizeof buffer);
    if (n <= 0) return;  // end of input: the guest gets no more
    std::span<const uint8_t> pending(buffer, static_cast<size_t>(n));
    while (!pending.empty()) {
      pending = pending.subspan(console_->enqueue_input(pending));
      if (pending.empty()) break;
      // The console is full: wait a millisecond for the guest, or for the stop.
      pollfd stop{stop_.get(), POLLIN, 0};
      if (::poll(&stop, 1, 1) > 0) return;
    }
  }
}

}  // namespace shelter::vmm::devices
