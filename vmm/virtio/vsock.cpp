#include "vmm/virtio/vsock.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/error.h"
#include "vmm/virtio/config_space.h"

namespace shelter::vmm::virtio {
namespace {

constexpr uint16_t kMaxOp = static_cast<uint16_t>(VsockOp::kCreditRequest);
// Connection sockets: edge-triggered, each edge recorded in the connection.
constexpr uint32_t kSocketEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

// A sockaddr_un for path; false when the path does not fit.
bool unix_address(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

UniqueFd unix_socket() { return UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)); }

bool send_all(int fd, std::string_view text) {
  ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

VsockDevice::VsockDevice(uint64_t guest_cid, std::string uds_path)
    : guest_cid_(guest_cid), uds_path_(std::move(uds_path)), scratch_(kVsockMaxPayload) {
  if (guest_cid_ <= kVsockHostCid || guest_cid_ >= 0xffffffff)
    throw VmmError("vsock: guest CID " + std::to_string(guest_cid_) + " is reserved");
  sockaddr_un address;
  // Room for the "_<port>" suffix of the sockets guest connections reach.
  if (!unix_address(uds_path_ + "_4294967295", address))
    throw VmmError("vsock socket " + uds_path_ + ": path too long for a Unix socket");
  unix_address(uds_path_, address);
  listener_ = unix_socket();
  if (!listener_ || ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_.get(), 16) != 0)
    throw VmmError("vsock socket " + uds_path_ + ": " + std::strerror(errno));
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!epoll_ || !stop_) {
    int err = errno;
    ::unlink(uds_path_.c_str());
    throw VmmError(std::string("vsock: epoll or eventfd: ") + std::strerror(err));
  }
  watch(listener_.get(), EPOLLIN);
  watch(stop_.get(), EPOLLIN);
}

void VsockDevice::start(std::function<void(const std::string&)> on_thread_failure) {
  if (thread_.joinable()) throw VmmError("vsock: the event thread is already running");
  thread_ = std::thread([this, on_failure = std::move(on_thread_failure)] {
    try {
      jail::enter_thread(jail::ThreadKind::kDevice);
    } catch (const Error& e) {
      on_failure(std::string("vsock event thread: ") + e.what());
      return;
    }
    run_events();
  });
}

VsockDevice::~VsockDevice() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::unlink(uds_path_.c_str());
}

void VsockDevice::watch(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0)
    spdlog::warn("vsock: cannot watch a socket: {}", std::strerror(errno));
}

void VsockDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  read_config_bytes(VsockConfig{guest_cid_}, offset, data);
}

void VsockDevice::write_config(uint64_t, std::span<const uint8_t>) {}

void VsockDevice::activate(Activation activation) {
  std::lock_guard lock(mutex_);
  rx_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(kVsockRxQueue), activation.features,
                                kVsockRxQueue, *activation.signals);
  tx_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(kVsockTxQueue), activation.features,
                                kVsockTxQueue, *activation.signals);
  process_rx();  // host clients may have asked for connections already
}

void VsockDevice::reset() {
  std::lock_guard lock(mutex_);
  held_rx_.reset();
  rx_.reset();
  tx_.reset();
  // The guest's sockets are gone: so are the connections to them.
  connections_.clear();
  by_fd_.clear();
  clients_.clear();
  control_.clear();
  last_served_.reset();
}

void VsockDevice::queue_notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (!rx_) return;
  // New receive buffers may also unblock the transmit queue.
  if (queue == kVsockRxQueue) process_rx();
  if (queue == kVsockRxQueue || queue == kVsockTxQueue) process_tx();
}

// ---- host side (event thread) ----

void VsockDevice::run_events() {
  epoll_event events[32];
  for (;;) {
    int count = ::epoll_wait(epoll_.get(), events, 32, -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      spdlog::error("vsock: epoll_wait: {}", std::strerror(errno));
      return;
    }
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_.get()) return;
      if (fd == listener_.get())
        accept_clients();
      else if (clients_.contains(fd))
        read_connect_line(fd);
      else
        on_socket_event(fd, events[i].events);
    }
    process_rx();
  }
}

