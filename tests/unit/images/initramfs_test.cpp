#include "images/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <map>

#include "common/error.h"

namespace shelter::images {
namespace {

namespace fs = std::filesystem;

struct ArchivedEntry {
  mode_t type;
  dev_t rdev;
  std::string content;
};

// Reads a newc archive back with libarchive, checking the fixed metadata.
std::map<std::string, ArchivedEntry> read_cpio(const std::vector<uint8_t>& bytes) {
  std::map<std::string, ArchivedEntry> out;
  archive* reader = archive_read_new();
  archive_read_support_format_cpio(reader);
  EXPECT_EQ(archive_read_open_memory(reader, bytes.data(), bytes.size()), ARCHIVE_OK);
  archive_entry* entry;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    EXPECT_EQ(archive_entry_mtime(entry), 0);
    EXPECT_EQ(archive_entry_uid(entry), 0);
    std::string content(static_cast<size_t>(archive_entry_size(entry)), '\0');
    if (!content.empty()) archive_read_data(reader, content.data(), content.size());
    out[archive_entry_pathname(entry)] = {archive_entry_filetype(entry), archive_entry_rdev(entry), content};
  }
  archive_read_free(reader);
  return out;
}

class Initramfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("shelter-initramfs-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    modules_ = root_ / "lib/modules/6.1.0-test";
    fs::create_directories(modules_);
    fs::create_directories(root_ / "boot");
    write(root_ / "boot/vmlinuz-6.1.0-test", "kernel");
    write(root_ / "shelter-init", "init program");
    std::string dep;
    for (const char* m : {"virtio/virtio_pci.ko: virtio/virtio.ko", "virtio/virtio.ko:", "block/virtio_blk.ko: virtio/virtio.ko",
                          "md/dm-verity.ko: md/dm-mod.ko", "md/dm-crypt.ko: md/dm-mod.ko", "md/dm-mod.ko:",
                          "crypto/xts.ko:", "fs/erofs.ko: lib/libcrc32c.ko",
                          "lib/libcrc32c.ko:", "crypto/crc32c_generic.ko:", "fs/overlay.ko:", "net/unrelated.ko:"}) {
      dep += std::string(m) + "\n";
      std::string path(m, std::string(m).find(':'));
      fs::create_directories((modules_ / path).parent_path());
      write(modules_ / path, "module " + path);
    }
    write(modules_ / "modules.dep", dep);
    write(modules_ / "modules.softdep", "softdep libcrc32c pre: crc32c\nsoftdep unrelated pre: crc32c\n");
    write(modules_ / "modules.alias", "alias crc32c crc32c_generic\nalias net-pf-99 unrelated\n");
    write(modules_ / "modules.builtin", "kernel/crypto/sha256_generic.ko\n");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  GuestKernel kernel() { return find_guest_kernel(root_ / "boot/vmlinuz-6.1.0-test", modules_); }

  fs::path root_, modules_;
};

TEST_F(Initramfs, SameInputsGiveTheSameBytes) {
  EXPECT_EQ(build_initramfs(root_ / "shelter-init", kernel()), build_initramfs(root_ / "shelter-init", kernel()));
}

TEST_F(Initramfs, HoldsInitConsoleAndTheModuleClosureOnly) {
  std::map<std::string, ArchivedEntry> entries = read_cpio(build_initramfs(root_ / "shelter-init", kernel()));
  EXPECT_EQ(entries.at("init").content, "init program");
  EXPECT_EQ(entries.at("init").type, AE_IFREG);
  EXPECT_EQ(entries.at("dev/console").type, AE_IFCHR);
  EXPECT_EQ(entries.at("dev/console").rdev, makedev(5, 1));
  for (const char* dir : {"proc", "sys", "dev", "mnt", "run", "tmp"}) EXPECT_EQ(entries.at(dir).type, AE_IFDIR) << dir;
  const std::string m = "lib/modules/6.1.0-test/";
  for (const char* path : {"virtio/virtio_pci.ko", "virtio/virtio.ko", "block/virtio_blk.ko", "md/dm-verity.ko",
                           "md/dm-crypt.ko", "crypto/xts.ko", "md/dm-mod.ko", "fs/erofs.ko", "lib/libcrc32c.ko", "crypto/crc32c_generic.ko", "fs/overlay.ko"})
    EXPECT_EQ(entries.at(m + path).content, std::string("module ") + path);
  EXPECT_FALSE(entries.contains(m + "net/unrelated.ko"));
  EXPECT_EQ(entries.at(m + "modules.dep").content.find("unrelated"), std::string::npos);
  EXPECT_EQ(entries.at(m + "modules.softdep").content, "softdep libcrc32c pre: crc32c\n");
  EXPECT_EQ(entries.at(m + "modules.alias").content, "alias crc32c crc32c_generic\n");
}

TEST_F(Initramfs, FindsKernelReleaseAndModules) {
  GuestKernel k = kernel();
  EXPECT_EQ(k.release, "6.1.0-test");
  EXPECT_THROW(find_guest_kernel(root_ / "boot/vmlinuz-missing", modules_), Error);
  EXPECT_THROW(find_guest_kernel(root_ / "boot/vmlinuz-6.1.0-test", root_ / "lib/modules/none"), Error);
  write(root_ / "bzImage", "kernel");
  EXPECT_THROW(find_guest_kernel(root_ / "bzImage", std::nullopt), Error);  // release unknown
}

TEST_F(Initramfs, MissingWantedModuleIsAnError) {
  write(modules_ / "modules.dep", "fs/erofs.ko:\n");
  EXPECT_THROW(build_initramfs(root_ / "shelter-init", kernel()), Error);
}

}  // namespace
}  // namespace shelter::images
