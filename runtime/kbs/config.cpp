#include "runtime/kbs/config.h"

#include <sys/stat.h>

#include "attest/error.h"
#include "attest/sim/simulated_tee.h"
#include "common/file.h"

namespace shelter::runtime::kbs {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A private key that others can read is refused rather than used.
void require_owner_only(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    throw Error(path.string() + " is readable by others (expected mode 0600)");
  }
}

}  // namespace

attest::EvpPkeyPtr read_pem_key(const fs::path& path, bool private_key) {
  if (private_key) require_owner_only(path);
  auto pem = read_file(path, 64 * 1024);
  attest::EvpPkeyPtr key = private_key ? attest::parse_private_key_pem(pem) : attest::parse_public_key_pem(pem);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC || EVP_PKEY_get_bits(key.get()) != 256) {
    throw Error(path.string() + " is not a PEM " + (private_key ? "private" : "public") + " P-256 key");
  }
  return key;
}

ServerSettings load_server_settings(const fs::path& path) {
  auto bytes = read_file(path, 64 * 1024);
  Json config = Json::parse(bytes.begin(), bytes.end(), nullptr, false);
  const std::string where = path.string();
  if (!config.is_object()) throw Error(where + ": not a JSON object");
  fs::path base = path.parent_path();
  auto resolve = [&](const Json& value, const char* key) {
    if (!value.is_string() || value.get<std::string>().empty()) throw Error(where + ": '" + key + "' must be a path");
    fs::path p = value.get<std::string>();
    return p.is_absolute() ? p : base / p;
  };
  auto positive = [&](const Json& value, const char* key, long max) {
    if (!value.is_number_integer() || value.get<long>() < 1 || value.get<long>() > max) {
      throw Error(where + ": '" + key + "' must be an integer from 1 to " + std::to_string(max));
    }
    return value.get<long>();
  };
  ServerSettings settings;
  bool has_state = false;
  std::optional<fs::path> tls_cert, tls_key;
  for (const auto& [key, value] : config.items()) {
    if (key == "listen") {
      std::string listen = value.is_string() ? value.get<std::string>() : "";
      auto colon = listen.rfind(':');
      if (colon == std::string::npos || colon == 0) throw Error(where + ": 'listen' must be HOST:PORT");
      settings.host = listen.substr(0, colon);
      try {
        size_t used = 0;
        settings.port = std::stoi(listen.substr(colon + 1), &used);
        if (used != listen.size() - colon - 1 || settings.port < 0 || settings.port > 65535) throw std::out_of_range("");
      } catch (const std::logic_error&) {
        throw Error(where + ": 'listen' must be HOST:PORT");
      }
    } else if (key == "state_dir") {
      settings.broker.state_dir = resolve(value, "state_dir");
      has_state = true;
    } else if (key == "admin_public_key") {
      settings.broker.admin_key = read_pem_key(resolve(value, "admin_public_key"), false);
    } else if (key == "simulated_roots") {
      if (!value.is_array()) throw Error(where + ": 'simulated_roots' must be an array of paths");
      for (const Json& root : value) {
        try {
          settings.broker.simulated_roots.push_back(attest::sim::load_simulated_root(resolve(root, "simulated_roots")));
        } catch (const attest::EvidenceError& e) {
          throw Error(where + ": " + e.what());
        }
      }
    } else if (key == "session_ttl_s") {
      settings.broker.session_ttl = positive(value, "session_ttl_s", 86400);
      settings.broker.token_ttl = settings.broker.session_ttl;
    } else if (key == "tls_cert") {
      tls_cert = resolve(value, "tls_cert");
    } else if (key == "tls_key") {
      tls_key = resolve(value, "tls_key");
      require_owner_only(*tls_key);
    } else if (key == "threads") {
      settings.threads = static_cast<size_t>(positive(value, "threads", 256));
    } else {
      throw Error(where + ": unknown key '" + key + "'");
    }
  }
  if (!has_state) throw Error(where + ": 'state_dir' is required");
  if (tls_cert.has_value() != tls_key.has_value()) throw Error(where + ": 'tls_cert' and 'tls_key' go together");
  if (tls_cert) settings.tls = TlsFiles{*tls_cert, *tls_key};
  return settings;
}

}  // namespace shelter::runtime::kbs
