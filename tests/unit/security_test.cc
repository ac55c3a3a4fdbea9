// The security-negative suite (docs/security.md): every attack a party outside the cluster can
// make on the wire, one test each. An attack must be dropped and counted by reason, must not
// allocate or change link state, and the link must still carry data afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tests/support/secure_pair.h"
#include "weft/transport/wire.h"

namespace weft::transport {
namespace {

using test::Auth;
using test::SecurePair;

std::uint64_t drops(const Endpoint& e, DropReason r) { return e.stats().drops[static_cast<int>(r)]; }

wire::Frame decoded(const std::vector<std::uint8_t>& bytes) {
  wire::Frame f;
  EXPECT_EQ(wire::decode(bytes, wire::DecodeOptions{}, f), wire::DecodeError::kNone);
  return f;
}

// The first recorded frame from `side` with opcode `op` (protected frames' opcodes are in the
// clear: only their bodies are sealed).
const std::vector<std::uint8_t>* first(const SecurePair& p, int side, wire::Opcode op) {
  for (const auto& s : p.wire) {
    if (s.side != side) continue;
    wire::Frame f;
    if (wire::decode(s.bytes, wire::DecodeOptions{}, f) == wire::DecodeError::kNone && f.ttp.opcode == op) {
      return &s.bytes;
    }
  }
  return nullptr;
}

// a -> b: one message, delivered exactly once (the link still works).
void expect_link_carries_data(SecurePair& p, std::size_t expected_total) {
  std::vector<std::uint8_t> m(100, 0x5A);
  ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump();
  p.run_timers(p.now + 50'000'000);
  EXPECT_EQ(p.messages(1), expected_total);
  EXPECT_EQ(p.a->state(2, Vc::kData), LinkState::kOpen);
  EXPECT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
}

constexpr std::size_t kTtp = wire::ttp_offset(wire::Encapsulation::kEthernet);

TEST(Security, HandshakeSealsEveryFrameAfterOpen) {
  for (Auth auth : {Auth::kIdentity, Auth::kCluster, Auth::kBoth}) {
    SecurePair p(auth);
    ASSERT_TRUE(p.open()) << "auth mode " << static_cast<int>(auth);
    const char marker[] = "weft-plaintext-marker-7f3a";
    std::vector<std::uint8_t> m(5000);
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::uint8_t>(marker[i % (sizeof marker - 1)]);
    ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
    ASSERT_TRUE(p.b->send(1, Vc::kData, m, p.now).ok());
    p.pump();
    p.run_timers(p.now + 10'000'000);
    ASSERT_EQ(p.messages(1), 1u);
    ASSERT_EQ(p.messages(0), 1u);
    EXPECT_EQ(p.ev_b.back().message, m);
    std::size_t protected_frames = 0;
    for (const auto& s : p.wire) {
      wire::Frame f = decoded(s.bytes);
      if (f.ttp.opcode == wire::Opcode::kOpen || f.ttp.opcode == wire::Opcode::kOpenAck) {
        EXPECT_TRUE(f.ext.has_hello);
        continue;
      }
      EXPECT_TRUE(f.is_protected) << wire::opcode_name(f.ttp.opcode) << " sent in the clear";
      ++protected_frames;
      auto hit = std::search(s.bytes.begin(), s.bytes.end(), marker, marker + 12);
      EXPECT_EQ(hit, s.bytes.end()) << "plaintext visible on the wire";
    }
    EXPECT_GT(protected_frames, 2u);
    auto info = p.a->link_info(2, Vc::kData);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->encrypted);
    EXPECT_EQ(info->suite, "aes-256-gcm");
    const bool has_identity = auth != Auth::kCluster;
    EXPECT_EQ(info->peer_identity == crypto::PublicKey{}, !has_identity);
    if (has_identity) {
      EXPECT_EQ(info->peer_identity, test::cluster_credentials(2, auth)->identity_public());
    }
    EXPECT_EQ(p.a->stats().drops_total(), 0u);
    EXPECT_EQ(p.b->stats().drops_total(), 0u);
  }
}

TEST(Security, SuiteFallsBackToChaChaWhenOneSideOffersOnlyIt) {
  SecurePair p(Auth::kCluster, [](EndpointConfig& c, int n) {
    if (n == 2) {
      auto creds = test::cluster_credentials(2, Auth::kCluster);
      creds->aes256gcm = nullptr;  // b runs ChaCha20-Poly1305 only (as a CPU without AES-NI)
      c.credentials = creds;
    }
  });
  ASSERT_TRUE(p.open());
  EXPECT_EQ(p.a->link_info(2, Vc::kData)->suite, "chacha20-poly1305");
  expect_link_carries_data(p, 1);
}

TEST(Security, ReplayInsideTheWindowIsDropped) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  expect_link_carries_data(p, 1);
  const auto* payload = first(p, 0, wire::Opcode::kPayload);
  ASSERT_NE(payload, nullptr);
  p.b->on_frame(*payload, p.now);
  p.drain();
  EXPECT_EQ(drops(*p.b, DropReason::kReplay), 1u);
  EXPECT_EQ(p.b->link_info(1, Vc::kData)->stats.drops_replay, 1u);
  EXPECT_EQ(p.messages(1), 1u) << "nothing delivered twice";
  expect_link_carries_data(p, 2);
}

