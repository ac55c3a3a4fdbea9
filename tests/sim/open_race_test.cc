// Both ends of a link open it at once ("passing ships") while frames are lost: whichever OPENs,
// OPEN_ACKs and retransmissions get through, both sides must end up on one link, with one epoch,
// that carries data both ways, and neither may report an error. Plaintext and encrypted, many
// seeds, loss up to 30 % (virtual time).
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "tests/support/secure_pair.h"
#include "weft/transport/mix.h"
#include "weft/transport/sim_loop.h"

namespace weft::transport::sim {
namespace {

struct Outcome {
  int opened = 0, errors = 0, messages = 0;
  std::string error;
};

Outcome race(std::uint64_t seed, double loss, TimeNs skew, bool secure) {
  SimLoop loop(seed);
  Outcome out;
  std::vector<EndpointHost*> hosts;
  std::vector<int> nodes;
  const std::vector<std::uint8_t> msg(3000, 0x42);
  for (int i = 0; i < 2; ++i) {
    EndpointConfig c;
    c.node_id = static_cast<NodeId>(i + 1);
    c.rng_seed = mix64(seed * 7 + static_cast<std::uint64_t>(i));
    if (secure) c.credentials = test::cluster_credentials(i + 1, test::Auth::kCluster);
    auto h = std::make_unique<EndpointHost>(c, [&](Endpoint&, Event& ev, TimeNs) {
      if (ev.kind == EventKind::kOpened) ++out.opened;
      if (ev.kind == EventKind::kMessage) ++out.messages;
      if (ev.kind == EventKind::kError) {
        ++out.errors;
        out.error = std::string(error_name(ev.error)) + ": " + ev.detail;
      }
    });
    hosts.push_back(h.get());
    nodes.push_back(loop.add_host(std::move(h), c.node_id));
  }
  LinkConfig link;
  link.a_to_b.loss = loss;
  link.b_to_a.loss = loss;
  loop.connect(nodes[0], nodes[1], link);
  for (int i = 0; i < 2; ++i) {
    loop.schedule(i == 0 ? 0 : skew, [&, i] {
      Endpoint& ep = hosts[static_cast<std::size_t>(i)]->endpoint();
      const NodeId peer = static_cast<NodeId>(2 - i);
      if (ep.state(peer, Vc::kData) == LinkState::kClosed) {
        ASSERT_TRUE(ep.open(peer, Vc::kData, loop.now()).ok());
      }
      ASSERT_TRUE(ep.send(peer, Vc::kData, msg, loop.now()).ok());
      loop.kick(nodes[static_cast<std::size_t>(i)]);
    });
  }
  loop.run(5'000'000'000, [&] { return out.messages == 2 || out.errors > 0; });
  return out;
}

void sweep(bool secure) {
  int runs = 0;
  for (double loss : {0.0, 0.1, 0.3}) {
    for (TimeNs skew : {TimeNs{0}, TimeNs{1000}, TimeNs{3000}}) {
      for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        const Outcome o = race(seed, loss, skew, secure);
        ++runs;
        ASSERT_EQ(o.errors, 0) << "seed " << seed << " loss " << loss << " skew " << skew << " ns: " << o.error;
        ASSERT_EQ(o.messages, 2) << "seed " << seed << " loss " << loss << " skew " << skew << " ns";
      }
    }
  }
  std::printf("%d simultaneous opens (%s), loss 0-30 %%: one link each, data both ways\n", runs,
              secure ? "encrypted" : "plaintext");
}

TEST(OpenRace, PlaintextPassingShipsUnderLoss) { sweep(false); }
TEST(OpenRace, EncryptedPassingShipsUnderLoss) { sweep(true); }

}  // namespace
}  // namespace weft::transport::sim
