// Connection table at scale: one endpoint holds 65,536 links (peer x VC), each brought to OPEN
// through the state machine, and the memory per idle link is measured from the allocator's
// totals (mallinfo2: bytes in use before and after, divided by the number of links) — not from
// sizeof. Target: <= 2 KiB per idle link (DESIGN.md §3).
//
// Both roles are measured: as responder (OPENs arrive from 21,846 peers on 3 VCs; each is
// answered with OPEN_ACK, which moves OPEN_RECD to OPEN) and as initiator (open() to 65,536 peers;
// each OPEN is answered with a scripted OPEN_ACK).
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "crypto/handshake.h"
#include "tests/support/secure_pair.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace weft::transport {
namespace {

constexpr std::size_t kLinks = 65536;

std::size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// The TTP header and feature block of an OPEN (or OPEN_ACK) from `peer`, as a weft peer sends it.
void open_headers(wire::TtpHeader& h, wire::Extensions& ext, Vc vc, wire::Opcode op, std::uint32_t tx,
                  std::uint32_t rx, std::uint16_t epoch) {
  h.opcode = op;
  h.vc = static_cast<std::uint8_t>(vc);
  h.tx_id = tx;
  h.rx_id = rx;
  h.epoch = epoch;
  ext.has_features = true;
  ext.features.epoch = epoch;
  ext.features.max_frame_bytes = 9000;
  ext.features.recv_window_bytes = 4u << 20;
}

std::size_t peer_frame(std::vector<std::uint8_t>& buf, NodeId peer, NodeId me, Vc vc, wire::Opcode op,
                       std::uint32_t tx, std::uint32_t rx, std::uint16_t epoch) {
  wire::TtpHeader h;
  wire::Extensions ext;
  open_headers(h, ext, vc, op, tx, rx, epoch);
  return wire::encode(wire::Encapsulation::kEthernet, peer, me, h, ext, {}, buf);
}

void report(const char* role, std::size_t before, std::size_t after, std::size_t links, std::size_t guarded = 0) {
  const double per_link = static_cast<double>(after - before + guarded) / static_cast<double>(links);
  std::printf("%s: %zu links OPEN, heap %.1f MiB -> %.1f MiB, guarded key memory %.1f MiB, %.0f B per idle link "
              "(allocator totals + guarded slab)\n",
              role, links, static_cast<double>(before) / (1 << 20), static_cast<double>(after) / (1 << 20),
              static_cast<double>(guarded) / (1 << 20), per_link);
  EXPECT_LE(per_link, 2048.0);
}

// An OPEN (or OPEN_ACK) frame from `peer` to node 1 on `vc`; `open` is the OPEN it answers.
using FrameMaker = std::function<std::size_t(std::vector<std::uint8_t>& buf, NodeId peer, Vc vc, TimeNs now,
                                             const wire::Frame* open)>;

// As responder: OPENs from 21,846 peers on 3 VCs, each answered with OPEN_ACK (OPEN_RECD -> OPEN).
void open_as_responder(Endpoint& ep, const FrameMaker& make_open) {
  std::vector<std::uint8_t> buf(9100);
  Transmit tx;
  std::size_t opened = 0;
  TimeNs now = 1'000'000'000;
  for (std::size_t i = 0; i < kLinks; ++i) {
    NodeId peer = static_cast<NodeId>(2 + i / kVcCount);
    Vc vc = static_cast<Vc>(i % kVcCount);
    std::size_t n = make_open(buf, peer, vc, now, nullptr);
    ep.on_frame({buf.data(), n}, now);
    ASSERT_EQ(ep.state(peer, vc), LinkState::kOpenRecd) << "drops " << ep.stats().drops_total();
    ASSERT_TRUE(ep.poll_transmit(buf, now, tx));
    ASSERT_EQ(tx.opcode, wire::Opcode::kOpenAck);
    ASSERT_EQ(ep.state(peer, vc), LinkState::kOpen);
    while (ep.poll_event()) ++opened;
    now += 10;
  }
  EXPECT_EQ(opened, kLinks);
  EXPECT_EQ(ep.link_count(), kLinks);
  EXPECT_EQ(ep.next_timer(), kNever) << "idle open links arm no timer";
}

// As initiator: open() to 65,536 peers, each OPEN answered by `make_ack`.
void open_as_initiator(Endpoint& ep, const FrameMaker& make_ack) {
  std::vector<std::uint8_t> buf(9100);
  std::vector<std::uint8_t> reply(9100);
  Transmit tx;
  TimeNs now = 1'000'000'000;
  std::size_t opened = 0;
  for (std::size_t i = 0; i < kLinks; ++i) {
    NodeId peer = static_cast<NodeId>(2 + i);
    ASSERT_TRUE(ep.open(peer, Vc::kData, now).ok());
    ASSERT_TRUE(ep.poll_transmit(buf, now, tx));
    wire::Frame f;
    ASSERT_EQ(wire::decode({buf.data(), tx.bytes}, wire::DecodeOptions{}, f), wire::DecodeError::kNone);
    ASSERT_EQ(f.ttp.opcode, wire::Opcode::kOpen);
    std::size_t n = make_ack(reply, peer, Vc::kData, now, &f);
    ep.on_frame({reply.data(), n}, now + 1000);
    ASSERT_EQ(ep.state(peer, Vc::kData), LinkState::kOpen) << "drops " << ep.stats().drops_total();
    while (ep.poll_event()) ++opened;
    now += 10;
  }
  EXPECT_EQ(opened, kLinks);
}

std::unique_ptr<Endpoint> endpoint(std::shared_ptr<const crypto::Credentials> creds = nullptr) {
  EndpointConfig cfg;
  cfg.node_id = 1;
  cfg.credentials = std::move(creds);
  return std::make_unique<Endpoint>(cfg);
}

TEST(Scale, ResponderHolds65536OpenLinks) {
  const std::size_t before = heap_in_use();
  auto ep = endpoint();
  open_as_responder(*ep, [](std::vector<std::uint8_t>& buf, NodeId peer, Vc vc, TimeNs, const wire::Frame*) {
    return peer_frame(buf, peer, 1, vc, wire::Opcode::kOpen, 1000, 0, 77);
  });
  report("responder", before, heap_in_use(), kLinks);
}

TEST(Scale, InitiatorHolds65536OpenLinks) {
  const std::size_t before = heap_in_use();
  auto ep = endpoint();
  open_as_initiator(*ep, [](std::vector<std::uint8_t>& buf, NodeId peer, Vc vc, TimeNs, const wire::Frame* open) {
    return peer_frame(buf, peer, 1, vc, wire::Opcode::kOpenAck, 5000, open->ttp.tx_id, open->ttp.epoch);
  });
  report("initiator", before, heap_in_use(), kLinks);
}

// The same two measurements with encryption on: every OPEN / OPEN_ACK is a signed-and-MACed
// handshake (cluster key), verified, and each link holds its keys in the endpoint's guarded slab.
// The fake peers share one ephemeral key, so the endpoint does one X25519 in all (as for links to
// one real peer); the per-link key material is what is measured.
std::size_t hello_frame(std::vector<std::uint8_t>& buf, crypto::Handshake& hs, NodeId peer, NodeId me, Vc vc,
                        wire::Opcode op, std::uint32_t tx, std::uint32_t rx, std::uint16_t epoch, std::uint64_t issued,
                        const wire::Hello* answering) {
  wire::TtpHeader h;
  wire::Extensions ext;
  open_headers(h, ext, vc, op, tx, rx, epoch);
  ext.has_hello = true;
  hs.fill(ext.hello, issued, hs.ephemeral_public(), answering);
  const std::size_t n = wire::encode(wire::Encapsulation::kEthernet, peer, me, h, ext, {}, buf);
  hs.authenticate({buf.data(), n}, wire::Encapsulation::kEthernet, wire::header_bytes(wire::Encapsulation::kEthernet, ext));
  return n;
}

TEST(Scale, EncryptedResponderHolds65536OpenLinks) {
  auto creds = test::cluster_credentials(1, test::Auth::kCluster);
  crypto::Handshake peers(creds, 99, 2);  // signs as every fake peer
  const std::size_t before = heap_in_use();
  auto ep = endpoint(creds);
  open_as_responder(*ep, [&](std::vector<std::uint8_t>& buf, NodeId peer, Vc vc, TimeNs now, const wire::Frame*) {
    return hello_frame(buf, peers, peer, 1, vc, wire::Opcode::kOpen, 1000, 0, 77, static_cast<std::uint64_t>(now),
                       nullptr);
  });
  EXPECT_TRUE(ep->link_info(2, Vc::kData)->encrypted);
  EXPECT_EQ(ep->stats().key_records, kLinks);
  EXPECT_EQ(ep->stats().key_exchanges, 1u);
  report("responder, encrypted", before, heap_in_use(), kLinks, ep->stats().key_slab_bytes);
}

TEST(Scale, EncryptedInitiatorHolds65536OpenLinks) {
  auto creds = test::cluster_credentials(1, test::Auth::kCluster);
  crypto::Handshake peers(creds, 99, 2);
  const std::size_t before = heap_in_use();
  auto ep = endpoint(creds);
  open_as_initiator(*ep, [&](std::vector<std::uint8_t>& buf, NodeId peer, Vc vc, TimeNs now, const wire::Frame* open) {
    EXPECT_TRUE(open->ext.has_hello);
    return hello_frame(buf, peers, peer, 1, vc, wire::Opcode::kOpenAck, 5000, open->ttp.tx_id, open->ttp.epoch,
                       static_cast<std::uint64_t>(now), &open->ext.hello);
  });
  EXPECT_EQ(ep->stats().key_exchanges, 1u);
  report("initiator, encrypted", before, heap_in_use(), kLinks, ep->stats().key_slab_bytes);
}

}  // namespace
}  // namespace weft::transport
