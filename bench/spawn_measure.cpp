// spawn_measure COMMAND [ARGS...]: runs COMMAND once and prints, after its
// output, the line "spawn_measure: wall_us=W maxrss_kib=R status=S".
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

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: spawn_measure COMMAND [ARGS...]\n");
    return 2;
  }
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "spawn_measure: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    std::fprintf(stderr, "spawn_measure: %s: %s\n", argv[1], std::strerror(errno));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(child, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "spawn_measure: wait4: %s\n", std::strerror(errno));
      return 1;
    }
  }
  timespec end{};
  clock_gettime(CLOCK_MONOTONIC, &end);
  long long wall_us = (end.tv_sec - start.tv_sec) * 1000000LL + (end.tv_nsec - start.tv_nsec) / 1000;
  int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::fflush(stdout);
  std::printf("spawn_measure: wall_us=%lld maxrss_kib=%ld status=%d\n", wall_us, usage.ru_maxrss, exit_status);
  return 0;
}
