// Tests of the in-memory simulator (transport/datapath/memory/sim_loop.cc, trace.cc) with a
// scripted test-double Host: exact timing, every fault of the fault model, switching, queues,
// ECN, timers, the run() contract and the golden-trace line format.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "weft/transport/sim_loop.h"
#include "weft/transport/wire.h"

namespace weft::transport::sim {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A weft Ethernet frame of exactly `frame_bytes` (>= 64) from `src` to `dst` carrying `tx_id`.
Bytes make_frame(NodeId src, NodeId dst, std::uint32_t tx_id, std::size_t frame_bytes = 1000,
                 wire::Opcode opcode = wire::Opcode::kPayload) {
  wire::TtpHeader h;
  h.opcode = opcode;
  h.vc = 2;
  h.flags = wire::kFlagEndOfMessage;
  h.tx_id = tx_id;
  const Bytes payload(frame_bytes > wire::kL2HeaderBytes ? frame_bytes - wire::kL2HeaderBytes : 0,
                      static_cast<std::uint8_t>(tx_id));
  Bytes out(std::max(frame_bytes, wire::kMinSendFrameBytes));
  const std::size_t n = wire::encode(wire::Encapsulation::kEthernet, src, dst, h, {}, payload, out);
  EXPECT_EQ(n, out.size());
  return out;
}

wire::Frame decode_frame(const Bytes& bytes) {
  wire::Frame f;
  EXPECT_EQ(wire::decode(bytes, wire::DecodeOptions{}, f), wire::DecodeError::kNone);
  return f;
}

struct Arrival {
  TimeNs time = 0;
  Bytes bytes;
  std::uint32_t tx_id() const { return decode_frame(bytes).ttp.tx_id; }
};

// Sends the frames queued in its outbox, records what arrives, and fires scripted timers.
class TestHost final : public Host {
 public:
  using TimerAction = std::function<void(TestHost&, TimeNs)>;
  explicit TestHost(NodeId id) : id_(id) {}

  NodeId id() const { return id_; }
  void queue(Bytes frame) { outbox_.push_back(std::move(frame)); }
  void add_timer(TimeNs at, TimerAction action = {}) { timers_.emplace(at, std::move(action)); }
  void clear_timers() { timers_.clear(); }
  // When set, every frame that arrives is answered with a frame back to its sender.
  void set_echo(bool echo) { echo_ = echo; }

  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  const std::vector<TimeNs>& timer_fires() const { return timer_fires_; }
  std::vector<std::uint32_t> arrived_ids() const {
    std::vector<std::uint32_t> ids;
    for (const Arrival& a : arrivals_) ids.push_back(a.tx_id());
    return ids;
  }

  void on_frame(std::span<const std::uint8_t> frame, TimeNs now) override {
    if (echo_) {
      wire::Frame f;
      if (wire::decode(frame, wire::DecodeOptions{}, f) == wire::DecodeError::kNone) {
        queue(make_frame(id_, f.src_node, f.ttp.tx_id + 1, frame.size()));
      }
      ++echoed_;
      return;
    }
    arrivals_.push_back(Arrival{now, Bytes(frame.begin(), frame.end())});
  }
  std::size_t poll_transmit(std::span<std::uint8_t> buf, TimeNs) override {
    if (outbox_.empty()) return 0;
    const Bytes frame = std::move(outbox_.front());
    outbox_.pop_front();
    std::copy(frame.begin(), frame.end(), buf.begin());
    return frame.size();
  }
  TimeNs next_timer() const override { return timers_.empty() ? kNever : timers_.begin()->first; }
  void on_timer(TimeNs now) override {
    timer_fires_.push_back(now);
    while (!timers_.empty() && timers_.begin()->first <= now) {
      TimerAction action = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      if (action) action(*this, now);
    }
  }
  std::uint64_t echoed() const { return echoed_; }

