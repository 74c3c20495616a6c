// RTMR replay over crypto-agile event logs built here, event by event.
#include <gtest/gtest.h>

#include <cstring>

#include "attest/crypto.h"
#include "attest/error.h"
#include "attest/tdx/event_log.h"
#include "attest/tdx/verify.h"
#include "tests/unit/attest/test_pki.h"

namespace shelter::attest::tdx {
namespace {

class LogBuilder {
 public:
  // algorithms: (TCG algorithm id, digest size)
  explicit LogBuilder(std::vector<std::pair<uint16_t, uint16_t>> algorithms) : algorithms_(std::move(algorithms)) {
    std::vector<uint8_t> spec(16, 0);
    std::memcpy(spec.data(), "Spec ID Event03", 15);
    spec.resize(24, 0);
    put32(spec, static_cast<uint32_t>(algorithms_.size()));
    for (auto [id, size] : algorithms_) {
      put16(spec, id);
      put16(spec, size);
    }
    spec.push_back(0);  // vendor info size
    put32(bytes_, 0);
    put32(bytes_, 3);  // EV_NO_ACTION
    bytes_.resize(bytes_.size() + 20, 0);
    put32(bytes_, static_cast<uint32_t>(spec.size()));
    bytes_.insert(bytes_.end(), spec.begin(), spec.end());
  }

  // Logs an event whose SHA-384 digest is sha384(data) (other algorithms get filler).
  Sha384Digest add(uint32_t index, uint32_t type, const std::string& data) {
    Sha384Digest digest = sha384(std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    put32(bytes_, index);
    put32(bytes_, type);
    put32(bytes_, static_cast<uint32_t>(algorithms_.size()));
    for (auto [id, size] : algorithms_) {
      put16(bytes_, id);
      if (id == 0x000C) {
        bytes_.insert(bytes_.end(), digest.begin(), digest.end());
      } else {
        bytes_.resize(bytes_.size() + size, 0x5A);
      }
    }
    put32(bytes_, static_cast<uint32_t>(data.size()));
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return digest;
  }

  std::vector<uint8_t> finish(size_t padding) {
    auto out = bytes_;
    out.resize(out.size() + padding, 0xFF);
    return out;
  }

 private:
  static void put16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(static_cast<uint8_t>(x));
    v.push_back(static_cast<uint8_t>(x >> 8));
  }
  static void put32(std::vector<uint8_t>& v, uint32_t x) {
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
  }
  std::vector<std::pair<uint16_t, uint16_t>> algorithms_;
  std::vector<uint8_t> bytes_;
};

Sha384Digest extend(const Sha384Digest& rtmr, const Sha384Digest& digest) {
  std::vector<uint8_t> buffer(rtmr.begin(), rtmr.end());
  buffer.insert(buffer.end(), digest.begin(), digest.end());
  return sha384(buffer);
}

TEST(TdxEventLog, ReplaysEachRegisterFromItsEventsInOrder) {
  LogBuilder log({{0x0004, 20}, {0x000C, 48}});  // SHA-1 and SHA-384, as firmware logs them
  auto a = log.add(1, 0x80000001, "firmware variable");
  auto b = log.add(1, 0x80000003, "boot services application");
  log.add(2, 0x3, "no action: not extended");
  auto c = log.add(3, 0xD, "kernel command line");
  RtmrReplay replay = replay_rtmrs(log.finish(512));
  EXPECT_EQ(replay.extended_events, 3u);
  EXPECT_EQ(replay.rtmrs[0], extend(extend(Sha384Digest{}, a), b));
  EXPECT_EQ(replay.rtmrs[1], Sha384Digest{});
  EXPECT_EQ(replay.rtmrs[2], extend(Sha384Digest{}, c));
  EXPECT_EQ(replay.rtmrs[3], Sha384Digest{});
}

TEST(TdxEventLog, MalformedLogsAreRefused) {
  LogBuilder log({{0x000C, 48}});
  log.add(1, 0x80000001, "x");
  auto good = log.finish(0);
  EXPECT_NO_THROW(replay_rtmrs(good));
  for (size_t length : {0ul, 10ul, 40ul, good.size() - 1}) {
    EXPECT_THROW(replay_rtmrs(std::span(good).first(length)), EvidenceError) << length;
  }
  LogBuilder sha256_only({{0x000B, 32}});
  EXPECT_THROW(replay_rtmrs(sha256_only.finish(0)), EvidenceError);
  LogBuilder bad_index({{0x000C, 48}});
  bad_index.add(7, 0x1, "x");
  EXPECT_THROW(replay_rtmrs(bad_index.finish(0)), EvidenceError);
}

TEST(TdxEventLog, QuoteWhoseRtmrsTheLogDoesNotReproduceIsRejected) {
  SHELTER_REQUIRE_VECTORS();
  LogBuilder log({{0x000C, 48}});
  log.add(1, 0x80000001, "not what this TD measured");
  Evidence evidence;
  evidence.quote = testing::read_vector("tdx/tdx_prod_quote_SPR_E4.dat");
  evidence.event_log = log.finish(0);
  Verdict verdict = verify(evidence, TdxPolicy{}, *parse_rfc3339("2023-07-01T00:00:00Z"));
  EXPECT_FALSE(verdict.accepted);
  EXPECT_EQ(verdict.reason, "event log does not reproduce RTMR0");
}

}  // namespace
}  // namespace shelter::attest::tdx
