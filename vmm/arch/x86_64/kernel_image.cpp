#include "vmm/arch/x86_64/kernel_image.h"

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "vmm/arch/x86_64/start_info.h"

namespace shelter::vmm::x86_64 {
namespace {

constexpr size_t kSetupHeaderOffset = 0x1f1;
constexpr size_t kSectorSize = 512;
constexpr size_t kMaxElfSegments = 64;

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string protocol_text(uint16_t version) {
  return std::to_string(version >> 8) + "." + std::to_string(version & 0xff);
}

bool is_power_of_two(uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

// [offset, offset + size) lies inside a buffer of length total.
bool in_bounds(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

template <typename T>
T read_at(std::span<const uint8_t> bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace

bool has_bzimage_header(std::span<const uint8_t> file) {
  constexpr size_t magic_offset = kSetupHeaderOffset + offsetof(SetupHeader, header);
  return file.size() >= magic_offset + 4 && read_at<uint32_t>(file, magic_offset) == kHeaderMagic;
}

BzImage parse_bzimage(std::span<const uint8_t> file) {
  if (!has_bzimage_header(file)) throw KernelFormatError("no bzImage setup header (HdrS)");
  BzImage image{};
  // The header ends where its jump instruction lands: 0x202 + the jump's byte.
  size_t header_end = std::min<size_t>(0x202 + file[0x201], kSetupHeaderOffset + sizeof(SetupHeader));
  if (header_end > file.size())
    throw KernelFormatError("truncated: the setup header ends at " + hex(header_end) + ", file has " +
                            std::to_string(file.size()) + " bytes");
  image.header_length = header_end - kSetupHeaderOffset;
  std::memcpy(&image.header, file.data() + kSetupHeaderOffset, image.header_length);
  const SetupHeader& h = image.header;

  if (h.boot_flag != kBootFlag) throw KernelFormatError("bad boot flag " + hex(h.boot_flag) + " (expected 0xaa55)");
  if (h.version < kMinimumBootProtocol)
    throw KernelFormatError("boot protocol " + protocol_text(h.version) + " is too old (need 2.12 or later)");
  if (image.header_length < offsetof(SetupHeader, init_size) + sizeof(h.init_size))
    throw KernelFormatError("setup header is too short for protocol " + protocol_text(h.version));
  if ((h.xloadflags & kXlfKernel64) == 0)
    throw KernelFormatError("no 64-bit entry point (XLF_KERNEL_64 not set)");
  if ((h.loadflags & kLoadedHigh) == 0) throw KernelFormatError("not a bzImage (LOADED_HIGH not set)");

  size_t setup_sectors = h.setup_sects == 0 ? 4 : h.setup_sects;
  size_t setup_size = (setup_sectors + 1) * kSectorSize;
  if (setup_size >= file.size())
    throw KernelFormatError("truncated: " + std::to_string(file.size()) + " bytes end inside the " +
                            std::to_string(setup_size) + "-byte setup code");
  image.protected_mode_kernel = file.subspan(setup_size);
  uint64_t declared = uint64_t{h.syssize} * 16;
  if (declared == 0) throw KernelFormatError("syssize is 0");
  if (image.protected_mode_kernel.size() < declared)
    throw KernelFormatError("truncated: the header declares " + std::to_string(declared) +
                            " bytes of protected-mode kernel, the file has " +
                            std::to_string(image.protected_mode_kernel.size()));
  image.protected_mode_kernel = image.protected_mode_kernel.first(declared);
  if (declared <= kEntry64Offset)
    throw KernelFormatError("protected-mode kernel of " + std::to_string(declared) +
                            " bytes has no room for the 64-bit entry at +0x200");

  if (!is_power_of_two(h.kernel_alignment))
    throw KernelFormatError("kernel_alignment " + hex(h.kernel_alignment) + " is not a power of two");
  if (h.pref_address < (uint64_t{1} << 20) || h.pref_address % h.kernel_alignment != 0)
    throw KernelFormatError("pref_address " + hex(h.pref_address) + " is not a load address aligned to " +
                            hex(h.kernel_alignment));
  if (h.pref_address > (uint64_t{1} << 32) - declared)
    throw KernelFormatError("pref_address " + hex(h.pref_address) + " is above 4 GiB");
  if (h.init_size < declared)
    throw KernelFormatError("init_size " + hex(h.init_size) + " is smaller than the kernel (" +
                            hex(declared) + ")");
  image.load_address = h.pref_address;
  image.init_size = h.init_size;
  return image;
}

bool has_elf_magic(std::span<const uint8_t> file) {
  return file.size() >= SELFMAG && std::memcmp(file.data(), ELFMAG, SELFMAG) == 0;
}

uint64_t ElfImage::lowest_address() const {
  uint64_t low = UINT64_MAX;
  for (const ElfSegment& s : segments) low = std::min(low, s.physical_address);
  return low;
}

uint64_t ElfImage::highest_address() const {
  uint64_t high = 0;
  for (const ElfSegment& s : segments) high = std::max(high, s.physical_address + s.memory_size);
  return high;
}

namespace {

// Walks one PT_NOTE segment's notes for Xen's PHYS32_ENTRY.
std::optional<uint32_t> find_pvh_entry(std::span<const uint8_t> notes) {
  uint64_t offset = 0;
  auto align4 = [](uint64_t v) { return (v + 3) & ~uint64_t{3}; };
  while (notes.size() - offset >= sizeof(Elf64_Nhdr)) {
    auto note = read_at<Elf64_Nhdr>(notes, offset);
    offset += sizeof(Elf64_Nhdr);
    uint64_t name_size = align4(note.n_namesz);
    uint64_t desc_size = align4(note.n_descsz);
    if (!in_bounds(offset, name_size, notes.size()) ||
        !in_bounds(offset + name_size, desc_size, notes.size()))
      throw KernelFormatError("ELF note runs past its PT_NOTE segment");
    bool is_xen = note.n_namesz == 4 && std::memcmp(notes.data() + offset, "Xen", 4) == 0;
    if (is_xen && note.n_type == kXenElfNotePhys32Entry) {
      // The descriptor is 4 bytes in Linux, 8 in some builders; the entry is 32-bit.
      if (note.n_descsz != 4 && note.n_descsz != 8)
        throw KernelFormatError("PVH entry note has a " + std::to_string(note.n_descsz) + "-byte descriptor");
      uint64_t entry = note.n_descsz == 4 ? read_at<uint32_t>(notes, offset + name_size)
                                          : read_at<uint64_t>(notes, offset + name_size);
      if (entry > UINT32_MAX) throw KernelFormatError("PVH entry " + hex(entry) + " is above 4 GiB");
      return static_cast<uint32_t>(entry);
    }
    offset += name_size + desc_size;
  }
  return std::nullopt;
}

}  // namespace

ElfImage parse_elf(std::span<const uint8_t> file) {
  if (!has_elf_magic(file)) throw KernelFormatError("no ELF magic");
  if (file.size() < sizeof(Elf64_Ehdr)) throw KernelFormatError("truncated: ELF header");
  auto eh = read_at<Elf64_Ehdr>(file, 0);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) throw KernelFormatError("not a 64-bit ELF file");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) throw KernelFormatError("not a little-endian ELF file");
  if (eh.e_machine != EM_X86_64) throw KernelFormatError("ELF machine " + std::to_string(eh.e_machine) + " is not x86-64");
  if (eh.e_type != ET_EXEC) throw KernelFormatError("ELF type " + std::to_string(eh.e_type) + " is not an executable");
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    throw KernelFormatError("ELF program header size " + std::to_string(eh.e_phentsize) + " is wrong");
  if (eh.e_phnum == 0 || eh.e_phnum > kMaxElfSegments)
    throw KernelFormatError("ELF has " + std::to_string(eh.e_phnum) + " program headers");
  if (!in_bounds(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), file.size()))
    throw KernelFormatError("truncated: ELF program headers run past the end of the file");

  ElfImage image{};
  image.entry = eh.e_entry;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(file, eh.e_phoff + uint64_t{i} * sizeof(Elf64_Phdr));
    if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE) continue;
    if (!in_bounds(ph.p_offset, ph.p_filesz, file.size()))
      throw KernelFormatError("truncated: ELF segment " + std::to_string(i) + " runs past the end of the file");
    std::span<const uint8_t> data = file.subspan(ph.p_offset, ph.p_filesz);
    if (ph.p_type == PT_NOTE) {
      if (auto entry = find_pvh_entry(data)) image.pvh_entry = entry;
      continue;
    }
    if (ph.p_filesz > ph.p_memsz)
      throw KernelFormatError("ELF segment " + std::to_string(i) + " has more file bytes than memory bytes");
    if (ph.p_paddr > UINT64_MAX - ph.p_memsz)
      throw KernelFormatError("ELF segment " + std::to_string(i) + " wraps around the address space");
    if (ph.p_memsz == 0) continue;
    image.segments.push_back({ph.p_paddr, data, ph.p_memsz});
  }
  if (image.segments.empty()) throw KernelFormatError("ELF has no loadable segment");
  return image;
}

}  // namespace shelter::vmm::x86_64