 private:
  NodeId id_;
  std::deque<Bytes> outbox_;
  std::multimap<TimeNs, TimerAction> timers_;
  std::vector<Arrival> arrivals_;
  std::vector<TimeNs> timer_fires_;
  bool echo_ = false;
  std::uint64_t echoed_ = 0;
};

// A loop with hosts whose node ids are 1, 2, ... (node index + 1 for hosts added first).
struct Net {
  explicit Net(std::uint64_t seed = 1) : loop(seed) {}
  int add_host(NodeId id) {
    auto h = std::make_unique<TestHost>(id);
    hosts.push_back(h.get());
    return loop.add_host(std::move(h), id);
  }
  TestHost& at(int node) { return static_cast<TestHost&>(loop.host(node)); }
  SimLoop loop;
  std::vector<TestHost*> hosts;
};

std::vector<std::uint32_t> iota_ids(std::uint32_t first, std::uint32_t count) {
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < count; ++i) ids.push_back(first + i);
  return ids;
}

// Two hosts (ids 1, 2) on one link; host a sends `count` frames of `frame_bytes` on run().
struct PointToPoint : Net {
  PointToPoint(std::uint64_t seed, const LinkConfig& link, std::uint32_t count,
               std::size_t frame_bytes = 1000)
      : Net(seed) {
    a = add_host(1);
    b = add_host(2);
    loop.connect(a, b, link);
    for (std::uint32_t i = 0; i < count; ++i) at(a).queue(make_frame(1, 2, i, frame_bytes));
  }
  void run() {
    loop.kick(a);
    loop.run(kNever);
  }
  int a = 0;
  int b = 0;
};

// ---- timing ---------------------------------------------------------------------------------

TEST(SimLoopTest, SerializationAndPropagationAreExact) {
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  LinkConfig link;  // 100 Gb/s, 2 us
  net.loop.connect(a, b, link);
  net.at(a).queue(make_frame(1, 2, 0, 1000));  // 80 ns on the wire
  net.at(a).queue(make_frame(1, 2, 1, 1000));
  net.at(a).queue(make_frame(1, 2, 2, 64));  // 5.12 ns, rounded up to 6
  net.loop.kick(a);
  EXPECT_TRUE(net.loop.run(kNever));

  const auto& got = net.at(b).arrivals();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].time, 2080);
  EXPECT_EQ(got[1].time, 2160);
  EXPECT_EQ(got[2].time, 2166);
  EXPECT_EQ(net.loop.now(), 2166);
  EXPECT_EQ(net.loop.port_stats(a, b).frames_sent, 3u);
  EXPECT_EQ(net.loop.port_stats(a, b).bytes_sent, 2064u);
  EXPECT_EQ(net.loop.port_stats(b, a).frames_sent, 0u);
  EXPECT_EQ(net.loop.stats().frames_delivered, 3u);
}

TEST(SimLoopTest, RateAndDelayOfTheLinkConfig) {
  LinkConfig link;
  link.rate_gbps = 25.0;
  link.delay_us = 0.5;
  PointToPoint net(1, link, 2, 1000);  // 320 ns each
  net.run();
  const auto& got = net.at(net.b).arrivals();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].time, 820);
  EXPECT_EQ(got[1].time, 1140);
}

TEST(SimLoopTest, PingPongBothDirections) {
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  net.loop.connect(a, b, LinkConfig{});
  net.at(b).set_echo(true);
  net.at(a).queue(make_frame(1, 2, 10));
  net.loop.kick(a);
  net.loop.run(kNever);
  ASSERT_EQ(net.at(a).arrivals().size(), 1u);
  EXPECT_EQ(net.at(a).arrivals()[0].time, 2 * 2080);
  EXPECT_EQ(net.at(a).arrivals()[0].tx_id(), 11u);
}

// ---- faults ---------------------------------------------------------------------------------

