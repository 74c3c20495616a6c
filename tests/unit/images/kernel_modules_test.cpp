#include "images/kernel_modules.h"

#include <gtest/gtest.h>

#include "images/error.h"

namespace shelter::images {
namespace {

// A miniature of Debian 6.1's index: erofs needs libcrc32c, which softly
// needs a crc32c implementation found only through its alias.
constexpr std::string_view kDep =
    "kernel/fs/erofs/erofs.ko: kernel/lib/libcrc32c.ko\n"
    "kernel/lib/libcrc32c.ko:\n"
    "kernel/crypto/crc32c_generic.ko:\n"
    "kernel/arch/x86/crypto/crc32c-intel.ko:\n"
    "kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-bufio.ko kernel/drivers/md/dm-mod.ko\n"
    "kernel/drivers/md/dm-bufio.ko: kernel/drivers/md/dm-mod.ko\n"
    "kernel/drivers/md/dm-mod.ko:\n"
    "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
    "kernel/drivers/virtio/virtio.ko:\n"
    "kernel/drivers/virtio/virtio_ring.ko:\n"
    "kernel/fs/overlayfs/overlay.ko:\n";
constexpr std::string_view kSoftdep =
    "# Soft dependencies extracted from modules themselves.\n"
    "softdep libcrc32c pre: crc32c\n"
    "softdep overlay post: virtio_ring\n";
constexpr std::string_view kAlias =
    "alias crc32c crc32c_intel\n"
    "alias crc32c crc32c_generic\n"
    "alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n";
constexpr std::string_view kBuiltin = "kernel/crypto/sha256_generic.ko\n";

ModuleIndex index() { return ModuleIndex::parse(kDep, kSoftdep, kAlias, kBuiltin); }

std::vector<std::string> paths(const std::vector<ModuleLoad>& loads) {
  std::vector<std::string> out;
  for (const ModuleLoad& l : loads) out.push_back(l.path);
  return out;
}

TEST(KernelModules, NamesIgnoreDashesAndSuffixes) {
  EXPECT_EQ(module_name("kernel/drivers/md/dm-verity.ko"), "dm_verity");
  EXPECT_EQ(module_name("kernel/x/crc32c-intel.ko.xz"), "crc32c_intel");
  EXPECT_EQ(module_name("dm-mod"), "dm_mod");
}

TEST(KernelModules, LoadsDependenciesFirstAndSoftDependenciesOptionally) {
  std::vector<ModuleLoad> order = index().load_order({"erofs", "dm-verity"});
  EXPECT_EQ(order, (std::vector<ModuleLoad>{
                       {"kernel/arch/x86/crypto/crc32c-intel.ko", false},
                       {"kernel/crypto/crc32c_generic.ko", false},
                       {"kernel/lib/libcrc32c.ko", true},
                       {"kernel/fs/erofs/erofs.ko", true},
                       {"kernel/drivers/md/dm-mod.ko", true},
                       {"kernel/drivers/md/dm-bufio.ko", true},
                       {"kernel/drivers/md/dm-verity.ko", true},
                   }));
}

TEST(KernelModules, PostSoftDependenciesComeAfterAndHardUseMakesThemRequired) {
  std::vector<ModuleLoad> order = index().load_order({"overlay", "virtio_pci"});
  EXPECT_EQ(paths(order), (std::vector<std::string>{"kernel/fs/overlayfs/overlay.ko",
                                                    "kernel/drivers/virtio/virtio_ring.ko",
                                                    "kernel/drivers/virtio/virtio.ko",
                                                    "kernel/drivers/virtio/virtio_pci.ko"}));
  EXPECT_TRUE(order[1].required);
}

TEST(KernelModules, SkipsBuiltinsAndRejectsUnknownModules) {
  EXPECT_TRUE(index().load_order({"sha256_generic"}).empty());
  EXPECT_THROW(index().load_order({"no_such_module"}), FormatError);
}

TEST(KernelModules, ReducedIndexKeepsOnlyTheClosure) {
  ModuleIndex full = index();
  std::set<std::string> closure;
  for (const ModuleLoad& l : full.load_order({"erofs"})) closure.insert(l.path);
  ModuleIndex reduced = ModuleIndex::parse(full.modules_dep_for(closure), full.modules_softdep_for(closure),
                                           full.modules_alias_for(closure), full.modules_builtin_text());
  EXPECT_EQ(reduced.load_order({"erofs"}), full.load_order({"erofs"}));
  EXPECT_THROW(reduced.load_order({"dm_verity"}), FormatError);
  EXPECT_EQ(full.modules_softdep_for(closure), "softdep libcrc32c pre: crc32c\n");
}

TEST(KernelModules, RejectsMalformedIndexLines) {
  EXPECT_THROW(ModuleIndex::parse("no colon here\n", "", "", ""), FormatError);
  EXPECT_THROW(ModuleIndex::parse("a.ko: missing.ko\n", "", "", ""), FormatError);
  EXPECT_THROW(ModuleIndex::parse("a.ko:\na.ko:\n", "", "", ""), FormatError);
  EXPECT_THROW(ModuleIndex::parse("", "softdep\n", "", ""), FormatError);
  EXPECT_THROW(ModuleIndex::parse("", "", "alias x\n", ""), FormatError);
}

}  // namespace
}  // namespace shelter::images
