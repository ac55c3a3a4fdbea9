// UdpDatapath over real sockets on 127.0.0.1 (ephemeral ports): addressing and peer ids, batching,
// GSO/GRO splitting, DSCP/ECN, errors, pcap, and whole Endpoints driven by the generic Driver, with
// and without 5 % loss from the FaultShim. Every wait has a deadline; times are printed.
#include "weft/transport/udp_datapath.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/baselines/udp_baselines.h"
#include "transport/driver/asio_driver.h"
#include "weft/transport/config.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"

namespace weft::transport {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;

UdpOptions loopback_options() {
  UdpOptions o;
  o.bind = "127.0.0.1:0";
  return o;
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> v(size);
  for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<std::uint8_t>(i * 131 + seed * 7 + (i >> 8));
  return v;
}

// A received frame, copied out of the datapath's pool.
struct Got {
  std::vector<std::uint8_t> bytes;
  NodeId peer = 0;
  bool ce = false;
};

// Receives until `count` frames arrived or `timeout` passed; `burst` is the rx_burst span size.
std::vector<Got> receive(UdpDatapath& dp, std::size_t count, TimeNs timeout = 2 * kSecond, std::size_t burst = 32) {
  std::vector<Got> got;
  std::vector<RxFrame> rx(burst);
  const TimeNs deadline = monotonic_now_ns() + timeout;
  while (got.size() < count && monotonic_now_ns() < deadline) {
    const std::size_t n = dp.rx_burst(rx);
    for (std::size_t i = 0; i < n; ++i) got.push_back({{rx[i].bytes.begin(), rx[i].bytes.end()}, rx[i].peer, rx[i].ce});
    if (n == 0) {
      pollfd p{dp.wait_fd(), POLLIN, 0};
      (void)::poll(&p, 1, 10);
    }
  }
  return got;
}

// Sends every frame, retrying what the datapath refuses (bounded).
void send_all(Datapath& dp, std::span<const TxFrame> frames) {
  std::size_t done = 0;
  const TimeNs deadline = monotonic_now_ns() + 2 * kSecond;
  while (done < frames.size() && monotonic_now_ns() < deadline) done += dp.tx_burst(frames.subspan(done));
  ASSERT_EQ(done, frames.size()) << "the datapath kept refusing frames for 2 s";
}

TEST(UdpAddress, ParsesGoodInputs) {
  std::string error;
  auto a = parse_udp_address("udp://127.0.0.1:7000", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->ip, 0x7F000001u);
  EXPECT_EQ(a->port, 7000);
  a = parse_udp_address("10.1.2.3:0", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->ip, 0x0A010203u);
  EXPECT_EQ(a->port, 0);
  a = parse_udp_address("localhost:65535", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->ip, 0x7F000001u);
  EXPECT_EQ(a->port, 65535);
  EXPECT_EQ(format_udp_address(*a), "127.0.0.1:65535");
}

TEST(UdpAddress, RejectsBadInputsWithClearErrors) {
  struct Case {
    const char* text;
    const char* expect;  // a piece of the error message
  };
  const Case cases[] = {
      {"127.0.0.1", "missing ':PORT'"},
      {"udp://127.0.0.1:", "bad port ''"},
      {"127.0.0.1:70000", "bad port '70000'"},
      {"127.0.0.1:7x", "bad port '7x'"},
      {"127.0.0.1:-1", "bad port '-1'"},
      {"300.0.0.1:7000", "bad host '300.0.0.1'"},
      {":7000", "bad host ''"},
      {"example.com:7000", "bad host 'example.com'"},
      {"tcp://127.0.0.1:7000", "bad host 'tcp"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_udp_address(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.expect), std::string::npos) << c.text << " -> " << error;
    EXPECT_NE(error.find(c.text), std::string::npos) << "the error names the input: " << error;
  }
}

TEST(UdpDatapath, PortInUseNamesThePort) {
  UdpDatapath a(loopback_options());
  UdpOptions o = loopback_options();
  o.bind = format_udp_address(a.local_address());
  try {
    UdpDatapath b(o);
    FAIL() << "binding " << o.bind << " twice succeeded";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    std::printf("error: %s\n", what.c_str());
    EXPECT_NE(what.find(o.bind + ": "), std::string::npos) << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
  }
  o.bind = "127.0.0.1:port";
  EXPECT_THROW(UdpDatapath bad(o), std::runtime_error);
}

TEST(UdpDatapath, RoundTripAndPeerIds) {
  UdpDatapath a(loopback_options()), b(loopback_options()), c(loopback_options());
  std::printf("%s | %s\n", a.describe().c_str(), b.describe().c_str());
  EXPECT_NE(a.local_address().port, 0);
  const NodeId b_at_a = a.add_peer(b.local_address());
  EXPECT_EQ(b_at_a, 1u);
  EXPECT_EQ(a.add_peer(b.local_address()), 1u) << "the same address keeps its id";
  const auto ping = pattern(100, 1);
  const TxFrame f{ping, b_at_a, Vc::kData, 0};
  send_all(a, {&f, 1});
  auto got = receive(b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, ping);
  EXPECT_EQ(got[0].peer, 1u) << "first unknown source gets id 1";
  ASSERT_TRUE(b.peer_address(1));
  EXPECT_EQ(b.peer_address(1)->port, a.local_address().port);
  EXPECT_FALSE(b.peer_address(2));

  // The reply goes back to the auto-assigned id.
  const auto pong = pattern(200, 2);
  const TxFrame r{pong, got[0].peer, Vc::kData, 0};
  send_all(b, {&r, 1});
  got = receive(a, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, pong);
  EXPECT_EQ(got[0].peer, b_at_a);

  // A second unknown source gets the next id.
  const NodeId b_at_c = c.add_peer(b.local_address());
  const TxFrame g{ping, b_at_c, Vc::kData, 0};
  send_all(c, {&g, 1});
  got = receive(b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].peer, 2u);
  EXPECT_EQ(b.peer_address(2)->port, c.local_address().port);
  EXPECT_EQ(a.send_errors() + b.send_errors() + c.send_errors(), 0u);
}