TEST(SimLoopTest, LossMaskDropsExactlyTheListedFrames) {
  LinkConfig link;
  link.a_to_b.drop_frames = {7, 0, 3};
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  net.loop.connect(a, b, link);
  std::vector<bool> dropped_flags;
  net.loop.set_trace([&](const TraceRecord& r) {
    if (r.from == a) dropped_flags.push_back(r.dropped);
  });
  for (std::uint32_t i = 0; i < 10; ++i) net.at(a).queue(make_frame(1, 2, i));
  for (std::uint32_t i = 0; i < 3; ++i) net.at(b).queue(make_frame(2, 1, 100 + i));
  net.loop.kick(a);
  net.loop.kick(b);
  net.loop.run(kNever);

  EXPECT_EQ(net.at(b).arrived_ids(), (std::vector<std::uint32_t>{1, 2, 4, 5, 6, 8, 9}));
  EXPECT_EQ(net.at(a).arrived_ids(), (std::vector<std::uint32_t>{100, 101, 102}));
  EXPECT_EQ(net.loop.port_stats(a, b).dropped_loss, 3u);
  EXPECT_EQ(net.loop.port_stats(a, b).frames_sent, 10u);
  EXPECT_EQ(net.loop.port_stats(b, a).dropped_loss, 0u);
  // A lost frame still occupied the wire: frame 1 left after frame 0's 80 ns.
  EXPECT_EQ(net.at(b).arrivals()[0].time, 2160);
  EXPECT_EQ(dropped_flags,
            (std::vector<bool>{true, false, false, true, false, false, false, true, false, false}));
}

std::vector<std::uint32_t> lossy_run(std::uint64_t seed, double loss, std::uint32_t frames) {
  LinkConfig link;
  link.a_to_b.loss = loss;
  PointToPoint net(seed, link, frames, 64);
  net.run();
  return net.at(net.b).arrived_ids();
}

TEST(SimLoopTest, SeededLossIsReproducible) {
  for (std::uint64_t seed : {1ull, 42ull, 0xC0FFEEull}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto first = lossy_run(seed, 0.2, 2000);
    EXPECT_EQ(first, lossy_run(seed, 0.2, 2000));
    EXPECT_NE(first, lossy_run(seed + 1, 0.2, 2000));
  }
}

TEST(SimLoopTest, SeededLossRateIsBinomial) {
  constexpr std::uint32_t kFrames = 100000;
  constexpr double kLoss = 0.1;
  constexpr std::uint64_t kSeed = 7;
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  LinkConfig link;
  link.a_to_b.loss = kLoss;
  PointToPoint net(kSeed, link, kFrames, 64);
  net.run();
  const double dropped = static_cast<double>(net.loop.port_stats(net.a, net.b).dropped_loss);
  const double mean = kFrames * kLoss;
  const double sigma = std::sqrt(kFrames * kLoss * (1 - kLoss));  // ~95
  EXPECT_NEAR(dropped, mean, 6 * sigma);
  EXPECT_EQ(net.at(net.b).arrivals().size() + static_cast<std::size_t>(dropped), kFrames);
}

TEST(SimLoopTest, DuplicationDeliversASecondCopyRightAfter) {
  LinkConfig link;
  link.a_to_b.duplicate = 1.0;
  PointToPoint net(3, link, 5);
  net.run();
  const auto& got = net.at(net.b).arrivals();
  ASSERT_EQ(got.size(), 10u);
  for (std::size_t i = 0; i < 10; i += 2) {
    EXPECT_EQ(got[i].bytes, got[i + 1].bytes);
    EXPECT_EQ(got[i].time, got[i + 1].time);
    EXPECT_EQ(got[i].tx_id(), i / 2);
  }
  EXPECT_EQ(net.loop.port_stats(net.a, net.b).duplicated, 5u);
  EXPECT_EQ(net.loop.stats().frames_delivered, 10u);
}