void VsockDevice::accept_clients() {
  for (;;) {
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return;
    if (connections_.size() + clients_.size() >= kVsockMaxConnections) {
      spdlog::warn("vsock: connection limit reached; refusing a host client");
      continue;
    }
    int fd = client.get();
    clients_[fd] = HostClient{std::move(client), {}};
    watch(fd, kSocketEvents);
    read_connect_line(fd);
  }
}

void VsockDevice::read_connect_line(int fd) {
  HostClient& client = clients_.at(fd);
  // One byte at a time: whatever follows the line belongs to the stream.
  char c;
  for (;;) {
    ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      clients_.erase(fd);
      return;
    }
    if (c == '\n') break;
    client.line.push_back(c);
    if (client.line.size() > kVsockMaxConnectLine) {
      clients_.erase(fd);
      return;
    }
  }
  uint32_t port = 0;
  std::string_view line = client.line;
  constexpr std::string_view kConnect = "CONNECT ";
  auto [end, error] = line.starts_with(kConnect)
                          ? std::from_chars(line.data() + kConnect.size(), line.data() + line.size(), port)
                          : std::from_chars_result{line.data(), std::errc::invalid_argument};
  if (error != std::errc() || end != line.data() + line.size() || line.size() == kConnect.size()) {
    spdlog::debug("vsock: bad CONNECT line from a host client");
    clients_.erase(fd);
    return;
  }
  Key key{allocate_local_port(), port};
  Connection connection;
  connection.socket = std::move(client.socket);
  connection.state = State::kAwaitingResponse;
  clients_.erase(fd);
  connections_.emplace(key, std::move(connection));
  by_fd_[fd] = key;
  queue_control(key, VsockOp::kRequest);
}

uint32_t VsockDevice::allocate_local_port() const {
  for (uint32_t port = kVsockFirstLocalPort;; ++port) {
    bool used = false;
    for (const auto& [key, connection] : connections_) used = used || key.local_port == port;
    if (!used) return port;
  }
}

void VsockDevice::on_socket_event(int fd, uint32_t events) {
  auto found = by_fd_.find(fd);
  if (found == by_fd_.end()) return;  // closed meanwhile
  Key key = found->second;
  Connection& connection = connections_.at(key);
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) connection.readable = true;
  if (events & EPOLLOUT) flush_to_host(key, connection);
}

// ---- guest to host (transmit queue) ----

void VsockDevice::process_tx() {
  if (!tx_) return;
  while (control_.size() < kVsockMaxPendingControl) {
    std::optional<DescriptorChain> chain = tx_->pop();
    if (!chain) break;
    handle_tx_packet(*chain);
    tx_->push_used(chain->head, 0);
  }
  tx_->signal_used();
  process_rx();
}

void VsockDevice::handle_tx_packet(const DescriptorChain& chain) {
  ChainReader reader(chain);
  VsockHeader header;
  if (reader.read(std::span(reinterpret_cast<uint8_t*>(&header), sizeof header)) != sizeof header) {
    spdlog::debug("vsock: dropped a packet shorter than its header");
    return;
  }
  if (header.src_cid != guest_cid_ || header.dst_cid != kVsockHostCid) {
    spdlog::debug("vsock: dropped a packet from CID {} to CID {}", uint64_t{header.src_cid}, uint64_t{header.dst_cid});
    return;
  }
  Key key{header.dst_port, header.src_port};
  auto op = static_cast<VsockOp>(header.op);
  if (header.type != kVsockTypeStream || header.op == 0 || header.op > kMaxOp || header.len > kVsockMaxPayload ||
      header.len > reader.remaining()) {
    if (op != VsockOp::kRst) close_connection(key, /*send_rst=*/true);
    return;
  }
  auto found = connections_.find(key);
  if (op == VsockOp::kRequest) {
    if (found != connections_.end())
      close_connection(key, true);  // a second REQUEST on a live connection
    else
      connect_to_host(key, header);
    return;
  }
  if (found == connections_.end()) {
    if (op != VsockOp::kRst) queue_control(key, VsockOp::kRst);
    return;
  }
  Connection& connection = found->second;
  connection.peer_buf_alloc = header.buf_alloc;
  connection.peer_fwd_cnt = header.fwd_cnt;
  switch (op) {
    case VsockOp::kResponse:
      if (connection.state != State::kAwaitingResponse ||
          !send_all(connection.socket.get(), "OK " + std::to_string(key.local_port) + "\n")) {
        close_connection(key, true);
        return;
      }
      connection.state = State::kEstablished;
      return;
    case VsockOp::kRst:
      close_connection(key, false);
      return;
    case VsockOp::kShutdown:
      if ((header.flags & kVsockShutdownReceive) && (header.flags & kVsockShutdownSend)) {
        flush_to_host(key, connection);
        close_connection(key, true);  // the guest waits for our RST to finish closing
        return;
      }
      if (header.flags & kVsockShutdownSend) {
        connection.guest_sent_all = true;
        flush_to_host(key, connection);
      }
      return;
    case VsockOp::kRw:
      guest_rw(key, connection, reader, header.len);
      return;
    case VsockOp::kCreditRequest:
      queue_control(key, VsockOp::kCreditUpdate);
      return;
    case VsockOp::kCreditUpdate:  // the new credit is recorded above
    case VsockOp::kRequest:
      return;
  }
}

