#pragma once
// The local keystore: image keys under $SHELTER_HOME/keys (default
// ~/.local/share/shelter/keys), one file per key id, the folder mode 0700 and
// each key file mode 0600. The launcher's embedded key broker reads keys
// from here; `shelter build --encrypt` writes them.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shelter::runtime {

class Keystore {
 public:
  // $SHELTER_HOME, else $HOME/.local/share/shelter; throws Error when neither is set.
  static Keystore open_default();
  explicit Keystore(std::filesystem::path home) : home_(std::move(home)) {}

  std::filesystem::path keys_dir() const { return home_ / "keys"; }
  // key_id: lower-case hex; throws Error for anything else (it becomes a file name).
  std::filesystem::path key_path(std::string_view key_id) const;
  // Creates the folders (0700) as needed and writes the key (0600) atomically;
  // an existing key with that id is an error.
  void store(std::string_view key_id, std::span<const uint8_t> key) const;
  // Throws Error when the key is missing, unreadable or readable by others.
  std::vector<uint8_t> load(std::string_view key_id) const;
  // Removes a key (used to undo a store when the build that needed it failed).
  void remove(std::string_view key_id) const;

 private:
  std::filesystem::path home_;
};

// Writes a key file outside the keystore (`--key-file`), mode 0600, atomically;
// refuses an existing file unless replace is set.
void write_key_file(const std::filesystem::path& path, std::span<const uint8_t> key, bool replace);

}  // namespace shelter::runtime