TEST(Security, ReplayOlderThanTheWindowIsDropped) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  expect_link_carries_data(p, 1);
  const std::vector<std::uint8_t> old = *first(p, 0, wire::Opcode::kPayload);
  std::vector<std::uint8_t> m(10, 1);
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump(100000);
  p.run_timers(p.now + 50'000'000);
  ASSERT_EQ(p.messages(1), 1501u);
  ASSERT_GT(p.b->link_info(1, Vc::kData)->stats.messages_received, 1024u);
  p.b->on_frame(old, p.now);
  EXPECT_EQ(drops(*p.b, DropReason::kReplay), 1u);
  expect_link_carries_data(p, 1502);
}

TEST(Security, ReplayedOpenOnALiveLinkChangesNothing) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  const std::vector<std::uint8_t> open = *first(p, 0, wire::Opcode::kOpen);
  p.wire.clear();
  p.b->on_frame(open, p.now);  // the OPEN already answered: answered again, nothing reset
  p.pump();
  EXPECT_EQ(p.b->link_count(), 1u);
  EXPECT_EQ(p.b->stats().link_errors, 0u);
  expect_link_carries_data(p, 1);
  // After the link closed, the same OPEN must not open it again.
  ASSERT_TRUE(p.a->close(2, Vc::kData, p.now).ok());
  p.pump();
  p.run_timers(p.now + 50'000'000);
  ASSERT_EQ(p.b->link_count(), 0u);
  p.b->on_frame(open, p.now);
  p.pump();
  EXPECT_EQ(p.b->link_count(), 0u) << "a replayed OPEN allocated a link";
  EXPECT_EQ(drops(*p.b, DropReason::kStaleOpen), 1u);
}

TEST(Security, ReplayedOpenToARestartedResponderAllocatesNothing) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  const std::vector<std::uint8_t> open = *first(p, 0, wire::Opcode::kOpen);
  // A fresh responder (restarted: no handshake records) sees the OPEN long after it was made.
  EndpointConfig c;
  c.node_id = 2;
  c.credentials = test::cluster_credentials(2, Auth::kBoth);
  Endpoint fresh(c);
  fresh.on_frame(open, p.now + 121'000'000'000);  // handshake_window_us is 120 s
  EXPECT_EQ(fresh.link_count(), 0u);
  EXPECT_EQ(drops(fresh, DropReason::kStaleOpen), 1u);
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  EXPECT_FALSE(fresh.poll_transmit(buf, p.now, tx)) << "answered a replayed OPEN";
}

TEST(Security, FrameWithAStaleEpochIsDropped) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  p.tap = [](int side, std::vector<std::uint8_t>& f) {
    if (side == 0 && decoded(f).ttp.opcode == wire::Opcode::kPayload) f[kTtp + 4] ^= 0x40;  // epoch
    return true;
  };
  std::vector<std::uint8_t> m(100, 1);
  ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump();
  EXPECT_GE(drops(*p.b, DropReason::kStaleEpoch), 1u);
  EXPECT_GE(p.b->link_info(1, Vc::kData)->stats.drops_stale_epoch, 1u);
  EXPECT_EQ(p.messages(1), 0u);
  p.tap = nullptr;
  p.run_timers(p.now + 50'000'000);  // retransmitted with a fresh counter, accepted
  EXPECT_EQ(p.messages(1), 1u);
}

