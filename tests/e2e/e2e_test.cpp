// End to end: real Debian kernel, real initramfs with shelter-init, real
// dm-verity, under QEMU (TCG here). Images are made with mkfs.erofs and
// veritysetup alone, laid out as Shelter's format lays them out (a header
// block, the filesystem, then veritysetup's hash area), so these tests do not
// depend on Shelter's own image builder. Each test boots once (~10 s on TCG).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/file.h"
#include "images/initramfs.h"
#include "images/manifest.h"
#include "tests/support/background_command.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_command;

constexpr uint64_t kHeaderSize = 4096;

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("shelter-e2e-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static images::Manifest manifest(std::vector<std::string> args) {
    images::Manifest m;
    m.entrypoint = {"/bin/probe"};
    m.args = std::move(args);
    m.env = {"PATH=/bin", "MODE=sealed"};
    m.workdir = "/work";
    m.user = "1000:1000";
    return m;
  }

  static std::string run(const std::string& line) {
    CommandResult r = run_command(line + " 2>&1");
    if (r.status != 0) ADD_FAILURE() << line << ":\n" << r.out;
    return r.out;
  }

  // Stages the probe and the manifest, makes the EROFS, appends the hash area
  // and writes the verity parameters as JSON; returns the image path.
  fs::path make_image(const images::Manifest& m) {
    fs::path stage = dir_ / "stage";
    fs::create_directories(stage / "bin");
    fs::create_directories(stage / "work");
    fs::create_directories(stage / ".shelter");
    fs::copy_file(SHELTER_PROBE, stage / "bin/probe");
    fs::permissions(stage / "bin/probe", fs::perms(0755));
    std::ofstream(stage / "bin/not-executable") << "not a program\n";
    fs::permissions(stage / "bin/not-executable", fs::perms(0644));
    std::ofstream(stage / ".shelter/manifest.json") << images::manifest_to_json(m).dump();

    fs::path data = dir_ / "data.erofs", hash = dir_ / "hash.img";
    run("mkfs.erofs --quiet -T0 --all-root " + data.string() + " " + stage.string());
    uint64_t data_size = (fs::file_size(data) + 4095) / 4096 * 4096;
    fs::resize_file(data, data_size);
    std::string out = run("veritysetup format " + data.string() + " " + hash.string());
    std::smatch root, salt;
    EXPECT_TRUE(std::regex_search(out, root, std::regex("Root hash:\\s+([0-9a-f]{64})"))) << out;
    EXPECT_TRUE(std::regex_search(out, salt, std::regex("Salt:\\s+([0-9a-f]+)"))) << out;

    fs::path image = dir_ / "test.img";
    {
      std::ofstream img(image, std::ios::binary);
      img << std::string(kHeaderSize, '\0') << std::ifstream(data, std::ios::binary).rdbuf()
          << std::ifstream(hash, std::ios::binary).rdbuf();
    }
    nlohmann::json verity = {{"data_offset", kHeaderSize},
                             {"data_size", data_size},
                             {"hash_offset", kHeaderSize + data_size},
                             {"root_hash", root[1].str()},
                             {"salt", salt[1].str()}};
    std::ofstream(dir_ / "verity.json") << verity.dump();
    // The hash area where the image holds it is what the independent tool accepts.
    run("veritysetup verify " + data.string() + " " + image.string() + " " + root[1].str() +
        " --hash-offset=" + std::to_string(kHeaderSize + data_size));
    return image;
  }

  CommandResult launch(const fs::path& image, const std::string& extra = "") {
    return run_command(std::string(SHELTER_LAUNCH_DRIVER) + " " + image.string() + " " + (dir_ / "verity.json").string() +
                       " --guest-init " + SHELTER_GUEST_INIT + " " + extra);
  }

  fs::path dir_;
};

