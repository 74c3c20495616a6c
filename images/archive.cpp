#include "images/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>

#include "common/error.h"
#include "images/staging.h"

namespace shelter::images {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

// A relative symlink target, taken from the link's folder, must stay within
// the root; absolute targets are resolved against the image root at run time.
void check_symlink_target(const fs::path& link, const std::string& target, const std::string& archive_name) {
  if (target.empty() || target.front() == '/') return;
  const fs::path folder = link.parent_path();
  long depth = static_cast<long>(std::distance(folder.begin(), folder.end()));
  for (const auto& part : fs::path(target)) {
    std::string s = part.string();
    if (s == "..") {
      if (--depth < 0)
        throw Error(archive_name + ": symlink '" + link.string() + "' -> '" + target + "' escapes the image");
    } else if (!s.empty() && s != ".") {
      ++depth;
    }
  }
}

// Removes everything under dir that this layer did not create: an opaque
// directory hides the lower layers' contents, not its own layer's.
void make_opaque(const fs::path& root, const fs::path& dir, const std::set<fs::path>& created) {
  fs::path host = root / dir;
  struct stat st {};
  if (::lstat(host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  for (const auto& entry : fs::directory_iterator(host)) {
    fs::path relative = dir / entry.path().filename();
    if (!created.contains(relative)) {
      fs::remove_all(entry.path());
    } else if (entry.is_directory() && !entry.is_symlink()) {
      make_opaque(root, relative, created);
    }
  }
}

void copy_data(archive* in, archive* out, const std::string& archive_name) {
  for (;;) {
    const void* buffer = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(in, &buffer, &size, &offset);
    if (r == ARCHIVE_EOF) return;
    if (r < ARCHIVE_WARN) throw Error(archive_name + ": corrupt archive: " + archive_error_string(in));
    if (archive_write_data_block(out, buffer, size, offset) < ARCHIVE_WARN)
      throw Error(archive_name + ": cannot extract: " + archive_error_string(out));
  }
}

}  // namespace

void extract_archive(const fs::path& archive_path, const fs::path& root, Whiteouts whiteouts) {
  const std::string name = archive_path.filename().string();
  std::unique_ptr<archive, ReadFree> in(archive_read_new());
  std::unique_ptr<archive, WriteFree> out(archive_write_disk_new());
  if (!in || !out) throw Error("libarchive: out of memory");
  archive_read_support_filter_all(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    throw Error(name + ": cannot read archive: " + archive_error_string(in.get()));
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_UNLINK |
              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out.get(), flags);

  std::set<fs::path> created;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) throw Error(name + ": corrupt archive: " + archive_error_string(in.get()));
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) throw Error(name + ": an entry has no name");
    fs::path relative = safe_relative_path(raw);
    if (relative.empty()) continue;  // the archive's own root, "./"
    check_no_symlink_parents(root, relative);
    std::string base = relative.filename().string();

    if (whiteouts == Whiteouts::kApply && base.starts_with(kWhiteoutPrefix)) {
      if (base == kOpaqueMarker) {
        make_opaque(root, relative.parent_path(), created);
      } else {
        std::error_code ec;
        fs::remove_all(root / relative.parent_path() / base.substr(kWhiteoutPrefix.size()), ec);
        if (ec) throw SystemError(name + ": cannot apply whiteout " + relative.string(), ec.value());
      }
      continue;
    }

    if (archive_entry_filetype(entry) == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      check_symlink_target(relative, target != nullptr ? target : "", name);
    }
    fs::path host = root / relative;
    archive_entry_copy_pathname(entry, host.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      fs::path link_relative = safe_relative_path(link);
      check_no_symlink_parents(root, link_relative);
      archive_entry_copy_hardlink(entry, (root / link_relative).c_str());
    }
    if (archive_write_header(out.get(), entry) < ARCHIVE_WARN)
      throw Error(name + ": cannot extract '" + relative.string() + "': " + archive_error_string(out.get()));
    if (archive_entry_size(entry) > 0) copy_data(in.get(), out.get(), name);
    if (archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      throw Error(name + ": cannot extract '" + relative.string() + "': " + archive_error_string(out.get()));
    for (fs::path p = relative; !p.empty(); p = p.parent_path()) created.insert(p);
  }
  if (archive_write_close(out.get()) < ARCHIVE_WARN)
    throw Error(name + ": cannot finish extraction: " + archive_error_string(out.get()));
}

}  // namespace shelter::images