TEST(Security, OpenWithTheWrongClusterKeyAllocatesNothing) {
  SecurePair p(Auth::kCluster, [](EndpointConfig& c, int n) {
    if (n == 2) c.credentials = test::cluster_credentials(2, Auth::kCluster, 2, 0xEE);  // another key
  });
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  p.pump();
  EXPECT_EQ(p.b->link_count(), 0u);
  EXPECT_GE(drops(*p.b, DropReason::kUnauthenticated), 1u);
  EXPECT_EQ(p.a->state(2, Vc::kData), LinkState::kOpenSent);
}

TEST(Security, ForgedOpenFromANodeNotOnTheAllowlistAllocatesNothing) {
  SecurePair p(Auth::kIdentity, [](EndpointConfig& c, int n) {
    if (n == 1) c.credentials = test::cluster_credentials(9, Auth::kIdentity, 2);  // identity 9: not allowed by b
  });
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  p.pump();
  EXPECT_EQ(p.b->link_count(), 0u);
  EXPECT_EQ(drops(*p.b, DropReason::kUnauthenticated), 1u);
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  EXPECT_FALSE(p.b->poll_transmit(buf, p.now, tx)) << "answered an unauthenticated OPEN";
}

// Flips one bit of the first protected PAYLOAD a sends, at `offset_from(frame)`.
void flip_first_payload(SecurePair& p, const std::function<std::size_t(const wire::Frame&, std::size_t)>& where) {
  ASSERT_TRUE(p.open());
  bool done = false;
  p.tap = [&](int side, std::vector<std::uint8_t>& f) {
    wire::Frame d;
    if (!done && side == 0 && wire::decode(f, wire::DecodeOptions{}, d) == wire::DecodeError::kNone &&
        d.ttp.opcode == wire::Opcode::kPayload) {
      f[where(d, f.size())] ^= 0x10;
      done = true;
    }
    return true;
  };
  std::vector<std::uint8_t> m(300, 3);
  ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump();
  ASSERT_TRUE(done);
  EXPECT_EQ(drops(*p.b, DropReason::kBadTag), 1u);
  EXPECT_EQ(p.b->link_info(1, Vc::kData)->stats.drops_bad_tag, 1u);
  EXPECT_EQ(p.messages(1), 0u);
  p.tap = nullptr;
  p.run_timers(p.now + 50'000'000);
  EXPECT_EQ(p.messages(1), 1u) << "the retransmission (new counter) is accepted";
  EXPECT_EQ(p.ev_b.back().message, m);
}

TEST(Security, FlippedBitInTheHeaderFailsTheTag) {
  SecurePair p;
  flip_first_payload(p, [](const wire::Frame&, std::size_t) { return kTtp + 12; });  // TxID byte
}

TEST(Security, FlippedBitInTheSecurityHeaderFailsTheTag) {
  SecurePair p;
  flip_first_payload(p, [](const wire::Frame&, std::size_t) { return kTtp + wire::kTtpBytes + 11; });  // counter
}

TEST(Security, FlippedBitInTheCiphertextFailsTheTag) {
  SecurePair p;
  flip_first_payload(p, [](const wire::Frame& f, std::size_t) { return f.aad_bytes + 100; });
}

TEST(Security, FlippedBitInTheTagFailsTheTag) {
  SecurePair p;
  flip_first_payload(p, [](const wire::Frame&, std::size_t n) { return n - 3; });
}

