#pragma once
// `shelter kbs serve --config F`: the broker's configuration file (JSON,
// strict; paths relative to the file's folder):
//   {"listen": "127.0.0.1:8080", "state_dir": "kbs-state",
//    "admin_public_key": "admin.pem.pub", "simulated_roots": ["ark.pem"],
//    "session_ttl_s": 300, "threads": 16,
//    "tls_cert": "kbs-cert.pem", "tls_key": "kbs-key.pem"}
// tls_cert and tls_key come together (HTTPS) or not at all (plain HTTP).
#include <filesystem>
#include <optional>
#include <string>

#include "runtime/kbs/broker.h"
#include "runtime/kbs/server.h"

namespace shelter::runtime::kbs {

struct ServerSettings {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t threads = 16;
  std::optional<TlsFiles> tls;
  BrokerConfig broker;
};

// Throws Error naming the file and the key at fault.
ServerSettings load_server_settings(const std::filesystem::path& path);

// Reads a PEM public (or private) key; throws Error.
attest::EvpPkeyPtr read_pem_key(const std::filesystem::path& path, bool private_key);

}  // namespace shelter::runtime::kbs
