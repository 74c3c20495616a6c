#include "images/binary_bundle.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/error.h"
#include "common/unique_fd.h"
#include "images/block_io.h"
#include "images/staging.h"
#include "images/tool.h"

namespace shelter::images {
namespace fs = std::filesystem;
namespace {

constexpr size_t kElfHeadSize = 64 * 1024;  // headers and PT_INTERP sit at the start

// program as given if it has a '/', else the first match on the host PATH.
fs::path find_program(const fs::path& program) {
  if (program.string().find('/') != std::string::npos) return fs::absolute(program);
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / program).c_str(), X_OK) == 0) return fs::path(dir) / program;
  throw Error("--add-binary: '" + program.string() + "' is not on the PATH");
}

std::vector<uint8_t> read_head(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw SystemError("--add-binary: cannot open " + path.string(), errno);
  struct stat st {};
  check_syscall(::fstat(fd.get(), &st), "cannot stat " + path.string());
  if (!S_ISREG(st.st_mode)) throw Error("--add-binary: " + path.string() + " is not a regular file");
  std::vector<uint8_t> head(std::min<size_t>(static_cast<size_t>(st.st_size), kElfHeadSize));
  read_exact_at(fd.get(), head, 0, path.string());
  return head;
}

// Parses `ld.so --list` lines: "name => /path (0x...)", "/path (0x...)",
// "linux-vdso.so.1 (0x...)" (in the kernel, nothing to copy), "name => not found".
std::vector<fs::path> parse_loader_list(const std::string& output, const fs::path& program) {
  std::vector<fs::path> files;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    line = line.substr(start);
    std::string path;
    if (size_t arrow = line.find(" => "); arrow != std::string::npos) {
      path = line.substr(arrow + 4);
      if (path.rfind("not found", 0) == 0)
        throw Error("--add-binary: " + program.string() + " needs " + line.substr(0, arrow) + ", which is not found");
    } else {
      path = line;
    }
    path = path.substr(0, path.find(" ("));
    if (!path.empty() && path.front() == '/') files.emplace_back(path);
  }
  return files;
}

// Creates (or follows, inside root) each folder of relative; returns the host folder.
fs::path directory_in_root(const fs::path& root, const fs::path& relative) {
  fs::path host = root;
  fs::path prefix;
  for (const auto& part : relative) {
    prefix /= part;
    auto resolved = resolve_in_root(root, "/" + prefix.string());
    if (!resolved) {
      fs::path created = host / part;
      check_syscall(::mkdir(created.c_str(), 0755), "cannot create " + created.string());
      host = created;
      continue;
    }
    struct stat st {};
    if (::lstat(resolved->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error("--add-binary: /" + prefix.string() + " exists in the image and is not a directory");
    host = *resolved;
  }
  return host;
}

void copy_into(const fs::path& from, const fs::path& to_dir, const std::string& name) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw SystemError("--add-binary: cannot open " + from.string(), errno);
  struct stat st {};
  check_syscall(::fstat(in.get(), &st), "cannot stat " + from.string());
  if (!S_ISREG(st.st_mode)) throw Error("--add-binary: " + from.string() + " is not a regular file");
  fs::path to = to_dir / name;
  struct stat existing {};
  if (::lstat(to.c_str(), &existing) == 0) {
    if (S_ISDIR(existing.st_mode)) throw Error("--add-binary: " + to.string() + " is a directory in the image");
    check_syscall(::unlink(to.c_str()), "cannot replace " + to.string());
  }
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0755));
  if (!out) throw SystemError("cannot create " + to.string(), errno);
  copy_fd(in.get(), out.get(), from.string());
}

}  // namespace

std::optional<std::string> elf_interpreter(std::span<const uint8_t> elf, const std::string& name) {
  Elf64_Ehdr header{};
  if (elf.size() < sizeof header || std::memcmp(elf.data(), ELFMAG, SELFMAG) != 0)
    throw Error("--add-binary: " + name + " is not an ELF program");
  std::memcpy(&header, elf.data(), sizeof header);
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_machine != EM_X86_64)
    throw Error("--add-binary: " + name + " is not an x86-64 ELF program");
  if (header.e_type != ET_EXEC && header.e_type != ET_DYN)
    throw Error("--add-binary: " + name + " is not an executable");
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phoff > elf.size() ||
      uint64_t{header.e_phnum} * sizeof(Elf64_Phdr) > elf.size() - header.e_phoff)
    throw Error("--add-binary: " + name + " has malformed program headers");
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr ph{};
    std::memcpy(&ph, elf.data() + header.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset || ph.p_filesz < 2)
      throw Error("--add-binary: " + name + " has a malformed interpreter entry");
    std::string interpreter(reinterpret_cast<const char*>(elf.data() + ph.p_offset), ph.p_filesz - 1);
    if (interpreter.empty() || interpreter.front() != '/' || interpreter.find('\0') != std::string::npos)
      throw Error("--add-binary: " + name + " has a malformed interpreter path");
    return interpreter;
  }
  return std::nullopt;
}

std::vector<fs::path> program_closure(const fs::path& program) {
  fs::path path = find_program(program);
  std::optional<std::string> interpreter = elf_interpreter(read_head(path), path.string());
  std::vector<fs::path> files{path};
  if (!interpreter) return files;
  ToolResult list = run_tool({*interpreter, "--list", path.string()});
  if (list.status != 0)
    throw Error("--add-binary: the loader could not list the libraries of " + path.string() + ": " +
                last_line(list.output));
  for (fs::path& file : parse_loader_list(list.output, path)) {
    if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(std::move(file));
  }
  if (std::find(files.begin(), files.end(), fs::path(*interpreter)) == files.end()) files.emplace_back(*interpreter);
  return files;
}

void add_binary(const fs::path& program, const fs::path& staging) {
  for (const fs::path& file : program_closure(program)) {
    fs::path relative = file.relative_path();
    copy_into(file, directory_in_root(staging, relative.parent_path()), relative.filename().string());
  }
}

}  // namespace shelter::images
