// The ns-3 model against weft's in-memory simulator: the same deterministic two-host scenario
// must put the same frames on the wires — opcode, VC, ids, lengths, flags, order, and the very
// nanosecond — in both. Both run the same transport code (a weft Endpoint behind the facade); the
// comparison checks that the ns-3 devices, channel and host application time and order events as
// the in-memory simulator does. Cases: clean, frames lost both ways (retransmissions, SACK), the
// go-back-N compat profile with a loss, a congested switch that drops, and a slow, long link.
// Every ns-3 run also checks that every frame is accounted for (delivered, lost by reason, or still
// on a wire or in a queue).
//
// C++17, like all of sim/: it sees weft only through sim/facade/weft_ns3_facade.h.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ns3/simulator.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-fabric.h"

namespace {

using weft::ns3sim::TwoHostScenario;

struct Ns3Result {
  std::vector<std::string> trace;
  std::uint64_t messages_received = 0;
  std::int64_t end = 0;
  bool complete = false;
  std::uint64_t retransmissions = 0;
  ns3::WeftFabric::Conservation conservation;
};

Ns3Result run_in_ns3(const TwoHostScenario& s) {
  Ns3Result r;
  {
    ns3::WeftFabric f;
    f.EnableTrace();
    auto core_a = weft::ns3sim::TransportHost::create(weft::ns3sim::scenario_host(s, 0));
    auto core_b = weft::ns3sim::TransportHost::create(weft::ns3sim::scenario_host(s, 1));
    weft::ns3sim::TransportHost& a = *core_a;
    weft::ns3sim::TransportHost& b = *core_b;
    const int na = f.AddHost(std::move(core_a), 1);
    const int nb = f.AddHost(std::move(core_b), 2);
    ns3::WeftFabric::LinkOptions link;
    link.rate_gbps = s.rate_gbps;
    link.delay_us = s.delay_us;
    link.drop_a_to_b = s.drop_a_to_b;
    if (s.through_switch) {
      ns3::WeftSwitch::Options so;
      so.queue_limit_bytes = s.switch_queue_bytes;
      so.priority = false;                              // the in-memory switch has one FIFO per port
      so.path = ns3::WeftSwitch::PathChoice::kFirst;
      const int sw = f.AddSwitch(so);
      f.Connect(na, sw, link);
      ns3::WeftFabric::LinkOptions second = link;
      second.drop_a_to_b.clear();
      second.drop_b_to_a = s.drop_b_to_a;
      second.rate_gbps = s.switch_out_rate_gbps;
      f.Connect(sw, nb, second);
    } else {
      link.drop_b_to_a = s.drop_b_to_a;
      f.Connect(na, nb, link);
    }
    f.BuildRoutes();
    const std::uint64_t want = s.messages.size();
    // Stop after the event in which host 1 has everything, as the in-memory run does.
    auto check = [&b, want] {
      if (b.messages_received() >= want) ns3::Simulator::Stop();
    };
    f.Host(na)->SetAfterEvent(check);
    f.Host(nb)->SetAfterEvent(check);
    ns3::Simulator::Schedule(ns3::NanoSeconds(0), [&f, &a, &s, check] {
      const std::int64_t now = ns3::Simulator::Now().GetNanoSeconds();
      a.open(2, 2, now);
      for (std::size_t m : s.messages) a.send(2, 2, m, now);
      f.ActivityAll();  // as the in-memory loop does after a callback: every host, in order
      check();
    });
    ns3::Simulator::Stop(ns3::NanoSeconds(s.deadline));
    ns3::Simulator::Run();
    r.trace = f.Trace();
    r.messages_received = b.messages_received();
    r.complete = r.messages_received >= want;
    r.end = ns3::Simulator::Now().GetNanoSeconds();
    r.retransmissions = a.retransmissions();
    r.conservation = f.Count();
  }
  ns3::Simulator::Destroy();
  return r;
}

void expect_same_run(const std::string& name, const TwoHostScenario& s) {
  const weft::ns3sim::ScenarioResult mem = weft::ns3sim::run_two_hosts_in_memory(s);
  const Ns3Result ns = run_in_ns3(s);
  std::printf("[%s] in-memory: %zu frames, %llu messages, ended at %.3f us; ns-3: %zu frames, %llu messages, "
              "ended at %.3f us, %llu retransmissions\n",
              name.c_str(), mem.trace.size(), static_cast<unsigned long long>(mem.messages_received),
              static_cast<double>(mem.end) / 1e3, ns.trace.size(), static_cast<unsigned long long>(ns.messages_received),
              static_cast<double>(ns.end) / 1e3, static_cast<unsigned long long>(ns.retransmissions));
  ASSERT_TRUE(mem.complete) << name << ": the in-memory run did not deliver every message";
  ASSERT_TRUE(ns.complete) << name << ": the ns-3 run did not deliver every message";
  EXPECT_EQ(mem.end, ns.end) << name;
  ASSERT_EQ(mem.trace.size(), ns.trace.size()) << name;
  for (std::size_t i = 0; i < mem.trace.size(); ++i) {
    ASSERT_EQ(mem.trace[i], ns.trace[i]) << name << ": first difference at frame " << i;
  }
  EXPECT_GE(mem.trace.size(), 2 * s.messages.size()) << name << ": too few frames for this scenario";
  EXPECT_TRUE(ns.conservation.Holds()) << name << ": " << ns.conservation.ToString();
  std::printf("[%s] ns-3 frames: %s\n", name.c_str(), ns.conservation.ToString().c_str());
}

// The comparison itself: a link 1 ns longer in ns-3 than in memory must show.
TEST(Ns3Equivalence, ANanosecondOfDifferenceIsCaught) {
  TwoHostScenario s;
  const weft::ns3sim::ScenarioResult mem = weft::ns3sim::run_two_hosts_in_memory(s);
  TwoHostScenario longer = s;
  longer.delay_us = s.delay_us + 0.001;
  const Ns3Result ns = run_in_ns3(longer);
  ASSERT_TRUE(ns.complete);
  EXPECT_NE(mem.trace, ns.trace);
  EXPECT_NE(mem.end, ns.end);
}

TEST(Ns3Equivalence, CleanTransfer) {
  TwoHostScenario s;
  expect_same_run("clean", s);
}

TEST(Ns3Equivalence, LossBothWays) {
  TwoHostScenario s;
  s.drop_a_to_b = {0, 5, 6, 7, 40, 41, 90};  // the first OPEN, a burst of data, more data
  s.drop_b_to_a = {0, 3, 10};                 // the OPEN_ACK and some ACKs
  s.seed = 7;
  expect_same_run("loss both ways", s);
  const Ns3Result ns = run_in_ns3(s);
  EXPECT_GT(ns.retransmissions, 0u) << "frames were lost: the sender must have retransmitted";
}

TEST(Ns3Equivalence, CompatProfileGoBackN) {
  TwoHostScenario s;
  s.compat = true;
  s.messages = {1000, 1024, 1, 512, 700, 1024};
  s.drop_a_to_b = {2, 6};
  expect_same_run("ttpoe-compat", s);
}

// Through a switch whose port to host 1 is 4x slower than host 0's link, with a small egress
// queue: frames queue, the queue overflows (drop-tail), the sender recovers.
TEST(Ns3Equivalence, ThroughACongestedSwitch) {
  TwoHostScenario s;
  s.through_switch = true;
  s.switch_out_rate_gbps = 25.0;
  s.switch_queue_bytes = 64 * 1024;
  s.messages = {4u << 20};
  s.seed = 11;
  expect_same_run("congested switch", s);
  const Ns3Result ns = run_in_ns3(s);
  EXPECT_GT(ns.conservation.dropped_queue, 0u) << "the 64 KiB queue should have overflowed";
}

TEST(Ns3Equivalence, SlowLongLink) {
  TwoHostScenario s;
  s.rate_gbps = 10.0;
  s.delay_us = 50.0;
  s.messages = {64, 300000};
  s.seed = 3;
  expect_same_run("10 Gb/s, 50 us", s);
}

}  // namespace
