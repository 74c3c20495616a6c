#pragma once
// One thread that waits on eventfds (KVM ioeventfds: the guest's virtqueue
// doorbells) and runs each one's handler when it fires. Handlers are added
// before start(); stop() (or the destructor) ends and joins the thread.
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/unique_fd.h"

namespace shelter::vmm::devices {

class EventfdLoop {
 public:
  EventfdLoop();
  ~EventfdLoop();
  EventfdLoop(const EventfdLoop&) = delete;
  EventfdLoop& operator=(const EventfdLoop&) = delete;

  // fd must stay open while the loop runs; on_signal runs on the loop's thread.
  void add(int eventfd, std::function<void()> on_signal);
  // Starts the thread, which enters the jail's device filter first; when
  // the kernel refuses it, on_failure gets the error and the loop serves nothing.
  void start(std::function<void(const std::string&)> on_failure);
  void stop();

 private:
  void run(const std::function<void(const std::string&)>& on_failure);
  UniqueFd epoll_;
  UniqueFd stop_;
  std::map<int, std::function<void()>> handlers_;
  std::thread thread_;
};

}  // namespace shelter::vmm::devices