TEST(SimLoopTest, PartialDuplicationIsCounted) {
  LinkConfig link;
  link.a_to_b.duplicate = 0.3;
  PointToPoint net(11, link, 1000, 64);
  net.run();
  const std::uint64_t dups = net.loop.port_stats(net.a, net.b).duplicated;
  EXPECT_GT(dups, 200u);
  EXPECT_LT(dups, 400u);
  EXPECT_EQ(net.at(net.b).arrivals().size(), 1000u + dups);
}

TEST(SimLoopTest, ReorderingHoldsFramesBack) {
  LinkConfig link;
  link.a_to_b.reorder = 0.3;
  link.a_to_b.reorder_delay_us = 5.0;
  PointToPoint net(5, link, 100, 64);  // 6 ns apart: a held frame lands behind many others
  net.run();
  const auto ids = net.at(net.b).arrived_ids();
  ASSERT_EQ(ids.size(), 100u);
  EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
  auto sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota_ids(0, 100));

  std::uint64_t held = 0;
  for (const Arrival& arr : net.at(net.b).arrivals()) {
    const TimeNs on_time = 2000 + 6 * TimeNs{arr.tx_id() + 1};
    if (arr.time == on_time + 5000) {
      ++held;
    } else {
      EXPECT_EQ(arr.time, on_time);
    }
  }
  EXPECT_EQ(held, net.loop.port_stats(net.a, net.b).reordered);
  EXPECT_GT(held, 0u);
  EXPECT_LT(held, 100u);
}

TEST(SimLoopTest, CorruptedFramesAreDroppedAndCountedByDefault) {
  LinkConfig link;
  link.a_to_b.corrupt = 1.0;
  PointToPoint net(9, link, 20);
  std::uint64_t traced_drops = 0;
  net.loop.set_trace([&](const TraceRecord& r) { traced_drops += r.dropped ? 1 : 0; });
  net.run();
  EXPECT_TRUE(net.at(net.b).arrivals().empty());
  EXPECT_EQ(net.loop.port_stats(net.a, net.b).dropped_corrupt, 20u);
  EXPECT_EQ(net.loop.port_stats(net.a, net.b).delivered_corrupt, 0u);
  EXPECT_EQ(traced_drops, 20u);
}

TEST(SimLoopTest, CorruptedFramesAreDeliveredWhenAsked) {
  LinkConfig link;
  link.a_to_b.corrupt = 1.0;
  link.a_to_b.deliver_corrupted = true;
  PointToPoint net(9, link, 20);
  net.run();
  const auto& got = net.at(net.b).arrivals();
  ASSERT_EQ(got.size(), 20u);
  for (std::uint32_t i = 0; i < 20; ++i) {
    const Bytes original = make_frame(1, 2, i);
    ASSERT_EQ(got[i].bytes.size(), original.size());
    int flipped_bits = 0;
    for (std::size_t k = 0; k < original.size(); ++k) {
      flipped_bits += std::popcount(static_cast<unsigned>(original[k] ^ got[i].bytes[k]));
    }
    EXPECT_EQ(flipped_bits, 1) << "frame " << i;
  }
  EXPECT_EQ(net.loop.port_stats(net.a, net.b).delivered_corrupt, 20u);
  EXPECT_EQ(net.loop.port_stats(net.a, net.b).dropped_corrupt, 0u);
}

// ---- switching ------------------------------------------------------------------------------