TEST(UdpDatapath, UnknownPeerIsCountedNotSilent) {
  UdpDatapath a(loopback_options());
  const auto bytes = pattern(10, 3);
  const TxFrame f{bytes, 42, Vc::kData, 0};
  EXPECT_EQ(a.tx_burst({&f, 1}), 1u);
  EXPECT_EQ(a.send_errors(), 1u);
  EXPECT_EQ(a.datagrams_sent(), 0u);
}

// 100 frames of different sizes in one burst (no GSO runs): all arrive, in order, intact.
TEST(UdpDatapath, BurstOfHundredFrames) {
  UdpDatapath a(loopback_options()), b(loopback_options());
  const NodeId to_b = a.add_peer(b.local_address());
  std::vector<std::vector<std::uint8_t>> payloads;
  std::vector<TxFrame> frames;
  for (std::uint32_t i = 0; i < 100; ++i) payloads.push_back(pattern(100 + i * 37, i));
  for (const auto& p : payloads) frames.push_back({p, to_b, Vc::kData, 0});
  const TimeNs t0 = monotonic_now_ns();
  send_all(a, frames);
  auto got = receive(b, 100);
  std::printf("100 frames in %.1f us\n", static_cast<double>(monotonic_now_ns() - t0) / 1e3);
  ASSERT_EQ(got.size(), 100u);
  for (std::size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(got[i].bytes, payloads[i]) << "frame " << i;
    EXPECT_EQ(got[i].peer, 1u);
  }
  EXPECT_EQ(a.datagrams_sent(), 100u);
  EXPECT_EQ(b.datagrams_received(), 100u);
}

