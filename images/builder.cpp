#include "images/builder.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/file.h"
#include "common/unique_fd.h"
#include "images/block_io.h"
#include "images/crypt.h"
#include "images/digest.h"
#include "images/staging.h"
#include "images/tool.h"
#include "images/verity.h"

namespace shelter::images {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void random_bytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) throw Error("OpenSSL's random generator failed");
}

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load()) throw Error("interrupted");
}

std::string env_key(const std::string& entry) { return entry.substr(0, entry.find('=')); }

std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides) {
  for (const std::string& entry : overrides) {
    if (entry.find('=') == std::string::npos || entry.front() == '=')
      throw Error("--env '" + entry + "' is not KEY=VALUE");
    std::string key = env_key(entry);
    std::erase_if(base, [&](const std::string& e) { return env_key(e) == key; });
    base.push_back(entry);
  }
  return base;
}

bool is_number(std::string_view text) {
  return !text.empty() && text.size() <= 10 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Looks name up in a passwd- or group-format file of the staging tree:
// returns the fields of the first line whose first field is name.
std::optional<std::vector<std::string>> lookup_database(const fs::path& staging, std::string_view file,
                                                        std::string_view name, size_t min_fields) {
  auto path = resolve_in_root(staging, file);
  if (!path) return std::nullopt;
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::vector<uint8_t> bytes = read_file(*path, 16 << 20);
  std::istringstream lines(std::string(bytes.begin(), bytes.end()));
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (fields.size() >= min_fields && fields[0] == name) return fields;
  }
  return std::nullopt;
}

// OCI "user", "uid", "user:group", "uid:gid" -> numeric "uid:gid".
std::string resolve_user(const fs::path& staging, const std::string& spec) {
  if (spec.empty()) return "0:0";
  std::string user = spec.substr(0, spec.find(':'));
  std::optional<std::string> group;
  if (spec.find(':') != std::string::npos) group = spec.substr(spec.find(':') + 1);
  std::string uid, gid = "0";
  auto passwd = lookup_database(staging, "/etc/passwd", user, 4);
  if (is_number(user)) {
    uid = user;
  } else if (passwd) {
    uid = (*passwd)[2];
  } else {
    throw Error("user '" + user + "' is not in the image's /etc/passwd");
  }
  if (passwd && is_number((*passwd)[3])) gid = (*passwd)[3];
  if (group) {
    if (is_number(*group)) {
      gid = *group;
    } else if (auto entry = lookup_database(staging, "/etc/group", *group, 3)) {
      gid = (*entry)[2];
    } else {
      throw Error("group '" + *group + "' is not in the image's /etc/group");
    }
  }
  if (!is_number(uid) || !is_number(gid)) throw Error("user '" + spec + "' does not resolve to numbers");
  return uid + ":" + gid;
}

void write_manifest_into_tree(const fs::path& staging, const std::string& json) {
  const fs::path relative = fs::path(kManifestPath);
  // Anything the source had at .shelter is replaced: only ours goes in.
  fs::path dir = staging / relative.parent_path();
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) throw SystemError("cannot replace " + dir.string(), ec.value());
  make_directories_in_root(staging, relative.parent_path());
  UniqueFd fd(::open((staging / relative).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) throw SystemError("cannot write the manifest into the staging tree", errno);
  write_all_at(fd.get(), {reinterpret_cast<const uint8_t*>(json.data()), json.size()}, 0, "the manifest");
}

void make_erofs(const fs::path& staging, const fs::path& output) {
  ToolResult result = run_tool({"mkfs.erofs", "--quiet", output.string(), staging.string()});
  if (result.status != 0)
    throw Error("mkfs.erofs failed (status " + std::to_string(result.status) + "): " + last_line(result.output));
}

