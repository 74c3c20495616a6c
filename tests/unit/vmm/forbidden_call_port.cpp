#include "tests/unit/vmm/forbidden_call_port.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/error.h"

namespace shelter::vmm::testing {
namespace {

// Under the jail's kill mode this never returns; in log mode it does.
void make_forbidden_call() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) ::close(fd);
}

}  // namespace

void ForbiddenCallPort::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void ForbiddenCallPort::write(uint64_t, std::span<const uint8_t>) { make_forbidden_call(); }

ForbiddenCallDoorbell::ForbiddenCallDoorbell(devices::EventfdLoop& doorbells)
    : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_) throw SystemError("eventfd", errno);
  doorbells.add(event_.get(), make_forbidden_call);
}

void ForbiddenCallDoorbell::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void ForbiddenCallDoorbell::write(uint64_t, std::span<const uint8_t>) {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(event_.get(), &one, sizeof one);
}

}  // namespace shelter::vmm::testing