TEST(SimLoopTest, SwitchForwardsByDestinationMac) {
  Net net;
  const int h0 = net.add_host(0x10);
  const int h1 = net.add_host(0x20);
  const int h2 = net.add_host(0xABCDEF);
  const int sw = net.loop.add_switch();
  for (int h : {h0, h1, h2}) net.loop.connect(h, sw, LinkConfig{});
  net.at(h0).queue(make_frame(0x10, 0x20, 1));
  net.at(h0).queue(make_frame(0x10, 0xABCDEF, 2));
  net.at(h0).queue(make_frame(0x10, 0x20, 3));
  net.at(h0).queue(make_frame(0x10, 0x99, 4));  // nobody has id 0x99
  net.at(h1).queue(make_frame(0x20, 0xABCDEF, 5));
  net.loop.kick(h0);
  net.loop.kick(h1);
  net.loop.run(kNever);

  EXPECT_EQ(net.at(h1).arrived_ids(), (std::vector<std::uint32_t>{1, 3}));
  EXPECT_EQ(net.at(h2).arrived_ids(), (std::vector<std::uint32_t>{5, 2}));
  EXPECT_TRUE(net.at(h0).arrivals().empty());
  EXPECT_EQ(net.loop.stats().dropped_no_route, 1u);
  // Store and forward: two hops of 80 ns + 2 us.
  EXPECT_EQ(net.at(h1).arrivals()[0].time, 2 * 2080);
  EXPECT_EQ(net.loop.port_stats(sw, h1).frames_sent, 2u);
  EXPECT_EQ(net.loop.port_stats(sw, h2).frames_sent, 2u);
}

TEST(SimLoopTest, RoutesFollowShortestPathsWithLowestPortOnTies) {
  // h0 - s0 ==(s1 | s2)== s3 - h1, plus a long detour s0 - s4 - s5 - s3.
  Net net;
  const int h0 = net.add_host(1);
  const int h1 = net.add_host(2);
  const int s0 = net.loop.add_switch();
  const int s1 = net.loop.add_switch();
  const int s2 = net.loop.add_switch();
  const int s3 = net.loop.add_switch();
  const int s4 = net.loop.add_switch();
  const int s5 = net.loop.add_switch();
  const LinkConfig link;
  net.loop.connect(h0, s0, link);
  net.loop.connect(s0, s4, link);  // lowest port of s0, but on the long path
  net.loop.connect(s4, s5, link);
  net.loop.connect(s5, s3, link);
  net.loop.connect(s0, s2, link);  // s2 before s1 in s0's port order: wins the tie
  net.loop.connect(s0, s1, link);
  net.loop.connect(s1, s3, link);
  net.loop.connect(s2, s3, link);
  net.loop.connect(s3, h1, link);
  for (std::uint32_t i = 0; i < 4; ++i) net.at(h0).queue(make_frame(1, 2, i));
  net.loop.kick(h0);
  net.loop.run(kNever);
  EXPECT_EQ(net.at(h1).arrived_ids(), iota_ids(0, 4));
  EXPECT_EQ(net.loop.port_stats(s0, s2).frames_sent, 4u);
  EXPECT_EQ(net.loop.port_stats(s0, s1).frames_sent, 0u);
  EXPECT_EQ(net.loop.port_stats(s0, s4).frames_sent, 0u);
  EXPECT_EQ(net.at(h1).arrivals()[0].time, 4 * 2080);
}

// Hosts 0 and 1 each send `count` 1000 B frames through one switch to host 2, which receives at
// the same rate: the switch's egress to host 2 is offered twice what it can send.
struct Incast : Net {
  Incast(const LinkConfig& link, std::uint32_t count) : Net(1) {
    s0 = add_host(1);
    s1 = add_host(2);
    dst = add_host(3);
    sw = loop.add_switch();
    for (int h : {s0, s1, dst}) loop.connect(h, sw, link);
    for (std::uint32_t i = 0; i < count; ++i) {
      at(s0).queue(make_frame(1, 3, i));
      at(s1).queue(make_frame(2, 3, 1000 + i));
    }
    loop.kick(s0);
    loop.kick(s1);
  }
  int s0 = 0, s1 = 0, dst = 0, sw = 0;
};

