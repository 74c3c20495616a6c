#pragma once
// One description of the VM to launch, built once by the launcher and handed
// unchanged to whichever backend runs it.
#include <cstdint>
#include <filesystem>
#include <string>

namespace shelter::launcher {

struct VmConfig {
  std::filesystem::path kernel;
  std::filesystem::path initramfs;
  std::string cmdline;
  std::filesystem::path disk;  // the image, attached read-only as a virtio block device
  uint32_t memory_mib = 512;
  uint32_t cpus = 1;
};

// The host ends of the guest's serial ports, in guest order (ttyS0..ttyS3):
// kernel console, workload stdout, workload stderr, status channel; and,
// for an encrypted image, the attestation channel (ttyS4, a PCI UART).
struct GuestChannelFds {
  int console = -1;
  int stdout_port = -1;
  int stderr_port = -1;
  int status = -1;
  int attestation = -1;  // -1: none
};

}  // namespace shelter::launcher
