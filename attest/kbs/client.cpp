#include "attest/kbs/client.h"

#include <httplib.h>

#include <thread>

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

std::string session_cookie(const std::string& set_cookie) {
  auto end = set_cookie.find(';');
  std::string pair = set_cookie.substr(0, end);
  return pair.starts_with("kbs-session-id=") ? pair : std::string();
}

}  // namespace

KbsRefused::KbsRefused(Problem problem)
    : Error("key broker refused (" + problem.type + ", HTTP " + std::to_string(problem.status) + "): " + problem.detail),
      problem_(std::move(problem)) {}

std::unique_ptr<Transport> make_http_transport(const std::string& url, RetryPolicy retry) {
  return std::make_unique<HttpTransport>(url, retry);
}

RcarClient::RcarClient(Transport& transport, EvidenceProvider& provider) : transport_(transport), provider_(provider) {}

HttpResponse RcarClient::exchange(const std::string& method, const std::string& path, const std::string& body) {
  HttpResponse response = transport_.send({method, path, body, cookie_});
  if (response.body.size() > kMaxMessageSize) {
    throw KbsRefused(Problem{response.status, "ResponseTooLarge", "the broker's answer exceeds the size limit"});
  }
  if (response.status != 200) throw KbsRefused(parse_problem(response.status, response.body));
  return response;
}

std::string RcarClient::attest() {
  cookie_.clear();
  Request request;
  request.tee = provider_.tee();
  HttpResponse auth = exchange("POST", "/kbs/v0/auth", serialize(request));
  cookie_ = session_cookie(auth.set_cookie);
  if (cookie_.empty()) throw KbsRefused(Problem{auth.status, "InvalidCookie", "the broker set no kbs-session-id cookie"});
  Challenge challenge = parse_challenge(auth.body);

  key_ = std::make_unique<TeeKeyPair>(TeeKeyPair::generate());
  TeePubKey public_key = key_->public_key();
  auto report_data = expected_report_data(challenge.nonce, public_key, challenge.hash_algorithm);
  Attestation attestation{public_key, provider_.evidence(report_data)};
  HttpResponse attested = exchange("POST", "/kbs/v0/attest", serialize(attestation));
  auto body = nlohmann::json::parse(attested.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    throw KbsRefused(Problem{attested.status, "InvalidResponse", "the attest answer holds no token"});
  }
  token_ = body["token"].get<std::string>();
  return token_;
}

std::vector<uint8_t> RcarClient::get_resource(const ResourceId& id) {
  if (!key_) attest();
  const std::string path = "/kbs/v0/resource/" + id.path();
  HttpResponse response = transport_.send({"GET", path, "", cookie_});
  if (response.status == 401) {
    // The session expired or the broker restarted: attest once more.
    attest();
    response = transport_.send({"GET", path, "", cookie_});
  }
  if (response.status != 200) throw KbsRefused(parse_problem(response.status, response.body));
  return key_->decrypt(response.body);
}

}  // namespace shelter::attest::kbs
