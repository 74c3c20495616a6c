#pragma once
// SEV-SNP evidence through configfs-tsm (Documentation/ABI/testing/
// configfs-tsm): make a report entry under /sys/kernel/config/tsm/report,
// write the REPORT_DATA to inblob, read the report from outblob and the
// certificate table from auxblob, check that no other writer changed the
// entry meanwhile (generation), remove the entry. The file operations sit
// behind TsmFs so that tests replace the kernel with a fake.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attest/kbs/client.h"

namespace shelter::guest {

class TsmFs {
 public:
  virtual ~TsmFs() = default;
  virtual void make_dir(const std::string& path) = 0;
  virtual void remove_dir(const std::string& path) = 0;
  virtual void write(const std::string& path, std::span<const uint8_t> bytes) = 0;
  // Reads at most max_size bytes; throws Error when the file holds more.
  virtual std::vector<uint8_t> read(const std::string& path, size_t max_size) = 0;
};

class KernelTsmFs : public TsmFs {
 public:
  void make_dir(const std::string& path) override;
  void remove_dir(const std::string& path) override;
  void write(const std::string& path, std::span<const uint8_t> bytes) override;
  std::vector<uint8_t> read(const std::string& path, size_t max_size) override;
};

// The SNP certificate table (GHCB extended guest request): entries of GUID
// (16 bytes), offset and length (u32 LE, from the table's start), ended by
// an all-zero entry. Returns the DER certificates VCEK, ASK, ARK; throws
// Error when an entry points outside the table or one of them is missing.
std::vector<std::vector<uint8_t>> parse_snp_cert_table(std::span<const uint8_t> table);

class TsmSnpEvidenceProvider : public attest::kbs::EvidenceProvider {
 public:
  TsmSnpEvidenceProvider(TsmFs& fs, std::string report_root) : fs_(fs), root_(std::move(report_root)) {}
  attest::kbs::Tee tee() const override { return attest::kbs::Tee::kSnp; }
  nlohmann::json evidence(std::span<const uint8_t> report_data) override;

 private:
  TsmFs& fs_;
  std::string root_;
};

}  // namespace shelter::guest
