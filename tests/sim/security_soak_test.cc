// Soak: more than 2^20 sealed frames across at least 8 key rotations at 5 % loss, with reordering
// and duplication, in virtual time. Nothing may be lost, delivered twice, corrupted or reported as
// an error; every duplicate the link makes must be caught by the replay window. The seed is
// printed; the same seed reproduces the run exactly.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/support/secure_pair.h"
#include "weft/transport/scenario.h"

namespace weft::transport::sim {
namespace {

TEST(SecuritySoak, MillionFramesAcrossRotationsAtFivePercentLoss) {
  const std::uint64_t seed = 20261126;
  TransferSpec spec;
  spec.seed = seed;
  spec.endpoint.max_frame_bytes = 1500;
  spec.endpoint.credentials = test::cluster_credentials(1, test::Auth::kCluster);  // one key for the cluster
  spec.endpoint.rotate_packets = 1u << 17;
  for (Faults* f : {&spec.link.a_to_b, &spec.link.b_to_a}) {
    f->loss = 0.05;
    f->reorder = 0.05;
    f->reorder_delay_us = 3;
    f->duplicate = 0.01;
  }
  spec.a_to_b.assign(360'000, 4000);  // 3 frames each: ~1.08 M data frames
  spec.b_to_a.assign(2'000, 1000);
  const auto t0 = std::chrono::steady_clock::now();
  TransferResult r = run_transfer(spec);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t frames = r.a_port.frames_sent + r.b_port.frames_sent;
  std::printf("seed %llu: %llu frames sealed, %llu lost, %llu duplicated; rotations a->b %llu, b->a %llu; "
              "replays dropped %llu; %llu retransmits; %.1f s wall\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(frames),
              static_cast<unsigned long long>(r.a_port.dropped_loss + r.b_port.dropped_loss),
              static_cast<unsigned long long>(r.a_port.duplicated + r.b_port.duplicated),
              static_cast<unsigned long long>(r.a_link.stats.key_rotations_sent),
              static_cast<unsigned long long>(r.b_link.stats.key_rotations_sent),
              static_cast<unsigned long long>(r.a_link.stats.drops_replay + r.b_link.stats.drops_replay),
              static_cast<unsigned long long>(r.a_link.stats.retransmits), wall);
  EXPECT_TRUE(r.ok) << r.failure;
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0]);
  EXPECT_EQ(r.messages_delivered, r.messages_expected);
  EXPECT_EQ(r.corrupt_messages, 0u);
  EXPECT_GE(frames, 1u << 20);
  EXPECT_GE(r.a_link.stats.key_rotations_sent, 8u);
  EXPECT_EQ(r.b_link.stats.key_rotations_received, r.a_link.stats.key_rotations_sent);
  EXPECT_GT(r.a_link.stats.drops_replay + r.b_link.stats.drops_replay, 0u) << "duplicates reached the window";
  EXPECT_EQ(r.a_link.stats.drops_bad_tag + r.b_link.stats.drops_bad_tag, 0u);
  EXPECT_TRUE(r.a_link.encrypted);
}

}  // namespace
}  // namespace weft::transport::sim