TEST_F(EndToEnd, WorkloadOutputArgsEnvAndExitZeroArrive) {
  fs::path image = make_image(manifest({"out", "hello from the guest", "err", "a warning", "env", "MODE", "env",
                                        "HOME", "cwd", "id", "exit", "0"}));
  CommandResult r = launch(image);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello from the guest\nMODE=sealed\nHOME=(unset)\ncwd=/work\nid=1000:1000\n");
  EXPECT_NE(r.err.find("a warning\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("shelter: error"), std::string::npos) << r.err;
}

TEST_F(EndToEnd, ExitCodePropagates) {
  CommandResult r = launch(make_image(manifest({"out", "about to fail", "exit", "42"})));
  EXPECT_EQ(r.status, 42) << r.err;
  EXPECT_EQ(r.out, "about to fail\n");
}

TEST_F(EndToEnd, TamperedImageIsRefusedBeforeTheWorkloadRuns) {
  fs::path image = make_image(manifest({"out", "must not run"}));
  // Flip one byte of the manifest inside the filesystem area.
  std::vector<uint8_t> bytes = read_file(image, 64 << 20);
  std::string text(bytes.begin(), bytes.end());
  size_t at = text.find("must not run");
  ASSERT_NE(at, std::string::npos);
  ASSERT_LT(at, text.size());
  {
    std::fstream f(image, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(bytes[at] ^ 0x01));
  }
  CommandResult r = launch(image);
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("shelter: error: guest setup failed: the image failed integrity verification"), std::string::npos)
      << r.err;
}

TEST_F(EndToEnd, MissingEntrypointGives127) {
  images::Manifest m = manifest({});
  m.entrypoint = {"/bin/no-such-program"};
  CommandResult r = launch(make_image(m));
  EXPECT_EQ(r.status, 127) << r.err;
  EXPECT_NE(r.err.find("shelter: error: entrypoint /bin/no-such-program not found"), std::string::npos) << r.err;
}

TEST_F(EndToEnd, NonExecutableEntrypointGives126) {
  images::Manifest m = manifest({});
  m.entrypoint = {"/bin/not-executable"};
  CommandResult r = launch(make_image(m));
  EXPECT_EQ(r.status, 126) << r.err;
  EXPECT_NE(r.err.find("shelter: error: entrypoint /bin/not-executable cannot be executed"), std::string::npos) << r.err;
}

TEST_F(EndToEnd, TimeoutStopsTheGuestWith124) {
  CommandResult r = launch(make_image(manifest({"sleep", "600"})), "--timeout 2");
  EXPECT_EQ(r.status, 124) << r.err;
  EXPECT_NE(r.err.find("shelter: error: the guest did not finish within 2 s"), std::string::npos) << r.err;
}

// The user's path: `shelter build` a directory, then `shelter run` the image.
TEST_F(EndToEnd, ShelterBuildThenRun) {
  fs::path stage = dir_ / "rootfs";
  fs::create_directories(stage / "bin");
  fs::copy_file(SHELTER_PROBE, stage / "bin/probe");
  fs::path image = dir_ / "built.img";
  CommandResult built = run_command(std::string(SHELTER_BINARY) + " build " + stage.string() + " -o " + image.string() +
                                    " --entrypoint '/bin/probe out built-by-shelter env MODE exit 7' --env MODE=cli");
  ASSERT_EQ(built.status, 0) << built.err;
  CommandResult r = run_command(std::string(SHELTER_BINARY) + " run " + image.string());
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_EQ(r.out, "built-by-shelter\nMODE=cli\n");
}

// Encrypted images: the guest attests to the launcher's embedded broker (the
// simulated TEE) for its key. Each test boots once.
class EncryptedEndToEnd : public EndToEnd {
 protected:
  fs::path build_encrypted() {
    fs::path stage = dir_ / "rootfs";
    fs::create_directories(stage / "bin");
    fs::copy_file(SHELTER_PROBE, stage / "bin/probe");
    fs::path image = dir_ / "sealed.img";
    CommandResult built = shelter("build " + stage.string() + " -o " + image.string() +
                                  " --entrypoint '/bin/probe out released-and-decrypted' --encrypt");
    EXPECT_EQ(built.status, 0) << built.err;
    return image;
  }
  CommandResult shelter(const std::string& args, const std::string& env = "") {
    return run_command(env + " SHELTER_HOME=" + (dir_ / "home").string() + " " + SHELTER_BINARY + " " + args);
  }
  static void expect_refused(const CommandResult& r, const std::string& reason) {
    EXPECT_EQ(r.status, 125) << r.err;
    EXPECT_EQ(r.out, "");  // the workload never ran
    EXPECT_NE(r.err.find("shelter: error: guest setup failed: " + reason), std::string::npos) << r.err;
  }
};

TEST_F(EncryptedEndToEnd, RunsThroughAttestationWithTheSimulatedTee) {
  CommandResult r = shelter("run " + build_encrypted().string() + " --timeout 280");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "released-and-decrypted\n");
  EXPECT_NE(r.err.find("simulated TEE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NO confidentiality"), std::string::npos) << r.err;
}

