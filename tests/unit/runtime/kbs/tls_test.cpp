// The broker over HTTPS on loopback, with a test PKI: a client that trusts
// the root completes the exchange; one that does not, or that finds another
// name in the certificate, or that speaks the wrong protocol, gets one clear
// error. `openssl s_client` checks the server independently.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attest/kbs/client.h"
#include "attest/kbs/sim_evidence.h"
#include "attest/sim/simulated_tee.h"
#include "common/hex.h"
#include "runtime/kbs/broker.h"
#include "runtime/kbs/config.h"
#include "runtime/kbs/server.h"
#include "tests/support/run_command.h"
#include "tests/support/test_scratch_dir.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::runtime::kbs {
namespace {

namespace fs = std::filesystem;
namespace ak = attest::kbs;
using attest::testing::TlsServerFiles;
using attest::testing::write_tls_server_pki;

// One attempt: failures here are not transient, so the tests stay quick.
const ak::RetryPolicy kOnce{1, std::chrono::milliseconds(1), std::chrono::seconds(10)};

class KbsTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = shelter::testing::fresh_test_dir("kbs-tls");
    fs::create_directories(dir_ / "pki");
    fs::create_directories(dir_ / "other");
    tee_.emplace(attest::sim::SimulatedTee::open(dir_ / "sim"));
    measurement_.fill(0x42);
    BrokerConfig config;
    config.state_dir = dir_ / "state";
    config.simulated_roots = {tee_->root()};
    broker_ = std::make_unique<Broker>(std::move(config));
    broker_->store().put_resource(model_, std::vector<uint8_t>{'k', 'e', 'y'});
    broker_->store().put_policy(
        model_, nlohmann::json{{"allow_simulated", true}, {"snp", {{"measurements", {to_hex(measurement_)}}}}}.dump());
    pki_ = write_tls_server_pki(dir_ / "pki");
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }

  std::string serve_https(const TlsServerFiles& files) {
    server_ = std::make_unique<HttpServer>(*broker_, 4, TlsFiles{files.chain, files.key});
    port_ = server_->bind("127.0.0.1", 0);
    server_->start();
    return "https://127.0.0.1:" + std::to_string(port_);
  }

  std::vector<uint8_t> fetch(const std::string& url, const ak::TlsTrust& trust) {
    auto transport = ak::make_http_transport(url, kOnce, trust);
    ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
    ak::RcarClient client(*transport, evidence);
    return client.get_resource(model_);
  }

  // The one-line message a failed fetch throws as KbsUnavailable.
  std::string unavailable(const std::string& url, const ak::TlsTrust& trust) {
    try {
      fetch(url, trust);
    } catch (const ak::KbsUnavailable& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
  std::optional<attest::sim::SimulatedTee> tee_;
  std::array<uint8_t, 48> measurement_{};
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  TlsServerFiles pki_;
  ak::ResourceId model_{"default", "key", "model"};
};

TEST_F(KbsTlsTest, ClientThatTrustsTheRootCompletesTheExchange) {
  std::string url = serve_https(pki_);
  EXPECT_EQ(fetch(url, {pki_.ca}), (std::vector<uint8_t>{'k', 'e', 'y'}));
}

TEST_F(KbsTlsTest, ClientThatDoesNotTrustTheServerGetsOneClearError) {
  std::string url = serve_https(pki_);
  TlsServerFiles other = write_tls_server_pki(dir_ / "other");
  std::string expected = "key broker at " + url + " failed TLS verification: unable to get local issuer certificate";
  EXPECT_EQ(unavailable(url, {other.ca}), expected);
  // The system's store does not hold the test root either.
  EXPECT_EQ(unavailable(url, {}), expected);
}

TEST_F(KbsTlsTest, CertificateForAnotherNameIsRefused) {
  TlsServerFiles elsewhere = write_tls_server_pki(dir_ / "other", false);
  std::string url = serve_https(elsewhere);
  EXPECT_EQ(unavailable(url, {elsewhere.ca}),
            "key broker at " + url + " failed TLS verification: its certificate does not name the URL's host");
}

TEST_F(KbsTlsTest, PlainHttpToTheHttpsPortFailsClearly) {
  serve_https(pki_);
  std::string url = "http://127.0.0.1:" + std::to_string(port_);
  std::string message = unavailable(url, {});
  EXPECT_EQ(message, "key broker at " + url +
                         " is unreachable after 1 attempts: the connection closed without an HTTP answer (as an HTTPS "
                         "server does to plain HTTP: use https://)");
}

TEST_F(KbsTlsTest, HttpsToAPlainHttpServerFailsClearly) {
  HttpServer plain(*broker_, 2);
  int port = plain.bind("127.0.0.1", 0);
  plain.start();
  std::string url = "https://127.0.0.1:" + std::to_string(port);
  std::string message = unavailable(url, {pki_.ca});
  EXPECT_EQ(message, "key broker at " + url +
                         " is unreachable after 1 attempts: the TLS handshake failed (is the broker serving HTTPS?)");
  plain.stop();
}

TEST_F(KbsTlsTest, CaFileMustBeUsableAndForHttpsOnly) {
  std::ofstream(dir_ / "not-a-cert.pem") << "hello\n";
  EXPECT_THROW(ak::make_http_transport("https://127.0.0.1:1", kOnce, {dir_ / "not-a-cert.pem"}), Error);
  EXPECT_THROW(ak::make_http_transport("https://127.0.0.1:1", kOnce, {dir_ / "missing.pem"}), Error);
  EXPECT_THROW(ak::make_http_transport("http://127.0.0.1:1", kOnce, {pki_.ca}), Error);
  EXPECT_THROW(ak::make_http_transport("ftp://127.0.0.1:1", kOnce, {}), Error);
}

TEST_F(KbsTlsTest, OpensslSClientVerifiesTheServer) {
  serve_https(pki_);
  std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                        " -verify_return_error -verify_ip 127.0.0.1 -brief </dev/null 2>&1";
  auto trusted = shelter::testing::run_command(connect + " -CAfile " + pki_.ca.string());
  EXPECT_EQ(trusted.status, 0) << trusted.out;
  EXPECT_NE(trusted.out.find("Verification: OK"), std::string::npos) << trusted.out;

  TlsServerFiles other = write_tls_server_pki(dir_ / "other");
  auto untrusted = shelter::testing::run_command(connect + " -CAfile " + other.ca.string());
  EXPECT_NE(untrusted.status, 0) << untrusted.out;
  EXPECT_NE(untrusted.out.find("unable to get local issuer certificate"), std::string::npos) << untrusted.out;
  // TLS 1.1 and older are not offered.
  auto old = shelter::testing::run_command(connect + " -CAfile " + pki_.ca.string() + " -tls1_1");
  EXPECT_NE(old.status, 0) << old.out;
}

TEST_F(KbsTlsTest, UnusableCertificateOrKeyIsAnErrorAtStart) {
  TlsServerFiles other = write_tls_server_pki(dir_ / "other");
  try {
    HttpServer server(*broker_, 2, TlsFiles{pki_.chain, other.key});
    ADD_FAILURE() << "a key that is not the certificate's was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not the key of the certificate"), std::string::npos) << e.what();
  }
  EXPECT_THROW(HttpServer(*broker_, 2, TlsFiles{dir_ / "missing.pem", pki_.key}), Error);
  EXPECT_THROW(HttpServer(*broker_, 2, TlsFiles{pki_.chain, pki_.chain}), Error);
}

