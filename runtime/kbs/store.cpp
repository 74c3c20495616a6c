#include "runtime/kbs/store.h"

#include <sys/stat.h>

#include <cerrno>

#include "common/error.h"
#include "common/file.h"

namespace shelter::runtime::kbs {
namespace {

namespace fs = std::filesystem;


}  // namespace

ResourceStore::ResourceStore(fs::path dir) : dir_(std::move(dir)) {
  if (!fs::exists(dir_)) {
    if (dir_.has_parent_path()) fs::create_directories(dir_.parent_path());
    if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
      throw SystemError("cannot create the broker folder " + dir_.string(), errno);
    }
  }
}

void ResourceStore::make_private_dirs(const fs::path& leaf_dir) const {
  fs::path current = dir_;
  for (const auto& part : leaf_dir.lexically_relative(dir_)) {
    current /= part;
    if (::mkdir(current.c_str(), 0700) != 0 && errno != EEXIST) {
      throw SystemError("cannot create the broker folder " + current.string(), errno);
    }
  }
}

fs::path ResourceStore::file_for(const char* kind, const attest::kbs::ResourceId& id, const char* suffix) const {
  return dir_ / kind / id.repository / id.type / (id.tag + suffix);
}

void ResourceStore::put_resource(const attest::kbs::ResourceId& id, std::span<const uint8_t> bytes) const {
  if (bytes.size() > kMaxResourceSize) throw Error("resource is larger than " + std::to_string(kMaxResourceSize) + " bytes");
  fs::path path = file_for("resources", id, "");
  make_private_dirs(path.parent_path());
  write_file_atomic(path, bytes, 0600);
}

std::optional<std::vector<uint8_t>> ResourceStore::resource(const attest::kbs::ResourceId& id) const {
  fs::path path = file_for("resources", id, "");
  if (!fs::is_regular_file(path)) return std::nullopt;
  return read_file(path, kMaxResourceSize);
}

void ResourceStore::put_policy(const attest::kbs::ResourceId& id, std::string_view policy_json) const {
  (void)attest::kbs::parse_resource_policy(policy_json);
  fs::path path = file_for("policies", id, ".json");
  make_private_dirs(path.parent_path());
  write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(policy_json.data()), policy_json.size()), 0600);
}

attest::kbs::ResourcePolicy ResourceStore::policy(const attest::kbs::ResourceId& id) const {
  fs::path path = file_for("policies", id, ".json");
  if (!fs::is_regular_file(path)) return {};
  auto text = read_file(path, attest::kbs::kMaxMessageSize);
  return attest::kbs::parse_resource_policy(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
}

attest::EvpPkeyPtr ResourceStore::token_key() const {
  fs::path path = dir_ / "token-key.pem";
  if (!fs::exists(path)) {
    attest::EvpPkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) throw Error("cannot create the broker's token key");
    write_file_atomic(path, attest::private_key_pem(key.get()), 0600);
  }
  attest::EvpPkeyPtr key = attest::parse_private_key_pem(read_file(path, 64 * 1024));
  if (!key) throw Error("cannot read the broker's token key " + path.string());
  return key;
}

}  // namespace shelter::runtime::kbs
