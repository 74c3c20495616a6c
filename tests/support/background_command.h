#pragma once
// A command line that runs in the background for the length of a test (a
// server), its stdout and stderr going to a file; stopped with SIGTERM and
// reaped when the object goes, so a failing test leaves nothing behind.
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace shelter::testing {

class BackgroundCommand {
 public:
  // Runs `command_line` through /bin/sh (exec'd, so the signal reaches it).
  BackgroundCommand(const std::string& command_line, const std::filesystem::path& output);
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;
  ~BackgroundCommand();

  // Waits until something accepts TCP connections on 127.0.0.1:port; false
  // when the command ended first or nothing listened within `seconds`.
  bool wait_for_loopback_port(int port, int seconds = 60);
  // SIGTERM, then reaps it; returns its exit status (128+N for signal N).
  int stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace shelter::testing
