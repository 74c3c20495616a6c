// spawn_measure [--until TEXT] COMMAND [ARGS...]: runs COMMAND once and
// prints, after its output, the line
//   "spawn_measure: wall_us=W maxrss_kib=R status=S"
// and, with --until, " until_us=U": when TEXT first appeared on the
// command's standard output (-1 if it never did). A guest's last serial
// line is seen there the moment the VMM writes it, so U is the time from
// exec to the guest's exit and W that plus the VMM's teardown.
//
// Peak RSS (ru_maxrss) is kept across fork and execve: a child forked from a
// large process (a Python bench) starts with that process's pages as its
// peak. This small static program forks the command from itself, so the
// floor under every measured peak is its own few hundred KiB.
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

long long microseconds_since(const timespec& start) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000000LL + (now.tv_nsec - start.tv_nsec) / 1000;
}

// Copies the child's output to ours until it closes; returns when marker
// first appeared, or -1.
long long copy_output_until(int fd, std::string_view marker, const timespec& start) {
  long long seen_us = -1;
  std::string tail;  // enough of the stream to find the marker across reads
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return seen_us;
    if (seen_us < 0) {
      tail.append(buffer, static_cast<size_t>(n));
      if (tail.find(marker) != std::string::npos) seen_us = microseconds_since(start);
      else if (tail.size() > marker.size()) tail.erase(0, tail.size() - marker.size());
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(STDOUT_FILENO, buffer + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) break;  // our reader went away; keep draining the child
      done += w;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  const char* marker = nullptr;
  if (argc > 1 && std::strcmp(argv[1], "--until") == 0) {
    marker = argc > 2 ? argv[2] : "";
    first = 3;
  }
  if (first >= argc || (marker != nullptr && *marker == '\0')) {
    std::fprintf(stderr, "usage: spawn_measure [--until TEXT] COMMAND [ARGS...]\n");
    return 2;
  }
  int output[2] = {-1, -1};
  if (marker != nullptr && ::pipe(output) != 0) {
    std::fprintf(stderr, "spawn_measure: pipe: %s\n", std::strerror(errno));
    return 1;
  }
  std::fflush(stdout);
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "spawn_measure: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    if (marker != nullptr) {
      ::dup2(output[1], STDOUT_FILENO);
      ::close(output[0]);
      ::close(output[1]);
    }
    execvp(argv[first], argv + first);
    std::fprintf(stderr, "spawn_measure: %s: %s\n", argv[first], std::strerror(errno));
    _exit(127);
  }
  long long until_us = -1;
  if (marker != nullptr) {
    ::close(output[1]);
    until_us = copy_output_until(output[0], marker, start);
    ::close(output[0]);
  }
  int status = 0;
  rusage usage{};
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "spawn_measure: wait4: %s\n", std::strerror(errno));
      return 1;
    }
  }
  long long wall_us = microseconds_since(start);
  int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::printf("spawn_measure: wall_us=%lld maxrss_kib=%ld status=%d", wall_us, usage.ru_maxrss, exit_status);
  if (marker != nullptr) std::printf(" until_us=%lld", until_us);
  std::printf("\n");
  return 0;
}