TEST(Security, TruncatedFramesAreDroppedAndTheLinkSurvives) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  expect_link_carries_data(p, 1);
  const std::vector<std::uint8_t> whole = *first(p, 0, wire::Opcode::kPayload);
  const std::uint64_t before = p.b->stats().drops_total();
  std::size_t cuts = 0;
  for (std::size_t len = 0; len < whole.size(); len += 7, ++cuts) {
    std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(len));
    p.b->on_frame(cut, p.now);
  }
  EXPECT_EQ(p.b->stats().drops_total() - before, cuts) << "every truncated frame dropped";
  EXPECT_EQ(p.messages(1), 1u);
  expect_link_carries_data(p, 2);
}

// A forged control frame in the clear, as an outsider who knows the link's ids and epoch would
// send it (from a's address to b).
std::vector<std::uint8_t> forged(const SecurePair& p, wire::Opcode op) {
  auto info = p.b->link_info(1, Vc::kData);
  wire::TtpHeader h;
  h.opcode = op;
  h.vc = static_cast<std::uint8_t>(Vc::kData);
  h.epoch = info->local_epoch;
  h.tx_id = info->rx_last_id + 1;
  h.rx_id = info->next_tx_id - 1;
  std::vector<std::uint8_t> out(128);
  out.resize(wire::encode(wire::Encapsulation::kEthernet, 1, 2, h, {}, {}, out));
  return out;
}

TEST(Security, InjectedCloseFromOutsideIsIgnored) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  p.b->on_frame(forged(p, wire::Opcode::kClose), p.now);
  p.pump();
  EXPECT_EQ(drops(*p.b, DropReason::kUnauthenticated), 1u);
  EXPECT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  expect_link_carries_data(p, 1);
}

TEST(Security, InjectedNackNolinkFromOutsideIsIgnored) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  std::vector<std::uint8_t> m(100, 1);
  ASSERT_TRUE(p.b->send(1, Vc::kData, m, p.now).ok());  // b has data in flight to a
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  ASSERT_TRUE(p.b->poll_transmit(buf, p.now, tx));  // (withheld from a)
  auto nolink = forged(p, wire::Opcode::kNackNolink);
  p.b->on_frame(nolink, p.now);
  EXPECT_EQ(drops(*p.b, DropReason::kUnauthenticated), 1u);
  EXPECT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  p.run_timers(p.now + 50'000'000);
  EXPECT_EQ(p.messages(0), 1u) << "b's message still arrives";
}

TEST(Security, InjectedAckFromOutsideIsIgnored) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  std::vector<std::uint8_t> m(100, 1);
  ASSERT_TRUE(p.b->send(1, Vc::kData, m, p.now).ok());
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  ASSERT_TRUE(p.b->poll_transmit(buf, p.now, tx));  // lost on the way to a
  p.b->on_frame(forged(p, wire::Opcode::kAck), p.now);  // a forged ACK would make b forget it
  EXPECT_EQ(drops(*p.b, DropReason::kUnauthenticated), 1u);
  EXPECT_EQ(p.b->link_info(1, Vc::kData)->stats.acks_received, 0u);
  p.run_timers(p.now + 50'000'000);
  EXPECT_EQ(p.messages(0), 1u) << "the message was resent: the forged ACK acknowledged nothing";
}

TEST(Security, KeyRotatesBeforeTheUsageLimit) {
  SecurePair p(Auth::kBoth, [](EndpointConfig& c, int) {
    c.rotate_packets = 1ull << 40;  // asked never to rotate ...
    c.usage_limit_packets = 64;     // ... but the usage limit forces it
  });
  ASSERT_TRUE(p.open());
  std::vector<std::uint8_t> m(20, 9);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump(100000);
  p.run_timers(p.now + 100'000'000);
  EXPECT_EQ(p.messages(1), 1000u);
  auto ia = p.a->link_info(2, Vc::kData);
  auto ib = p.b->link_info(1, Vc::kData);
  // Frames sent under generation g carry counters [64 g, 64 (g + 1)): the sender rotated every
  // 64 frames, and the receiver followed without a handshake.
  EXPECT_EQ(ia->stats.key_rotations_sent, (ia->tx_counter - 1) / 64);
  EXPECT_GE(ia->stats.key_rotations_sent, 15u);
  EXPECT_EQ(ib->stats.key_rotations_received, ia->stats.key_rotations_sent);
  EXPECT_EQ(ib->rx_key_generation, ia->tx_key_generation);
  EXPECT_EQ(p.b->stats().drops_total(), 0u);
}