// Runs of equal-size frames go out as GSO sends and come back split into the original frames,
// through GRO (when the receiver has it) or the kernel's own segmentation (when it does not).
// A short rx span exercises frames left over from one receive handed out by the next calls.
void gso_round_trip(bool receiver_gro, std::size_t rx_span) {
  UdpDatapath a(loopback_options());
  UdpOptions ob = loopback_options();
  ob.gro = receiver_gro;
  ob.gro_adaptive = false;  // GRO on from the start, so the run arrives coalesced
  UdpDatapath b(ob);
  std::printf("sender %s, receiver %s, rx span %zu\n", a.describe().c_str(), b.describe().c_str(), rx_span);
  const NodeId to_b = a.add_peer(b.local_address());
  std::vector<std::vector<std::uint8_t>> payloads;
  // 150 frames of 1400 B (GSO runs of 46 = 65507 / 1400), one of 300 B closing the run,
  // 20 jumbo 8972 B (runs of 7), one 1 B frame.
  for (std::uint32_t i = 0; i < 150; ++i) payloads.push_back(pattern(1400, i));
  payloads.push_back(pattern(300, 1000));
  for (std::uint32_t i = 0; i < 20; ++i) payloads.push_back(pattern(8972, 2000 + i));
  payloads.push_back(pattern(1, 3000));
  std::vector<TxFrame> frames;
  for (const auto& p : payloads) frames.push_back({p, to_b, Vc::kData, 0});
  const TimeNs t0 = monotonic_now_ns();
  send_all(a, frames);
  auto got = receive(b, payloads.size(), 2 * kSecond, rx_span);
  std::printf("%zu frames in %.1f us: %llu GSO sends, %llu GRO receives\n", got.size(),
              static_cast<double>(monotonic_now_ns() - t0) / 1e3, static_cast<unsigned long long>(a.gso_sends()),
              static_cast<unsigned long long>(b.gro_receives()));
  ASSERT_EQ(got.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_EQ(got[i].bytes, payloads[i]) << "frame " << i << " (sizes " << got[i].bytes.size() << " vs "
                                         << payloads[i].size() << ")";
  }
  EXPECT_EQ(a.datagrams_sent(), payloads.size());
  EXPECT_EQ(b.datagrams_received(), payloads.size());
  EXPECT_EQ(b.receive_drops(), 0u);
  if (a.gso_enabled()) {
    EXPECT_GT(a.gso_sends(), 0u);
    EXPECT_LT(a.gso_sends(), payloads.size() / 4) << "runs of equal frames should be few sends";
  } else {
    std::printf("UDP GSO unsupported by this kernel: the fallback path was tested instead\n");
  }
}

TEST(UdpDatapath, GsoRunsArriveSplitWithGro) { gso_round_trip(true, 32); }
TEST(UdpDatapath, GsoRunsArriveSplitWithoutGro) { gso_round_trip(false, 32); }
TEST(UdpDatapath, GroLeftoversHandedOutAcrossCalls) { gso_round_trip(true, 3); }

// Adaptive GRO: off while datagrams arrive one at a time (a GRO socket costs small datagrams
// latency), on once a burst queues up, off again after a long run of lone datagrams; every frame
// arrives intact throughout.
TEST(UdpDatapath, AdaptiveGroFollowsTheLoad) {
  UdpDatapath a(loopback_options()), b(loopback_options());
  const NodeId to_b = a.add_peer(b.local_address());
  const std::vector<std::uint8_t> small = pattern(64, 1);
  const TxFrame one{small, to_b, Vc::kData, 0};
  auto ping = [&](int count) {
    for (int i = 0; i < count; ++i) {
      send_all(a, {&one, 1});
      auto got = receive(b, 1);
      ASSERT_EQ(got.size(), 1u);
      ASSERT_EQ(got[0].bytes, small);
    }
  };
  ping(10);
  if (b.gro_switches() == 0 && !b.gro_enabled()) {
    // The kernel has no UDP_GRO: nothing adapts; the path without it is tested elsewhere.
    std::printf("UDP GRO unsupported by this kernel: adaptive GRO stays off\n");
  }
  EXPECT_FALSE(b.gro_enabled()) << "lone datagrams: GRO stays off";
  // A burst: 64 jumbo frames sent as GSO runs before the receiver looks.
  std::vector<std::vector<std::uint8_t>> bulk;
  for (std::uint32_t i = 0; i < 64; ++i) bulk.push_back(pattern(8972, 100 + i));
  std::vector<TxFrame> frames;
  for (const auto& p : bulk) frames.push_back({p, to_b, Vc::kData, 0});
  const bool gro_possible = b.describe().find("gro adaptive") != std::string::npos;
  send_all(a, frames);
  auto got = receive(b, bulk.size());
  ASSERT_EQ(got.size(), bulk.size());
  for (std::size_t i = 0; i < bulk.size(); ++i) ASSERT_EQ(got[i].bytes, bulk[i]) << "frame " << i;
  if (gro_possible) {
    EXPECT_TRUE(b.gro_enabled()) << "a queue of 64 datagrams turns GRO on";
  }
  ping(1100);
  EXPECT_FALSE(b.gro_enabled()) << "1024 lone datagrams in a row turn GRO off again";
  if (gro_possible) {
    EXPECT_EQ(b.gro_switches(), 2u);
  }
  EXPECT_EQ(b.receive_drops(), 0u);
}