// A host that changes the command line after the reference digest was taken
// (a changed kernel and initramfs: RemoteBrokerEndToEnd below).
TEST_F(EncryptedEndToEnd, ChangedLaunchIsRefusedByTheBrokersPolicy) {
  CommandResult r = shelter("run " + build_encrypted().string() + " --timeout 280", "SHELTER_TEST_TAMPER_CMDLINE=tampered=1");
  expect_refused(r, "key broker refused (PolicyDeny, HTTP 403)");
  EXPECT_NE(r.err.find("measurement is not one of the reference values"), std::string::npos) << r.err;
}

TEST_F(EncryptedEndToEnd, BrokerThatIsDownIsAClearErrorAfterBoundedRetries) {
  fs::path image = build_encrypted();
  fs::path key = dir_ / "broker.pem";
  run("openssl ecparam -name prime256v1 -genkey -noout -out " + key.string() + " && openssl pkey -in " + key.string() +
      " -pubout -out " + key.string() + ".pub");
  // Port 9 (discard) on loopback: nothing listens there.
  CommandResult r = shelter("run " + image.string() + " --kbs http://127.0.0.1:9 --kbs-key " + key.string() +
                            ".pub --timeout 280");
  expect_refused(r, "key broker at http://127.0.0.1:9 is unreachable after 3 attempts");
}

TEST_F(EncryptedEndToEnd, WrongKeyNeverRunsTheWorkload) {
  fs::path image = build_encrypted();
  fs::path keys = dir_ / "home" / "keys";
  ASSERT_EQ(std::distance(fs::directory_iterator(keys), fs::directory_iterator()), 1);
  fs::path key = fs::directory_iterator(keys)->path();
  std::vector<uint8_t> bytes = read_file(key, 1024);
  bytes[0] ^= 0xff;
  fs::remove(key);
  write_file_atomic(key, bytes, 0600);
  CommandResult r = shelter("run " + image.string() + " --timeout 280");
  expect_refused(r, "mounting the image filesystem (erofs)");
}

// A remote broker that is up: `shelter kbs serve` over HTTPS on loopback
// (the tests' PKI), its key and policy put with the admin commands, the
// reference value from `shelter measure`. The launcher measures what it
// actually loads, so a host that changes the kernel or the initramfs gets
// the broker's refusal.
class RemoteBrokerEndToEnd : public EncryptedEndToEnd {
 protected:
  void SetUp() override {
    EncryptedEndToEnd::SetUp();
    image_ = build_encrypted();
    fs::create_directories(dir_ / "pki");
    pki_ = attest::testing::write_tls_server_pki(dir_ / "pki");
    ASSERT_EQ(shelter("kbs admin-keygen -o " + (dir_ / "admin.pem").string()).status, 0);
    CommandResult ark = shelter("kbs sim-tee");
    ASSERT_EQ(ark.status, 0) << ark.err;
    port_ = shelter::testing::unused_loopback_port();
    url_ = "https://127.0.0.1:" + std::to_string(port_);
    std::ofstream(dir_ / "kbs.json") << nlohmann::json{{"listen", "127.0.0.1:" + std::to_string(port_)},
                                                       {"state_dir", "kbs-state"},
                                                       {"admin_public_key", "admin.pem.pub"},
                                                       {"simulated_roots", {ark.out.substr(0, ark.out.size() - 1)}},
                                                       {"tls_cert", "pki/tls-chain.pem"},
                                                       {"tls_key", "pki/tls-key.pem"}}
                                              .dump();
    start_broker();
    // The broker's token public key, as docs/kbs.md says to get it.
    run("openssl pkey -in " + (dir_ / "kbs-state/token-key.pem").string() + " -pubout -out " + broker_key().string());

    CommandResult inspect = shelter("inspect --json " + image_.string());
    ASSERT_EQ(inspect.status, 0) << inspect.err;
    std::string key_id = nlohmann::json::parse(inspect.out)["encryption"]["key_id"];
    CommandResult measured = shelter("measure " + image_.string() + " --tee sim --kbs-key " + broker_key().string());
    ASSERT_EQ(measured.status, 0) << measured.err;
    ASSERT_TRUE(std::regex_match(measured.out, std::regex("[0-9a-f]{96}\n"))) << measured.out;
    std::ofstream(dir_ / "policy.json") << nlohmann::json{{"tees", {"snp"}},
                                                          {"allow_simulated", true},
                                                          {"snp", {{"measurements", {measured.out.substr(0, 96)}}}}}
                                               .dump();
    std::string admin = " --url " + url_ + " --ca " + pki_.ca.string() + " --admin-key " +
                        (dir_ / "admin.pem").string() + " --id default/key/" + key_id;
    CommandResult added = shelter("kbs add-resource" + admin + " --key-id " + key_id);
    ASSERT_EQ(added.status, 0) << added.err;
    CommandResult policy = shelter("kbs set-policy" + admin + " --policy " + (dir_ / "policy.json").string());
    ASSERT_EQ(policy.status, 0) << policy.err;
  }
  void TearDown() override {
    broker_.reset();
    EncryptedEndToEnd::TearDown();
  }

