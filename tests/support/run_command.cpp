#include "tests/support/run_command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace shelter::testing {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

CommandResult run_command(const std::string& command_line) {
  char dir_template[] = "/tmp/shelter-cmd-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(dir_template);
  std::filesystem::path out = dir / "out", err = dir / "err";
  std::string full = "(" + command_line + ") </dev/null >" + out.string() + " 2>" + err.string();
  int raw = std::system(full.c_str());
  CommandResult result;
  if (WIFEXITED(raw)) result.status = WEXITSTATUS(raw);
  else if (WIFSIGNALED(raw)) result.status = 128 + WTERMSIG(raw);
  result.out = slurp(out);
  result.err = slurp(err);
  std::filesystem::remove_all(dir);
  return result;
}

}  // namespace shelter::testing
