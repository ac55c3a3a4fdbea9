#include "transport/core/ring.h"

#include <gtest/gtest.h>

#include <string>

namespace weft::transport {
namespace {

TEST(Ring, FifoAcrossWrapAndGrowth) {
  Ring<int> r;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 3; ++i) r.push_back(next_in++);
    for (int i = 0; i < round % 5 + 1 && !r.empty(); ++i) {
      EXPECT_EQ(r.front(), next_out++);
      r.pop_front();
    }
  }
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], next_out + static_cast<int>(i));
}

TEST(Ring, ResizeAtLeastAppendsDefaults) {
  Ring<std::string> r;
  r.push_back("a");
  r.resize_at_least(5);
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "a");
  EXPECT_TRUE(r[4].empty());
  r.resize_at_least(2);
  EXPECT_EQ(r.size(), 5u);
}

TEST(Ring, EmptyRingHoldsNoMemoryAfterRelease) {
  Ring<int> r;
  for (int i = 0; i < 100; ++i) r.push_back(i);
  r.clear_and_release();
  EXPECT_TRUE(r.empty());
  r.push_back(7);
  EXPECT_EQ(r.front(), 7);
}

}  // namespace
}  // namespace weft::transport
