// The workload of the end-to-end tests: a static program that performs its
// arguments as a script of steps, so one manifest says what it must show.
//   out TEXT | err TEXT | env NAME | cwd | id | sleep SECONDS | exit CODE
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* step = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (std::strcmp(step, "out") == 0) {
      std::printf("%s\n", value);
      std::fflush(stdout);
      ++i;
    } else if (std::strcmp(step, "err") == 0) {
      std::fprintf(stderr, "%s\n", value);
      ++i;
    } else if (std::strcmp(step, "env") == 0) {
      const char* v = std::getenv(value);
      std::printf("%s=%s\n", value, v ? v : "(unset)");
      ++i;
    } else if (std::strcmp(step, "cwd") == 0) {
      char buffer[4096];
      std::printf("cwd=%s\n", getcwd(buffer, sizeof buffer) ? buffer : "?");
    } else if (std::strcmp(step, "id") == 0) {
      std::printf("id=%u:%u\n", static_cast<unsigned>(getuid()), static_cast<unsigned>(getgid()));
    } else if (std::strcmp(step, "sleep") == 0) {
      sleep(static_cast<unsigned>(std::atoi(value)));
      ++i;
    } else if (std::strcmp(step, "exit") == 0) {
      std::fflush(stdout);
      return std::atoi(value);
    } else {
      std::printf("arg=%s\n", step);
    }
  }
  return 0;
}