TEST(SimLoopTest, DropTailQueueRespectsItsLimit) {
  LinkConfig link;
  link.queue_limit_bytes = 4000;
  Incast net(link, 20);
  std::uint64_t traced_queue_drops = 0;
  net.loop.set_trace([&](const TraceRecord& r) {
    if (r.from == net.sw && r.dropped) ++traced_queue_drops;
  });
  net.loop.run(kNever);
  const PortStats& egress = net.loop.port_stats(net.sw, net.dst);
  EXPECT_GT(egress.dropped_queue, 0u);
  EXPECT_EQ(egress.dropped_queue + net.at(net.dst).arrivals().size(), 40u);
  EXPECT_EQ(traced_queue_drops, egress.dropped_queue);
  EXPECT_LE(egress.max_queue_bytes, 4000u);
  EXPECT_EQ(egress.max_queue_bytes, 4000u);
  EXPECT_EQ(egress.queue_bytes, 0u);
  EXPECT_EQ(egress.frames_sent, net.at(net.dst).arrivals().size());
}

TEST(SimLoopTest, EcnMarksCeAboveTheThreshold) {
  LinkConfig link;
  link.ecn_threshold_bytes = 2000;
  Incast net(link, 20);
  net.loop.run(kNever);
  const auto& got = net.at(net.dst).arrivals();
  ASSERT_EQ(got.size(), 40u);
  std::uint64_t marked = 0;
  for (const Arrival& a : got) marked += decode_frame(a.bytes).ttp.ce ? 1 : 0;
  const PortStats& egress = net.loop.port_stats(net.sw, net.dst);
  EXPECT_EQ(marked, egress.ecn_marked);
  EXPECT_GT(marked, 0u);
  EXPECT_LT(marked, 40u);
  EXPECT_FALSE(decode_frame(got.front().bytes).ttp.ce);
  EXPECT_EQ(egress.dropped_queue, 0u);
  EXPECT_GE(egress.max_queue_bytes, 2000u);
}

// ---- timers ---------------------------------------------------------------------------------

TEST(SimLoopTest, TimersFireAtNextTimer) {
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  net.loop.connect(a, b, LinkConfig{});
  net.at(a).add_timer(5000);
  net.at(a).add_timer(3000);
  net.at(a).add_timer(10000, [](TestHost& h, TimeNs) { h.queue(make_frame(1, 2, 77)); });
  net.loop.kick(a);
  net.loop.run(kNever);
  EXPECT_EQ(net.at(a).timer_fires(), (std::vector<TimeNs>{3000, 5000, 10000}));
  ASSERT_EQ(net.at(b).arrivals().size(), 1u);
  EXPECT_EQ(net.at(b).arrivals()[0].time, 10000 + 2080);
}

TEST(SimLoopTest, TimerMovedLaterIsNotFiredEarly) {
  Net net;
  const int a = net.add_host(1);
  net.at(a).add_timer(3000);
  net.loop.kick(a);
  net.loop.schedule(1000, [&] {
    net.at(a).clear_timers();
    net.at(a).add_timer(4000);
  });
  net.loop.run(kNever);
  EXPECT_EQ(net.at(a).timer_fires(), (std::vector<TimeNs>{4000}));
}

TEST(SimLoopTest, TimerMovedEarlierFiresEarlier) {
  Net net;
  const int a = net.add_host(1);
  net.at(a).add_timer(9000);
  net.loop.kick(a);
  net.loop.schedule(1000, [&] { net.at(a).add_timer(2000); });
  net.loop.run(kNever);
  EXPECT_EQ(net.at(a).timer_fires(), (std::vector<TimeNs>{2000, 9000}));
}

class StuckTimerHost final : public Host {
 public:
  void on_frame(std::span<const std::uint8_t>, TimeNs) override {}
  std::size_t poll_transmit(std::span<std::uint8_t>, TimeNs) override { return 0; }
  TimeNs next_timer() const override { return 100; }
  void on_timer(TimeNs) override {}
};

TEST(SimLoopTest, HostWhoseTimerNeverClearsIsReported) {
  SimLoop loop(1);
  const int a = loop.add_host(std::make_unique<StuckTimerHost>(), 1);
  loop.kick(a);
  EXPECT_THROW(loop.run(kNever), std::logic_error);
}

