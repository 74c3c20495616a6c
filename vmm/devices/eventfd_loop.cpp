#include "vmm/devices/eventfd_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"
#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm::devices {
namespace {

void watch(int epoll, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw SystemError("epoll_ctl", errno);
}

}  // namespace

EventfdLoop::EventfdLoop()
    : epoll_(::epoll_create1(EPOLL_CLOEXEC)), stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!epoll_) throw SystemError("epoll_create1", errno);
  if (!stop_) throw SystemError("eventfd", errno);
  watch(epoll_.get(), stop_.get());
}

EventfdLoop::~EventfdLoop() { stop(); }

void EventfdLoop::add(int eventfd, std::function<void()> on_signal) {
  if (thread_.joinable()) throw VmmError("eventfds join the loop only before it starts");
  watch(epoll_.get(), eventfd);
  handlers_[eventfd] = std::move(on_signal);
}

void EventfdLoop::start(std::function<void(const std::string&)> on_failure) {
  thread_ = std::thread([this, on_failure = std::move(on_failure)] { run(on_failure); });
}

void EventfdLoop::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  if (::write(stop_.get(), &one, sizeof one) < 0) spdlog::error("cannot stop the eventfd loop: errno {}", errno);
  thread_.join();
}

void EventfdLoop::run(const std::function<void(const std::string&)>& on_failure) {
  try {
    jail::enter_thread(jail::ThreadKind::kDevice);
  } catch (const Error& e) {
    on_failure(std::string("doorbell thread: ") + e.what());
    return;
  }
  epoll_event events[16];
  for (;;) {
    int count = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      spdlog::error("eventfd loop: epoll_wait failed: errno {}", errno);
      return;
    }
    for (int i = 0; i < count; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_.get()) return;
      uint64_t counter;
      if (::read(fd, &counter, sizeof counter) != sizeof counter) continue;  // nonblocking: raced empty
      try {
        handlers_.at(fd)();
      } catch (const std::exception& e) {
        spdlog::error("eventfd handler: {}", e.what());
      }
    }
  }
}

}  // namespace shelter::vmm::devices
