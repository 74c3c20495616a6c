// `shelter kbs ...` against a broker served by the test on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
#include "tests/support/background_command.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/test_scratch_dir.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::runtime::kbs {
namespace {

namespace fs = std::filesystem;
const std::string kShelter = SHELTER_BINARY;

class KbsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = shelter::testing::fresh_test_dir("kbs-cli");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static bool one_error_line(const testing::CommandResult& result) {
    return result.err.starts_with("shelter: error: ") && result.err.find('\n') == result.err.size() - 1;
  }

  fs::path dir_;
};

TEST_F(KbsCommandTest, BadConfigurationsGiveOneErrorLine) {
  auto missing = testing::run_command(kShelter + " kbs serve --config " + (dir_ / "none.json").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(one_error_line(missing)) << missing.err;

  write(dir_ / "unknown.json", R"({"state_dir":"s","colour":"blue"})");
  auto unknown = testing::run_command(kShelter + " kbs serve --config " + (dir_ / "unknown.json").string());
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("unknown key 'colour'"), std::string::npos) << unknown.err;

  write(dir_ / "listen.json", R"({"state_dir":"s","listen":"127.0.0.1:http"})");
  auto listen = testing::run_command(kShelter + " kbs serve --config " + (dir_ / "listen.json").string());
  EXPECT_EQ(listen.status, 1);
  EXPECT_NE(listen.err.find("HOST:PORT"), std::string::npos) << listen.err;

  EXPECT_EQ(testing::run_command(kShelter + " kbs serve").status, 2);
}

