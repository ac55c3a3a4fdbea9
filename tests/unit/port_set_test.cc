// PortSet: several ports as one datapath. Three nodes in a triangle of MemoryDatapath links, each
// node one Endpoint over a PortSet of its two ports; plus routing, push-back and unrouted frames
// on a single PortSet with recording ports.
#include "weft/transport/port_set.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "weft/transport/memory_datapath.h"
#include "weft/transport/scenario.h"

namespace weft::transport {
namespace {

// A port that records what it was given and accepts at most `room` frames per call.
class RecordingPort final : public Datapath {
 public:
  explicit RecordingPort(std::size_t room = 1000) : room_(room) {}
  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kEthernet; }
  std::size_t max_frame_bytes() const override { return 9000; }
  std::size_t tx_burst(std::span<const TxFrame> frames) override {
    const std::size_t n = std::min(room_, frames.size());
    for (std::size_t i = 0; i < n; ++i) peers.push_back(frames[i].peer);
    return n;
  }
  std::size_t rx_burst(std::span<RxFrame>) override { return 0; }
  std::string describe() const override { return "recording"; }
  std::vector<NodeId> peers;
  std::size_t room_;
};

TEST(PortSet, RoutesEachFrameByPeerAndKeepsOrderOnPushBack) {
  RecordingPort a, b(2);
  PortSet ps;
  const int port_a = ps.add_port(a), port_b = ps.add_port(b);
  ps.route(7, port_a);
  ps.route(8, port_b);
  std::array<std::uint8_t, 64> bytes{};
  std::vector<TxFrame> frames;
  for (NodeId peer : {7u, 7u, 8u, 8u, 8u, 9u, 7u}) frames.push_back(TxFrame{bytes, peer});
  // 7,7 -> a; 8,8 accepted by b, the third 8 refused: the PortSet stops there, in order.
  EXPECT_EQ(ps.tx_burst(frames), 4u);
  EXPECT_EQ(a.peers, (std::vector<NodeId>{7, 7}));
  EXPECT_EQ(b.peers, (std::vector<NodeId>{8, 8}));
  // The rest: the last 8 (b has room again), 9 (no route: dropped and counted), 7.
  EXPECT_EQ(ps.tx_burst(std::span<const TxFrame>(frames).subspan(4)), 3u);
  EXPECT_EQ(b.peers, (std::vector<NodeId>{8, 8, 8}));
  EXPECT_EQ(a.peers, (std::vector<NodeId>{7, 7, 7}));
  EXPECT_EQ(ps.unrouted(), 1u);
  EXPECT_THROW(ps.route(1, 5), std::out_of_range);
  EXPECT_EQ(ps.wait_fd(), -1) << "two ports: poll them";
}

// Node i's port toward node j is one end of the link {i, j}. Node 1 sends to 2 and 3, node 2 to
// 3: every message arrives, intact, at the right node, over its own link.
TEST(PortSet, ThreeNodesTalkOverTheirOwnLinks) {
  auto l12 = MemoryDatapath::make_pair(), l13 = MemoryDatapath::make_pair(), l23 = MemoryDatapath::make_pair();
  std::array<PortSet, 3> ps;
  ps[0].route(2, ps[0].add_port(*l12.first));
  ps[0].route(3, ps[0].add_port(*l13.first));
  ps[1].route(1, ps[1].add_port(*l12.second));
  ps[1].route(3, ps[1].add_port(*l23.first));
  ps[2].route(1, ps[2].add_port(*l13.second));
  ps[2].route(2, ps[2].add_port(*l23.second));
  std::vector<std::unique_ptr<Endpoint>> eps;
  std::vector<std::unique_ptr<Driver>> drivers;
  for (int i = 0; i < 3; ++i) {
    EndpointConfig c;
    c.node_id = static_cast<NodeId>(i + 1);
    eps.push_back(std::make_unique<Endpoint>(c));
    drivers.push_back(std::make_unique<Driver>(*eps.back(), ps[static_cast<std::size_t>(i)]));
  }
  constexpr int kMessages = 20;
  std::vector<std::uint8_t> msg;
  const std::array<std::pair<int, NodeId>, 3> flows = {{{0, 2}, {0, 3}, {1, 3}}};
  for (auto [from, to] : flows) {
    ASSERT_TRUE(eps[static_cast<std::size_t>(from)]->open(to, Vc::kData, monotonic_now_ns()).ok());
    for (int m = 0; m < kMessages; ++m) {
      sim::fill_message(to * 10 + static_cast<std::uint64_t>(from), static_cast<std::uint64_t>(m), msg, 20000);
      ASSERT_TRUE(eps[static_cast<std::size_t>(from)]->send(to, Vc::kData, msg, monotonic_now_ns()).ok());
    }
  }
  std::array<std::array<int, 4>, 4> got{};  // got[receiver node][sender node]
  int bad = 0;
  const TimeNs deadline = monotonic_now_ns() + 20'000'000'000;
  while (got[2][1] + got[3][1] + got[3][2] < 3 * kMessages && monotonic_now_ns() < deadline) {
    for (int i = 0; i < 3; ++i) {
      drivers[static_cast<std::size_t>(i)]->step(0);
      while (auto ev = eps[static_cast<std::size_t>(i)]->poll_event()) {
        ASSERT_NE(ev->kind, EventKind::kError) << ev->detail;
        if (ev->kind != EventKind::kMessage) continue;
        const NodeId me = static_cast<NodeId>(i + 1);
        int& n = got[me][ev->peer];
        sim::fill_message(me * 10 + (ev->peer - 1), static_cast<std::uint64_t>(n), msg, 20000);
        bad += ev->message == msg ? 0 : 1;
        ++n;
      }
    }
  }
  EXPECT_EQ(got[2][1], kMessages);
  EXPECT_EQ(got[3][1], kMessages);
  EXPECT_EQ(got[3][2], kMessages);
  EXPECT_EQ(bad, 0);
  for (const PortSet& p : ps) EXPECT_EQ(p.unrouted(), 0u);
}

}  // namespace
}  // namespace weft::transport
