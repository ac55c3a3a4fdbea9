// Test support: two endpoints wired back to back by an in-test pipe (instant delivery). `tap`
// sees each frame first and may change it or return false to drop it (the network, or an
// attacker); every frame delivered is recorded in `wire`.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "weft/transport/endpoint.h"

namespace weft::test {

struct EndpointPair {
  transport::Endpoint& ep(int side) { return side == 0 ? *a : *b; }
  // Moves frames both ways until quiet (at most `rounds` exchanges).
  void pump(int rounds = 1000) {
    for (int i = 0; i < rounds; ++i) {
      bool any = false;
      for (int side = 0; side < 2; ++side) {
        transport::Transmit tx;
        while (ep(side).poll_transmit(buf, now, tx)) {
          any = true;
          std::vector<std::uint8_t> frame(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(tx.bytes));
          if (tap && !tap(side, frame)) continue;
          wire.push_back({side, frame});
          ep(1 - side).on_frame(frame, now);
        }
      }
      drain();
      if (!any) return;
    }
  }
  // Advances virtual time to the next timer of either side (up to `until`), pumping after each.
  void run_timers(transport::TimeNs until) {
    while (true) {
      transport::TimeNs t = std::min(a->next_timer(), b->next_timer());
      if (t == transport::kNever || t > until) break;
      now = std::max(now, t);
      a->on_timer(now);
      b->on_timer(now);
      pump();
    }
  }
  void drain() {
    while (auto e = a->poll_event()) ev_a.push_back(std::move(*e));
    while (auto e = b->poll_event()) ev_b.push_back(std::move(*e));
  }

  struct Seen {
    int side;
    std::vector<std::uint8_t> bytes;
  };
  std::unique_ptr<transport::Endpoint> a, b;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(9100);
  transport::TimeNs now = 0;
  std::function<bool(int, std::vector<std::uint8_t>&)> tap;
  std::vector<Seen> wire;
  std::vector<transport::Event> ev_a, ev_b;
};

}  // namespace weft::test
