#include "runtime/kbs/server.h"

#include <httplib.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>

namespace shelter::runtime::kbs {

HttpServer::HttpServer(Broker& broker, size_t threads) : broker_(broker), server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(attest::kbs::kMaxMessageSize);
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_keep_alive_max_count(16);
  auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    attest::kbs::HttpResponse answer =
        broker_.handle({request.method, request.path, request.body, request.get_header_value("Cookie"),
                        request.get_header_value("Authorization")});
    response.status = answer.status;
    if (!answer.set_cookie.empty()) response.set_header("Set-Cookie", answer.set_cookie);
    response.set_content(answer.body, answer.status == 200 ? "application/json" : "application/problem+json");
  };
  server_->Get(R"(/kbs/v0/.*)", handler);
  server_->Post(R"(/kbs/v0/.*)", handler);
  // Bodies over the limit never reach the handler; answer them as problems too.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (response.status == 413) {
      response.set_content(attest::kbs::serialize(attest::kbs::Problem{413, "PayloadTooLarge", "request body is too large"}),
                           "application/problem+json");
    }
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) throw Error("key broker cannot listen on " + host + ":" + std::to_string(port));
  return bound;
}

void HttpServer::serve() { server_->listen_after_bind(); }

void HttpServer::start() {
  // The server's threads (and the pool they start) take no signals: a
  // process that embeds the broker, such as the launcher waiting on a
  // signalfd for SIGCHLD, must receive them on its own thread.
  thread_ = std::thread([this] {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    serve();
  });
  // stop() only interrupts a server that is already listening.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace shelter::runtime::kbs
