#pragma once
// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0,
// read back, closed. Nothing listens on it until a test does.
namespace shelter::testing {

// Throws std::runtime_error when the socket cannot be bound.
int unused_loopback_port();

}  // namespace shelter::testing