TEST(UdpDatapath, GsoOffSendsOneDatagramPerFrame) {
  UdpOptions oa = loopback_options();
  oa.gso = false;
  UdpDatapath a(oa), b(loopback_options());
  EXPECT_FALSE(a.gso_enabled());
  const NodeId to_b = a.add_peer(b.local_address());
  std::vector<std::vector<std::uint8_t>> payloads(40, pattern(1000, 5));
  std::vector<TxFrame> frames;
  for (const auto& p : payloads) frames.push_back({p, to_b, Vc::kData, 0});
  send_all(a, frames);
  EXPECT_EQ(a.gso_sends(), 0u);
  EXPECT_EQ(receive(b, 40).size(), 40u);
}

TEST(UdpDatapath, DscpPerVcAndEcnCapable) {
  UdpDatapath a(loopback_options()), b(loopback_options());
  const NodeId to_b = a.add_peer(b.local_address());
  const auto bytes = pattern(64, 9);
  for (Vc vc : {Vc::kReqLo, Vc::kReqHi, Vc::kData}) {
    const TxFrame f{bytes, to_b, vc, 0};
    send_all(a, {&f, 1});
    auto got = receive(b, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0].ce);
    EXPECT_EQ(b.last_rx_tos(), udp_tos_for_vc(vc)) << "vc " << vc_name(vc);
    EXPECT_EQ(b.last_rx_tos() & kEcnMask, kEcnEct0);
  }
  EXPECT_EQ(udp_tos_for_vc(Vc::kReqLo) >> 2, 8);
  EXPECT_EQ(udp_tos_for_vc(Vc::kReqHi) >> 2, 40);
  EXPECT_EQ(udp_tos_for_vc(Vc::kData) >> 2, 34);
}

// A datagram marked CE (sent from a plain socket with TOS ...11) is reported as ce.
TEST(UdpDatapath, CeMarkIsReported) {
  UdpDatapath b(loopback_options());
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  const int tos = 34 << 2 | kEcnCe;
  ASSERT_EQ(::setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos), 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(b.local_address().port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const char msg[] = "congested";
  ASSERT_EQ(::sendto(fd, msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(sizeof msg));
  auto got = receive(b, 1);
  ::close(fd);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].ce);
  EXPECT_EQ(b.last_rx_tos(), tos);
}

TEST(UdpDatapath, PcapRecordsSentAndReceived) {
  const std::string path = ::testing::TempDir() + "udp_datapath_test.pcap";
  UdpDatapath a(loopback_options()), b(loopback_options());
  const NodeId to_b = a.add_peer(b.local_address());
  {
    PcapWriter pcap(path);
    a.set_pcap(&pcap);
    b.set_pcap(&pcap);
    std::vector<std::vector<std::uint8_t>> payloads(10, pattern(500, 1));
    std::vector<TxFrame> frames;
    for (const auto& p : payloads) frames.push_back({p, to_b, Vc::kData, 0});
    send_all(a, frames);
    EXPECT_EQ(receive(b, 10).size(), 10u);
    EXPECT_EQ(pcap.packets(), 20u);
    a.set_pcap(nullptr);
    b.set_pcap(nullptr);
  }
  const auto packets = read_pcap(path);
  ASSERT_EQ(packets.size(), 20u);
  // Ethernet (14) + IPv4 (20) + UDP (8) + payload; the IPv4 TOS byte carries the VC's DSCP + ECT(0).
  EXPECT_EQ(packets[0].data.size(), 14u + 20 + 8 + 500);
  EXPECT_EQ(packets[0].data[15], udp_tos_for_vc(Vc::kData));
  std::remove(path.c_str());
}

// --- whole endpoints over UDP -------------------------------------------------------------------