  void start_broker() {
    broker_.reset();
    broker_ = std::make_unique<shelter::testing::BackgroundCommand>(
        "env SHELTER_HOME=" + (dir_ / "home").string() + " " + SHELTER_BINARY + " kbs serve --config " +
            (dir_ / "kbs.json").string(),
        dir_ / "kbs.log");
    ASSERT_TRUE(broker_->wait_for_loopback_port(port_)) << read_text(dir_ / "kbs.log");
  }
  fs::path broker_key() const { return dir_ / "broker.pub"; }
  CommandResult run_remote(const std::string& extra = "", const std::string& shelter_binary = SHELTER_BINARY) {
    return run_command("SHELTER_HOME=" + (dir_ / "home").string() + " " + shelter_binary + " run " + image_.string() +
                       " --kbs " + url_ + " --kbs-ca " + pki_.ca.string() + " --kbs-key " + broker_key().string() +
                       " --timeout 280 " + extra);
  }
  static std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // A copy of `file` with bytes appended: a different file that still works
  // (the kernel's decompressor and the ELF loader ignore trailing bytes).
  fs::path changed_copy(const fs::path& file, const fs::path& copy) {
    fs::create_directories(copy.parent_path());
    fs::copy_file(file, copy);
    std::ofstream(copy, std::ios::binary | std::ios::app) << std::string(4096, '\0');
    fs::permissions(copy, fs::perms(0755));
    return copy;
  }

  fs::path image_;
  attest::testing::TlsServerFiles pki_;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<shelter::testing::BackgroundCommand> broker_;
};

TEST_F(RemoteBrokerEndToEnd, ReleasesTheKeyOverHttpsAfterARestart) {
  // Resources and policies were put before the restart; the state folder keeps them.
  broker_->stop();
  start_broker();
  CommandResult r = run_remote();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "released-and-decrypted\n");
}

TEST_F(RemoteBrokerEndToEnd, ChangedKernelIsRefused) {
  // The kernel `shelter run` picks by default, changed; named as the
  // original, so that the same modules go with it.
  fs::path original = images::find_guest_kernel(std::nullopt, std::nullopt).kernel;
  fs::path kernel = changed_copy(original, dir_ / "changed-kernel" / original.filename());
  CommandResult r = run_remote("--kernel " + kernel.string());
  expect_refused(r, "key broker refused (PolicyDeny, HTTP 403)");
  EXPECT_NE(r.err.find("measurement is not one of the reference values"), std::string::npos) << r.err;
}

TEST_F(RemoteBrokerEndToEnd, ChangedInitramfsIsRefused) {
  // `shelter run` puts the shelter-init found beside it into the initramfs:
  // a copy of shelter (and the shelter-cli it executes) beside a changed
  // shelter-init builds a changed one.
  fs::path bin = dir_ / "changed-bin";
  changed_copy(SHELTER_GUEST_INIT, bin / "shelter-init");
  fs::copy_file(SHELTER_BINARY, bin / "shelter");
  fs::copy_file(fs::path(SHELTER_BINARY).parent_path() / "shelter-cli", bin / "shelter-cli");
  CommandResult r = run_remote("", (bin / "shelter").string());
  expect_refused(r, "key broker refused (PolicyDeny, HTTP 403)");
  EXPECT_NE(r.err.find("measurement is not one of the reference values"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace shelter
