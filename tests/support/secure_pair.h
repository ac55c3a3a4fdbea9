// Test support: credentials for a small cluster, and two secured endpoints wired back to back by
// an in-test pipe that can record, drop, alter and inject frames (the attacker's position).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "weft/crypto/credentials.h"
#include "weft/transport/endpoint.h"

namespace weft::test {

enum class Auth { kIdentity, kCluster, kBoth };

// Credentials of node `n` (1-based) in a cluster of `nodes`: identity seed n, every node of the
// cluster on the allowlist, cluster key `cluster` (as a byte repeated). Ephemeral keys are
// derived from the endpoint's seed, so runs repeat byte for byte.
inline std::shared_ptr<crypto::Credentials> cluster_credentials(int n, Auth auth, int nodes = 2,
                                                                std::uint8_t cluster = 0xC1) {
  auto c = std::make_shared<crypto::Credentials>();
  c->deterministic_ephemeral = true;
  if (auth != Auth::kCluster) {
    std::array<std::uint8_t, crypto::kSeedBytes> seed{};
    seed.fill(static_cast<std::uint8_t>(n));
    c->set_identity_seed(seed);
    for (int i = 1; i <= nodes; ++i) {
      crypto::Credentials peer;
      seed.fill(static_cast<std::uint8_t>(i));
      peer.set_identity_seed(seed);
      c->allow({"node" + std::to_string(i), peer.identity_public()});
    }
  }
  if (auth != Auth::kIdentity) {
    std::array<std::uint8_t, crypto::kClusterKeyBytes> key{};
    key.fill(cluster);
    c->set_cluster_key(key);
  }
  return c;
}

struct SecurePair {
  using Cfg = transport::EndpointConfig;
  explicit SecurePair(Auth auth = Auth::kBoth, const std::function<void(Cfg&, int)>& tweak = {}) {
    for (int n = 1; n <= 2; ++n) {
      Cfg c;
      c.node_id = static_cast<transport::NodeId>(n);
      c.rng_seed = 7;
      c.credentials = cluster_credentials(n, auth);
      if (tweak) tweak(c, n);
      (n == 1 ? a : b) = std::make_unique<transport::Endpoint>(c);
    }
  }
  transport::Endpoint& ep(int side) { return side == 0 ? *a : *b; }
  // Moves frames both ways until quiet. `tap` sees each frame first and may change it or return
  // false to drop it; every frame delivered is recorded in `wire` (side, bytes).
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
  // Opens a->b on the data VC and runs until both sides are OPEN.
  bool open() {
    if (!a->open(2, transport::Vc::kData, now).ok()) return false;
    pump();
    return a->state(2, transport::Vc::kData) == transport::LinkState::kOpen &&
           b->state(1, transport::Vc::kData) == transport::LinkState::kOpen;
  }
  std::size_t messages(int side) const {
    std::size_t n = 0;
    for (const auto& e : side == 0 ? ev_a : ev_b) n += e.kind == transport::EventKind::kMessage;
    return n;
  }

  struct Seen {
    int side;
    std::vector<std::uint8_t> bytes;
  };
  std::unique_ptr<transport::Endpoint> a, b;
  std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(9100);
  transport::TimeNs now = 1'000'000'000;
  std::function<bool(int, std::vector<std::uint8_t>&)> tap;
  std::vector<Seen> wire;
  std::vector<transport::Event> ev_a, ev_b;
};

}  // namespace weft::test
