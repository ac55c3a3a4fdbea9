// Congestion: 8 senders stream into one receiver through a switch (all links 100 Gb/s, 2 µs).
// With ECN marking at the bottleneck port, weft's DCTCP-style control keeps the queue bounded
// (no drops, peak below the buffer) and shares the bottleneck fairly (Jain index >= 0.9), while
// the aggregate stays near line rate. Virtual-time assertions.
#include <gtest/gtest.h>

#include <cstdio>

#include "weft/transport/scenario.h"

namespace weft::transport::sim {
namespace {

IncastResult run(std::uint64_t ecn_threshold, std::uint64_t seed) {
  IncastSpec s;
  s.seed = seed;
  s.senders = 8;
  s.link.queue_limit_bytes = 2u << 20;
  s.link.ecn_threshold_bytes = ecn_threshold;
  s.duration = us_to_ns(4000);
  s.measure_from = us_to_ns(1000);
  IncastResult r = run_incast(s);
  std::printf("ecn threshold %llu B, seed %llu: total %.2f Gb/s, Jain %.3f, peak queue %llu B, "
              "drops %llu, marked %llu, flows:",
              static_cast<unsigned long long>(ecn_threshold), static_cast<unsigned long long>(seed),
              r.total_gbps, r.jain_index, static_cast<unsigned long long>(r.max_queue_bytes),
              static_cast<unsigned long long>(r.queue_drops), static_cast<unsigned long long>(r.ecn_marked));
  for (double g : r.flow_gbps) std::printf(" %.1f", g);
  std::printf("\n");
  return r;
}

TEST(Incast, EightToOneIsFairAndBounded) {
  for (std::uint64_t seed : {1, 2, 3}) {
    IncastResult r = run(100000, seed);
    EXPECT_EQ(r.errors, 0u);
    EXPECT_EQ(r.queue_drops, 0u);
    EXPECT_GT(r.ecn_marked, 0u);
    EXPECT_LT(r.max_queue_bytes, 1u << 20) << "the queue must stay well below the 2 MiB buffer";
    EXPECT_GE(r.jain_index, 0.9);
    EXPECT_GE(r.total_gbps, 90.0);
  }
}

}  // namespace
}  // namespace weft::transport::sim
