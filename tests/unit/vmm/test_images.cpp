#include "tests/unit/vmm/test_images.h"

#include <elf.h>

#include <cstring>

#include "vmm/arch/x86_64/start_info.h"

namespace shelter::vmm::testing {

std::vector<uint8_t> make_bzimage(const BzImageSpec& spec) {
  size_t setup_bytes = (size_t{spec.setup_sects == 0 ? 4u : spec.setup_sects} + 1) * 512;
  std::vector<uint8_t> file(setup_bytes + spec.kernel_bytes);
  x86_64::SetupHeader h{};
  h.setup_sects = spec.setup_sects;
  h.syssize = spec.kernel_bytes / 16;
  h.boot_flag = x86_64::kBootFlag;
  h.jump = static_cast<uint16_t>(0xeb | ((0x26c - 0x202) << 8));  // jmp past the header
  h.header = x86_64::kHeaderMagic;
  h.version = spec.version;
  h.loadflags = spec.loadflags;
  h.code32_start = 0x100000;
  h.initrd_addr_max = spec.initrd_addr_max;
  h.kernel_alignment = spec.kernel_alignment;
  h.relocatable_kernel = 1;
  h.xloadflags = spec.xloadflags;
  h.cmdline_size = spec.cmdline_size;
  h.pref_address = spec.pref_address;
  h.init_size = spec.init_size;
  std::memcpy(file.data() + 0x1f1, &h, sizeof h);
  for (uint32_t i = 0; i < spec.kernel_bytes; ++i) file[setup_bytes + i] = static_cast<uint8_t>(i * 7);
  return file;
}

std::vector<uint8_t> make_elf(const ElfSpec& spec) {
  // Layout: ELF header, two program headers, the note, the segment data.
  constexpr size_t phoff = sizeof(Elf64_Ehdr);
  constexpr size_t note_offset = phoff + 2 * sizeof(Elf64_Phdr);
  constexpr size_t note_size = sizeof(Elf64_Nhdr) + 4 + 4;
  constexpr size_t data_offset = 0x1000;
  std::vector<uint8_t> file(data_offset + spec.file_bytes);

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = spec.entry;
  eh.e_phoff = phoff;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = spec.pvh_entry ? 2 : 1;
  std::memcpy(file.data(), &eh, sizeof eh);

  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_flags = PF_R | PF_X;
  load.p_offset = data_offset;
  load.p_vaddr = spec.load_address;
  load.p_paddr = spec.load_address;
  load.p_filesz = spec.file_bytes;
  load.p_memsz = spec.memory_bytes;
  load.p_align = 0x1000;
  std::memcpy(file.data() + phoff, &load, sizeof load);

  if (spec.pvh_entry) {
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = note_offset;
    note.p_filesz = note_size;
    note.p_align = 4;
    std::memcpy(file.data() + phoff + sizeof(Elf64_Phdr), &note, sizeof note);
    Elf64_Nhdr nh{4, 4, x86_64::kXenElfNotePhys32Entry};
    std::memcpy(file.data() + note_offset, &nh, sizeof nh);
    std::memcpy(file.data() + note_offset + sizeof nh, "Xen", 4);
    std::memcpy(file.data() + note_offset + sizeof nh + 4, &*spec.pvh_entry, 4);
  }
  for (uint64_t i = 0; i < spec.file_bytes; ++i) file[data_offset + i] = static_cast<uint8_t>(i ^ 0x5a);
  return file;
}

}  // namespace shelter::vmm::testing