TEST_F(KbsTlsTest, ConfigurationNamesBothFilesAndAPrivateKey) {
  auto write_config = [&](const std::string& json) {
    std::ofstream(dir_ / "kbs.json") << json;
    return dir_ / "kbs.json";
  };
  ServerSettings settings = load_server_settings(
      write_config(R"({"state_dir":"s","tls_cert":"pki/tls-chain.pem","tls_key":"pki/tls-key.pem"})"));
  ASSERT_TRUE(settings.tls);
  EXPECT_EQ(settings.tls->certificate_chain, dir_ / "pki/tls-chain.pem");
  EXPECT_EQ(settings.tls->private_key, dir_ / "pki/tls-key.pem");
  EXPECT_FALSE(load_server_settings(write_config(R"({"state_dir":"s"})")).tls);
  EXPECT_THROW(load_server_settings(write_config(R"({"state_dir":"s","tls_cert":"pki/tls-chain.pem"})")), Error);
  EXPECT_THROW(load_server_settings(write_config(R"({"state_dir":"s","tls_key":"pki/tls-key.pem"})")), Error);
  ::chmod(pki_.key.c_str(), 0644);
  EXPECT_THROW(load_server_settings(
                   write_config(R"({"state_dir":"s","tls_cert":"pki/tls-chain.pem","tls_key":"pki/tls-key.pem"})")),
               Error);
}

}  // namespace
}  // namespace shelter::runtime::kbs
