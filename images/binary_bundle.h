#pragma once
// `shelter build --add-binary PATH`: a host program and everything the
// dynamic loader loads for it, copied into the image at the same paths, so
// that small images need no base image.
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace shelter::images {

// The PT_INTERP of an ELF64 little-endian executable; nullopt for a static
// one. Throws Error when elf is not such an executable or is malformed.
std::optional<std::string> elf_interpreter(std::span<const uint8_t> elf, const std::string& name);

// The host files program needs at run time, as absolute paths in the order
// the loader reports them: the program, then its libraries and interpreter.
// Asks the program's own loader (`INTERP --list PROGRAM`, which does not run
// the program); a library it cannot find is an Error.
std::vector<std::filesystem::path> program_closure(const std::filesystem::path& program);

// Copies program_closure(program) into staging at the same absolute paths,
// replacing what is there and following the tree's own directory symlinks
// (as in merged-/usr images) without leaving it.
void add_binary(const std::filesystem::path& program, const std::filesystem::path& staging);

}  // namespace shelter::images
