// The bzImage and ELF parsers on well-formed, corrupted and truncated input.
#include <gtest/gtest.h>

#include <cstring>
#include <elf.h>

#include "tests/unit/vmm/test_images.h"
#include "vmm/arch/x86_64/kernel_image.h"

namespace shelter::vmm::x86_64 {
namespace {

using testing::BzImageSpec;
using testing::ElfSpec;
using testing::make_bzimage;
using testing::make_elf;

std::string parse_error(const std::vector<uint8_t>& file, bool elf = false) {
  try {
    if (elf) parse_elf(file); else parse_bzimage(file);
  } catch (const KernelFormatError& e) {
    return e.what();
  }
  return "";
}

TEST(BzImage, ParsesAValidImage) {
  auto file = make_bzimage({});
  ASSERT_TRUE(has_bzimage_header(file));
  BzImage image = parse_bzimage(file);
  EXPECT_EQ(image.load_address, 0x1000000u);
  EXPECT_EQ(image.init_size, 0x100000u);
  EXPECT_EQ(image.protected_mode_kernel.size(), 0x1000u);
  EXPECT_EQ(image.protected_mode_kernel.data(), file.data() + 1024);
  EXPECT_EQ(+image.header.version, 0x020f);
  EXPECT_EQ(image.header_length, sizeof(SetupHeader));
}

TEST(BzImage, SetupSectsZeroMeansFour) {
  BzImageSpec spec;
  spec.setup_sects = 0;
  auto file = make_bzimage(spec);
  EXPECT_EQ(parse_bzimage(file).protected_mode_kernel.data(), file.data() + 5 * 512);
}

TEST(BzImage, ExtraBytesAfterSyssizeAreNotLoaded) {
  auto file = make_bzimage({});
  file.resize(file.size() + 100, 0xcc);
  EXPECT_EQ(parse_bzimage(file).protected_mode_kernel.size(), 0x1000u);
}

TEST(BzImage, RejectsFilesWithoutHeader) {
  std::vector<uint8_t> text(4096, 'a');
  EXPECT_FALSE(has_bzimage_header(text));
  EXPECT_NE(parse_error(text).find("no bzImage setup header"), std::string::npos);
  EXPECT_FALSE(has_bzimage_header(std::vector<uint8_t>{}));
}

TEST(BzImage, RejectsOldProtocol) {
  BzImageSpec spec;
  spec.version = 0x020b;
  EXPECT_EQ(parse_error(make_bzimage(spec)), "boot protocol 2.11 is too old (need 2.12 or later)");
}

TEST(BzImage, RejectsKernelWithout64BitEntry) {
  BzImageSpec spec;
  spec.xloadflags = 0;
  EXPECT_EQ(parse_error(make_bzimage(spec)), "no 64-bit entry point (XLF_KERNEL_64 not set)");
}

TEST(BzImage, RejectsZImage) {
  BzImageSpec spec;
  spec.loadflags = 0;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("LOADED_HIGH"), std::string::npos);
}

TEST(BzImage, RejectsBadBootFlag) {
  auto file = make_bzimage({});
  file[0x1fe] = 0;
  EXPECT_NE(parse_error(file).find("boot flag"), std::string::npos);
}

TEST(BzImage, RejectsTruncatedKernel) {
  auto file = make_bzimage({});
  file.resize(file.size() - 1);
  EXPECT_EQ(parse_error(file),
            "truncated: the header declares 4096 bytes of protected-mode kernel, the file has 4095");
  file.resize(1024);
  EXPECT_NE(parse_error(file).find("truncated"), std::string::npos);
  file.resize(0x220);
  EXPECT_NE(parse_error(file).find("truncated"), std::string::npos);
}

TEST(BzImage, RejectsMisalignedOrImpossibleLoadAddress) {
  BzImageSpec spec;
  spec.pref_address = 0x1000100;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("aligned"), std::string::npos);
  spec = {};
  spec.kernel_alignment = 0x300000;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("power of two"), std::string::npos);
  spec = {};
  spec.pref_address = 0x1000;
  spec.kernel_alignment = 0x1000;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("pref_address"), std::string::npos);
  spec = {};
  spec.pref_address = uint64_t{1} << 40;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("above 4 GiB"), std::string::npos);
}

TEST(BzImage, RejectsInitSizeBelowKernelSize) {
  BzImageSpec spec;
  spec.init_size = 0x800;
  EXPECT_NE(parse_error(make_bzimage(spec)).find("init_size"), std::string::npos);
}

