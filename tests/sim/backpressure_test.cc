// NACK_FULL backpressure end to end: the receiving application stops reading, its link's receive
// buffer fills, the receiver refuses PAYLOADs with NACK_FULL and the sender backs off instead of
// failing. When the application reads again, every message arrives exactly once, in order, and
// the link closes cleanly. Both profiles; virtual time. And the same with NACK_FULL turned off
// (the receiver drops silently; the sender's timer recovers), the incast study's comparison.
#include <gtest/gtest.h>

#include <cstdio>

#include "weft/transport/scenario.h"
#include "weft/transport/sim_loop.h"

namespace weft::transport::sim {
namespace {

// Returns the virtual time at which both ends had closed.
TimeNs run(Profile profile, bool nack_full = true) {
  EndpointConfig cfg;
  cfg.profile = profile;
  cfg.nack_full = nack_full;
  cfg.recv_buffer_bytes = 64u << 10;
  const std::uint32_t size = profile == Profile::kWeft ? 16u << 10 : 1024;
  const int count = profile == Profile::kWeft ? 64 : 512;  // 1 MiB / 512 KiB

  SimLoop loop(11);
  cfg.node_id = 1;
  auto a = std::make_unique<EndpointHost>(cfg);
  EndpointHost* ha = a.get();
  cfg.node_id = 2;
  auto b = std::make_unique<EndpointHost>(cfg);  // no handler: B's events wait to be polled
  EndpointHost* hb = b.get();
  const int na = loop.add_host(std::move(a), 1);
  const int nb = loop.add_host(std::move(b), 2);
  loop.connect(na, nb, LinkConfig{});

  std::vector<std::uint8_t> msg;
  loop.schedule(0, [&] {
    ASSERT_TRUE(ha->endpoint().open(2, Vc::kData, 0).ok());
    for (int i = 0; i < count; ++i) {
      fill_message(5, static_cast<std::uint64_t>(i), msg, size);
      ASSERT_TRUE(ha->endpoint().send(2, Vc::kData, msg, 0).ok());
    }
    ASSERT_TRUE(ha->endpoint().close(2, Vc::kData, 0).ok());
    loop.kick(na);
  });
  // The application reads nothing for 2 ms, then drains its events every 10 µs.
  int received = 0;
  bool in_order = true, b_closed = false;
  std::function<void()> read = [&] {
    while (auto ev = hb->endpoint().poll_event()) {
      if (ev->kind == EventKind::kMessage) {
        fill_message(5, static_cast<std::uint64_t>(received), msg, size);
        in_order &= ev->message == msg;
        ++received;
      }
      b_closed |= ev->kind == EventKind::kClosed;
    }
    loop.kick(nb);
    if (!b_closed) loop.schedule(loop.now() + us_to_ns(10), read);
  };
  loop.schedule(us_to_ns(2000), read);
  bool a_closed = false, a_error = false;
  std::uint64_t nack_full_received = 0;
  loop.run(us_to_ns(10'000'000), [&] {
    while (auto ev = ha->endpoint().poll_event()) {
      a_closed |= ev->kind == EventKind::kClosed;
      a_error |= ev->kind == EventKind::kError;
      if (ev->kind == EventKind::kClosed) nack_full_received = ev->stats.nack_full_received;
    }
    return a_closed && b_closed;
  });
  const std::uint64_t refused = hb->endpoint().stats().drops[static_cast<int>(DropReason::kRecvBufferFull)];
  std::printf("%s: %d/%d messages in order, %llu PAYLOADs refused while full, %llu NACK_FULL received, "
              "closed at %.0f us\n",
              std::string(profile_name(profile)).c_str(), received, count,
              static_cast<unsigned long long>(refused), static_cast<unsigned long long>(nack_full_received),
              static_cast<double>(loop.now()) / 1e3);
  EXPECT_FALSE(a_error);
  EXPECT_TRUE(a_closed && b_closed);
  EXPECT_EQ(received, count);
  EXPECT_TRUE(in_order);
  EXPECT_GT(refused, 0u) << "the receive buffer must have filled";
  if (nack_full) {
    EXPECT_GT(nack_full_received, 0u) << "the sender must have been told";
  } else {
    EXPECT_EQ(nack_full_received, 0u) << "nack_full = false: the receiver drops without telling";
  }
  return loop.now();
}

// The refused PAYLOADs of one flight are one episode: the pause doubles only when a segment sent
// after it began is refused too, so it stays near the receiver's stall. (When each NACK_FULL
// doubled it, the pause reached 10 ms within the 2 ms stall and the link closed at 5.9 ms.)
TEST(Backpressure, WeftNackFullPausesAndRecovers) {
  const TimeNs closed = run(Profile::kWeft);
  EXPECT_LT(closed, us_to_ns(3500)) << "the sender must resume soon after the receiver reads again (at 2 ms)";
}
TEST(Backpressure, CompatNackFullPausesAndRecovers) { run(Profile::kTtpoeCompat); }
// Without NACK_FULL (EndpointConfig::nack_full = false) the full receiver drops silently and the
// sender recovers by its retransmission timer: still every message, once, in order.
TEST(Backpressure, WeftWithoutNackFullRecoversByTimer) { run(Profile::kWeft, false); }
TEST(Backpressure, CompatWithoutNackFullRecoversByTimer) { run(Profile::kTtpoeCompat, false); }

}  // namespace
}  // namespace weft::transport::sim
