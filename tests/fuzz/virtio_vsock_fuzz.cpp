// libFuzzer target: virtio-vsock's packet parser and connection state
// machine. Fuzz input becomes transmit packets (headers with fields the
// input chooses, optionally steered to the right CIDs, a valid type and op),
// receive buffers of any size, and CONNECT lines from a host client; a host
// program listens on port 1024 so guest connections can succeed.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "common/unique_fd.h"
#include "tests/fuzz/virtio_fuzz_chains.h"
#include "vmm/virtio/vsock.h"

using namespace shelter;
using namespace shelter::vmm;

namespace {

constexpr uint64_t kGuestCid = 3;

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

// The device and the host program listening on port 1024, for the whole run.
struct Host {
  Host() {
    std::string pattern = (std::filesystem::temp_directory_path() / "shelter-vsock-fuzz-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    uds = dir + "/v.sock";
    device = std::make_unique<virtio::VsockDevice>(kGuestCid, uds);
    device->start([](const std::string&) { std::abort(); });  // never: no filters are armed here
    listener.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_un address = address_of(uds + "_1024");
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener.get(), 64) != 0)
      __builtin_trap();
  }
  ~Host() {
    device.reset();
    listener.reset();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::string uds;
  std::unique_ptr<virtio::VsockDevice> device;
  UniqueFd listener;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memory::GuestMemory& guest = virtio::testing::fuzz_guest_memory();
  static Host h;
  virtio::testing::FuzzInput input(std::span(data, size));
  virtio::testing::TestDriver rx(guest, 32, 0x100000);
  virtio::testing::TestDriver tx(guest, 32, 0x200000);
  virtio::testing::TestDriver events(guest, 4, 0x300000, 0x1000);
  virtio::testing::RecordingSignals signals;
  h.device->activate(virtio::Activation{
      &guest, virtio::kCommonDeviceFeatures, {rx.config(), tx.config(), events.config()}, &signals});

  uint8_t mode = input.byte();
  UniqueFd client;
  if (mode & 1) {
    client.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address = address_of(h.uds);
    if (::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      std::vector<uint8_t> line = input.bytes(input.byte() % 48);
      [[maybe_unused]] ssize_t n = ::send(client.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
  }
  virtio::testing::add_fuzzed_chains(rx, input, 8);
  h.device->queue_notify(virtio::kVsockRxQueue);

  for (int packet = 0; packet < 24 && !input.empty(); ++packet) {
    uint8_t steer = input.byte();
    virtio::VsockHeader header;
    std::vector<uint8_t> raw = input.bytes(sizeof header);
    raw.resize(sizeof header);
    std::memcpy(&header, raw.data(), sizeof header);
    if (steer & 1) header.src_cid = kGuestCid, header.dst_cid = virtio::kVsockHostCid;
    if (steer & 2) header.type = virtio::kVsockTypeStream;
    if (steer & 4) header.op = static_cast<uint16_t>(1 + header.op % 7);
    if (steer & 8) header.dst_port = 1024;
    std::vector<uint8_t> payload = input.bytes(input.byte());
    if (steer & 16) header.len = static_cast<uint32_t>(payload.size());
    const auto* bytes = reinterpret_cast<const uint8_t*>(&header);
    // Header and payload in one buffer or two.
    std::vector<uint8_t> first(bytes, bytes + sizeof header);
    std::vector<virtio::testing::Buffer> chain;
    if (steer & 32) {
      first.insert(first.end(), payload.begin(), payload.end());
      chain.push_back(virtio::testing::Buffer::in(first));
    } else {
      chain.push_back(virtio::testing::Buffer::in(first));
      if (!payload.empty()) chain.push_back(virtio::testing::Buffer::in(payload));
    }
    try {
      tx.add_chain(chain, (steer & 64) != 0);
    } catch (const std::runtime_error&) {
      break;
    }
    h.device->queue_notify(virtio::kVsockTxQueue);
    if (steer & 128) {
      virtio::testing::add_fuzzed_chains(rx, input, 2);
      h.device->queue_notify(virtio::kVsockRxQueue);
    }
  }
  h.device->reset();
  // Drop whatever the guest's connections left in the listener's queue.
  while (UniqueFd(::accept4(h.listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC))) {
  }
  return 0;
}
