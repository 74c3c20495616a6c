// Key broker handshake latency and throughput on loopback: full RCAR
// exchanges (auth, simulated evidence, attest, resource) against an
// in-process broker, next to a plain HTTP round trip to the same server as
// the reference floor.
//   kbs_bench [SESSIONS] [THREADS]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "attest/kbs/client.h"
#include "attest/kbs/sim_evidence.h"
#include "attest/sim/simulated_tee.h"
#include "common/hex.h"
#include "runtime/kbs/broker.h"
#include "runtime/kbs/server.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace ak = shelter::attest::kbs;

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int sessions = argc > 1 ? std::atoi(argv[1]) : 500;
  int threads = argc > 2 ? std::atoi(argv[2]) : 8;
  auto dir = std::filesystem::temp_directory_path() / ("kbs-bench-" + std::to_string(::getpid()));
  auto tee = shelter::attest::sim::SimulatedTee::open(dir / "sim");
  std::array<uint8_t, 48> measurement{};
  measurement.fill(0x42);

  shelter::runtime::kbs::BrokerConfig config;
  config.state_dir = dir / "state";
  config.simulated_roots = {tee.root()};
  shelter::runtime::kbs::Broker broker(std::move(config));
  ak::ResourceId id{"default", "key", "bench"};
  std::vector<uint8_t> secret(32, 7);
  broker.store().put_resource(id, secret);
  broker.store().put_policy(id, R"({"allow_simulated":true,"snp":{"measurements":[")" +
                                    shelter::to_hex(measurement) + R"("]}})");
  shelter::runtime::kbs::HttpServer server(broker, static_cast<size_t>(threads) * 2);
  std::string url = "http://127.0.0.1:" + std::to_string(server.bind("127.0.0.1", 0));
  server.start();

  auto handshake = [&] {
    auto transport = ak::make_http_transport(url);
    ak::SimulatedEvidenceProvider evidence(tee, measurement);
    ak::RcarClient client(*transport, evidence);
    if (client.get_resource(id) != secret) throw std::runtime_error("wrong resource");
  };
  auto round_trip = [&] {
    auto transport = ak::make_http_transport(url);
    if (transport->send({"GET", "/kbs/v0/none", "", ""}).status != 404) throw std::runtime_error("no 404");
  };

  // Sequential: latency of one full handshake, and of one plain round trip.
  std::vector<double> handshake_ms, round_trip_ms;
  for (int i = 0; i < sessions; ++i) {
    auto start = Clock::now();
    round_trip();
    round_trip_ms.push_back(ms_since(start));
    start = Clock::now();
    handshake();
    handshake_ms.push_back(ms_since(start));
  }

  // Concurrent: sessions per second with THREADS clients.
  std::atomic<int> next{0}, failed{0};
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < sessions) {
        try {
          handshake();
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  double seconds = ms_since(start) / 1000.0;
  server.stop();
  std::filesystem::remove_all(dir);

  double p50 = percentile(handshake_ms, 0.50), p99 = percentile(handshake_ms, 0.99);
  double rt50 = percentile(round_trip_ms, 0.50), rt99 = percentile(round_trip_ms, 0.99);
  std::printf("sessions: %d sequential, then %d over %d threads (%d failed)\n", sessions, sessions, threads,
              failed.load());
  std::printf("handshake (auth+attest+resource, simulated SNP evidence): p50 %.2f ms  p99 %.2f ms\n", p50, p99);
  std::printf("reference, one plain HTTP round trip to the same server: p50 %.2f ms  p99 %.2f ms\n", rt50, rt99);
  std::printf("ratio handshake/round trip (p50): %.1f\n", p50 / rt50);
  std::printf("throughput: %.0f sessions/s with %d client threads\n", sessions / seconds, threads);
  return failed.load() == 0 ? 0 : 1;
}
