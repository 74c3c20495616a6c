#pragma once
// The project's base error types. Each library derives its own error type
// from Error so that callers can tell which layer failed; SystemError keeps
// the errno of the failed call for tests and messages.
#include <stdexcept>
#include <string>

namespace shelter {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<what>: <strerror(err)>"; what names the call and its object.
class SystemError : public Error {
 public:
  SystemError(const std::string& what, int err);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// Throws SystemError(what, errno) when result is negative; returns it otherwise.
long check_syscall(long result, const std::string& what);

}  // namespace shelter
