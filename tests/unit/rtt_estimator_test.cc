#include "transport/core/rtt_estimator.h"

#include <gtest/gtest.h>

namespace weft::transport {
namespace {

TEST(RttEstimator, FirstSampleSetsSrttAndHalfVariance) {
  RttEstimator e(1'000'000, 100'000, 200'000'000);
  EXPECT_FALSE(e.has_sample());
  EXPECT_EQ(e.rto(), 1'000'000);
  e.on_sample(10'000);
  EXPECT_EQ(e.srtt(), 10'000);
  EXPECT_EQ(e.rttvar(), 5'000);
  EXPECT_EQ(e.rto(), 100'000) << "clamped to rto_min";
}

TEST(RttEstimator, SmoothsLikeRfc6298) {
  RttEstimator e(1'000'000, 1, 200'000'000);
  e.on_sample(80'000);
  e.on_sample(160'000);
  EXPECT_EQ(e.srtt(), (7 * 80'000 + 160'000) / 8);
  EXPECT_EQ(e.rttvar(), (3 * 40'000 + 80'000) / 4);
  EXPECT_EQ(e.rto(), e.srtt() + 4 * e.rttvar());
  EXPECT_EQ(e.min_rtt(), 80'000);
}

TEST(RttEstimator, BackoffDoublesUpToMaxAndResets) {
  RttEstimator e(1'000'000, 100'000, 1'000'000);
  e.on_sample(50'000);
  EXPECT_EQ(e.rto(), 150'000);  // 50 + 4 * 25 µs
  e.backoff();
  EXPECT_EQ(e.rto(), 300'000);
  e.backoff();
  e.backoff();
  EXPECT_EQ(e.rto(), 1'000'000);
  e.reset_backoff();
  EXPECT_EQ(e.rto(), 150'000);  // 50 + 4 * 25 µs
}

}  // namespace
}  // namespace weft::transport
