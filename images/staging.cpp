#include "images/staging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace shelter::images {
namespace fs = std::filesystem;
namespace {

void copy_contents(const fs::path& from, const fs::path& to, mode_t mode) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in) throw SystemError("cannot open " + from.string(), errno);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777));
  if (!out) throw SystemError("cannot create " + to.string(), errno);
  for (;;) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot copy " + from.string(), errno);
    if (n == 0) break;
  }
}

void copy_metadata(const fs::path& to, const struct stat& st) {
  if (::geteuid() == 0 && ::lchown(to.c_str(), st.st_uid, st.st_gid) != 0)
    throw SystemError("cannot set the owner of " + to.string(), errno);
  if (!S_ISLNK(st.st_mode) && ::chmod(to.c_str(), st.st_mode & 07777) != 0)
    throw SystemError("cannot set the mode of " + to.string(), errno);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    throw SystemError("cannot set the times of " + to.string(), errno);
}

void stage_entry(const fs::path& from, const fs::path& to) {
  struct stat st {};
  check_syscall(::lstat(from.c_str(), &st), "cannot stat " + from.string());
  if (S_ISDIR(st.st_mode)) {
    check_syscall(::mkdir(to.c_str(), 0700), "cannot create " + to.string());
    std::error_code ec;
    for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec))
      stage_entry(it->path(), to / it->path().filename());
    if (ec) throw SystemError("cannot list " + from.string(), ec.value());
    copy_metadata(to, st);
  } else if (S_ISREG(st.st_mode)) {
    // A hard link shares the inode (and its metadata); copy where linking is refused.
    if (::link(from.c_str(), to.c_str()) != 0) {
      copy_contents(from, to, st.st_mode);
      copy_metadata(to, st);
    }
  } else if (S_ISLNK(st.st_mode)) {
    std::vector<char> target(static_cast<size_t>(st.st_size) + 1);
    ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
    if (n < 0) throw SystemError("cannot read the link " + from.string(), errno);
    check_syscall(::symlink(std::string(target.data(), static_cast<size_t>(n)).c_str(), to.c_str()),
                  "cannot create the link " + to.string());
    copy_metadata(to, st);
  } else if (S_ISSOCK(st.st_mode)) {
    // Sockets are endpoints of running programs, nothing an image can carry.
  } else {
    if (::mknod(to.c_str(), st.st_mode, st.st_rdev) != 0)
      throw SystemError("cannot recreate the special file " + from.string(), errno);
    copy_metadata(to, st);
  }
}

}  // namespace

TempDir::TempDir(const fs::path& parent, std::string_view prefix) {
  std::string pattern = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw SystemError("cannot create a temporary directory in " + parent.string(), errno);
  path_ = fs::canonical(pattern);
}

TempDir::~TempDir() {
  std::error_code ec;
  // Directories staged from read-only sources may lack the write bit.
  for (fs::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
  fs::remove_all(path_, ec);
}

void stage_directory(const fs::path& source, const fs::path& staging) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) throw SystemError("cannot read the source " + source.string(), errno);
  if (!S_ISDIR(st.st_mode)) throw Error(source.string() + ": not a directory");
  std::error_code ec;
  for (fs::directory_iterator it(source, ec), end; !ec && it != end; it.increment(ec))
    stage_entry(it->path(), staging / it->path().filename());
  if (ec) throw SystemError("cannot list " + source.string(), ec.value());
  copy_metadata(staging, st);
}

std::optional<fs::path> resolve_in_root(const fs::path& root, std::string_view path) {
  constexpr int kMaxLinks = 40;
  std::deque<std::string> pending;
  auto push_front_components = [&](std::string_view text) {
    std::vector<std::string> parts;
    for (const auto& part : fs::path(text)) {
      std::string s = part.string();
      if (!s.empty() && s != "/") parts.push_back(s);
    }
    pending.insert(pending.begin(), parts.begin(), parts.end());
  };
  push_front_components(path);
  std::vector<std::string> current;
  int links = 0;
  while (!pending.empty()) {
    std::string part = pending.front();
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!current.empty()) current.pop_back();
      continue;
    }
    fs::path candidate = root;
    for (const auto& c : current) candidate /= c;
    candidate /= part;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) return std::nullopt;
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) return std::nullopt;
      std::vector<char> target(static_cast<size_t>(st.st_size) + 1);
      ssize_t n = ::readlink(candidate.c_str(), target.data(), target.size());
      if (n < 0) return std::nullopt;
      std::string text(target.data(), static_cast<size_t>(n));
      if (!text.empty() && text.front() == '/') current.clear();
      push_front_components(text);
      continue;
    }
    current.push_back(part);
  }
  fs::path resolved = root;
  for (const auto& c : current) resolved /= c;
  return resolved;
}

fs::path safe_relative_path(std::string_view path) {
  if (!path.empty() && path.front() == '/') throw Error("archive entry '" + std::string(path) + "' has an absolute path");
  fs::path out;
  for (const auto& part : fs::path(path)) {
    std::string s = part.string();
    if (s.empty() || s == ".") continue;
    if (s == "..") throw Error("archive entry '" + std::string(path) + "' climbs out with '..'");
    out /= s;
  }
  return out;
}

void check_no_symlink_parents(const fs::path& root, const fs::path& relative) {
  fs::path current = root;
  fs::path parent = relative.parent_path();
  for (const auto& part : parent) {
    current /= part;
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT) return;  // nothing further exists to follow
      throw SystemError("cannot stat " + current.string(), errno);
    }
    if (!S_ISDIR(st.st_mode))
      throw Error("'" + relative.string() + "' would be written through '" +
                  fs::relative(current, root).string() + "', which is not a directory (a symlink escape?)");
  }
}

void make_directories_in_root(const fs::path& root, const fs::path& relative) {
  fs::path current = root;
  for (const auto& part : relative) {
    current /= part;
    struct stat st {};
    if (::lstat(current.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        throw Error("'" + fs::relative(current, root).string() + "' is not a directory");
      continue;
    }
    check_syscall(::mkdir(current.c_str(), 0755), "cannot create " + current.string());
  }
}

}  // namespace shelter::images
