#include "images/kernel_cmdline.h"

#include <gtest/gtest.h>

#include "images/error.h"

namespace shelter::images {
namespace {

GuestParams sample() {
  GuestParams p;
  p.verity.data_offset = 4096;
  p.verity.data_size = 8 * 4096;
  p.verity.hash_offset = 12 * 4096;
  p.verity.root_hash = std::vector<uint8_t>(32, 0xab);
  p.verity.salt = {0x01, 0x02, 0xff};
  return p;
}

TEST(KernelCmdline, FormatsTheSameBytesEveryTime) {
  std::string cmdline = format_kernel_cmdline(sample());
  EXPECT_EQ(cmdline, format_kernel_cmdline(sample()));
  EXPECT_EQ(cmdline,
            "console=ttyS0 quiet panic=-1 shelter.verity.alg=sha256 shelter.verity.data_block=4096 "
            "shelter.verity.hash_block=4096 shelter.verity.data_offset=4096 "
            "shelter.verity.data_size=32768 shelter.verity.hash_offset=49152 shelter.verity.root="
            "abababababababababababababababababababababababababababababababab"
            " shelter.verity.salt=0102ff");
}

TEST(KernelCmdline, RoundTripsAmidKernelOptions) {
  std::string cmdline = "BOOT_IMAGE=x " + format_kernel_cmdline(sample()) + " root=/dev/vda\n";
  EXPECT_EQ(parse_kernel_cmdline(cmdline), sample());
}

GuestParams encrypted_sample() {
  GuestParams p = sample();
  p.key_release = KeyReleaseParams{"aes-xts-plain64", "sim", "default/key/0011", std::vector<uint8_t>(32, 0xcd)};
  return p;
}

TEST(KernelCmdline, KeyReleaseParametersRoundTripWithTheAttestationUart) {
  std::string cmdline = format_kernel_cmdline(encrypted_sample());
  EXPECT_NE(cmdline.find(" 8250.nr_uarts=5 "), std::string::npos);
  std::string pin;
  for (int i = 0; i < 32; ++i) pin += "cd";
  EXPECT_NE(cmdline.find(" shelter.crypt=aes-xts-plain64 shelter.tee=sim shelter.kbs.resource=default/key/0011 "
                         "shelter.kbs.pin=" + pin),
            std::string::npos)
      << cmdline;
  EXPECT_EQ(parse_kernel_cmdline(cmdline), encrypted_sample());
  EXPECT_EQ(format_kernel_cmdline(sample()).find("nr_uarts"), std::string::npos);
}

TEST(KernelCmdline, RejectsIncompleteOrMalformedKeyRelease) {
  std::string plain = format_kernel_cmdline(sample());
  std::string pin = " shelter.kbs.pin=" + std::string(64, 'a');
  std::string rest = " shelter.tee=sim shelter.kbs.resource=a/b/c";
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64"), FormatError);
  EXPECT_THROW(parse_kernel_cmdline(plain + rest + pin), FormatError);
  EXPECT_NO_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64" + rest + pin));
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-cbc-essiv" + rest + pin), FormatError);
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64 shelter.tee=sev shelter.kbs.resource=a/b/c" + pin),
               FormatError);
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64 shelter.tee=sim shelter.kbs.resource=a/b" + pin),
               FormatError);
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64 shelter.tee=sim shelter.kbs.resource=a/b/c?" + pin),
               FormatError);
  EXPECT_THROW(parse_kernel_cmdline(plain + " shelter.crypt=aes-xts-plain64" + rest + " shelter.kbs.pin=abcd"), FormatError);
}

TEST(KernelCmdline, RejectsParametersDmVerityWouldRefuse) {
  auto expect_rejected = [](auto mutate) {
    GuestParams p = sample();
    mutate(p.verity);
    EXPECT_THROW(format_kernel_cmdline(p), FormatError);
  };
  expect_rejected([](VerityParams& v) { v.algorithm = "md5"; });
  expect_rejected([](VerityParams& v) { v.data_block_size = 3000; });
  expect_rejected([](VerityParams& v) { v.hash_block_size = 8192; });
  expect_rejected([](VerityParams& v) { v.data_size = 0; });
  expect_rejected([](VerityParams& v) { v.data_size = 4097; });
  expect_rejected([](VerityParams& v) { v.data_offset = 100; });
  expect_rejected([](VerityParams& v) { v.hash_offset = 4096 * 3; });  // inside the data area
  expect_rejected([](VerityParams& v) { v.hash_offset = 4096 * 12 + 1; });
  expect_rejected([](VerityParams& v) { v.root_hash.pop_back(); });
  expect_rejected([](VerityParams& v) { v.salt.clear(); });
  expect_rejected([](VerityParams& v) { v.salt.assign(257, 1); });
  expect_rejected([](VerityParams& v) { v.data_offset = UINT64_MAX - 511; });
}

TEST(KernelCmdline, RejectsCorruptedText) {
  const std::string good = format_kernel_cmdline(sample());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  for (const std::string& bad : {
           replaced("data_offset=4096", "data_offset=04096"),
           replaced("data_offset=4096", "data_offset=+4096"),
           replaced("data_offset=4096", "data_offset=4096x"),
           replaced("data_offset=4096", "data_offset="),
           replaced("data_offset=4096", "data_offset=99999999999999999999999"),
           replaced("data_block=4096", "data_block=4294971392"),
           replaced("salt=0102ff", "salt=0102f"),
           replaced("salt=0102ff", "salt=zz"),
           replaced("shelter.verity.salt=0102ff", "shelter.verity.salt"),
           replaced("shelter.verity.alg=sha256", ""),
           good + " shelter.verity.alg=sha256",
           good + " shelter.unknown=1",
           good + " " + std::string(4096, 'x'),
       }) {
    EXPECT_THROW(parse_kernel_cmdline(bad), FormatError) << bad;
  }
  EXPECT_THROW(parse_kernel_cmdline(""), FormatError);
  // Every truncation of the shelter part fails or parses to something valid.
  for (size_t n = 0; n < good.size(); ++n) {
    try {
      GuestParams p = parse_kernel_cmdline(good.substr(0, n));
      EXPECT_NO_THROW(format_kernel_cmdline(p));
    } catch (const FormatError&) {
    }
  }
}

}  // namespace
}  // namespace shelter::images
