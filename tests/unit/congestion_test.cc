#include "transport/core/congestion.h"

#include <gtest/gtest.h>

namespace weft::transport {
namespace {

EndpointConfig config() {
  EndpointConfig c;
  c.initial_window_bytes = 64 << 10;
  c.window_bytes = 1 << 20;
  return c;
}

TEST(Congestion, SlowStartDoublesUntilTheCap) {
  CongestionController cc(config());
  EXPECT_EQ(cc.cwnd(), 64u << 10);
  cc.on_ack(64 << 10, 8, 0, true, 8940);
  EXPECT_EQ(cc.cwnd(), 128u << 10);
  for (int i = 0; i < 10; ++i) cc.on_ack(cc.cwnd(), 8, 0, true, 8940);
  EXPECT_EQ(cc.cwnd(), 1u << 20) << "never above window_bytes";
}

TEST(Congestion, LossIsNotACongestionSignal) {
  // There is no loss input at all: the window only reacts to ECN and delay.
  CongestionController cc(config());
  const auto before = cc.cwnd();
  cc.on_ack(0, 0, 0, true, 8940);
  EXPECT_GE(cc.cwnd(), before);
}

TEST(Congestion, EcnCutsByHalfAlphaOncePerWindow) {
  CongestionController cc(config());
  // alpha starts at 1: a fully marked window halves cwnd (less the gain-smoothed alpha).
  cc.on_ack(8940, 1, 1, false, 8940);
  EXPECT_EQ(cc.decreases(), 0u) << "cut only at the end of the observation window";
  const auto before = cc.cwnd();
  cc.on_ack(8940, 1, 1, true, 8940);
  EXPECT_EQ(cc.decreases(), 1u);
  EXPECT_NEAR(static_cast<double>(cc.cwnd()), before * (1 - cc.alpha() / 2), 2.0);
  // Unmarked windows decay alpha and let the window grow again.
  const double a = cc.alpha();
  cc.on_ack(8940, 4, 0, true, 8940);
  EXPECT_LT(cc.alpha(), a);
  EXPECT_EQ(cc.decreases(), 1u);
}

TEST(Congestion, DelayAboveTargetCutsProportionallyOncePerRtt) {
  EndpointConfig c = config();
  c.delay_target_us = 10;
  CongestionController cc(c);
  const auto before = cc.cwnd();
  cc.on_rtt(5'000, 5'000, 5'000, 0);  // at the minimum: no cut
  EXPECT_EQ(cc.cwnd(), before);
  cc.on_rtt(30'000, 5'000, 10'000, 100);  // 15 µs over target
  EXPECT_EQ(cc.decreases(), 1u);
  EXPECT_LT(cc.cwnd(), before);
  EXPECT_GE(cc.cwnd(), before / 2);
  cc.on_rtt(30'000, 5'000, 10'000, 200);  // within the same SRTT: no second cut
  EXPECT_EQ(cc.decreases(), 1u);
}

TEST(Congestion, FloorIsOneSegmentAndPacingFollowsCwnd) {
  EndpointConfig c = config();
  c.min_window_bytes = 1;
  CongestionController cc(c);
  for (int i = 0; i < 100; ++i) cc.on_ack(8940, 1, 1, true, 8940);
  EXPECT_EQ(cc.cwnd(), max_payload_bytes(c));
  EXPECT_GT(cc.pacing_gap(8940, 10'000), 0);
  EXPECT_EQ(cc.pacing_gap(8940, 0), 0) << "no pacing before the first RTT sample";
}

TEST(Congestion, AlphaDecaysToExactlyZeroNeverSubnormal) {
  EndpointConfig c;
  CongestionController cc(c);
  for (int i = 0; i < 100000; ++i) cc.on_ack(9000, 1, 0, /*window_done=*/true, 9000);
  EXPECT_EQ(cc.alpha(), 0.0) << "unmarked windows flush alpha to zero";
  cc.on_ack(9000, 1, 1, true, 9000);
  EXPECT_GT(cc.alpha(), 0.0) << "a marked window raises it again";
}

TEST(Congestion, DisabledKeepsTheFixedWindow) {
  EndpointConfig c = config();
  c.congestion_control = false;
  CongestionController cc(c);
  EXPECT_EQ(cc.cwnd(), c.window_bytes);
  cc.on_ack(8940, 1, 1, true, 8940);
  cc.on_rtt(1'000'000, 1'000, 1'000, 0);
  EXPECT_EQ(cc.cwnd(), c.window_bytes);
}

}  // namespace
}  // namespace weft::transport
