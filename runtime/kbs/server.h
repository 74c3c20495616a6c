#pragma once
// The broker over HTTP (cpp-httplib): a bounded thread pool, bounded request
// bodies and read timeouts in front of Broker::handle().
#include <memory>
#include <string>
#include <thread>

#include "runtime/kbs/broker.h"

namespace httplib {
class Server;
}

namespace shelter::runtime::kbs {

class HttpServer {
 public:
  explicit HttpServer(Broker& broker, size_t threads = 16);
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
