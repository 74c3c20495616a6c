#include "images/source.h"

#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"
#include "common/json_member.h"
#include "images/archive.h"
#include "images/digest.h"
#include "images/staging.h"

namespace shelter::images {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

constexpr size_t kMaxJsonSize = 16 << 20;
constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

bool is_plain_file(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

json parse_json(const std::vector<uint8_t>& bytes, const std::string& what) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(what + " is not valid JSON");
  return j;
}

json read_json(const fs::path& path, const std::string& what) {
  if (!is_plain_file(path)) throw Error(what + " is missing");
  return parse_json(read_file(path, kMaxJsonSize), what);
}

std::string string_member(const json& object, const char* key, const std::string& what) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string())
    throw Error(what + ": '" + key + "' is missing or not a string");
  return object[key].get<std::string>();
}

std::vector<std::string> optional_string_list(const json& object, const char* key, const std::string& what) {
  if (!object.contains(key) || object[key].is_null()) return {};
  const json& list = object[key];
  if (!list.is_array()) throw Error(what + ": '" + key + "' is not a list");
  std::vector<std::string> out;
  for (const json& item : list) {
    if (!item.is_string()) throw Error(what + ": '" + key + "' holds a non-string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string optional_string(const json& object, const char* key, const std::string& what) {
  if (!object.contains(key) || object[key].is_null()) return "";
  if (!object[key].is_string()) throw Error(what + ": '" + key + "' is not a string");
  return object[key].get<std::string>();
}

ImageConfig parse_config(const json& document) {
  const std::string what = "image config";
  if (!document.is_object()) throw Error(what + " is not an object");
  ImageConfig config;
  if (!document.contains("config") || document["config"].is_null()) return config;
  const json& c = document["config"];
  if (!c.is_object()) throw Error(what + ": 'config' is not an object");
  config.entrypoint = optional_string_list(c, "Entrypoint", what);
  config.cmd = optional_string_list(c, "Cmd", what);
  config.env = optional_string_list(c, "Env", what);
  config.working_dir = optional_string(c, "WorkingDir", what);
  config.user = optional_string(c, "User", what);
  return config;
}

// An OCI image layout: blobs addressed by digest, each checked on use.
class OciLayout {
 public:
  explicit OciLayout(fs::path dir) : dir_(std::move(dir)) {}

  fs::path blob(const json& descriptor) const {
    std::string digest = string_member(descriptor, "digest", "OCI descriptor");
    constexpr std::string_view kPrefix = "sha256:";
    std::string hex = digest.starts_with(kPrefix) ? digest.substr(kPrefix.size()) : "";
    auto bytes = from_hex(hex);
    if (!bytes || bytes->size() != 32 || hex != to_hex(*bytes))
      throw Error("OCI digest '" + digest + "' is not a lower-case sha256 digest");
    fs::path path = dir_ / "blobs/sha256" / hex;
    if (!is_plain_file(path)) throw Error("OCI blob " + digest + " is missing");
    Sha256Digest actual = sha256_file(path);
    if (to_hex(actual) != hex) throw Error("OCI blob " + digest + " does not match its digest");
    return path;
  }

  json blob_json(const json& descriptor, const std::string& what) const {
    return parse_json(read_file(blob(descriptor), kMaxJsonSize), what);
  }

  // The image manifest for linux/amd64 (or the only one) under an index.
  json image_manifest(const json& index) const {
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
      throw Error("OCI index has no 'manifests' list");
    const json& manifests = index["manifests"];
    const json* chosen = nullptr;
    if (manifests.size() == 1) {
      chosen = &manifests[0];
    } else {
      for (const json& m : manifests) {
        const json& platform = json_member(m, "platform");
        if (json_string_member(platform, "os") == "linux" && json_string_member(platform, "architecture") == "amd64") {
          chosen = &m;
          break;
        }
      }
    }
    if (chosen == nullptr)
      throw Error("OCI index lists " + std::to_string(manifests.size()) + " images and none for linux/amd64");
    std::string media_type = string_member(*chosen, "mediaType", "OCI descriptor");
    if (media_type == kOciIndex || media_type == kDockerManifestList)
      return image_manifest(blob_json(*chosen, "OCI index"));
    if (media_type != kOciManifest && media_type != kDockerManifest)
      throw Error("OCI descriptor has unsupported media type " + media_type);
    return blob_json(*chosen, "OCI manifest");
  }

  ImageConfig unpack(const fs::path& staging) const {
    json layout = read_json(dir_ / "oci-layout", "OCI oci-layout file");
    string_member(layout, "imageLayoutVersion", "OCI oci-layout file");
    json manifest = image_manifest(read_json(dir_ / "index.json", "OCI index.json"));
    if (!manifest.contains("config") || !manifest.contains("layers") || !manifest["layers"].is_array())
      throw Error("OCI manifest lacks 'config' or 'layers'");
    ImageConfig config = parse_config(blob_json(manifest["config"], "image config"));
    for (const json& layer : manifest["layers"]) extract_archive(blob(layer), staging, Whiteouts::kApply);
    return config;
  }

 private:
  fs::path dir_;
};

// `docker save` output: manifest.json names the config and layer files.
ImageConfig unpack_docker_archive(const fs::path& dir, const fs::path& staging) {
  json manifest = read_json(dir / "manifest.json", "docker manifest.json");
  if (!manifest.is_array() || manifest.size() != 1)
    throw Error("docker manifest.json must describe exactly one image");
  const json& image = manifest[0];
  auto file = [&](const std::string& name) {
    fs::path path = dir / safe_relative_path(name);
    check_no_symlink_parents(dir, safe_relative_path(name));
    if (!is_plain_file(path)) throw Error("docker archive: '" + name + "' is missing");
    return path;
  };
  ImageConfig config = parse_config(
      parse_json(read_file(file(string_member(image, "Config", "docker manifest.json")), kMaxJsonSize),
                 "image config"));
  for (const std::string& layer : optional_string_list(image, "Layers", "docker manifest.json"))
    extract_archive(file(layer), staging, Whiteouts::kApply);
  return config;
}

}  // namespace

ImageConfig stage_source(const fs::path& source, const fs::path& staging, const fs::path& scratch) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) throw SystemError("cannot read the source " + source.string(), errno);
  if (S_ISDIR(st.st_mode)) {
    if (is_plain_file(source / "oci-layout")) return OciLayout(source).unpack(staging);
    stage_directory(source, staging);
    return {};
  }
  if (!S_ISREG(st.st_mode)) throw Error(source.string() + ": not a directory or an archive");
  fs::path unpacked = scratch / "archive";
  fs::create_directory(unpacked);
  extract_archive(source, unpacked, Whiteouts::kIgnore);
  if (is_plain_file(unpacked / "oci-layout")) return OciLayout(unpacked).unpack(staging);
  if (is_plain_file(unpacked / "manifest.json")) return unpack_docker_archive(unpacked, staging);
  throw Error(source.string() + ": neither an OCI layout nor a docker archive (no oci-layout or manifest.json)");
}

}  // namespace shelter::images