TEST(Security, ExhaustedCounterFailsTheLinkInsteadOfWrapping) {
  SecurePair p(Auth::kBoth, [](EndpointConfig& c, int) { c.initial_tx_counter = UINT64_MAX - 4; });
  ASSERT_TRUE(p.open());
  std::vector<std::uint8_t> m(20, 9);
  for (int i = 0; i < 10; ++i) (void)p.a->send(2, Vc::kData, m, p.now);
  p.pump();
  p.run_timers(p.now + 100'000'000);
  const Event* err = nullptr;
  for (const Event& e : p.ev_a)
    if (e.kind == EventKind::kError) err = &e;
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->error, Error::kKeyExhausted);
  EXPECT_NE(err->detail.find("never wraps"), std::string::npos) << err->detail;
  for (const auto& s : p.wire) {
    wire::Frame f = decoded(s.bytes);
    if (f.is_protected) {
      EXPECT_GE(f.security.counter, UINT64_MAX - 4) << "a counter wrapped";
    }
  }
}

TEST(Security, CongestionMarkSetInFlightStillAuthenticates) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  p.tap = [](int side, std::vector<std::uint8_t>& f) {
    if (side == 0 && decoded(f).ttp.opcode == wire::Opcode::kPayload) {
      f[wire::ce_byte_offset(wire::Encapsulation::kEthernet)] |= wire::kCeBit;  // a switch marks CE
    }
    return true;
  };
  expect_link_carries_data(p, 1);
  EXPECT_EQ(drops(*p.b, DropReason::kBadTag), 0u);
  EXPECT_GE(p.b->link_info(1, Vc::kData)->stats.ce_marked_received, 1u);
}

TEST(Security, RestartedPeerReplacesTheLink) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  EndpointConfig c;
  c.node_id = 1;
  c.rng_seed = 99;  // a new process: new ephemeral key
  c.credentials = test::cluster_credentials(1, Auth::kBoth);
  p.a = std::make_unique<Endpoint>(c);
  p.now += 1'000'000;
  ASSERT_TRUE(p.open());
  auto restarted = [&] {
    for (const Event& e : p.ev_b)
      if (e.kind == EventKind::kError && e.error == Error::kPeerRestarted) return true;
    return false;
  };
  // b answered the new OPEN but keeps the old link until the new keys are used (an OPEN alone
  // could be a replay or a redirected one): the first frame a sends replaces it.
  EXPECT_FALSE(restarted());
  expect_link_carries_data(p, 1);
  EXPECT_TRUE(restarted());
  EXPECT_EQ(p.b->link_count(), 1u);
}