void copy_area(int in_fd, int out_fd, uint64_t out_offset, uint64_t size, ProgressSink* progress,
               const std::atomic<bool>* cancel) {
  constexpr uint64_t kStep = 64 << 20;
  if (progress != nullptr) progress->begin("copying", size);
  off_t in_pos = 0;
  off_t out_pos = static_cast<off_t>(out_offset);
  for (uint64_t done = 0; done < size;) {
    check_cancel(cancel);
    ssize_t n = ::copy_file_range(in_fd, &in_pos, out_fd, &out_pos, std::min(kStep, size - done), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot copy the filesystem into the image", errno);
    if (n == 0) throw Error("the filesystem shrank while it was copied");
    done += static_cast<uint64_t>(n);
    if (progress != nullptr) progress->advance(static_cast<uint64_t>(n));
  }
  if (progress != nullptr) progress->end();
}

}  // namespace

Manifest compose_manifest(const ImageConfig& config, const BuildOptions& options, const fs::path& staging) {
  Manifest manifest;
  if (options.entrypoint) {
    manifest.entrypoint = *options.entrypoint;
  } else if (!config.entrypoint.empty()) {
    manifest.entrypoint = config.entrypoint;
    manifest.args = config.cmd;
  } else {
    manifest.entrypoint = config.cmd;
  }
  if (manifest.entrypoint.empty() || manifest.entrypoint.front().empty())
    throw Error("no entrypoint: the source has none, give --entrypoint");
  manifest.env = merge_env(config.env, options.env);
  manifest.workdir = options.workdir.value_or(config.working_dir.empty() ? "/" : config.working_dir);
  if (manifest.workdir.empty() || manifest.workdir.front() != '/')
    throw Error("workdir '" + manifest.workdir + "' is not an absolute path");
  manifest.user = resolve_user(staging, config.user);
  return manifest;
}

void check_entrypoint(const Manifest& manifest, const fs::path& staging) {
  const std::string& program = manifest.entrypoint.front();
  std::vector<std::string> candidates;
  if (program.find('/') != std::string::npos) {
    candidates.push_back(program.front() == '/' ? program : manifest.workdir + "/" + program);
  } else {
    std::string path(kDefaultPath);
    for (const std::string& entry : manifest.env)
      if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty()) candidates.push_back(dir + "/" + program);
  }
  bool found_not_executable = false;
  for (const std::string& candidate : candidates) {
    auto resolved = resolve_in_root(staging, candidate);
    struct stat st {};
    if (!resolved || ::stat(resolved->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 0111) != 0) return;
    found_not_executable = true;
  }
  throw Error("entrypoint '" + program + "' " +
              (found_not_executable ? "is not executable in the image" : "does not exist in the image"));
}

