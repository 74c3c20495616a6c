#pragma once
// virtio-vsock (virtio 1.2, section 5.10), stream sockets only, bridged to
// host Unix sockets the way Firecracker's hybrid vsock is:
//
// - The guest connects to host port P: the device connects to the Unix
//   socket "<uds_path>_P" and answers RESPONSE, or RST when nobody listens.
//   A jailed VMM connects as its unprivileged user, so that socket must be
//   writable by it; when it is not, the first refusal is logged as a
//   warning (later ones at debug level: the guest chooses when to retry).
// - A host program connects to the Unix socket <uds_path>, sends
//   "CONNECT <port>\n" and, once the guest's listener on that port accepts,
//   reads "OK <local port>\n"; the socket then carries the stream.
//
// Threading: one mutex guards all of the device's state (queues,
// connections, pending packets). Two threads take it: whoever calls the
// VirtioDevice methods (a vCPU or the transport's notifier) and the
// device's own event thread, which waits in epoll on the listening socket,
// every connection's socket and a stop eventfd, and then, holding the
// mutex, reads sockets into the receive queue. Every socket is
// non-blocking, so nobody blocks while holding the mutex. The destructor
// writes the eventfd and joins the thread.
//
// Bounds against a hostile guest: at most kVsockMaxConnections
// connections, kVsockBufferSize bytes buffered per connection (the credit
// the device advertises, so a guest that sends more is reset), at most
// kVsockMaxPendingControl replies waiting for receive buffers (the transmit
// queue is not read further until they drain). Packets with the wrong
// CIDs or a short header are dropped; a bad type, op or length is answered
// with RST.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio {

inline constexpr uint64_t kVsockFeatureStream = uint64_t{1} << 0;
inline constexpr uint64_t kVsockHostCid = 2;
inline constexpr uint16_t kVsockRxQueue = 0;
inline constexpr uint16_t kVsockTxQueue = 1;
inline constexpr uint16_t kVsockEventQueue = 2;
inline constexpr uint16_t kVsockQueueSize = 256;

inline constexpr uint16_t kVsockTypeStream = 1;
enum class VsockOp : uint16_t {
  kRequest = 1,
  kResponse = 2,
  kRst = 3,
  kShutdown = 4,
  kRw = 5,
  kCreditUpdate = 6,
  kCreditRequest = 7,
};
inline constexpr uint32_t kVsockShutdownReceive = 1;
inline constexpr uint32_t kVsockShutdownSend = 2;

inline constexpr uint32_t kVsockBufferSize = 256 * 1024;
inline constexpr uint32_t kVsockMaxPayload = 64 * 1024;
inline constexpr size_t kVsockMaxConnections = 64;
inline constexpr size_t kVsockMaxPendingControl = 256;
inline constexpr uint32_t kVsockFirstLocalPort = uint32_t{1} << 30;
inline constexpr size_t kVsockMaxConnectLine = 32;

// struct virtio_vsock_hdr.
struct __attribute__((packed)) VsockHeader {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
};
static_assert(sizeof(VsockHeader) == 44);
static_assert(offsetof(VsockHeader, dst_cid) == 8 && offsetof(VsockHeader, src_port) == 16 &&
              offsetof(VsockHeader, dst_port) == 20 && offsetof(VsockHeader, len) == 24 &&
              offsetof(VsockHeader, type) == 28 && offsetof(VsockHeader, op) == 30 &&
              offsetof(VsockHeader, flags) == 32 && offsetof(VsockHeader, buf_alloc) == 36 &&
              offsetof(VsockHeader, fwd_cnt) == 40);

// struct virtio_vsock_config.
struct __attribute__((packed)) VsockConfig {
  uint64_t guest_cid;
};
static_assert(sizeof(VsockConfig) == 8);

class VsockDevice final : public VirtioDevice {
 public:
  // Listens on uds_path (which must not exist yet); host clients wait in
  // the listen backlog until start() starts the event thread. Throws
  // VmmError naming the path.
  VsockDevice(uint64_t guest_cid, std::string uds_path);
  // Stops the event thread, closes every socket and removes uds_path.
  ~VsockDevice() override;
  VsockDevice(const VsockDevice&) = delete;
  VsockDevice& operator=(const VsockDevice&) = delete;

  void start(std::function<void(const std::string&)> on_thread_failure) override;
  uint32_t device_id() const override { return kDeviceIdVsock; }
  uint64_t device_features() const override { return kCommonDeviceFeatures | kVsockFeatureStream; }
  std::vector<uint16_t> queue_max_sizes() const override {
    return {kVsockQueueSize, kVsockQueueSize, kVsockQueueSize};
  }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;
  void activate(Activation activation) override;
  void queue_notify(uint16_t queue) override;
  void reset() override;

 private:
  // local: the host side's port; peer: the guest's.
  struct Key {
    uint32_t local_port;
    uint32_t peer_port;
    auto operator<=>(const Key&) const = default;
  };
  enum class State {
    kAwaitingResponse,  // a host client's CONNECT, REQUEST sent to the guest
    kEstablished,
  };
  struct Connection {
    UniqueFd socket;
    State state = State::kEstablished;
    bool readable = true;        // the socket may have bytes (edge-triggered epoll)
    bool host_eof = false;       // the host side closed; SHUTDOWN sent
    bool guest_sent_all = false;  // the guest will send no more
    std::vector<uint8_t> to_host;  // guest bytes the socket has not taken yet
    uint32_t fwd_cnt = 0;          // guest bytes handed to the socket
    uint32_t last_fwd_cnt_sent = 0;
    uint32_t rx_cnt = 0;  // bytes sent to the guest
    uint32_t peer_buf_alloc = 0;
    uint32_t peer_fwd_cnt = 0;
  };
  struct HostClient {
    UniqueFd socket;
    std::string line;
  };
  struct Control {
    Key key;
    VsockOp op;
    uint32_t flags;
  };

  void run_events();
  void accept_clients();
  void read_connect_line(int fd);
  void on_socket_event(int fd, uint32_t events);

  void process_tx();
  void handle_tx_packet(const DescriptorChain& chain);
  void connect_to_host(const Key& key, const VsockHeader& request);
  void guest_rw(const Key& key, Connection& connection, ChainReader& payload, uint32_t length);
  void flush_to_host(const Key& key, Connection& connection);
  void process_rx();
  bool send_data(const Key& key, Connection& connection, const DescriptorChain& chain);
  std::optional<DescriptorChain> take_rx_buffer();
  VsockHeader header_for(const Key& key, VsockOp op, uint32_t flags, uint32_t length);

  void queue_control(const Key& key, VsockOp op, uint32_t flags = 0);
  void close_connection(const Key& key, bool send_rst);
  void watch(int fd, uint32_t events);
  uint32_t allocate_local_port() const;

  const uint64_t guest_cid_;
  const std::string uds_path_;
  UniqueFd listener_;
  UniqueFd epoll_;
  UniqueFd stop_;

  std::mutex mutex_;
  std::unique_ptr<Queue> rx_, tx_;
  std::optional<DescriptorChain> held_rx_;  // popped, not yet filled
  std::map<Key, Connection> connections_;
  std::map<int, Key> by_fd_;
  std::map<int, HostClient> clients_;  // host clients still sending their CONNECT line
  std::deque<Control> control_;
  std::optional<Key> last_served_;  // round-robin position among readable connections
  bool warned_permission_ = false;  // a host socket refused the VMM's user once already
  std::vector<uint8_t> scratch_;

  std::thread thread_;  // last: start() runs it once everything above exists
};

}  // namespace shelter::vmm::virtio
