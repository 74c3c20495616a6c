#include "runtime/cli/kbs_command.h"


#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "attest/kbs/client.h"
#include "attest/kbs/jose.h"
#include "attest/sim/simulated_tee.h"
#include "common/error.h"
#include "common/file.h"
#include "runtime/kbs/config.h"
#include "runtime/kbs/server.h"
#include "runtime/keystore.h"

namespace shelter::cli {
namespace {

namespace fs = std::filesystem;
namespace ak = attest::kbs;

int run_serve(const std::string& config_path) {
  runtime::kbs::ServerSettings settings = runtime::kbs::load_server_settings(config_path);
  runtime::kbs::Broker broker(std::move(settings.broker));
  runtime::kbs::HttpServer server(broker, settings.threads, settings.tls);
  int port = server.bind(settings.host, settings.port);
  bool loopback = settings.host == "127.0.0.1" || settings.host == "::1" || settings.host == "localhost";
  if (!settings.tls && !loopback) {
    std::fprintf(stderr,
                 "shelter: warning: serving plain HTTP on %s: admin tokens and session cookies cross the network in "
                 "clear; set tls_cert and tls_key\n",
                 settings.host.c_str());
  }
  std::printf("shelter kbs: listening on %s://%s:%d\n", settings.tls ? "https" : "http", settings.host.c_str(), port);
  std::fflush(stdout);
  server.serve();
  return kExitOk;
}

int run_admin_keygen(const fs::path& out) {
  if (fs::exists(out)) throw Error(out.string() + " exists; not overwriting an admin key");
  attest::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw Error("admin key generation failed");
  fs::path public_path = out.string() + ".pub";
  write_file_atomic(public_path, attest::public_key_pem(key.get()), 0644);
  write_file_atomic(out, attest::private_key_pem(key.get()), 0600);
  std::printf("admin key: %s\npublic key for the broker's admin_public_key: %s\n", out.c_str(), public_path.c_str());
  return kExitOk;
}

struct AdminOptions {
  std::string url;
  std::string ca;
  std::string admin_key;
  std::string id;
  std::string file;
  std::string key_id;
};

void admin_post(const AdminOptions& options, const std::string& path, std::string body) {
  auto transport = ak::make_http_transport(options.url, {}, {options.ca});
  attest::EvpPkeyPtr key = runtime::kbs::read_pem_key(options.admin_key, true);
  std::time_t now = std::time(nullptr);
  std::string token = ak::sign_token(key.get(), nlohmann::json{{"iat", now}, {"exp", now + 60}});
  ak::HttpResponse response = transport->send({"POST", path, std::move(body), "", "Bearer " + token});
  if (response.status != 200) throw ak::KbsRefused(ak::parse_problem(response.status, response.body));
}

std::string read_text(const fs::path& path) {
  auto bytes = read_file(path, ak::kMaxMessageSize);
  return {bytes.begin(), bytes.end()};
}

int run_sim_tee() {
  fs::path dir = runtime::Keystore::open_default().keys_dir().parent_path() / "sim-tee";
  auto tee = attest::sim::SimulatedTee::open(dir);
  std::fprintf(stderr, "shelter: warning: the simulated TEE gives no confidentiality; its key is in %s\n", dir.c_str());
  std::printf("%s\n", (dir / "ark.pem").c_str());
  return kExitOk;
}

}  // namespace

void add_kbs_command(CLI::App& app, Commands& commands) {
  CLI::App* kbs = app.add_subcommand("kbs", "Key broker (Trustee KBS protocol) and its administration");
  kbs->require_subcommand(1);

  auto config = std::make_shared<std::string>();
  CLI::App* serve = kbs->add_subcommand("serve", "Run the key broker");
  serve->add_option("--config", *config, "Broker configuration (JSON)")->required();
  commands.push_back({serve, [config] { return run_serve(*config); }});

  auto keygen_out = std::make_shared<std::string>();
  CLI::App* keygen = kbs->add_subcommand("admin-keygen", "Make an admin key pair (FILE and FILE.pub)");
  keygen->add_option("-o,--out", *keygen_out, "Private key file to write")->required();
  commands.push_back({keygen, [keygen_out] { return run_admin_keygen(*keygen_out); }});

  auto add_admin_options = [](CLI::App* cmd, AdminOptions& options) {
    cmd->add_option("--url", options.url, "Broker URL, http(s)://HOST:PORT")->required();
    cmd->add_option("--ca", options.ca, "CA certificates (PEM) to verify an https:// broker with (default: the system's)");
    cmd->add_option("--admin-key", options.admin_key, "Admin private key (PEM)")->required();
    cmd->add_option("--id", options.id, "Resource REPOSITORY/TYPE/TAG")->required();
  };

  auto resource = std::make_shared<AdminOptions>();
  CLI::App* add_resource = kbs->add_subcommand("add-resource", "Store a resource in the broker");
  add_admin_options(add_resource, *resource);
  auto* file_option = add_resource->add_option("--file", resource->file, "File holding the resource");
  add_resource->add_option("--key-id", resource->key_id, "Image key from the local keystore")->excludes(file_option);
  commands.push_back({add_resource, [resource] {
                        ak::ResourceId id = ak::parse_resource_id(resource->id);
                        std::vector<uint8_t> bytes;
                        if (!resource->key_id.empty()) {
                          bytes = runtime::Keystore::open_default().load(resource->key_id);
                        } else if (!resource->file.empty()) {
                          bytes = read_file(resource->file, ak::kMaxMessageSize);
                        } else {
                          throw Error("add-resource needs --file or --key-id");
                        }
                        admin_post(*resource, "/kbs/v0/resource/" + id.path(), std::string(bytes.begin(), bytes.end()));
                        std::printf("stored %s\n", id.path().c_str());
                        return kExitOk;
                      }});

  auto policy = std::make_shared<AdminOptions>();
  CLI::App* set_policy = kbs->add_subcommand("set-policy", "Set the policy of a resource");
  add_admin_options(set_policy, *policy);
  set_policy->add_option("--policy", policy->file, "Policy file (JSON, see docs/kbs.md)")->required();
  commands.push_back({set_policy, [policy] {
                        ak::ResourceId id = ak::parse_resource_id(policy->id);
                        std::string text = read_text(policy->file);
                        (void)ak::parse_resource_policy(text);
                        admin_post(*policy, "/kbs/v0/resource-policy/" + id.path(), text);
                        std::printf("policy set for %s\n", id.path().c_str());
                        return kExitOk;
                      }});

  CLI::App* sim = kbs->add_subcommand("sim-tee", "Create the simulated TEE chain under $SHELTER_HOME; print its ARK");
  commands.push_back({sim, [] { return run_sim_tee(); }});
}

}  // namespace shelter::cli
