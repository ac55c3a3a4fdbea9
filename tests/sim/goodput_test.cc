// Goodput in virtual time on the reference link: 100 Gb/s, 2 µs, random loss applied
// independently to every frame in both directions (ACKs included). These are timed assertions in
// virtual time, so they do not depend on how busy the machine is.
//
// Acceptance (weft profile): lossless goodput >= 0.9 x line rate after headers; at 1 % loss
// >= 90 % of lossless; at 10 % >= 50 %. The compat profile (go-back-N, same window and RTO
// estimator) is measured beside it and must be no better than weft.
#include <gtest/gtest.h>

#include <cstdio>

#include "weft/transport/scenario.h"

namespace weft::transport::sim {
namespace {

TransferResult run(Profile p, double loss, std::uint64_t seed) {
  TransferSpec s;
  s.seed = seed;
  s.endpoint.profile = p;
  s.link.rate_gbps = 100;
  s.link.delay_us = 2;
  s.link.a_to_b.loss = loss;
  s.link.b_to_a.loss = loss;
  if (p == Profile::kWeft) {
    s.a_to_b.assign(32, 1u << 20);  // 32 MiB
  } else {
    s.a_to_b.assign(4096, 1024);  // 4 MiB of the largest compat messages
  }
  TransferResult r = run_transfer(s);
  std::printf("%-12s loss %5.2f%%  goodput %7.2f Gb/s  retransmits %llu  virtual %.0f us\n",
              std::string(profile_name(p)).c_str(), loss * 100, r.goodput_gbps,
              static_cast<unsigned long long>(r.a_link.stats.retransmits), static_cast<double>(r.end) / 1e3);
  return r;
}

double line_rate_after_headers(Profile p) {
  EndpointConfig c;
  c.profile = p;
  const double payload = max_payload_bytes(c);
  return 100.0 * payload / (payload + static_cast<double>(wire::kL2HeaderBytes));
}

TEST(Goodput, WeftLosslessNearLineRate) {
  TransferResult r = run(Profile::kWeft, 0, 1);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_GE(r.goodput_gbps, 0.9 * line_rate_after_headers(Profile::kWeft));
}

TEST(Goodput, WeftKeepsThroughputUnderLoss) {
  TransferResult base = run(Profile::kWeft, 0, 1);
  TransferResult one = run(Profile::kWeft, 0.01, 2);
  TransferResult ten = run(Profile::kWeft, 0.10, 3);
  ASSERT_TRUE(base.ok && one.ok && ten.ok) << base.failure << one.failure << ten.failure;
  EXPECT_GE(one.goodput_gbps, 0.9 * base.goodput_gbps);
  EXPECT_GE(ten.goodput_gbps, 0.5 * base.goodput_gbps);
  EXPECT_GT(ten.a_link.stats.retransmits_fast, 0u) << "losses must be repaired by SACK/RACK";
}

TEST(Goodput, CompatBaselineIsGoBackN) {
  TransferResult base = run(Profile::kTtpoeCompat, 0, 1);
  TransferResult one = run(Profile::kTtpoeCompat, 0.01, 2);
  ASSERT_TRUE(base.ok && one.ok) << base.failure << one.failure;
  EXPECT_GE(base.goodput_gbps, 0.8 * line_rate_after_headers(Profile::kTtpoeCompat));
  EXPECT_GT(one.a_link.stats.retransmits_nack, 0u) << "compat recovers through NACK + go-back-N";
  EXPECT_EQ(one.a_link.stats.retransmits_fast, 0u) << "compat has no selective repair";
  TransferResult weft_one = run(Profile::kWeft, 0.01, 2);
  ASSERT_TRUE(weft_one.ok) << weft_one.failure;
  EXPECT_GT(weft_one.goodput_gbps / line_rate_after_headers(Profile::kWeft),
            one.goodput_gbps / line_rate_after_headers(Profile::kTtpoeCompat));
}

// Reordering with no loss (multipath spraying over paths of different depth): every
// retransmission is needless. RACK must learn it — a resent segment acknowledged sooner than a
// round trip after the resend reveals a late original — and widen its reorder window, so needless
// resends stay a small fraction of the frames that arrived late.
TEST(Goodput, WeftLearnsReorderingWithoutLoss) {
  TransferSpec s;
  s.seed = 7;
  s.link.rate_gbps = 100;
  s.link.delay_us = 2;
  s.link.a_to_b.reorder = 0.05;          // 5 % of frames held back ...
  s.link.a_to_b.reorder_delay_us = 3;    // ... by 3 us: more than min RTT / 4, less than SRTT
  s.a_to_b.assign(32, 1u << 20);
  TransferResult r = run_transfer(s);
  ASSERT_TRUE(r.ok) << r.failure;
  const auto& st = r.a_link.stats;
  std::printf("reordered %llu frames, retransmits %llu (RACK %llu), found spurious %llu, goodput %.2f Gb/s\n",
              static_cast<unsigned long long>(r.a_port.reordered), static_cast<unsigned long long>(st.retransmits),
              static_cast<unsigned long long>(st.retransmits_fast),
              static_cast<unsigned long long>(st.spurious_retransmits), r.goodput_gbps);
  EXPECT_GT(st.spurious_retransmits, 0u) << "late originals must be recognised";
  EXPECT_LT(st.retransmits, r.a_port.reordered / 4) << "the reorder window must widen after spurious resends";
}

}  // namespace
}  // namespace weft::transport::sim
