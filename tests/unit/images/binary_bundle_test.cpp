// --add-binary: the ELF interpreter parser on good and malformed headers,
// and the closure the host loader reports for a real host program.
#include "images/binary_bundle.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "common/error.h"
#include "tests/unit/images/scratch.h"

namespace shelter::images {
namespace {

namespace fs = std::filesystem;

// A minimal ELF64 executable header with one PT_INTERP entry.
std::vector<uint8_t> tiny_elf(const std::string& interpreter) {
  std::vector<uint8_t> elf(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + interpreter.size() + 1, 0);
  Elf64_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_type = ET_DYN;
  h.e_machine = EM_X86_64;
  h.e_phoff = sizeof h;
  h.e_phentsize = sizeof(Elf64_Phdr);
  h.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_INTERP;
  ph.p_offset = sizeof h + sizeof ph;
  ph.p_filesz = interpreter.size() + 1;
  std::memcpy(elf.data(), &h, sizeof h);
  std::memcpy(elf.data() + sizeof h, &ph, sizeof ph);
  std::memcpy(elf.data() + ph.p_offset, interpreter.data(), interpreter.size());
  return elf;
}

TEST(ElfInterpreter, ReadsPtInterp) {
  EXPECT_EQ(elf_interpreter(tiny_elf("/lib64/ld.so"), "t"), "/lib64/ld.so");
}

TEST(ElfInterpreter, RejectsMalformedHeaders) {
  std::vector<uint8_t> good = tiny_elf("/lib64/ld.so");
  EXPECT_THROW(elf_interpreter(std::vector<uint8_t>{'#', '!'}, "t"), Error);
  for (size_t cut : {size_t{4}, size_t{63}, size_t{64}, size_t{100}, good.size() - 1}) {
    std::vector<uint8_t> truncated(good.begin(), good.begin() + static_cast<ptrdiff_t>(cut));
    EXPECT_THROW(elf_interpreter(truncated, "t"), Error) << cut;
  }
  auto mutate = [&](size_t offset, uint8_t value) {
    std::vector<uint8_t> bad = good;
    bad[offset] = value;
    return bad;
  };
  EXPECT_THROW(elf_interpreter(mutate(EI_CLASS, ELFCLASS32), "t"), Error);
  EXPECT_THROW(elf_interpreter(mutate(offsetof(Elf64_Ehdr, e_phoff) + 7, 0x80), "t"), Error);
  EXPECT_THROW(elf_interpreter(mutate(offsetof(Elf64_Ehdr, e_phnum), 200), "t"), Error);
  EXPECT_THROW(elf_interpreter(mutate(sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_filesz) + 6, 1), "t"), Error);
  EXPECT_THROW(elf_interpreter(mutate(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), 'x'), "t"), Error);
}

TEST(ProgramClosure, HostProgramWithItsLibrariesAndLoader) {
  std::vector<fs::path> files = program_closure("true");
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front().filename(), "true");
  bool has_libc = false;
  for (const auto& f : files) {
    EXPECT_TRUE(f.is_absolute()) << f;
    has_libc |= f.filename() == "libc.so.6";
  }
  EXPECT_TRUE(has_libc);
  // The loader is in the closure: the image has to carry it at the PT_INTERP path.
  EXPECT_TRUE(std::any_of(files.begin(), files.end(),
                          [](const fs::path& f) { return f.filename().string().rfind("ld-linux", 0) == 0; }));
}

TEST(ProgramClosure, MissingOrScriptProgramsAreErrors) {
  testing::ScratchDir dir;
  EXPECT_THROW(program_closure(dir / "absent"), Error);
  EXPECT_THROW(program_closure("no-such-program-anywhere"), Error);
  testing::write_text(dir / "script", "#!/bin/sh\n", 0755);
  EXPECT_THROW(program_closure(dir / "script"), Error);
}

TEST(AddBinary, FollowsTheImagesDirectorySymlinks) {
  // A merged-/usr tree: /lib64 is a link to usr/lib64 inside the image.
  testing::ScratchDir dir;
  fs::create_directories(dir / "usr/lib64");
  fs::create_symlink("usr/lib64", dir / "lib64");
  add_binary("true", dir.path());
  for (const auto& file : program_closure("true")) {
    fs::path inside = dir.path() / file.relative_path();
    EXPECT_TRUE(fs::exists(inside)) << inside;
  }
  EXPECT_TRUE(fs::is_symlink(dir / "lib64"));
}

}  // namespace
}  // namespace shelter::images
