#pragma once
// The kernel module index (modules.dep, modules.softdep, modules.alias,
// modules.builtin of /lib/modules/<release>/) and the load order derived from
// it. The initramfs builder uses it to pick the module closure for the guest,
// and guest-init uses the same code on the reduced index it finds in the
// initramfs to load the modules in order.
#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace shelter::images {

// What guest-init needs that Debian's kernel builds as modules: the virtio
// PCI transport and disk, device-mapper verity and crypt (with the XTS
// template: there is no modprobe in the guest to load it on demand), the
// image filesystem and the overlay that makes it writable.
inline constexpr std::array<std::string_view, 7> kGuestModules = {
    "virtio_pci", "virtio_blk", "dm_verity", "dm_crypt", "xts", "erofs", "overlay"};

struct ModuleLoad {
  std::string path;  // relative to the modules directory, as in modules.dep
  // False for modules reached only through a soft dependency: they may fail
  // to load (crc32c_intel without SSE4.2) without harm.
  bool required = true;

  bool operator==(const ModuleLoad&) const = default;
};

// Module names compare with '-' and '_' alike, as the kernel does.
std::string module_name(std::string_view path_or_name);

class ModuleIndex {
 public:
  // Parses the index files' text; throws FormatError on malformed lines.
  static ModuleIndex parse(std::string_view modules_dep, std::string_view modules_softdep,
                           std::string_view modules_alias, std::string_view modules_builtin);

  // Modules to load for `wanted`, each after everything it depends on, soft
  // `pre:` dependencies before and `post:` ones after. Built-in modules are
  // left out. Throws FormatError naming a wanted module that is unknown.
  std::vector<ModuleLoad> load_order(const std::vector<std::string_view>& wanted) const;

  // The index files reduced to the given modules, for the initramfs.
  std::string modules_dep_for(const std::set<std::string>& paths) const;
  std::string modules_softdep_for(const std::set<std::string>& paths) const;
  std::string modules_alias_for(const std::set<std::string>& paths) const;
  std::string modules_builtin_text() const;

 private:
  struct Module {
    std::string path;
    std::vector<std::string> deps;  // paths
  };
  struct SoftDeps {
    std::vector<std::string> pre, post;  // names or aliases
  };

  std::vector<std::string> resolve(const std::string& name_or_alias) const;
  void visit(const std::string& name, bool required, std::set<std::string>& visiting,
             std::vector<ModuleLoad>& out) const;

  std::map<std::string, Module> modules_;          // by name
  std::map<std::string, SoftDeps> softdeps_;       // by name
  std::multimap<std::string, std::string> alias_;  // exact alias -> name
  std::vector<std::string> softdep_lines_;         // kept verbatim for the reduced index
  std::vector<std::pair<std::string, std::string>> alias_lines_;
  std::set<std::string> builtin_;                  // names
  std::vector<std::string> builtin_lines_;
};

}  // namespace shelter::images
