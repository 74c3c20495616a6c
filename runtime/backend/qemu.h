#pragma once
// The QEMU backend: qemu-system-x86_64 with the q35 machine (Debian's 6.1
// kernel finds no PCI on microvm), KVM where the processor has hardware
// virtualisation, TCG otherwise; virtio-blk-pci for the image, four serial
// ports on the launcher's sockets (a fifth, PCI one for attestation), no
// network, no default devices.
#include <string>
#include <vector>

#include "runtime/backend/backend.h"

namespace shelter::backend {

enum class Accelerator { kKvm, kTcg };

// /dev/kvm usable and the processor announcing VMX or SVM.
bool hardware_virtualisation_available();

// The full argument vector (argv[0] included) for the given fds.
std::vector<std::string> qemu_arguments(const launcher::VmConfig& config, Accelerator accelerator,
                                        const launcher::GuestChannelFds& channels);

class QemuBackend : public VmBackend {
 public:
  explicit QemuBackend(Accelerator accelerator) : accelerator_(accelerator) {}
  std::unique_ptr<RunningVm> start(const launcher::VmConfig& config,
                                   const launcher::GuestChannelFds& channels) override;

 private:
  Accelerator accelerator_;
};

}  // namespace shelter::backend
