#pragma once
// The broker over HTTP or HTTPS (cpp-httplib on OpenSSL): a bounded thread
// pool, bounded request bodies and read timeouts in front of Broker::handle().
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "runtime/kbs/broker.h"

namespace httplib {
class Server;
}

namespace shelter::runtime::kbs {

// The server's certificate and key for HTTPS (PEM files).
struct TlsFiles {
  std::filesystem::path certificate_chain;  // the server's certificate first, then intermediates
  std::filesystem::path private_key;
};

class HttpServer {
 public:
  // With tls, serves HTTPS only (TLS 1.2 or later); throws Error when the
  // certificate or key cannot be used.
  explicit HttpServer(Broker& broker, size_t threads = 16, const std::optional<TlsFiles>& tls = std::nullopt);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Binds host:port (port 0: any free port); returns the bound port.
  int bind(const std::string& host, int port);
  // Serves until stop(); blocking.
  void serve();
  // Serves on a background thread.
  void start();
  void stop();

 private:
  Broker& broker_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace shelter::runtime::kbs
