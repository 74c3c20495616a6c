#pragma once
// Builds OCI image layouts, OCI archives and `docker save` archives for
// tests, with libarchive, including entries no honest tool would write.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/hex.h"
#include "images/digest.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images::testing {

struct TarEntry {
  std::string path;
  char type = 'f';  // 'f' file, 'd' directory, 'l' symlink, 'h' hard link
  std::string content;  // file content, or the link target
  int mode = 0644;
};

inline void write_tar(const std::filesystem::path& path, const std::vector<TarEntry>& entries, bool gzip = false) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_filename(a, path.c_str());
  for (const TarEntry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_perm(entry, static_cast<mode_t>(e.mode));
    archive_entry_set_mtime(entry, 1700000000, 0);
    switch (e.type) {
      case 'd': archive_entry_set_filetype(entry, AE_IFDIR); break;
      case 'l':
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.content.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.content.c_str());
        break;
      default:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
    }
    archive_write_header(a, entry);
    if (e.type == 'f') archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Tars a whole directory tree (for OCI archives made from a layout).
inline void tar_directory(const std::filesystem::path& dir, const std::filesystem::path& tar) {
  std::vector<TarEntry> entries;
  for (const auto& item : std::filesystem::recursive_directory_iterator(dir)) {
    std::string name = std::filesystem::relative(item.path(), dir).string();
    if (item.is_directory()) {
      entries.push_back({name, 'd', "", 0755});
    } else {
      auto bytes = read_bytes(item.path());
      entries.push_back({name, 'f', std::string(bytes.begin(), bytes.end()), 0644});
    }
  }
  write_tar(tar, entries);
}

inline nlohmann::json image_config_json() {
  return {{"architecture", "amd64"},
          {"os", "linux"},
          {"config",
           {{"Entrypoint", {"/bin/app"}},
            {"Cmd", {"--port", "80"}},
            {"Env", {"PATH=/usr/bin:/bin", "MODE=oci"}},
            {"WorkingDir", "/opt"},
            {"User", "0:0"}}},
          {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
}

// Two layers: the second deletes etc/old.conf and makes opt/gone opaque.
inline std::vector<std::vector<TarEntry>> sample_layers() {
  return {
      {{"bin", 'd', "", 0755},
       {"bin/app", 'f', "#!/bin/sh\necho oci\n", 0755},
       {"etc/old.conf", 'f', "old"},
       {"opt/keep/a", 'f', "a"},
       {"opt/gone/b", 'f', "b"},
       {"opt/gone/sub/c", 'f', "c"},
       {"lib", 'l', "usr/lib"},
       {"bin/app-hard", 'h', "bin/app"}},
      {{"etc/.wh.old.conf", 'f', ""},
       {"opt/gone/new", 'f', "new"},
       {"opt/gone/.wh..wh..opq", 'f', ""},
       {"etc/new.conf", 'f', "new"}},
  };
}

// Writes blob bytes into an OCI layout; returns its descriptor.
inline nlohmann::json add_blob(const std::filesystem::path& layout, const std::vector<uint8_t>& bytes,
                               const std::string& media_type) {
  std::string hex = to_hex(sha256(bytes));
  std::filesystem::create_directories(layout / "blobs/sha256");
  write_bytes(layout / "blobs/sha256" / hex, bytes);
  return {{"mediaType", media_type}, {"digest", "sha256:" + hex}, {"size", bytes.size()}};
}

inline std::vector<uint8_t> to_bytes(const std::string& text) { return {text.begin(), text.end()}; }

inline void make_oci_layout(const std::filesystem::path& layout,
                            const std::vector<std::vector<TarEntry>>& layers = sample_layers()) {
  std::filesystem::create_directories(layout);
  nlohmann::json layer_descriptors = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto tar = layout / ("layer" + std::to_string(i));
    write_tar(tar, layers[i], /*gzip=*/i == 0);
    layer_descriptors.push_back(add_blob(layout, read_bytes(tar), "application/vnd.oci.image.layer.v1.tar+gzip"));
    std::filesystem::remove(tar);
  }
  nlohmann::json config = add_blob(layout, to_bytes(image_config_json().dump()),
                                   "application/vnd.oci.image.config.v1+json");
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config", config},
                             {"layers", layer_descriptors}};
  nlohmann::json manifest_desc =
      add_blob(layout, to_bytes(manifest.dump()), "application/vnd.oci.image.manifest.v1+json");
  manifest_desc["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  write_text(layout / "index.json", nlohmann::json{{"schemaVersion", 2}, {"manifests", {manifest_desc}}}.dump());
  write_text(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

inline void make_docker_archive(const std::filesystem::path& tar, const std::filesystem::path& work,
                                const std::vector<std::vector<TarEntry>>& layers = sample_layers()) {
  std::vector<TarEntry> entries;
  nlohmann::json layer_names = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto layer = work / ("layer" + std::to_string(i) + ".tar");
    write_tar(layer, layers[i]);
    auto bytes = read_bytes(layer);
    std::string name = "l" + std::to_string(i) + "/layer.tar";
    entries.push_back({"l" + std::to_string(i), 'd', "", 0755});
    entries.push_back({name, 'f', std::string(bytes.begin(), bytes.end())});
    layer_names.push_back(name);
  }
  entries.push_back({"config.json", 'f', image_config_json().dump()});
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", "config.json"}, {"RepoTags", {"test:latest"}}, {"Layers", layer_names}}});
  entries.push_back({"manifest.json", 'f', manifest.dump()});
  write_tar(tar, entries);
}

}  // namespace shelter::images::testing
