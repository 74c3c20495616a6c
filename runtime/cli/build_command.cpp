#include "runtime/cli/build_command.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>

#include "common/error.h"
#include "common/hex.h"
#include "images/builder.h"
#include "runtime/keystore.h"

namespace shelter::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) { g_interrupted = true; }

// While a build runs, SIGINT/SIGTERM/SIGHUP ask it to stop at the next step,
// so that its temporary files are removed on the way out.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &action, &previous_[i]);
  }
  ~InterruptGuard() {
    for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> previous_{};
};

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

struct BuildArgs {
  std::string source;
  std::string output;
  std::string entrypoint;
  std::vector<std::string> env;
  std::string workdir;
  bool encrypt = false;
  std::string key_file;
  bool force = false;
};

// A fresh random image key and key id, wiped from memory when done.
class FreshKey {
 public:
  FreshKey() {
    if (RAND_bytes(key_.key.data(), static_cast<int>(key_.key.size())) != 1 ||
        RAND_bytes(key_.id.data(), static_cast<int>(key_.id.size())) != 1)
      throw Error("OpenSSL's random generator failed");
    // XTS needs two different halves; equal ones mean the generator is broken.
    if (std::equal(key_.key.begin(), key_.key.begin() + 32, key_.key.begin() + 32))
      throw Error("OpenSSL's random generator returned a degenerate key");
  }
  ~FreshKey() { OPENSSL_cleanse(key_.key.data(), key_.key.size()); }
  FreshKey(const FreshKey&) = delete;
  FreshKey& operator=(const FreshKey&) = delete;
  const images::ImageKey& get() const { return key_; }

 private:
  images::ImageKey key_;
};

// Saves the key where the user asked before the build, and takes it back if
// the build fails, so that no key outlives an image that was never written.
class SavedKey {
 public:
  SavedKey(const BuildArgs& args, const images::ImageKey& key) : id_(to_hex(key.id)) {
    if (!args.key_file.empty()) {
      key_file_ = args.key_file;
      runtime::write_key_file(key_file_, key.key, args.force);
      where_ = "written to " + args.key_file;
    } else {
      runtime::Keystore keystore = runtime::Keystore::open_default();
      keystore.store(id_, key.key);
      keystore_.emplace(std::move(keystore));
      where_ = "stored in the keystore (" + keystore_->key_path(id_).string() + ")";
    }
  }
  ~SavedKey() {
    if (kept_) return;
    if (keystore_) {
      std::error_code ec;
      std::filesystem::remove(keystore_->key_path(id_), ec);
    } else {
      ::unlink(key_file_.c_str());
    }
  }
  SavedKey(const SavedKey&) = delete;
  SavedKey& operator=(const SavedKey&) = delete;
  void keep() { kept_ = true; }
  const std::string& where() const { return where_; }

 private:
  std::string id_;
  std::string key_file_;
  std::optional<runtime::Keystore> keystore_;
  std::string where_;
  bool kept_ = false;
};

int run_build(const BuildArgs& args) {
  images::BuildOptions options;
  options.source = args.source;
  options.output = args.output;
  if (!args.entrypoint.empty()) options.entrypoint = split_words(args.entrypoint);
  options.env = args.env;
  if (!args.workdir.empty()) options.workdir = args.workdir;
  options.force = args.force;
  images::TerminalProgress progress;
  if (::isatty(STDERR_FILENO)) options.progress = &progress;
  InterruptGuard guard;
  options.cancel = &g_interrupted;

  std::optional<FreshKey> key;
  std::optional<SavedKey> saved;
  if (args.encrypt) {
    key.emplace();
    saved.emplace(args, key->get());
    options.encryption = &key->get();
  }
  images::ImageInfo info = images::build_image(options);
  std::printf("%s: %llu bytes, root hash %s\n", args.output.c_str(),
              static_cast<unsigned long long>(info.image_size), to_hex(info.verity.root_hash).c_str());
  if (saved) {
    saved->keep();
    std::printf("key %s %s\n", to_hex(key->get().id).c_str(), saved->where().c_str());
  }
  return kExitOk;
}

}  // namespace

void add_build_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<BuildArgs>();
  CLI::App* cmd = app.add_subcommand("build", "Build a measured image from a directory, OCI layout or archive");
  cmd->add_option("SRC", args->source, "Directory, OCI image layout directory, or OCI/docker archive (.tar)")
      ->required();
  cmd->add_option("-o,--output", args->output, "Image file to write")->required();
  cmd->add_option("--entrypoint", args->entrypoint,
                  "Program and arguments to run (split on spaces); replaces the image's entrypoint and cmd");
  cmd->add_option("--env", args->env, "KEY=VALUE for the workload (repeatable)");
  cmd->add_option("--workdir", args->workdir, "Working directory of the workload");
  CLI::Option* encrypt = cmd->add_flag(
      "--encrypt", args->encrypt, "Encrypt the filesystem with AES-256-XTS (dm-crypt plain64) and a fresh key");
  cmd->add_option("--key-file", args->key_file, "Write the key here (mode 0600) instead of the keystore")
      ->needs(encrypt);
  cmd->add_flag("--force", args->force, "Replace an existing output (and key file)");
  commands.push_back({cmd, [args] { return run_build(*args); }});
}

}  // namespace shelter::cli