// ---- the loop itself ------------------------------------------------------------------------

TEST(SimLoopTest, CallbacksAtEqualTimesRunInInsertionOrder) {
  SimLoop loop(1);
  std::vector<int> order;
  loop.schedule(500, [&] { order.push_back(3); });
  loop.schedule(100, [&] { order.push_back(1); });
  loop.schedule(500, [&] { order.push_back(4); });
  loop.schedule(100, [&] {
    order.push_back(2);
    loop.schedule(0, [&] { order.push_back(10); });  // in the past: runs at now
  });
  EXPECT_TRUE(loop.run(kNever));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 10, 3, 4}));
  EXPECT_EQ(loop.stats().events, 5u);
}

TEST(SimLoopTest, RunStopsAtDeadlineAndResumes) {
  SimLoop loop(1);
  std::vector<TimeNs> seen;
  for (TimeNs t : {100, 200, 300}) loop.schedule(t, [&] { seen.push_back(loop.now()); });
  EXPECT_FALSE(loop.run(200));
  EXPECT_EQ(seen, (std::vector<TimeNs>{100, 200}));
  EXPECT_EQ(loop.now(), 200);
  EXPECT_FALSE(loop.run(250));
  EXPECT_EQ(loop.now(), 200);  // nothing ran; time stays at the last event
  EXPECT_TRUE(loop.run(kNever));
  EXPECT_EQ(seen, (std::vector<TimeNs>{100, 200, 300}));
}

TEST(SimLoopTest, RunStopsWhenStopSaysSo) {
  SimLoop loop(1);
  int count = 0;
  for (TimeNs t = 1; t <= 10; ++t) loop.schedule(t, [&] { ++count; });
  EXPECT_TRUE(loop.run(kNever, [&] { return count == 4; }));
  EXPECT_EQ(count, 4);
  EXPECT_EQ(loop.now(), 4);
  EXPECT_FALSE(loop.run(kNever, [&] { return count == 100; }));  // ran out of events
  EXPECT_EQ(count, 10);
}

TEST(SimLoopTest, CallbackThatQueuesWorkIsTransmittedWithoutKick) {
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  net.loop.connect(a, b, LinkConfig{});
  net.loop.schedule(1000, [&] { net.at(a).queue(make_frame(1, 2, 5)); });
  net.loop.run(kNever);
  ASSERT_EQ(net.at(b).arrivals().size(), 1u);
  EXPECT_EQ(net.at(b).arrivals()[0].time, 1000 + 2080);
}

TEST(SimLoopTest, BadTopologyIsRejected) {
  Net net;
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  const int sw = net.loop.add_switch();
  EXPECT_THROW(net.add_host(1), std::invalid_argument);
  EXPECT_THROW(net.add_host(0x1000000), std::invalid_argument);
  net.loop.connect(a, sw, LinkConfig{});
  EXPECT_THROW(net.loop.connect(a, b, LinkConfig{}), std::invalid_argument);
  EXPECT_THROW(net.loop.connect(b, 99, LinkConfig{}), std::out_of_range);
  EXPECT_THROW(net.loop.host(sw), std::invalid_argument);
  EXPECT_THROW((void)net.loop.port_stats(a, b), std::out_of_range);
  LinkConfig bad;
  bad.b_to_a.loss = 1.5;
  EXPECT_THROW(net.loop.connect(b, sw, bad), std::invalid_argument);
  bad = LinkConfig{};
  bad.a_to_b.reorder_delay_us = -1;
  EXPECT_THROW(net.loop.connect(b, sw, bad), std::invalid_argument);
  bad = LinkConfig{};
  bad.rate_gbps = 0;
  EXPECT_THROW(net.loop.connect(b, sw, bad), std::invalid_argument);
  net.loop.connect(b, sw, LinkConfig{});  // the failed attempts left b unlinked
}