struct Node {
  Node(NodeId id, std::uint64_t seed, double loss)
      : udp(loopback_options()), shim(udp, FaultShim::Faults{loss, 0, 0, 0}, seed), endpoint(config(id, seed)),
        driver(endpoint, loss > 0 ? static_cast<Datapath&>(shim) : static_cast<Datapath&>(udp)) {}
  static EndpointConfig config(NodeId id, std::uint64_t seed) {
    EndpointConfig c;
    c.encapsulation = wire::Encapsulation::kUdp;
    c.node_id = id;
    c.rng_seed = seed;
    // The core counts a partly reassembled message against recv_buffer_bytes, so a message larger
    // than the receive buffer can never complete (NACK_FULL forever). Room for the 16 MiB message:
    c.recv_buffer_bytes = 32u << 20;
    return c;
  }
  UdpDatapath udp;
  FaultShim shim;
  Endpoint endpoint;
  Driver driver;
  std::vector<Event> events;
};

// Steps both drivers until `done` holds or `timeout` passes; collects events. Returns false on timeout.
bool pump(Node& a, Node& b, const std::function<bool()>& done, TimeNs timeout) {
  const TimeNs deadline = monotonic_now_ns() + timeout;
  while (!done()) {
    if (monotonic_now_ns() > deadline) return false;
    a.driver.step(0);
    b.driver.step(0);
    while (auto ev = a.endpoint.poll_event()) a.events.push_back(std::move(*ev));
    while (auto ev = b.endpoint.poll_event()) b.events.push_back(std::move(*ev));
  }
  return true;
}

bool has(const Node& n, EventKind kind) {
  for (const Event& e : n.events) {
    if (e.kind == kind) return true;
  }
  return false;
}

std::string errors_of(const Node& n) {
  std::string s = "[" + n.udp.describe() + ": sent " + std::to_string(n.udp.datagrams_sent()) + " received " +
                  std::to_string(n.udp.datagrams_received()) + " send errors " + std::to_string(n.udp.send_errors()) +
                  " rx drops " + std::to_string(n.udp.receive_drops()) + " tx refused " +
                  std::to_string(n.driver.tx_refused()) + " endpoint drops " +
                  std::to_string(n.endpoint.stats().drops_total()) + "] ";
  for (NodeId peer = 1; peer <= 2; ++peer) {
    if (auto info = n.endpoint.link_info(peer, Vc::kData)) {
      s += "link " + std::to_string(peer) + ": state " + std::string(link_state_name(info->state)) + " cwnd " +
           std::to_string(info->cwnd_bytes) + " in flight " + std::to_string(info->bytes_in_flight) + " queued " +
           std::to_string(info->send_queue_bytes) + " retransmits " + std::to_string(info->stats.retransmits) +
           " rto " + std::to_string(info->rto_ns) + " srtt " + std::to_string(info->srtt_ns) + " delivered " +
           std::to_string(info->stats.bytes_delivered) + "; ";
    }
  }
  for (int r = 0; r < static_cast<int>(DropReason::kCount); ++r) {
    if (n.endpoint.stats().drops[r] != 0) {
      s += std::string(drop_reason_name(static_cast<DropReason>(r))) + " " + std::to_string(n.endpoint.stats().drops[r]) + "; ";
    }
  }
  for (int r = 0; r < wire::kDecodeErrorCount; ++r) {
    if (n.endpoint.stats().decode_errors[r] != 0) {
      s += "decode error " + std::to_string(r) + ": " + std::to_string(n.endpoint.stats().decode_errors[r]) + "; ";
    }
  }
  s += " next_timer in " + std::to_string(n.endpoint.next_timer() - monotonic_now_ns()) + " ns; ";
  for (const Event& e : n.events) {
    if (e.kind == EventKind::kError) s += std::string(error_name(e.error)) + ": " + e.detail + "; ";
  }
  return s;
}

