#pragma once
// The RCAR client: auth -> challenge -> evidence bound to the nonce and an
// ephemeral TEE key -> attest -> resource as a JWE that only that key opens.
// It talks through a Transport, so that guest-init can relay the same bytes
// over its channel to the host (which is untrusted: it sees the JWE only)
// and tests can call a broker in-process.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/kbs/jose.h"
#include "attest/kbs/protocol.h"

namespace shelter::attest::kbs {

struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string path;    // "/kbs/v0/auth"
  std::string body;
  std::string cookie{};         // "kbs-session-id=..." or empty
  std::string authorization{};  // "Bearer <admin token>" for admin requests
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string set_cookie{};  // the Set-Cookie header, if any
};

// The broker could not be reached (after the transport's retries).
class KbsUnavailable : public Error {
 public:
  using Error::Error;
};

// The broker answered with a refusal (an RFC 7807 problem).
class KbsRefused : public Error {
 public:
  explicit KbsRefused(Problem problem);
  const Problem& problem() const noexcept { return problem_; }

 private:
  Problem problem_;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws KbsUnavailable when no answer could be had.
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

struct RetryPolicy {
  int attempts = 3;
  std::chrono::milliseconds backoff{200};  // doubled after each failed attempt
  std::chrono::seconds timeout{10};        // connect, read and write, per attempt
};

// Plain HTTP to "http://host:port" (loopback or a relay).
std::unique_ptr<Transport> make_http_transport(const std::string& url, RetryPolicy retry = {});

// Produces evidence whose REPORT_DATA holds report_data (64 bytes).
class EvidenceProvider {
 public:
  virtual ~EvidenceProvider() = default;
  virtual Tee tee() const = 0;
  virtual nlohmann::json evidence(std::span<const uint8_t> report_data) = 0;
};

class RcarClient {
 public:
  RcarClient(Transport& transport, EvidenceProvider& provider);

  // Called with every attestation token before it is accepted (guest-init
  // checks that the broker is the pinned one); throws to reject it.
  void set_token_check(std::function<void(const std::string& token)> check) { token_check_ = std::move(check); }

  // Runs the handshake with a fresh TEE key; returns the attestation token.
  // Throws KbsRefused or KbsUnavailable, or what the token check throws.
  std::string attest();

  // Attests first when needed, then fetches and decrypts the resource.
  std::vector<uint8_t> get_resource(const ResourceId& id);

 private:
  HttpResponse exchange(const std::string& method, const std::string& path, const std::string& body);
  void attest_with_fresh_nonce_after_lost_answer();

  Transport& transport_;
  EvidenceProvider& provider_;
  std::string cookie_;
  std::unique_ptr<TeeKeyPair> key_;
  std::string token_;
  std::function<void(const std::string&)> token_check_;
};

}  // namespace shelter::attest::kbs
