// Property tests: 1,000 seeded fault patterns per profile. Each seed draws loss (up to 30 %,
// each direction independently, ACKs included), duplication, reordering and corruption, and a
// random set of messages in both directions. Property: every message is delivered exactly once,
// in order, byte-identical, no link error is reported with the default retry budget, and both
// sides close cleanly. A failure prints its profile and seed; run_transfer(make_spec(profile,
// seed)) rebuilds exactly that run (the same frames at the same virtual times).
#include <gtest/gtest.h>

#include <cstdio>

#include "weft/transport/mix.h"
#include "weft/transport/scenario.h"

namespace weft::transport::sim {
namespace {

constexpr int kShards = 10;
constexpr int kSeedsPerShard = 100;  // 10 x 100 = 1,000 seeds per profile

// Uniform in [0, 1) from a counter-based stream.
struct Draw {
  std::uint64_t state;
  double uniform() { return static_cast<double>(mix64(state++) >> 11) * 0x1.0p-53; }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(mix64(state++) % n); }
};

Faults draw_faults(Draw& d) {
  Faults f;
  f.loss = 0.30 * d.uniform();
  f.duplicate = d.uniform() < 0.5 ? 0.05 * d.uniform() : 0.0;
  f.reorder = d.uniform() < 0.5 ? 0.10 * d.uniform() : 0.0;
  f.reorder_delay_us = 1.0 + 20.0 * d.uniform();
  f.corrupt = d.uniform() < 0.5 ? 0.05 * d.uniform() : 0.0;
  return f;
}

TransferSpec make_spec(Profile profile, std::uint64_t seed) {
  Draw d{mix64(seed) ^ static_cast<std::uint64_t>(profile)};
  TransferSpec s;
  s.seed = seed;
  s.endpoint.profile = profile;
  s.link.a_to_b = draw_faults(d);
  s.link.b_to_a = draw_faults(d);
  const bool compat = profile == Profile::kTtpoeCompat;
  auto sizes = [&](std::vector<std::uint32_t>& out, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
      out.push_back(compat ? 1 + d.below(1024) : d.below(4) == 0 ? d.below(64) : d.below(120000));
    }
  };
  sizes(s.a_to_b, 1 + d.below(24));
  sizes(s.b_to_a, d.below(16));
  return s;
}

struct Case {
  Profile profile;
  int shard;
};

class PropertyTest : public ::testing::TestWithParam<Case> {};

TEST_P(PropertyTest, ExactlyOnceInOrderAndCleanClose) {
  const Case c = GetParam();
  int failures = 0;
  std::uint64_t retransmits = 0, messages = 0;
  double max_loss = 0;
  for (int i = 0; i < kSeedsPerShard; ++i) {
    const std::uint64_t seed = static_cast<std::uint64_t>(c.shard * kSeedsPerShard + i + 1);
    TransferSpec spec = make_spec(c.profile, seed);
    max_loss = std::max({max_loss, spec.link.a_to_b.loss, spec.link.b_to_a.loss});
    TransferResult r = run_transfer(spec);
    messages += r.messages_delivered;
    retransmits += r.a_link.stats.retransmits + r.b_link.stats.retransmits;
    if (!r.ok) {
      ++failures;
      ADD_FAILURE() << profile_name(c.profile) << " seed " << seed << " failed: " << r.failure
                    << " (loss a->b " << spec.link.a_to_b.loss << ", b->a " << spec.link.b_to_a.loss << ")";
    }
    EXPECT_TRUE(r.errors.empty()) << "seed " << seed << ": " << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_EQ(r.corrupt_messages, 0u) << "seed " << seed;
  }
  std::printf("%s shard %d: %d seeds, %d failed, %llu messages delivered, %llu retransmissions, max loss %.3f\n",
              std::string(profile_name(c.profile)).c_str(), c.shard, kSeedsPerShard, failures,
              static_cast<unsigned long long>(messages), static_cast<unsigned long long>(retransmits), max_loss);
  EXPECT_EQ(failures, 0);
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (Profile p : {Profile::kWeft, Profile::kTtpoeCompat}) {
    for (int s = 0; s < kShards; ++s) v.push_back({p, s});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.profile == Profile::kWeft ? "weft" : "compat") +
                                  "_shard" + std::to_string(p.param.shard);
                         });

// The same seed reproduces the same run exactly (frames, times, results).
TEST(PropertyDeterminism, SameSeedSameRun) {
  for (Profile p : {Profile::kWeft, Profile::kTtpoeCompat}) {
    std::string trace[2];
    TransferResult r[2];
    for (int k = 0; k < 2; ++k) {
      TransferSpec spec = make_spec(p, 4242);
      spec.trace = [&trace, k](const TraceRecord& t) {
        trace[k] += format_trace_line(t.time, t.from, t.to, t.frame, t.dropped);
        trace[k] += '\n';
      };
      r[k] = run_transfer(spec);
    }
    EXPECT_TRUE(r[0].ok) << r[0].failure;
    EXPECT_FALSE(trace[0].empty());
    EXPECT_EQ(trace[0], trace[1]);
    EXPECT_EQ(r[0].end, r[1].end);
    EXPECT_EQ(r[0].events, r[1].events);
  }
}

}  // namespace
}  // namespace weft::transport::sim
