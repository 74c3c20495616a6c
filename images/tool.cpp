#include "images/tool.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/unique_fd.h"

extern char** environ;

namespace shelter::images {

ToolResult run_tool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  check_syscall(::pipe2(pipe_fds, O_CLOEXEC), "cannot create a pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw SystemError("cannot run " + argv[0], err);
  write_end.reset();

  constexpr size_t kKeep = 64 * 1024;
  ToolResult result;
  std::array<char, 4096> buffer;
  for (;;) {
    ssize_t n = ::read(read_end.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer.data(), static_cast<size_t>(n));
    if (result.output.size() > kKeep) result.output.erase(0, result.output.size() - kKeep);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw SystemError("cannot wait for " + argv[0], errno);
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string last_line(const std::string& output) {
  size_t end = output.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = output.find_last_of('\n', end);
  return output.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace shelter::images