void endpoint_transfer(double loss, std::uint64_t seed) {
  std::printf("seed %llu, loss %.2f\n", static_cast<unsigned long long>(seed), loss);
  Node a(1, seed, loss), b(2, seed + 1, loss);
  const NodeId b_at_a = a.udp.add_peer(b.udp.local_address());
  TimeNs t = monotonic_now_ns();
  ASSERT_TRUE(a.endpoint.open(b_at_a, Vc::kData, monotonic_now_ns()).ok());
  ASSERT_TRUE(pump(a, b, [&] { return has(a, EventKind::kOpened) || has(a, EventKind::kError); }, 5 * kSecond))
      << "open timed out";
  ASSERT_TRUE(has(a, EventKind::kOpened)) << errors_of(a);
  std::printf("open: %.1f us\n", static_cast<double>(monotonic_now_ns() - t) / 1e3);

  std::size_t messages = 0;
  for (std::size_t size : {std::size_t{1}, std::size_t{100'000}, std::size_t{16u << 20}}) {
    const auto message = pattern(size, static_cast<std::uint32_t>(size));
    t = monotonic_now_ns();
    ASSERT_TRUE(a.endpoint.send(b_at_a, Vc::kData, message, t).ok());
    ++messages;
    auto arrived = [&] {
      std::size_t n = 0;
      for (const Event& e : b.events) n += e.kind == EventKind::kMessage ? 1 : 0;
      return n == messages || has(a, EventKind::kError) || has(b, EventKind::kError);
    };
    ASSERT_TRUE(pump(a, b, arrived, 30 * kSecond)) << size << " B message not delivered in 30 s: A " << errors_of(a) << "\nB " << errors_of(b);
    ASSERT_FALSE(has(a, EventKind::kError) || has(b, EventKind::kError)) << errors_of(a) << errors_of(b);
    const double us = static_cast<double>(monotonic_now_ns() - t) / 1e3;
    const Event& got = b.events.back();
    ASSERT_EQ(got.kind, EventKind::kMessage);
    EXPECT_EQ(got.peer, 1u) << "B names A by the id its datapath assigned";
    ASSERT_EQ(got.message.size(), size);
    EXPECT_TRUE(got.message == message) << size << " B message corrupted";
    std::printf("%9zu B message: %10.1f us  (%.2f Gb/s, one thread driving both endpoints)\n", size, us,
                static_cast<double>(size) * 8 / us * 1e-3);
  }
  t = monotonic_now_ns();
  ASSERT_TRUE(a.endpoint.close(b_at_a, Vc::kData, t).ok());
  ASSERT_TRUE(pump(a, b, [&] { return has(a, EventKind::kClosed) && has(b, EventKind::kClosed); }, 10 * kSecond))
      << "close timed out: " << errors_of(a) << errors_of(b);
  std::printf("close: %.1f us; A sent %llu datagrams (%llu GSO sends, %llu send errors), B received %llu; "
              "dropped by the shim: %llu / %llu\n",
              static_cast<double>(monotonic_now_ns() - t) / 1e3, static_cast<unsigned long long>(a.udp.datagrams_sent()),
              static_cast<unsigned long long>(a.udp.gso_sends()), static_cast<unsigned long long>(a.udp.send_errors()),
              static_cast<unsigned long long>(b.udp.datagrams_received()),
              static_cast<unsigned long long>(a.shim.dropped()), static_cast<unsigned long long>(b.shim.dropped()));
  EXPECT_EQ(a.udp.send_errors() + b.udp.send_errors(), 0u);
  if (loss > 0) {
    EXPECT_GT(a.shim.dropped() + b.shim.dropped(), 0u);
  }
}

TEST(UdpEndpoint, MessagesOverUdp) { endpoint_transfer(0.0, 1); }
TEST(UdpEndpoint, MessagesOverUdpWithFivePercentLoss) { endpoint_transfer(0.05, 7); }

// Two endpoints on two threads, each with its own AsioDriver (io_context wait, steady_timer at
// next_timer()): messages of 1 B, 100 kB and 16 MiB arrive intact, then both sides close.
TEST(UdpEndpoint, AsioDriverOnTwoThreads) {
  UdpDatapath udp_a(loopback_options()), udp_b(loopback_options());
  Endpoint a(Node::config(1, 11)), b(Node::config(2, 12));
  const std::vector<std::size_t> sizes = {1, 100'000, 16u << 20};
  std::vector<std::vector<std::uint8_t>> received;
  bool b_closed = false;
  std::string b_error;
  std::uint64_t b_wakeups = 0;
  std::thread responder([&] {
    AsioDriver driver(b, udp_b);
    driver.run_until(monotonic_now_ns() + 30 * kSecond, [&](Event& e) {
      if (e.kind == EventKind::kMessage) received.push_back(std::move(e.message));
      if (e.kind == EventKind::kError) b_error = e.detail;
      b_closed = e.kind == EventKind::kClosed;
      return b_closed || e.kind == EventKind::kError;
    });
    b_wakeups = driver.wakeups();
  });
  struct Joiner {  // a failed ASSERT below still joins (the responder stops by its own deadline)
    std::thread& thread;
    ~Joiner() {
      if (thread.joinable()) thread.join();
    }
  } joiner{responder};
  AsioDriver driver(a, udp_a);
  const NodeId to_b = udp_a.add_peer(udp_b.local_address());
  const TimeNs t0 = monotonic_now_ns();
  ASSERT_TRUE(a.open(to_b, Vc::kData, t0).ok());
  std::size_t total = 0;
  for (std::size_t size : sizes) {
    ASSERT_TRUE(a.send(to_b, Vc::kData, pattern(size, static_cast<std::uint32_t>(size)), t0).ok());
    total += size;
  }
  ASSERT_TRUE(a.close(to_b, Vc::kData, t0).ok());
  std::string a_error;
  const bool done = driver.run_until(t0 + 30 * kSecond, [&](Event& e) {
    if (e.kind == EventKind::kError) a_error = e.detail;
    return e.kind == EventKind::kClosed || e.kind == EventKind::kError;
  });
  const TimeNs t1 = monotonic_now_ns();
  responder.join();
  ASSERT_TRUE(b_closed || !b_error.empty()) << "B did not close within 30 s";
  ASSERT_TRUE(done) << "A did not close within 30 s";
  ASSERT_TRUE(a_error.empty() && b_error.empty()) << "A: " << a_error << " B: " << b_error;
  ASSERT_EQ(received.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_TRUE(received[i] == pattern(sizes[i], static_cast<std::uint32_t>(sizes[i]))) << "message " << i;
  }
  std::printf("open + %zu B + close in %.1f ms (%.2f Gb/s); A woke %llu times, B %llu; A sent %llu datagrams "
              "(%llu GSO sends)\n",
              total, static_cast<double>(t1 - t0) / 1e6, static_cast<double>(total) * 8 / static_cast<double>(t1 - t0),
              static_cast<unsigned long long>(driver.wakeups()), static_cast<unsigned long long>(b_wakeups),
              static_cast<unsigned long long>(udp_a.datagrams_sent()), static_cast<unsigned long long>(udp_a.gso_sends()));
}

// The baselines run (briefly) and return sane numbers; the figures are printed, not asserted.
TEST(UdpBaselines, RunBriefly) {
  bench::UdpBlastOptions blast;
  blast.duration_s = 0.3;
  const auto b = bench::udp_blast(blast);
  ASSERT_TRUE(b.ok) << b.error;
  std::printf("raw UDP blast %zu B (gso %d x%zu, gro %d): %.1f Gb/s, %.3f Mpps, loss %.4f\n", blast.datagram_bytes,
              b.gso, b.segments_per_send, b.gro, b.gbps, b.mpps, b.loss);
  EXPECT_GT(b.gbps, 0.1);
  for (bool busy : {false, true}) {
    bench::PingPongOptions pp;
    pp.busy_poll = busy;
    pp.iterations = 2000;
    pp.warmup = 100;
    const auto r = bench::udp_ping_pong(pp);
    ASSERT_TRUE(r.ok) << r.error;
    std::printf("raw UDP ping-pong 64 B %s: p50 %.2f us, p99 %.2f us\n", busy ? "busy-poll" : "blocking", r.p50_us,
                r.p99_us);
    EXPECT_GT(r.p50_us, 0);
  }
  bench::TcpStreamOptions tcp;
  tcp.duration_s = 0.3;
  const auto t = bench::tcp_stream(tcp);
  ASSERT_TRUE(t.ok) << t.error;
  std::printf("kernel TCP 128 KiB writes: %.1f Gb/s\n", t.gbps);
  EXPECT_GT(t.gbps, 0.1);
}

}  // namespace
}  // namespace weft::transport