// An attacker who has captured a fresh OPEN (here: a member's OPEN to another node, re-addressed
// as coming from this link's peer) cannot tear the link down: without the OPEN's ephemeral secret
// it cannot send under the new keys, so the pending OPEN never replaces the link and expires.
TEST(Security, RedirectedFreshOpenDoesNotReplaceTheLink) {
  SecurePair p(Auth::kCluster);
  ASSERT_TRUE(p.open());
  // Node 3 (another member) opens to node 4; its OPEN is captured and re-addressed 1 -> 2.
  EndpointConfig c3;
  c3.node_id = 3;
  c3.rng_seed = 5;
  c3.credentials = test::cluster_credentials(3, Auth::kCluster);
  Endpoint three(c3);
  ASSERT_TRUE(three.open(4, Vc::kData, p.now).ok());
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  ASSERT_TRUE(three.poll_transmit(buf, p.now, tx));
  std::vector<std::uint8_t> open(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(tx.bytes));
  // Over Ethernet the node ids are signed: re-addressing breaks the MAC.
  std::vector<std::uint8_t> eth = open;
  eth[wire::kEthHeaderBytes + wire::kTthBytes + 2] = 1;  // TSH src node 3 -> 1
  eth[wire::kEthHeaderBytes + wire::kTthBytes + 5] = 2;  // TSH dst node 4 -> 2
  p.b->on_frame(eth, p.now);
  EXPECT_EQ(drops(*p.b, DropReason::kUnauthenticated), 1u);
  // Over UDP (no node ids in the frame) the OPEN authenticates as node 3's, arriving from a's
  // address: b answers it from a pending record and keeps the live link.
  EndpointConfig cu;
  cu.encapsulation = wire::Encapsulation::kUdp;
  cu.node_id = 2;
  cu.credentials = test::cluster_credentials(2, Auth::kCluster);
  cu.rng_seed = 9;
  Endpoint b(cu);
  cu.node_id = 1;
  cu.rng_seed = 8;
  Endpoint a(cu);
  ASSERT_TRUE(a.open(2, Vc::kData, p.now).ok());
  for (int i = 0; i < 4; ++i) {
    while (a.poll_transmit(buf, p.now, tx)) b.on_frame({buf.data(), tx.bytes}, p.now, 1);
    while (b.poll_transmit(buf, p.now, tx)) a.on_frame({buf.data(), tx.bytes}, p.now, 2);
  }
  ASSERT_EQ(b.state(1, Vc::kData), LinkState::kOpen);
  c3.encapsulation = wire::Encapsulation::kUdp;
  Endpoint three_udp(c3);
  p.now += 1'000'000;  // node 3 opens a little later than a did
  ASSERT_TRUE(three_udp.open(4, Vc::kData, p.now).ok());
  ASSERT_TRUE(three_udp.poll_transmit(buf, p.now, tx));
  b.on_frame({buf.data(), tx.bytes}, p.now, /*from a's address*/ 1);
  ASSERT_TRUE(b.poll_transmit(buf, p.now, tx));
  EXPECT_EQ(tx.opcode, wire::Opcode::kOpenAck) << "answered from the pending record";
  while (auto e = b.poll_event()) EXPECT_NE(e->kind, EventKind::kError) << e->detail;
  EXPECT_EQ(b.state(1, Vc::kData), LinkState::kOpen);
  // The live link still carries data, and the pending record expires with the retry budget.
  std::vector<std::uint8_t> m(64, 7);
  ASSERT_TRUE(a.send(2, Vc::kData, m, p.now).ok());
  std::size_t got = 0;
  for (int i = 0; i < 4; ++i) {
    while (a.poll_transmit(buf, p.now, tx)) b.on_frame({buf.data(), tx.bytes}, p.now, 1);
    while (b.poll_transmit(buf, p.now, tx)) a.on_frame({buf.data(), tx.bytes}, p.now, 2);
    while (auto e = b.poll_event()) {
      EXPECT_NE(e->kind, EventKind::kError) << e->detail;
      got += e->kind == EventKind::kMessage;
    }
  }
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(b.stats().key_records, 2u) << "the link's keys and the pending OPEN's";
  const TimeNs later = p.now + us_to_ns(cu.retry_budget_us) + 1;
  b.on_timer(later);
  (void)b.poll_transmit(buf, later, tx);
  EXPECT_EQ(b.stats().key_records, 1u) << "the unconfirmed OPEN's keys are wiped";
  EXPECT_EQ(b.state(1, Vc::kData), LinkState::kOpen);
}

TEST(Security, ReflectedOpenIsRefused) {
  SecurePair p(Auth::kCluster);
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  ASSERT_TRUE(p.a->poll_transmit(buf, p.now, tx));
  std::vector<std::uint8_t> open(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(tx.bytes));
  // Sent back to a as if from 2 (on UDP nothing in the frame names the sender).
  EndpointConfig cu;
  cu.encapsulation = wire::Encapsulation::kUdp;
  cu.node_id = 1;
  cu.credentials = test::cluster_credentials(1, Auth::kCluster);
  Endpoint a(cu);
  ASSERT_TRUE(a.open(2, Vc::kData, p.now).ok());
  ASSERT_TRUE(a.poll_transmit(buf, p.now, tx));
  a.on_frame({buf.data(), tx.bytes}, p.now, 2);
  EXPECT_EQ(drops(a, DropReason::kUnauthenticated), 1u);
  EXPECT_EQ(a.state(2, Vc::kData), LinkState::kOpenSent) << "a must not open a link with itself";
}