void VsockDevice::connect_to_host(const Key& key, const VsockHeader& request) {
  if (connections_.size() + clients_.size() >= kVsockMaxConnections) {
    queue_control(key, VsockOp::kRst);
    return;
  }
  sockaddr_un address;
  std::string path = uds_path_ + "_" + std::to_string(key.local_port);
  unix_address(path, address);
  UniqueFd socket = unix_socket();
  if (!socket || ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int error = errno;
    // A host set-up error rather than the guest's doing: say so once, loudly.
    if ((error == EACCES || error == EPERM) && !warned_permission_) {
      warned_permission_ = true;
      spdlog::warn("vsock: guest connection to port {}: {}: {} (the jailed VMM connects as its --jail-uid user, "
                   "which needs write permission on that socket)",
                   key.local_port, path, std::strerror(error));
    } else {
      spdlog::debug("vsock: guest connection to port {}: {}", key.local_port, std::strerror(error));
    }
    queue_control(key, VsockOp::kRst);
    return;
  }
  int fd = socket.get();
  Connection connection;
  connection.socket = std::move(socket);
  connection.peer_buf_alloc = request.buf_alloc;
  connection.peer_fwd_cnt = request.fwd_cnt;
  connections_.emplace(key, std::move(connection));
  by_fd_[fd] = key;
  watch(fd, kSocketEvents);
  queue_control(key, VsockOp::kResponse);
}

void VsockDevice::guest_rw(const Key& key, Connection& connection, ChainReader& payload, uint32_t length) {
  // The guest may send only what the credit we advertised allows.
  if (connection.state != State::kEstablished || connection.guest_sent_all ||
      connection.to_host.size() + length > kVsockBufferSize) {
    close_connection(key, true);
    return;
  }
  for (std::span<uint8_t> part : payload.take(length))
    connection.to_host.insert(connection.to_host.end(), part.begin(), part.end());
  flush_to_host(key, connection);
}

