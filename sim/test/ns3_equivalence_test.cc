// The ns-3 model against weft's in-memory simulator: the same deterministic two-host scenario
// must put the same frames on the wires — opcode, VC, ids, lengths, flags, order, and the very
// nanosecond — in both. Both run the same transport code (a weft Endpoint behind the facade); the
// comparison checks that the ns-3 devices, channel and host application time and order events as
// the in-memory simulator does. Cases: clean, frames lost both ways (retransmissions, SACK), the
// go-back-N compat profile with a loss, and a slow, long link.
//
// C++17, like all of sim/: it sees weft only through sim/facade/weft_ns3_facade.h.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "ns3/simulator.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-pair-helper.h"

namespace {

using weft::ns3sim::TwoHostScenario;

struct Ns3Result {
  std::vector<std::string> trace;
  std::uint64_t messages_received = 0;
  std::int64_t end = 0;
  bool complete = false;
  std::uint64_t retransmissions = 0;
};

Ns3Result run_in_ns3(const TwoHostScenario& s) {
  ns3::WeftPairHelper::Link link;
  link.rate_gbps = s.rate_gbps;
  link.delay_us = s.delay_us;
  link.drop_a_to_b = s.drop_a_to_b;
  link.drop_b_to_a = s.drop_b_to_a;
  Ns3Result r;
  {
    ns3::WeftPairHelper pair(link, s.seed, s.compat);
    const std::uint64_t want = s.messages.size();
    // Stop after the event in which host 1 has everything, as the in-memory run does.
    auto check = [&pair, want] {
      if (pair.Transport(1).messages_received() >= want) ns3::Simulator::Stop();
    };
    pair.Host(0)->SetAfterEvent(check);
    pair.Host(1)->SetAfterEvent(check);
    ns3::Simulator::Schedule(ns3::NanoSeconds(0), [&pair, &s, check] {
      const std::int64_t now = ns3::Simulator::Now().GetNanoSeconds();
      pair.Transport(0).open(2, 2, now);
      for (std::size_t m : s.messages) pair.Transport(0).send(2, 2, m, now);
      // As the in-memory loop does after a callback: every host, in node order, may act.
      pair.Host(0)->Activity();
      pair.Host(1)->Activity();
      check();
    });
    ns3::Simulator::Stop(ns3::NanoSeconds(s.deadline));
    ns3::Simulator::Run();
    r.trace = pair.Trace();
    r.messages_received = pair.Transport(1).messages_received();
    r.complete = r.messages_received >= want;
    r.end = ns3::Simulator::Now().GetNanoSeconds();
    r.retransmissions = pair.Transport(0).retransmissions();
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

TEST(Ns3Equivalence, SlowLongLink) {
  TwoHostScenario s;
  s.rate_gbps = 10.0;
  s.delay_us = 50.0;
  s.messages = {64, 300000};
  s.seed = 3;
  expect_same_run("10 Gb/s, 50 us", s);
}

}  // namespace