TEST(Security, OldOpenOnAVcNeverAcceptedBeforeIsStale) {
  // b has a record for a (an OPEN accepted on VC 2), but none on VC 1: an OPEN on VC 1 stamped
  // long ago (captured from an earlier run) must still pass the freshness window.
  SecurePair p;
  p.now = 1'000'000'000'000;  // 1000 s into the handshake clock
  ASSERT_TRUE(p.open());
  EndpointConfig c;
  c.node_id = 1;
  c.rng_seed = 3;
  c.credentials = test::cluster_credentials(1, Auth::kBoth);
  Endpoint old_a(c);
  ASSERT_TRUE(old_a.open(2, Vc::kReqHi, p.now - 200'000'000'000).ok());  // stamped 200 s ago
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  ASSERT_TRUE(old_a.poll_transmit(buf, p.now, tx));
  p.b->on_frame({buf.data(), tx.bytes}, p.now);
  EXPECT_EQ(drops(*p.b, DropReason::kStaleOpen), 1u);
  EXPECT_EQ(p.b->link_count(), 1u);
}

TEST(Security, PassingShipsWithOneOpenLostStillAgreeOnKeys) {
  for (int lost_side : {0, 1}) {
    SecurePair p;
    bool dropped = false;
    p.tap = [&](int side, std::vector<std::uint8_t>& f) {
      if (!dropped && side == lost_side && decoded(f).ttp.opcode == wire::Opcode::kOpen) return !(dropped = true);
      return true;
    };
    ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
    ASSERT_TRUE(p.b->open(1, Vc::kData, p.now).ok());
    p.pump();
    p.run_timers(p.now + 50'000'000);
    ASSERT_TRUE(dropped);
    ASSERT_EQ(p.a->state(2, Vc::kData), LinkState::kOpen) << "lost side " << lost_side;
    ASSERT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
    expect_link_carries_data(p, 1);
    // An OPEN_ACK carrying the winning OPEN's epoch may reach a side that has not seen that OPEN
    // yet (stale-epoch, until the repeated OPEN arrives); nothing may fail authentication.
    for (int r = 0; r < static_cast<int>(DropReason::kCount); ++r) {
      if (static_cast<DropReason>(r) == DropReason::kStaleEpoch) continue;
      EXPECT_EQ(p.a->stats().drops[r] + p.b->stats().drops[r], 0u)
          << "lost side " << lost_side << ": " << drop_reason_name(static_cast<DropReason>(r));
    }
    for (const Event& e : p.ev_a) EXPECT_NE(e.kind, EventKind::kError) << e.detail;
    for (const Event& e : p.ev_b) EXPECT_NE(e.kind, EventKind::kError) << e.detail;
  }
}

TEST(Security, PassingShipOpensAgreeOnOneKey) {
  SecurePair p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  ASSERT_TRUE(p.b->open(1, Vc::kData, p.now).ok());
  p.pump();
  p.run_timers(p.now + 50'000'000);
  ASSERT_EQ(p.a->state(2, Vc::kData), LinkState::kOpen);
  ASSERT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  expect_link_carries_data(p, 1);
  std::vector<std::uint8_t> m(50, 2);
  ASSERT_TRUE(p.b->send(1, Vc::kData, m, p.now).ok());
  p.pump();
  p.run_timers(p.now + 50'000'000);
  EXPECT_EQ(p.messages(0), 1u);
  EXPECT_EQ(p.a->stats().drops_total() + p.b->stats().drops_total(), 0u);
}

TEST(Security, LostOpenAckIsRecoveredByTheRepeatedOpen) {
  SecurePair p;
  bool dropped = false;
  p.tap = [&](int side, std::vector<std::uint8_t>& f) {
    if (!dropped && side == 1 && decoded(f).ttp.opcode == wire::Opcode::kOpenAck) return !(dropped = true);
    return true;
  };
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  p.pump();
  p.run_timers(p.now + 50'000'000);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(p.a->state(2, Vc::kData), LinkState::kOpen);
  expect_link_carries_data(p, 1);
}

TEST(Security, LostFinalCloseAckIsAnsweredFromTheClosedLinksKeysThenTheyAreWiped) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  expect_link_carries_data(p, 1);
  bool dropped = false;
  p.tap = [&](int side, std::vector<std::uint8_t>& f) {
    if (!dropped && side == 1 && decoded(f).ttp.opcode == wire::Opcode::kCloseAck) return !(dropped = true);
    return true;
  };
  ASSERT_TRUE(p.a->close(2, Vc::kData, p.now).ok());
  p.pump();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(p.b->link_count(), 0u) << "b closed when it sent CLOSE_ACK";
  EXPECT_EQ(p.b->stats().key_records, 1u) << "b keeps the keys to answer a repeated CLOSE";
  p.run_timers(p.now + 1'000'000'000);  // a repeats CLOSE; b answers from the kept keys
  EXPECT_EQ(p.a->link_count(), 0u);
  const Event* closed = nullptr;
  for (const Event& e : p.ev_a) {
    EXPECT_NE(e.kind, EventKind::kError) << e.detail;
    if (e.kind == EventKind::kClosed) closed = &e;
  }
  EXPECT_NE(closed, nullptr) << "a closed cleanly";
  p.run_timers(p.now + 11'000'000'000);  // past the retry budget
  EXPECT_EQ(p.b->stats().key_records, 0u) << "the kept keys are wiped once no CLOSE can need them";
  EXPECT_EQ(p.a->stats().key_records, 0u);
}

TEST(Security, PayloadForAnUnknownLinkGetsNoUnauthenticatedReply) {
  SecurePair p;
  ASSERT_TRUE(p.open());
  expect_link_carries_data(p, 1);
  const std::vector<std::uint8_t> payload = *first(p, 0, wire::Opcode::kPayload);
  EndpointConfig c;
  c.node_id = 2;
  c.credentials = test::cluster_credentials(2, Auth::kBoth);
  Endpoint stranger(c);
  stranger.on_frame(payload, p.now);
  EXPECT_EQ(drops(stranger, DropReason::kUnknownKey), 1u);
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  EXPECT_FALSE(stranger.poll_transmit(buf, p.now, tx));
}

TEST(Security, PlaintextAndSecuredEndpointsNeverTalk) {
  // No downgrade either way: a secured OPEN is refused by a plaintext endpoint, a plaintext OPEN
  // by a secured one, and sealed frames mean nothing to an endpoint without keys.
  SecurePair p(Auth::kCluster, [](EndpointConfig& c, int n) {
    if (n == 2) c.credentials = nullptr;
  });
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  p.pump();
  EXPECT_EQ(p.b->link_count(), 0u);
  EXPECT_EQ(drops(*p.b, DropReason::kProfileMismatch), 1u);
  ASSERT_TRUE(p.b->open(1, Vc::kReqHi, p.now).ok());
  p.pump();
  EXPECT_EQ(p.a->state(2, Vc::kReqHi), LinkState::kClosed);
  EXPECT_GE(drops(*p.a, DropReason::kUnauthenticated), 1u);
  p.run_timers(p.now + 20'000'000'000);
  bool timed_out = false;
  for (const Event& e : p.ev_a) {
    if (e.kind == EventKind::kError && e.error == Error::kOpenTimedOut) {
      timed_out = true;
      EXPECT_NE(e.detail.find("accept our keys"), std::string::npos) << e.detail;
    }
  }
  EXPECT_TRUE(timed_out);
  SecurePair q;
  ASSERT_TRUE(q.open());
  expect_link_carries_data(q, 1);
  EndpointConfig c;
  c.node_id = 2;
  Endpoint plain(c);
  plain.on_frame(*first(q, 0, wire::Opcode::kPayload), q.now);
  EXPECT_EQ(drops(plain, DropReason::kUnknownKey), 1u);
  EXPECT_EQ(plain.link_count(), 0u);
}

TEST(Security, CredentialsThatCannotAuthenticateAreRefused) {
  EndpointConfig c;
  c.credentials = std::make_shared<crypto::Credentials>();  // no identity, no cluster key
  EXPECT_THROW(Endpoint{c}, std::invalid_argument);
}

}  // namespace
}  // namespace weft::transport
