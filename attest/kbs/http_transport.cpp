// The Transport over HTTP or HTTPS (cpp-httplib on OpenSSL), kept out of the
// client library so that the static guest-init, which relays through its
// channel, does not carry an HTTP stack.
#include <httplib.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <thread>

#include "attest/kbs/client.h"

namespace shelter::attest::kbs {
namespace {

struct X509StoreFree {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};

// What a failed attempt means, in words; the two likely protocol mix-ups say so.
std::string describe(httplib::Error error, bool https) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect";
    // An HTTPS server drops plain HTTP after its first bytes, while the
    // client may still be writing the request or already waiting to read.
    case httplib::Error::Read:
    case httplib::Error::Write:
      return https ? "the connection closed without an answer"
                   : "the connection closed without an HTTP answer (as an HTTPS server does to plain HTTP: use https://)";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed (is the broker serving HTTPS?)";
    default:
      return httplib::to_string(error);
  }
}

class HttpTransport : public Transport {
 public:
  HttpTransport(std::string url, RetryPolicy retry, TlsTrust trust)
      : url_(std::move(url)), https_(url_.starts_with("https://")), retry_(retry), trust_(std::move(trust)) {
    if (!https_ && !url_.starts_with("http://")) {
      throw Error("key broker URL '" + url_ + "' is not an http:// or https:// URL");
    }
    if (!trust_.ca_file.empty()) {
      if (!https_) throw Error("a CA file applies to https:// key broker URLs only, not to " + url_);
      // Fail here, naming the file, rather than at every connection attempt.
      std::unique_ptr<X509_STORE, X509StoreFree> store(X509_STORE_new());
      if (!store || X509_STORE_load_file(store.get(), trust_.ca_file.c_str()) != 1) {
        throw Error("CA file " + trust_.ca_file.string() + " holds no PEM certificate that can be read");
      }
    }
  }

  HttpResponse send(const HttpRequest& request) override {
    std::string last_error;
    auto backoff = retry_.backoff;
    for (int attempt = 1; attempt <= retry_.attempts; ++attempt) {
      httplib::Client client(url_);
      if (!client.is_valid()) throw KbsUnavailable("key broker URL '" + url_ + "' is not a valid URL");
      client.enable_server_certificate_verification(true);
      if (!trust_.ca_file.empty()) client.set_ca_cert_path(trust_.ca_file.string());
      client.set_connection_timeout(retry_.timeout);
      client.set_read_timeout(retry_.timeout);
      client.set_write_timeout(retry_.timeout);
      httplib::Headers headers;
      if (!request.cookie.empty()) headers.emplace("Cookie", request.cookie);
      if (!request.authorization.empty()) headers.emplace("Authorization", request.authorization);
      auto result = request.method == "GET" ? client.Get(request.path, headers)
                                            : client.Post(request.path, headers, request.body, "application/json");
      if (result) {
        HttpResponse response{result->status, result->body, result->get_header_value("Set-Cookie")};
        // A broker that is up but overloaded or restarting is retried too.
        if (response.status != 502 && response.status != 503 && response.status != 504) return response;
        last_error = "HTTP " + std::to_string(response.status);
      } else if (result.error() == httplib::Error::SSLServerVerification) {
        long verify = client.get_openssl_verify_result();
        throw KbsUnavailable("key broker at " + url_ + " failed TLS verification: " +
                             (verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                                  : "its certificate does not name the URL's host"));
      } else if (result.error() == httplib::Error::SSLLoadingCerts) {
        throw KbsUnavailable("key broker at " + url_ + ": cannot load the CA certificates to verify it with");
      } else {
        last_error = describe(result.error(), https_);
      }
      if (attempt < retry_.attempts) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
    }
    throw KbsUnavailable("key broker at " + url_ + " is unreachable after " + std::to_string(retry_.attempts) +
                         " attempts: " + last_error);
  }

 private:
  std::string url_;
  bool https_;
  RetryPolicy retry_;
  TlsTrust trust_;
};

}  // namespace

std::unique_ptr<Transport> make_http_transport(const std::string& url, RetryPolicy retry, TlsTrust trust) {
  return std::make_unique<HttpTransport>(url, retry, std::move(trust));
}

}  // namespace shelter::attest::kbs
