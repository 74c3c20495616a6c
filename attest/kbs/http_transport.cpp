// The Transport over plain HTTP (cpp-httplib), kept out of the client library
// so that the static guest-init, which relays through its channel, does not
// carry an HTTP stack.
#include <httplib.h>

#include <thread>

#include "attest/kbs/client.h"

namespace shelter::attest::kbs {
namespace {

class HttpTransport : public Transport {
 public:
  HttpTransport(std::string url, RetryPolicy retry) : url_(std::move(url)), retry_(retry) {}

  HttpResponse send(const HttpRequest& request) override {
    std::string last_error;
    auto backoff = retry_.backoff;
    for (int attempt = 1; attempt <= retry_.attempts; ++attempt) {
      httplib::Client client(url_);
      if (!client.is_valid()) throw KbsUnavailable("key broker URL '" + url_ + "' is not a supported http:// URL");
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
      } else {
        last_error = httplib::to_string(result.error());
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
  RetryPolicy retry_;
};

}  // namespace

std::unique_ptr<Transport> make_http_transport(const std::string& url, RetryPolicy retry) {
  return std::make_unique<HttpTransport>(url, retry);
}

}  // namespace shelter::attest::kbs
