#include "tests/support/proc_status.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>

namespace shelter::testing {

std::map<std::string, std::string> status_fields(const std::string& path) {
  std::map<std::string, std::string> fields;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

std::vector<std::string> task_ids(pid_t pid) {
  std::vector<std::string> ids;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* entry = ::readdir(d))
      if (entry->d_name[0] != '.') ids.emplace_back(entry->d_name);
    ::closedir(d);
  }
  return ids;
}

pid_t child_of(pid_t parent) {
  pid_t found = 0;
  if (DIR* proc = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(proc)) {
      pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
      if (pid > 0 && status_fields("/proc/" + std::to_string(pid) + "/status")["PPid"] == std::to_string(parent))
        found = pid;
    }
    ::closedir(proc);
  }
  return found;
}

}  // namespace shelter::testing