TEST_F(KbsCommandTest, AdminCommandsStoreResourcesAndPolicies) {
  fs::path key = dir_ / "admin.pem";
  auto keygen = testing::run_command(kShelter + " kbs admin-keygen -o " + key.string());
  ASSERT_EQ(keygen.status, 0) << keygen.err;
  struct stat info {};
  ASSERT_EQ(::stat(key.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(testing::run_command(kShelter + " kbs admin-keygen -o " + key.string()).status, 1);

  BrokerConfig config;
  config.state_dir = dir_ / "state";
  config.admin_key = read_pem_key(key.string() + ".pub", false);
  Broker broker(std::move(config));
  HttpServer server(broker);
  int port = server.bind("127.0.0.1", 0);
  server.start();
  std::string url = "http://127.0.0.1:" + std::to_string(port);

  write(dir_ / "secret", "model key bytes");
  auto added = testing::run_command(kShelter + " kbs add-resource --url " + url + " --admin-key " + key.string() +
                                    " --id default/key/m1 --file " + (dir_ / "secret").string());
  EXPECT_EQ(added.status, 0) << added.err;
  auto stored = broker.store().resource({"default", "key", "m1"});
  ASSERT_TRUE(stored);
  EXPECT_EQ(std::string(stored->begin(), stored->end()), "model key bytes");

  write(dir_ / "policy.json", R"({"allow_simulated":true,"snp":{"measurements":[")" + std::string(96, 'a') + R"("]}})");
  auto policy = testing::run_command(kShelter + " kbs set-policy --url " + url + " --admin-key " + key.string() +
                                     " --id default/key/m1 --policy " + (dir_ / "policy.json").string());
  EXPECT_EQ(policy.status, 0) << policy.err;
  EXPECT_TRUE(broker.store().policy({"default", "key", "m1"}).allow_simulated);

  write(dir_ / "bad-policy.json", R"({"allow_simulated":"yes"})");
  auto bad = testing::run_command(kShelter + " kbs set-policy --url " + url + " --admin-key " + key.string() +
                                  " --id default/key/m1 --policy " + (dir_ / "bad-policy.json").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_TRUE(one_error_line(bad)) << bad.err;

  fs::path other = dir_ / "other.pem";
  ASSERT_EQ(testing::run_command(kShelter + " kbs admin-keygen -o " + other.string()).status, 0);
  auto refused = testing::run_command(kShelter + " kbs add-resource --url " + url + " --admin-key " + other.string() +
                                      " --id default/key/m2 --file " + (dir_ / "secret").string());
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("AdminAuthFailed"), std::string::npos) << refused.err;
  EXPECT_FALSE(broker.store().resource({"default", "key", "m2"}));
  server.stop();
}

TEST_F(KbsCommandTest, SimTeeCreatesTheChainUnderShelterHome) {
  auto result = testing::run_command("SHELTER_HOME=" + dir_.string() + " " + kShelter + " kbs sim-tee");
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, (dir_ / "sim-tee" / "ark.pem").string() + "\n");
  EXPECT_NE(result.err.find("no confidentiality"), std::string::npos);
  EXPECT_NO_THROW(attest::sim::load_simulated_root(dir_ / "sim-tee" / "ark.pem"));
}

TEST_F(KbsCommandTest, ServeReleasesAStoredResourceToSimulatedEvidence) {
  auto tee = attest::sim::SimulatedTee::open(dir_ / "sim-tee");
  std::array<uint8_t, 48> measurement{};
  measurement.fill(0x11);
  ResourceStore store(dir_ / "state");
  store.put_resource({"default", "key", "img"}, std::vector<uint8_t>{1, 2, 3, 4});
  store.put_policy({"default", "key", "img"},
                   R"({"allow_simulated":true,"snp":{"measurements":[")" + to_hex(measurement) + R"("]}})");
  int port = shelter::testing::unused_loopback_port();
  write(dir_ / "kbs.json", R"({"listen":"127.0.0.1:)" + std::to_string(port) +
                               R"(","state_dir":"state","simulated_roots":["sim-tee/ark.pem"]})");

  std::string config = (dir_ / "kbs.json").string();
  std::vector<char*> argv = {const_cast<char*>(kShelter.c_str()), const_cast<char*>("kbs"),
                             const_cast<char*>("serve"), const_cast<char*>("--config"), config.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, kShelter.c_str(), nullptr, nullptr, argv.data(), environ), 0);
  std::vector<uint8_t> released;
  std::string failure;
  try {
    // The server needs a moment to listen: the client's retries wait for it.
    auto transport = attest::kbs::make_http_transport("http://127.0.0.1:" + std::to_string(port),
                                                      {8, std::chrono::milliseconds(50), std::chrono::seconds(10)});
    attest::kbs::SimulatedEvidenceProvider evidence(tee, measurement);
    attest::kbs::RcarClient client(*transport, evidence);
    released = client.get_resource({"default", "key", "img"});
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(failure.empty()) << failure;
  EXPECT_EQ(released, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_F(KbsCommandTest, ServeOverHttpsAndAdminCommandsVerifyIt) {
  fs::create_directories(dir_ / "pki");
  attest::testing::TlsServerFiles pki = attest::testing::write_tls_server_pki(dir_ / "pki");
  fs::path key = dir_ / "admin.pem";
  ASSERT_EQ(testing::run_command(kShelter + " kbs admin-keygen -o " + key.string()).status, 0);
  int port = shelter::testing::unused_loopback_port();
  write(dir_ / "kbs.json", R"({"listen":"127.0.0.1:)" + std::to_string(port) +
                               R"(","state_dir":"state","admin_public_key":"admin.pem.pub",
                                  "tls_cert":"pki/tls-chain.pem","tls_key":"pki/tls-key.pem"})");
  shelter::testing::BackgroundCommand serve(kShelter + " kbs serve --config " + (dir_ / "kbs.json").string(),
                                            dir_ / "serve.log");
  ASSERT_TRUE(serve.wait_for_loopback_port(port));
  std::string url = "https://127.0.0.1:" + std::to_string(port);
  write(dir_ / "secret", "model key bytes");
  std::string add = kShelter + " kbs add-resource --url " + url + " --admin-key " + key.string() +
                    " --id default/key/m1 --file " + (dir_ / "secret").string();

  auto trusted = testing::run_command(add + " --ca " + pki.ca.string());
  EXPECT_EQ(trusted.status, 0) << trusted.err;
  EXPECT_EQ(trusted.out, "stored default/key/m1\n");

  // Without --ca the system's store is used, which does not hold the test root.
  auto untrusted = testing::run_command(add);
  EXPECT_EQ(untrusted.status, 1);
  EXPECT_EQ(untrusted.err, "shelter: error: key broker at " + url +
                               " failed TLS verification: unable to get local issuer certificate\n");

  auto plain = testing::run_command(kShelter + " kbs add-resource --url http://127.0.0.1:" + std::to_string(port) +
                                    " --admin-key " + key.string() + " --id default/key/m1 --file " +
                                    (dir_ / "secret").string());
  EXPECT_EQ(plain.status, 1);
  EXPECT_TRUE(one_error_line(plain)) << plain.err;
  EXPECT_NE(plain.err.find("use https://"), std::string::npos) << plain.err;

  serve.stop();
  EXPECT_NE(read_text(dir_ / "serve.log").find("listening on " + url), std::string::npos);
  ResourceStore store(dir_ / "state");
  auto stored = store.resource({"default", "key", "m1"});
  ASSERT_TRUE(stored);
  EXPECT_EQ(std::string(stored->begin(), stored->end()), "model key bytes");
}

TEST_F(KbsCommandTest, TlsConfigurationErrorsAreOneLine) {
  fs::create_directories(dir_ / "pki");
  attest::testing::write_tls_server_pki(dir_ / "pki");
  write(dir_ / "half.json", R"({"state_dir":"s","tls_cert":"pki/tls-chain.pem"})");
  auto half = testing::run_command(kShelter + " kbs serve --config " + (dir_ / "half.json").string());
  EXPECT_EQ(half.status, 1);
  EXPECT_NE(half.err.find("'tls_cert' and 'tls_key' go together"), std::string::npos) << half.err;

  write(dir_ / "swapped.json", R"({"state_dir":"s","tls_cert":"pki/tls-key.pem","tls_key":"pki/tls-key.pem"})");
  auto swapped = testing::run_command(kShelter + " kbs serve --config " + (dir_ / "swapped.json").string());
  EXPECT_EQ(swapped.status, 1);
  EXPECT_TRUE(one_error_line(swapped)) << swapped.err;
  EXPECT_NE(swapped.err.find("not a usable PEM certificate chain"), std::string::npos) << swapped.err;
}

}  // namespace
}  // namespace shelter::runtime::kbs
