#include "images/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>  // strverscmp
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/file.h"
#include "images/kernel_modules.h"

namespace shelter::images {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxIndexFile = 64 << 20;
constexpr size_t kMaxFile = 256 << 20;

struct Entry {
  mode_t type = AE_IFDIR;
  mode_t permissions = 0755;
  dev_t rdev = 0;
  std::vector<uint8_t> content;
};

std::string read_text(const fs::path& path) {
  std::vector<uint8_t> bytes = read_file(path, kMaxIndexFile);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> to_bytes(const std::string& text) { return {text.begin(), text.end()}; }

// Adds a regular file and every folder above it.
void add_file(std::map<std::string, Entry>& entries, const std::string& path, std::vector<uint8_t> content,
              mode_t permissions) {
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
    entries.emplace(path.substr(0, slash), Entry{});
  entries[path] = Entry{AE_IFREG, permissions, 0, std::move(content)};
}

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  auto* bytes = static_cast<std::vector<uint8_t>*>(out);
  bytes->insert(bytes->end(), static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
  return static_cast<la_ssize_t>(size);
}

std::vector<uint8_t> write_cpio(const std::map<std::string, Entry>& entries) {
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(), archive_write_free);
  std::vector<uint8_t> out;
  auto check = [&](int rc, const char* what) {
    if (rc != ARCHIVE_OK)
      throw Error(std::string("initramfs: ") + what + ": " + archive_error_string(writer.get()));
  };
  check(archive_write_set_format_cpio_newc(writer.get()), "cpio format");
  check(archive_write_set_bytes_per_block(writer.get(), 0), "block size");
  check(archive_write_open(writer.get(), &out, nullptr, append, nullptr), "open");
  int64_t inode = 1;
  for (const auto& [path, e] : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), e.type);
    archive_entry_set_perm(entry.get(), e.permissions);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_ino64(entry.get(), inode++);
    archive_entry_set_nlink(entry.get(), e.type == AE_IFDIR ? 2 : 1);
    archive_entry_set_rdev(entry.get(), e.rdev);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
    check(archive_write_header(writer.get(), entry.get()), "header");
    if (!e.content.empty() &&
        archive_write_data(writer.get(), e.content.data(), e.content.size()) != static_cast<la_ssize_t>(e.content.size()))
      throw Error(std::string("initramfs: writing ") + path + ": " + archive_error_string(writer.get()));
  }
  check(archive_write_close(writer.get()), "close");
  return out;
}

}  // namespace

GuestKernel find_guest_kernel(const std::optional<fs::path>& kernel, const std::optional<fs::path>& modules_dir) {
  GuestKernel guest;
  if (kernel) {
    guest.kernel = *kernel;
  } else {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator("/boot", ec)) {
      std::string name = e.path().filename().string();
      if (!name.starts_with("vmlinuz-")) continue;
      if (guest.kernel.empty() || strverscmp(name.c_str(), guest.kernel.filename().c_str()) > 0) guest.kernel = e.path();
    }
    if (guest.kernel.empty()) throw Error("no guest kernel: /boot holds no vmlinuz-* (install linux-image-amd64 or pass --kernel)");
  }
  if (!fs::is_regular_file(guest.kernel)) throw Error("guest kernel " + guest.kernel.string() + " not found");
  if (modules_dir) {
    guest.modules_dir = *modules_dir;
    guest.release = fs::path(*modules_dir).lexically_normal().filename().string();
    if (guest.release.empty()) guest.release = fs::path(*modules_dir).lexically_normal().parent_path().filename().string();
  } else {
    std::string name = guest.kernel.filename().string();
    if (!name.starts_with("vmlinuz-"))
      throw Error("cannot tell the release of kernel " + guest.kernel.string() + ": name it vmlinuz-<release> or give its modules folder");
    guest.release = name.substr(std::string("vmlinuz-").size());
    guest.modules_dir = fs::path("/lib/modules") / guest.release;
  }
  if (!fs::is_regular_file(guest.modules_dir / "modules.dep"))
    throw Error("kernel modules for " + guest.release + " not found (no " + (guest.modules_dir / "modules.dep").string() + ")");
  return guest;
}

std::vector<uint8_t> build_initramfs(const fs::path& guest_init, const GuestKernel& kernel) {
  auto optional_text = [&](const char* name) {
    fs::path path = kernel.modules_dir / name;
    return fs::exists(path) ? read_text(path) : std::string();
  };
  ModuleIndex index = ModuleIndex::parse(read_text(kernel.modules_dir / "modules.dep"), optional_text("modules.softdep"),
                                         optional_text("modules.alias"), optional_text("modules.builtin"));
  std::vector<std::string_view> wanted(kGuestModules.begin(), kGuestModules.end());
  std::set<std::string> closure;
  for (const ModuleLoad& load : index.load_order(wanted)) closure.insert(load.path);

  std::map<std::string, Entry> entries;
  for (const char* dir : {"dev", "proc", "sys", "run", "tmp", "mnt"}) entries.emplace(dir, Entry{});
  entries["dev/console"] = Entry{AE_IFCHR, 0600, makedev(5, 1), {}};
  add_file(entries, "init", read_file(guest_init, kMaxFile), 0755);
  std::string modules = "lib/modules/" + kernel.release + "/";
  add_file(entries, modules + "modules.dep", to_bytes(index.modules_dep_for(closure)), 0644);
  add_file(entries, modules + "modules.softdep", to_bytes(index.modules_softdep_for(closure)), 0644);
  add_file(entries, modules + "modules.alias", to_bytes(index.modules_alias_for(closure)), 0644);
  add_file(entries, modules + "modules.builtin", to_bytes(index.modules_builtin_text()), 0644);
  for (const std::string& path : closure) add_file(entries, modules + path, read_file(kernel.modules_dir / path, kMaxFile), 0644);
  return write_cpio(entries);
}

}  // namespace shelter::images
