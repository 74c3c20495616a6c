// virtio-vsock's hybrid Unix-socket bridge: a test guest drives the rx and
// tx queues in real guest memory while the test plays the host programs on
// real Unix sockets. The device's event thread works concurrently, so the
// test waits (with a generous bound) for each packet it expects.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "tests/unit/vmm/virtio/test_driver.h"
#include "vmm/kvm/error.h"
#include "vmm/virtio/vsock.h"

namespace shelter::vmm::virtio {
namespace {

using testing::Buffer;
using testing::RecordingSignals;
using testing::TestDriver;

constexpr uint64_t kGuestCid = 3;
constexpr uint32_t kGuestBuffer = 64 * 1024;

struct Packet {
  VsockHeader header;
  std::string payload;
};

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

UniqueFd listen_at(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = address_of(path);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(fd.get(), 4), 0);
  return fd;
}

UniqueFd connect_to(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address = address_of(path);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  return fd;
}

// Blocking reads with a bound, so a broken device fails the test instead of hanging it.
void set_receive_timeout(int fd) {
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

UniqueFd accept_from(int listener) {
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  set_receive_timeout(fd.get());
  return fd;
}

std::string read_exactly(int fd, size_t count) {
  std::string text(count, '\0');
  size_t done = 0;
  while (done < count) {
    ssize_t n = ::recv(fd, text.data() + done, count - done, 0);
    if (n <= 0) break;
    done += size_t(n);
  }
  text.resize(done);
  return text;
}

void write_text(int fd, const std::string& text) {
  ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

class VsockTest : public ::testing::Test {
 protected:
  VsockTest() {
    std::string pattern = (std::filesystem::temp_directory_path() / "shelter-vsock-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    uds_ = dir_ + "/v.sock";
    device_ = std::make_unique<VsockDevice>(kGuestCid, uds_);
    device_->start([](const std::string& message) { ADD_FAILURE() << message; });
    TestDriver events(memory_, 4, 0x380000, 0x1000);
    device_->activate(Activation{&memory_, kCommonDeviceFeatures, {rx_.config(), tx_.config(), events.config()}, &signals_});
    post_rx(16);
  }
  ~VsockTest() override {
    device_.reset();
    std::filesystem::remove_all(dir_);
  }

  void post_rx(int count) {
    for (int i = 0; i < count; ++i) {
      uint16_t head = rx_.add_chain({Buffer::out(sizeof(VsockHeader) + 4096)});
      rx_addresses_[head] = rx_.last_addresses()[0];
    }
    device_->queue_notify(kVsockRxQueue);
  }

  VsockHeader header(VsockOp op, uint32_t src_port, uint32_t dst_port, uint32_t len = 0) {
    VsockHeader h{};
    h.src_cid = kGuestCid;
    h.dst_cid = kVsockHostCid;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.len = len;
    h.type = kVsockTypeStream;
    h.op = static_cast<uint16_t>(op);
    h.buf_alloc = guest_buf_alloc_;
    h.fwd_cnt = guest_fwd_cnt_;
    return h;
  }

  void send(const VsockHeader& h, const std::string& payload = "") {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&h);
    std::vector<Buffer> chain{Buffer::in(std::vector<uint8_t>(bytes, bytes + sizeof h))};
    if (!payload.empty()) chain.push_back(Buffer::in(payload));
    ++tx_sent_;
    tx_.add_chain(chain);
    device_->queue_notify(kVsockTxQueue);
  }

  // The next packet the device puts on the rx queue.
  Packet receive() {
    for (int i = 0; i < 10000 && pending_.empty(); ++i) {
      for (const testing::UsedElement& used : rx_.take_used()) {
        uint64_t address = rx_addresses_.at(static_cast<uint16_t>(used.id));
        std::vector<uint8_t> bytes = rx_.read(address, used.length);
        Packet packet{};
        EXPECT_GE(bytes.size(), sizeof(VsockHeader));
        std::memcpy(&packet.header, bytes.data(), std::min(bytes.size(), sizeof(VsockHeader)));
        if (bytes.size() > sizeof(VsockHeader)) packet.payload.assign(bytes.begin() + sizeof(VsockHeader), bytes.end());
        pending_.push_back(packet);
        post_rx(1);
      }
      if (pending_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (pending_.empty()) {
      ADD_FAILURE() << "no packet from the device";
      return {};
    }
    Packet packet = pending_.front();
    pending_.erase(pending_.begin());
    return packet;
  }

  void expect_packet(const Packet& packet, VsockOp op, uint32_t src_port, uint32_t dst_port) {
    EXPECT_EQ(packet.header.op, static_cast<uint16_t>(op));
    EXPECT_EQ(packet.header.src_cid, kVsockHostCid);
    EXPECT_EQ(packet.header.dst_cid, kGuestCid);
    EXPECT_EQ(packet.header.src_port, src_port);
    EXPECT_EQ(packet.header.dst_port, dst_port);
    EXPECT_EQ(packet.header.type, kVsockTypeStream);
    EXPECT_EQ(packet.header.buf_alloc, kVsockBufferSize);
  }

  // The guest connects from port 5000 to host port 1234, where the test listens.
  UniqueFd establish_guest_connection() {
    listener_ = listen_at(uds_ + "_1234");
    send(header(VsockOp::kRequest, 5000, 1234));
    expect_packet(receive(), VsockOp::kResponse, 1234, 5000);
    return accept_from(listener_.get());
  }

  memory::GuestMemory memory_{memory::MemoryLayout(4 * memory::kMiB)};
  TestDriver rx_{memory_, 64, 0x100000, 0x200000};
  TestDriver tx_{memory_, 64, 0x300000, 0x80000};
  RecordingSignals signals_;
  std::string dir_, uds_;
  std::unique_ptr<VsockDevice> device_;
  UniqueFd listener_;
  std::map<uint16_t, uint64_t> rx_addresses_;
  std::vector<Packet> pending_;
  uint32_t guest_buf_alloc_ = kGuestBuffer;
  uint32_t guest_fwd_cnt_ = 0;
  int tx_sent_ = 0;
};

TEST_F(VsockTest, OffersTheGuestCid) {
  EXPECT_EQ(device_->device_id(), kDeviceIdVsock);
  EXPECT_EQ(device_->queue_max_sizes().size(), 3u);
  uint64_t cid = 0;
  device_->read_config(0, std::span(reinterpret_cast<uint8_t*>(&cid), sizeof cid));
  EXPECT_EQ(cid, kGuestCid);
}

TEST_F(VsockTest, GuestConnectsToAHostSocketAndEchoes) {
  UniqueFd host = establish_guest_connection();
  send(header(VsockOp::kRw, 5000, 1234, 4), "ping");
  EXPECT_EQ(read_exactly(host.get(), 4), "ping");
  write_text(host.get(), "pong");
  Packet reply = receive();
  expect_packet(reply, VsockOp::kRw, 1234, 5000);
  EXPECT_EQ(reply.header.len, 4u);
  EXPECT_EQ(reply.payload, "pong");
  // The guest closes: the device answers RST and the host sees the end.
  VsockHeader shutdown = header(VsockOp::kShutdown, 5000, 1234);
  shutdown.flags = kVsockShutdownReceive | kVsockShutdownSend;
  send(shutdown);
  expect_packet(receive(), VsockOp::kRst, 1234, 5000);
  EXPECT_EQ(read_exactly(host.get(), 1), "");
  EXPECT_EQ(tx_.take_used().size(), size_t(tx_sent_));
  EXPECT_GE(signals_.used_count(kVsockRxQueue), 1u);
}

TEST_F(VsockTest, HostConnectsToAGuestPort) {
  UniqueFd client = connect_to(uds_);
  set_receive_timeout(client.get());
  write_text(client.get(), "CONNECT 52\nearly");
  Packet request = receive();
  EXPECT_EQ(request.header.op, static_cast<uint16_t>(VsockOp::kRequest));
  EXPECT_EQ(request.header.dst_port, 52u);
  uint32_t local_port = request.header.src_port;
  EXPECT_GE(local_port, kVsockFirstLocalPort);
  send(header(VsockOp::kResponse, 52, local_port));
  std::string ok = "OK " + std::to_string(local_port) + "\n";
  EXPECT_EQ(read_exactly(client.get(), ok.size()), ok);
  // Bytes that followed the CONNECT line are the stream's first bytes.
  Packet early = receive();
  expect_packet(early, VsockOp::kRw, local_port, 52);
  EXPECT_EQ(early.payload, "early");
  send(header(VsockOp::kRw, 52, local_port, 10), "hello host");
  EXPECT_EQ(read_exactly(client.get(), 10), "hello host");
  // The host client leaves: the guest is told to shut down.
  client.reset();
  Packet shutdown = receive();
  expect_packet(shutdown, VsockOp::kShutdown, local_port, 52);
  EXPECT_EQ(shutdown.header.flags, kVsockShutdownReceive | kVsockShutdownSend);
}

TEST_F(VsockTest, AConnectionToAPortNobodyListensOnIsReset) {
  send(header(VsockOp::kRequest, 5001, 4321));
  expect_packet(receive(), VsockOp::kRst, 4321, 5001);
}

TEST_F(VsockTest, ABadConnectLineClosesTheClient) {
  UniqueFd client = connect_to(uds_);
  set_receive_timeout(client.get());
  write_text(client.get(), "HELLO 52\n");
  EXPECT_EQ(read_exactly(client.get(), 1), "");
  UniqueFd rambling = connect_to(uds_);
  set_receive_timeout(rambling.get());
  write_text(rambling.get(), std::string(100, 'C'));
  EXPECT_EQ(read_exactly(rambling.get(), 1), "");
}

TEST_F(VsockTest, CreditRequestIsAnsweredWithForwardedCount) {
  UniqueFd host = establish_guest_connection();
  std::string data(100, 'd');
  send(header(VsockOp::kRw, 5000, 1234, 100), data);
  EXPECT_EQ(read_exactly(host.get(), 100), data);
  send(header(VsockOp::kCreditRequest, 5000, 1234));
  Packet update = receive();
  expect_packet(update, VsockOp::kCreditUpdate, 1234, 5000);
  EXPECT_EQ(update.header.fwd_cnt, 100u);
}

TEST_F(VsockTest, HostDataWaitsForTheGuestsCredit) {
  guest_buf_alloc_ = 8;
  UniqueFd host = establish_guest_connection();
  write_text(host.get(), "0123456789abcdefghij");
  Packet first = receive();
  EXPECT_EQ(first.payload, "01234567");
  // Out of credit: a control reply overtakes any further data.
  send(header(VsockOp::kCreditRequest, 5000, 1234));
  expect_packet(receive(), VsockOp::kCreditUpdate, 1234, 5000);
  guest_fwd_cnt_ = 8;
  send(header(VsockOp::kCreditUpdate, 5000, 1234));
  EXPECT_EQ(receive().payload, "89abcdef");
  guest_fwd_cnt_ = 16;
  send(header(VsockOp::kCreditUpdate, 5000, 1234));
  EXPECT_EQ(receive().payload, "ghij");
}

TEST_F(VsockTest, MalformedPacketsAreDroppedOrReset) {
  VsockHeader wrong_cid = header(VsockOp::kRequest, 6000, 4000);
  wrong_cid.src_cid = 7;
  send(wrong_cid);  // dropped: no reply
  VsockHeader wrong_dst = header(VsockOp::kRequest, 6001, 4000);
  wrong_dst.dst_cid = 9;
  send(wrong_dst);  // dropped
  const uint8_t short_header[20] = {};
  tx_.add_chain({Buffer::in(std::vector<uint8_t>(short_header, short_header + 20))});
  ++tx_sent_;
  device_->queue_notify(kVsockTxQueue);  // dropped
  VsockHeader bad_type = header(VsockOp::kRequest, 6002, 4000);
  bad_type.type = 2;
  send(bad_type);
  expect_packet(receive(), VsockOp::kRst, 4000, 6002);
  VsockHeader bad_op = header(VsockOp::kRequest, 6003, 4000);
  bad_op.op = 99;
  send(bad_op);
  expect_packet(receive(), VsockOp::kRst, 4000, 6003);
  send(header(VsockOp::kRw, 6004, 4000, kVsockMaxPayload + 1));
  expect_packet(receive(), VsockOp::kRst, 4000, 6004);
  send(header(VsockOp::kRw, 6005, 4000, 50), "shorter than len");
  expect_packet(receive(), VsockOp::kRst, 4000, 6005);
  send(header(VsockOp::kRw, 6006, 4000, 3), "abc");  // no such connection
  expect_packet(receive(), VsockOp::kRst, 4000, 6006);
  send(header(VsockOp::kRst, 6007, 4000));  // RST for nothing: silence
  send(header(VsockOp::kRequest, 6008, 4001));
  expect_packet(receive(), VsockOp::kRst, 4001, 6008);  // the next reply is this one
  EXPECT_EQ(tx_.take_used().size(), size_t(tx_sent_));
  EXPECT_EQ(signals_.resets_requested, 0);
}

TEST_F(VsockTest, AGuestSendingBeyondItsCreditIsReset) {
  UniqueFd host = establish_guest_connection();  // the host program reads nothing
  // 1 MiB in 64 KiB packets: more than the socket buffer and the 256 KiB
  // the device advertised together.
  uint64_t payload = tx_.allocate(kVsockMaxPayload);
  for (uint16_t i = 0; i < 16; ++i) {
    uint64_t at = tx_.allocate(sizeof(VsockHeader));
    memory_.write_object(at, header(VsockOp::kRw, 5000, 1234, kVsockMaxPayload));
    uint16_t slot = static_cast<uint16_t>(10 + 2 * i);
    tx_.write_descriptor(slot, {at, sizeof(VsockHeader), kDescriptorNext, static_cast<uint16_t>(slot + 1)});
    tx_.write_descriptor(slot + 1, {payload, kVsockMaxPayload, 0, 0});
    tx_.make_available(slot);
  }
  device_->queue_notify(kVsockTxQueue);
  // What the socket took first frees credit: updates may come before the RST.
  Packet packet = receive();
  while (packet.header.op == static_cast<uint16_t>(VsockOp::kCreditUpdate)) packet = receive();
  expect_packet(packet, VsockOp::kRst, 1234, 5000);
  std::string drained;
  char buffer[65536];
  for (ssize_t n; (n = ::recv(host.get(), buffer, sizeof buffer, 0)) > 0;) drained.append(buffer, size_t(n));
  EXPECT_LT(drained.size(), 16u * kVsockMaxPayload);  // the connection ended early
}

TEST_F(VsockTest, ResetClosesTheHostSockets) {
  UniqueFd host = establish_guest_connection();
  device_->reset();
  EXPECT_EQ(read_exactly(host.get(), 1), "");
}

TEST_F(VsockTest, AnExistingSocketPathIsAClearError) {
  try {
    VsockDevice second(kGuestCid, uds_);
    FAIL() << "no error";
  } catch (const VmmError& error) {
    EXPECT_EQ(std::string(error.what()), "vsock socket " + uds_ + ": Address already in use");
  }
}

}  // namespace
}  // namespace shelter::vmm::virtio
