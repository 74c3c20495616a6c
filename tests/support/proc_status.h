#pragma once
// Reading a process from outside through /proc, as the jail tests observe
// a jailed VMM: its status fields, its threads, and the child of a reaper.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace shelter::testing {

// The "Name: value" lines of a /proc status file (empty when unreadable).
std::map<std::string, std::string> status_fields(const std::string& path);

// The thread ids under /proc/<pid>/task (none once the process is gone).
std::vector<std::string> task_ids(pid_t pid);

// A child of parent found by one scan of /proc, or 0; meant for a parent
// with one child.
pid_t child_of(pid_t parent);

}  // namespace shelter::testing
