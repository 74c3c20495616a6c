#pragma once
// Positioned reads and writes that finish the whole request or throw.
#include <cstdint>
#include <span>
#include <string>

namespace shelter::images {

// Reads exactly out.size() bytes at offset; a short file is an Error naming what.
void read_exact_at(int fd, std::span<uint8_t> out, uint64_t offset, const std::string& what);
void write_all_at(int fd, std::span<const uint8_t> bytes, uint64_t offset, const std::string& what);

}  // namespace shelter::images