TEST(BzImage, EveryTruncationIsRejectedCleanly) {
  auto file = make_bzimage({});
  for (size_t size = 0; size < file.size(); ++size) {
    std::vector<uint8_t> prefix(file.begin(), file.begin() + static_cast<long>(size));
    EXPECT_THROW(parse_bzimage(prefix), KernelFormatError) << size;
  }
}

TEST(BzImage, CorruptedHeaderBytesNeverEscapeTheBuffer) {
  // Any single corrupted header byte either still parses or is rejected
  // with a reason; the sanitizer build checks no read leaves the buffer.
  auto file = make_bzimage({});
  for (size_t offset = 0x1f1; offset < 0x26c; ++offset) {
    for (uint8_t value : {uint8_t{0}, uint8_t{0xff}, uint8_t{0x80}}) {
      auto corrupted = file;
      corrupted[offset] = value;
      try {
        BzImage image = parse_bzimage(corrupted);
        EXPECT_LE(image.protected_mode_kernel.data() + image.protected_mode_kernel.size(),
                  corrupted.data() + corrupted.size());
      } catch (const KernelFormatError&) {
      }
    }
  }
}

TEST(Elf, ParsesPlainElf64) {
  auto file = make_elf({});
  ElfImage image = parse_elf(file);
  EXPECT_EQ(image.entry, 0x1000000u);
  EXPECT_FALSE(image.pvh_entry);
  ASSERT_EQ(image.segments.size(), 1u);
  EXPECT_EQ(image.segments[0].physical_address, 0x1000000u);
  EXPECT_EQ(image.segments[0].data.size(), 0x800u);
  EXPECT_EQ(image.segments[0].memory_size, 0x2000u);
  EXPECT_EQ(image.lowest_address(), 0x1000000u);
  EXPECT_EQ(image.highest_address(), 0x1002000u);
}

TEST(Elf, FindsThePvhNote) {
  ElfSpec spec;
  spec.pvh_entry = 0x1000040;
  EXPECT_EQ(parse_elf(make_elf(spec)).pvh_entry, 0x1000040u);
}

TEST(Elf, RejectsWrongClassMachineAndType) {
  auto file = make_elf({});
  auto bad = file;
  bad[EI_CLASS] = ELFCLASS32;
  EXPECT_EQ(parse_error(bad, true), "not a 64-bit ELF file");
  bad = file;
  bad[offsetof(Elf64_Ehdr, e_machine)] = EM_AARCH64;
  EXPECT_NE(parse_error(bad, true).find("not x86-64"), std::string::npos);
  bad = file;
  bad[offsetof(Elf64_Ehdr, e_type)] = ET_DYN;
  EXPECT_NE(parse_error(bad, true).find("not an executable"), std::string::npos);
  EXPECT_EQ(parse_error(std::vector<uint8_t>(100, 0), true), "no ELF magic");
}

TEST(Elf, RejectsSegmentsOutsideTheFile) {
  ElfSpec spec;
  auto file = make_elf(spec);
  file.resize(file.size() - 1);
  EXPECT_NE(parse_error(file, true).find("runs past the end"), std::string::npos);
}

TEST(Elf, RejectsFileSizeAboveMemorySize) {
  ElfSpec spec;
  spec.memory_bytes = 0x100;
  EXPECT_NE(parse_error(make_elf(spec), true).find("more file bytes"), std::string::npos);
}

TEST(Elf, RejectsNotesRunningPastTheirSegment) {
  ElfSpec spec;
  spec.pvh_entry = 0x1000000;
  auto file = make_elf(spec);
  size_t note_offset = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
  uint32_t huge = 0x7fffffff;
  std::memcpy(file.data() + note_offset + offsetof(Elf64_Nhdr, n_descsz), &huge, 4);
  EXPECT_NE(parse_error(file, true).find("note runs past"), std::string::npos);
}

TEST(Elf, RejectsProgramHeadersPastTheEnd) {
  auto file = make_elf({});
  uint64_t phoff = file.size() - 8;
  std::memcpy(file.data() + offsetof(Elf64_Ehdr, e_phoff), &phoff, 8);
  EXPECT_NE(parse_error(file, true).find("program headers run past"), std::string::npos);
}

TEST(Elf, EveryTruncationOfTheHeadersIsRejectedCleanly) {
  ElfSpec spec;
  spec.pvh_entry = 0x1000000;
  auto file = make_elf(spec);
  for (size_t size = 0; size < 0x1000; ++size) {
    std::vector<uint8_t> prefix(file.begin(), file.begin() + static_cast<long>(size));
    EXPECT_THROW(parse_elf(prefix), KernelFormatError) << size;
  }
}

}  // namespace
}  // namespace shelter::vmm::x86_64