std::vector<std::string> traced_run(std::uint64_t seed) {
  LinkConfig link;
  link.a_to_b.loss = 0.1;
  link.a_to_b.duplicate = 0.1;
  link.a_to_b.reorder = 0.1;
  link.a_to_b.corrupt = 0.1;
  link.a_to_b.deliver_corrupted = true;
  link.b_to_a = link.a_to_b;
  Net net(seed);
  const int a = net.add_host(1);
  const int b = net.add_host(2);
  net.loop.connect(a, b, link);
  net.at(b).set_echo(true);
  std::vector<std::string> lines;
  net.loop.set_trace([&](const TraceRecord& r) {
    lines.push_back(format_trace_line(r.time, r.from, r.to, r.frame, r.dropped));
  });
  for (std::uint32_t i = 0; i < 200; ++i) net.at(a).queue(make_frame(1, 2, i * 10, 200));
  net.loop.kick(a);
  net.loop.run(kNever);
  return lines;
}

TEST(SimLoopTest, SameSeedGivesTheSameTrace) {
  const auto first = traced_run(123);
  EXPECT_GT(first.size(), 300u);
  EXPECT_EQ(first, traced_run(123));
  EXPECT_NE(first, traced_run(124));
}

// ---- trace lines ----------------------------------------------------------------------------

TEST(FormatTraceLineTest, PayloadLine) {
  wire::TtpHeader h;
  h.opcode = wire::Opcode::kPayload;
  h.vc = 2;
  h.flags = wire::kFlagEndOfMessage;
  h.ce = true;
  h.tx_id = 5;
  const Bytes payload(1024, 0xAB);
  Bytes frame(2000);
  frame.resize(wire::encode(wire::Encapsulation::kEthernet, 1, 2, h, {}, payload, frame));
  EXPECT_EQ(format_trace_line(2080, 0, 1, frame, true),
            "       2.080 us  n0->n1      PAYLOAD     vc2 tx=00000005 rx=00000000 len=1024 eom ce "
            "DROP");
  EXPECT_EQ(format_trace_line(12345678, 3, 12, frame, false),
            "   12345.678 us  n3->n12     PAYLOAD     vc2 tx=00000005 rx=00000000 len=1024 eom ce");
}

TEST(FormatTraceLineTest, AckWithSackAndCongestion) {
  wire::TtpHeader h;
  h.opcode = wire::Opcode::kAck;
  h.vc = 0;
  h.cr = true;
  h.congestion = 3;
  h.tx_id = 0xDEADBEEF;
  h.rx_id = 0x10;
  wire::Extensions ext;
  ext.sack_count = 2;
  ext.sack[0] = {0x12, 0x14};
  ext.sack[1] = {0x20, 0x21};
  Bytes frame(256);
  frame.resize(wire::encode(wire::Encapsulation::kEthernet, 7, 9, h, ext, {}, frame));
  EXPECT_EQ(format_trace_line(7, 1, 0, frame, false),
            "       0.007 us  n1->n0      ACK         vc0 tx=deadbeef rx=00000010 len=0 cr cong=3 "
            "sack=2");
}

TEST(FormatTraceLineTest, MalformedFrames) {
  const Bytes tiny(10, 0);
  EXPECT_EQ(format_trace_line(0, 0, 1, tiny, false),
            "       0.000 us  n0->n1      MALFORMED(truncated) len=10");
  Bytes frame = make_frame(1, 2, 1, 64);
  frame[wire::kEthHeaderBytes + wire::kTthBytes + wire::kTshBytes] = 0x7F;  // opcode
  EXPECT_EQ(format_trace_line(1500, 1, 0, frame, true),
            "       1.500 us  n1->n0      MALFORMED(bad-opcode) len=64 DROP");
}

}  // namespace
}  // namespace weft::transport::sim
