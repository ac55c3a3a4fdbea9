// Test support: credentials for a small cluster, and two secured endpoints wired back to back
// (EndpointPair: a pipe that can record, drop, alter and inject frames — the attacker's position).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <vector>

#include "tests/support/endpoint_pair.h"
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

struct SecurePair : EndpointPair {
  using Cfg = transport::EndpointConfig;
  explicit SecurePair(Auth auth = Auth::kBoth, const std::function<void(Cfg&, int)>& tweak = {}) {
    now = 1'000'000'000;  // 1 s into the handshake clock
    for (int n = 1; n <= 2; ++n) {
      Cfg c;
      c.node_id = static_cast<transport::NodeId>(n);
      c.rng_seed = 7;
      c.credentials = cluster_credentials(n, auth);
      if (tweak) tweak(c, n);
      (n == 1 ? a : b) = std::make_unique<transport::Endpoint>(c);
    }
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
};

}  // namespace weft::test