ImageInfo build_image(const BuildOptions& options) {
  struct stat out_st {};
  if (::stat(options.output.c_str(), &out_st) == 0) {
    if (S_ISDIR(out_st.st_mode)) throw Error("output " + options.output.string() + " is a directory");
    if (!options.force) throw Error("output " + options.output.string() + " exists (use --force to replace it)");
  }
  if (::access(options.source.c_str(), F_OK) != 0)
    throw SystemError("cannot read the source " + options.source.string(), errno);

  fs::path out_dir = options.output.parent_path().empty() ? fs::path(".") : options.output.parent_path();
  // Beside the output: hard links from the source work there more often than
  // in /tmp, and the space is where the image will go anyway.
  TempDir work(out_dir, ".shelter-build-");
  const fs::path staging = work.path() / "root";
  const fs::path scratch = work.path() / "scratch";
  const fs::path erofs = work.path() / "filesystem.erofs";
  check_syscall(::mkdir(staging.c_str(), 0755), "cannot create " + staging.string());
  check_syscall(::mkdir(scratch.c_str(), 0700), "cannot create " + scratch.string());

  ImageConfig config = stage_source(options.source, staging, scratch);
  check_cancel(options.cancel);
  Manifest manifest = compose_manifest(config, options, staging);
  check_entrypoint(manifest, staging);
  const std::string manifest_json = manifest_to_json(manifest).dump(2) + "\n";
  write_manifest_into_tree(staging, manifest_json);

  make_erofs(staging, erofs);
  check_cancel(options.cancel);

  UniqueFd fs_fd(::open(erofs.c_str(), O_RDWR | O_CLOEXEC));
  if (!fs_fd) throw SystemError("cannot open the new filesystem", errno);
  struct stat fs_st {};
  check_syscall(::fstat(fs_fd.get(), &fs_st), "cannot stat the new filesystem");
  const uint64_t filesystem_size = static_cast<uint64_t>(fs_st.st_size);
  if (filesystem_size == 0) throw Error("mkfs.erofs produced an empty filesystem");

  VerityParams verity;
  verity.data_offset = align_up(kHeaderAreaSize + manifest_json.size(), kAreaAlignment);
  verity.data_size = align_up(filesystem_size, verity.data_block_size);
  verity.hash_offset = verity.data_offset + verity.data_size;
  verity.salt.resize(kSaltSize);
  random_bytes(verity.salt);
  // Pad the filesystem to whole blocks so the padding is encrypted like the rest.
  check_syscall(::ftruncate(fs_fd.get(), static_cast<off_t>(verity.data_size)), "cannot pad the filesystem");
  const uint64_t hash_size = hash_area_size(verity.data_blocks(), verity.hash_block_size);
  const uint64_t image_size = verity.hash_offset + hash_size;

  AtomicOutputFile out(options.output, 0644);
  check_syscall(::ftruncate(out.fd(), static_cast<off_t>(image_size)), "cannot size " + options.output.string());
  out.write_at({reinterpret_cast<const uint8_t*>(manifest_json.data()), manifest_json.size()}, kHeaderAreaSize);
  if (options.encryption != nullptr) {
    encrypt_xts_plain64(fs_fd.get(), 0, verity.data_size, out.fd(), verity.data_offset,
                        options.encryption->key, options.progress, options.cancel);
  } else {
    copy_area(fs_fd.get(), out.fd(), verity.data_offset, verity.data_size, options.progress, options.cancel);
  }
  fs_fd.reset();

  Sha256Digest root = write_hash_tree(out.fd(), out.fd(), verity, options.progress, options.cancel);
  verity.root_hash.assign(root.begin(), root.end());
  std::array<uint8_t, 16> uuid{};
  random_bytes(uuid);
  VeritySuperblock superblock = make_superblock(verity, uuid);
  out.write_at({reinterpret_cast<const uint8_t*>(&superblock), sizeof superblock}, verity.hash_offset);

  ImageHeader header{};
  std::memcpy(header.magic, kImageMagic.data(), kImageMagic.size());
  header.format_version = kFormatVersion;
  header.header_size = sizeof(ImageHeader);
  header.image_size = image_size;
  header.manifest_offset = kHeaderAreaSize;
  header.manifest_size = manifest_json.size();
  header.data_offset = verity.data_offset;
  header.data_size = verity.data_size;
  header.filesystem_size = filesystem_size;
  header.hash_offset = verity.hash_offset;
  header.hash_size = hash_size;
  header.data_block_size = verity.data_block_size;
  header.hash_block_size = verity.hash_block_size;
  header.hash_algorithm = static_cast<uint32_t>(HashAlgorithm::kSha256);
  if (options.encryption != nullptr) {
    header.encryption = static_cast<uint32_t>(EncryptionKind::kAesXtsPlain64);
    header.encryption_sector_size = kCryptSectorSize;
    std::memcpy(header.key_id, options.encryption->id.data(), kKeyIdSize);
  }
  std::memcpy(header.salt, verity.salt.data(), kSaltSize);
  std::memcpy(header.root_hash, root.data(), kRootHashSize);
  Sha256Digest manifest_digest = sha256({reinterpret_cast<const uint8_t*>(manifest_json.data()), manifest_json.size()});
  std::memcpy(header.manifest_sha256, manifest_digest.data(), manifest_digest.size());
  Sha256Digest checksum = header_checksum(header);
  std::memcpy(header.header_sha256, checksum.data(), checksum.size());
  out.write_at({reinterpret_cast<const uint8_t*>(&header), sizeof header}, 0);

  // Read back what we wrote through the same checks every consumer applies.
  ImageInfo info = read_image(out.temporary_path());
  check_cancel(options.cancel);
  out.commit();
  return info;
}

}  // namespace shelter::images
