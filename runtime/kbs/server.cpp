#include "runtime/kbs/server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>

namespace shelter::runtime::kbs {
namespace {

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::unique_ptr<httplib::Server> make_server(const std::optional<TlsFiles>& tls) {
  if (!tls) return std::make_unique<httplib::Server>();
  std::string failure;
  auto server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, tls->certificate_chain.c_str()) != 1) {
      failure = tls->certificate_chain.string() + ": not a usable PEM certificate chain: " + openssl_error();
    } else if (SSL_CTX_use_PrivateKey_file(&ctx, tls->private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
      // OpenSSL checks the key against the certificate as it loads it.
      failure = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH
                    ? tls->private_key.string() + " is not the key of the certificate in " +
                          tls->certificate_chain.string()
                    : tls->private_key.string() + ": not a usable PEM private key: " + openssl_error();
      ERR_clear_error();
    }
    return failure.empty();
  });
  if (!server->is_valid()) throw Error(failure.empty() ? "cannot set up TLS: " + openssl_error() : failure);
  return server;
}

}  // namespace

HttpServer::HttpServer(Broker& broker, size_t threads, const std::optional<TlsFiles>& tls)
    : broker_(broker), server_(make_server(tls)) {
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