void VsockDevice::flush_to_host(const Key& key, Connection& connection) {
  size_t sent = 0;
  while (sent < connection.to_host.size()) {
    ssize_t n = ::send(connection.socket.get(), connection.to_host.data() + sent, connection.to_host.size() - sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;  // EPOLLOUT brings us back
    if (n <= 0) {
      close_connection(key, true);
      return;
    }
    sent += size_t(n);
  }
  connection.to_host.erase(connection.to_host.begin(), connection.to_host.begin() + static_cast<std::ptrdiff_t>(sent));
  connection.fwd_cnt += static_cast<uint32_t>(sent);
  if (connection.to_host.empty() && connection.guest_sent_all) ::shutdown(connection.socket.get(), SHUT_WR);
  // Tell the guest about freed buffer space before it runs out of credit,
  // once per crossing of half the buffer.
  uint32_t unreported = connection.fwd_cnt - connection.last_fwd_cnt_sent;
  if (sent > 0 && unreported >= kVsockBufferSize / 2 && unreported - sent < kVsockBufferSize / 2)
    queue_control(key, VsockOp::kCreditUpdate);
}

// ---- host to guest (receive queue) ----

VsockHeader VsockDevice::header_for(const Key& key, VsockOp op, uint32_t flags, uint32_t length) {
  VsockHeader header{};
  header.src_cid = kVsockHostCid;
  header.dst_cid = guest_cid_;
  header.src_port = key.local_port;
  header.dst_port = key.peer_port;
  header.len = length;
  header.type = kVsockTypeStream;
  header.op = static_cast<uint16_t>(op);
  header.flags = flags;
  header.buf_alloc = kVsockBufferSize;
  if (auto found = connections_.find(key); found != connections_.end()) {
    header.fwd_cnt = found->second.fwd_cnt;
    found->second.last_fwd_cnt_sent = found->second.fwd_cnt;
  }
  return header;
}

std::optional<DescriptorChain> VsockDevice::take_rx_buffer() {
  while (!held_rx_) {
    std::optional<DescriptorChain> chain = rx_->pop();
    if (!chain) return std::nullopt;
    if (chain->writable_bytes >= sizeof(VsockHeader)) {
      held_rx_ = std::move(chain);
    } else {
      rx_->push_used(chain->head, 0);  // too small for any packet: returned empty
    }
  }
  std::optional<DescriptorChain> chain = std::move(held_rx_);
  held_rx_.reset();
  return chain;
}

void VsockDevice::process_rx() {
  if (!rx_) return;
  for (;;) {
    if (!control_.empty()) {
      std::optional<DescriptorChain> chain = take_rx_buffer();
      if (!chain) break;
      Control control = control_.front();
      control_.pop_front();
      VsockHeader header = header_for(control.key, control.op, control.flags, 0);
      ChainWriter(*chain).write(std::span(reinterpret_cast<const uint8_t*>(&header), sizeof header));
      rx_->push_used(chain->head, sizeof header);
      continue;
    }
    // Data: the next connection, after the last one served, that has bytes
    // for the guest and credit to send them.
    auto next = connections_.end();
    auto it = last_served_ ? connections_.upper_bound(*last_served_) : connections_.begin();
    for (size_t i = 0; i < connections_.size(); ++i, ++it) {
      if (it == connections_.end()) it = connections_.begin();
      const Connection& c = it->second;
      if (c.readable && !c.host_eof && c.state == State::kEstablished &&
          c.rx_cnt - c.peer_fwd_cnt < c.peer_buf_alloc) {
        next = it;
        break;
      }
    }
    if (next == connections_.end()) break;
    std::optional<DescriptorChain> chain = take_rx_buffer();
    if (!chain) break;
    last_served_ = next->first;
    if (!send_data(next->first, next->second, *chain)) held_rx_ = std::move(chain);
  }
  rx_->signal_used();
}

bool VsockDevice::send_data(const Key& key, Connection& connection, const DescriptorChain& chain) {
  uint32_t credit = connection.peer_buf_alloc - (connection.rx_cnt - connection.peer_fwd_cnt);
  size_t room = std::min<uint64_t>({chain.writable_bytes - sizeof(VsockHeader), credit, kVsockMaxPayload});
  if (room == 0) {
    rx_->push_used(chain.head, 0);  // room for a header only: returned empty
    return true;
  }
  ssize_t n = ::recv(connection.socket.get(), scratch_.data(), room, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      connection.readable = false;
    else if (errno != EINTR)
      close_connection(key, true);
    return false;
  }
  VsockHeader header;
  if (n > 0) {
    header = header_for(key, VsockOp::kRw, 0, static_cast<uint32_t>(n));
    connection.rx_cnt += static_cast<uint32_t>(n);
  } else {
    // The host side closed: tell the guest, whose RST then ends the connection.
    header = header_for(key, VsockOp::kShutdown, kVsockShutdownReceive | kVsockShutdownSend, 0);
    connection.host_eof = true;
  }
  ChainWriter writer(chain);
  writer.write(std::span(reinterpret_cast<const uint8_t*>(&header), sizeof header));
  writer.write(std::span(scratch_.data(), size_t(n)));
  rx_->push_used(chain.head, static_cast<uint32_t>(writer.written()));
  return true;
}

void VsockDevice::queue_control(const Key& key, VsockOp op, uint32_t flags) {
  control_.push_back(Control{key, op, flags});
}

void VsockDevice::close_connection(const Key& key, bool send_rst) {
  if (auto found = connections_.find(key); found != connections_.end()) {
    by_fd_.erase(found->second.socket.get());
    connections_.erase(found);  // closing the socket also takes it out of epoll
  }
  if (send_rst) queue_control(key, VsockOp::kRst);
}

}  // namespace shelter::vmm::virtio
