// Endpoint API behaviour: errors reach the caller with their cause, bad input is dropped and
// counted without changing state, timers and retry budgets end in reported errors, never hangs.
// Two endpoints are wired back to back by tests/support/endpoint_pair.h (instant delivery, optional drop).
#include "weft/transport/endpoint.h"

#include "tests/support/endpoint_pair.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace weft::transport {
namespace {

struct Pipe : test::EndpointPair {
  explicit Pipe(Profile p = Profile::kWeft, std::uint32_t max_conn = 1u << 20) {
    EndpointConfig c;
    c.profile = p;
    c.max_connections = max_conn;
    c.node_id = 1;
    a = std::make_unique<Endpoint>(c);
    c.node_id = 2;
    b = std::make_unique<Endpoint>(c);
  }
};

const Event* find(const std::vector<Event>& v, EventKind k) {
  for (const Event& e : v)
    if (e.kind == k) return &e;
  return nullptr;
}

TEST(Endpoint, OpenSendCloseDeliversMessagesWithBoundaries) {
  Pipe p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  std::vector<std::uint8_t> big(30000, 0x11), empty, small{1, 2, 3};
  ASSERT_TRUE(p.a->send(2, Vc::kData, big, 0).ok());
  ASSERT_TRUE(p.a->send(2, Vc::kData, empty, 0).ok()) << "weft carries empty messages";
  ASSERT_TRUE(p.a->send(2, Vc::kData, small, 0).ok());
  ASSERT_TRUE(p.a->close(2, Vc::kData, 0).ok());
  p.pump();
  p.run_timers(us_to_ns(1000));
  std::vector<std::size_t> sizes;
  for (const Event& e : p.ev_b)
    if (e.kind == EventKind::kMessage) sizes.push_back(e.message.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{30000, 0, 3}));
  ASSERT_TRUE(find(p.ev_a, EventKind::kClosed));
  ASSERT_TRUE(find(p.ev_b, EventKind::kClosed));
  EXPECT_EQ(find(p.ev_a, EventKind::kClosed)->stats.messages_sent, 3u);
  EXPECT_EQ(p.a->link_count(), 0u);
  EXPECT_EQ(p.b->link_count(), 0u);
}

TEST(Endpoint, ApiErrorsNameTheirCause) {
  Pipe p(Profile::kTtpoeCompat);
  std::vector<std::uint8_t> m(10, 1);
  Status s = p.a->send(2, Vc::kData, m, 0);
  EXPECT_EQ(s.error(), Error::kNoSuchConnection);
  EXPECT_NE(s.detail().find("open()"), std::string::npos) << s.detail();
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  EXPECT_EQ(p.a->open(2, Vc::kData, 0).error(), Error::kAlreadyExists);
  std::vector<std::uint8_t> too_big(1025, 1);
  s = p.a->send(2, Vc::kData, too_big, 0);
  EXPECT_EQ(s.error(), Error::kInvalidArgument);
  EXPECT_NE(s.detail().find("1..1024"), std::string::npos) << s.detail();
  EXPECT_EQ(p.a->send(2, Vc::kData, {}, 0).error(), Error::kInvalidArgument);
  ASSERT_TRUE(p.a->close(2, Vc::kData, 0).ok());
  EXPECT_EQ(p.a->send(2, Vc::kData, m, 0).error(), Error::kClosing);
  EXPECT_EQ(p.a->close(2, Vc::kData, 0).error(), Error::kClosing);
  EXPECT_EQ(p.a->close(9, Vc::kData, 0).error(), Error::kNoSuchConnection);
}

TEST(Endpoint, SendBufferFullIsReportedNotDropped) {
  EndpointConfig c;
  c.send_buffer_bytes = 100000;
  Endpoint ep(c);
  ASSERT_TRUE(ep.open(2, Vc::kData, 0).ok());
  std::vector<std::uint8_t> m(60000, 1);
  EXPECT_TRUE(ep.send(2, Vc::kData, m, 0).ok());
  Status s = ep.send(2, Vc::kData, m, 0);
  EXPECT_EQ(s.error(), Error::kSendBufferFull);
  EXPECT_EQ(ep.link_info(2, Vc::kData)->send_queue_bytes, 60000u);
}

TEST(Endpoint, SilentPeerEndsInOpenTimeoutWithinTheBudget) {
  Pipe p;
  p.tap = [](int, std::vector<std::uint8_t>&) { return false; };  // the network eats everything
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  p.run_timers(us_to_ns(60'000'000));
  const Event* e = find(p.ev_a, EventKind::kError);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, Error::kOpenTimedOut);
  EXPECT_NE(e->detail.find("retry_budget_us"), std::string::npos) << e->detail;
  EXPECT_GE(p.now, us_to_ns(p.a->config().retry_budget_us));
  EXPECT_LT(p.now, us_to_ns(p.a->config().retry_budget_us + 1'000'000));
  EXPECT_EQ(p.a->link_count(), 0u);
}

TEST(Endpoint, DeadPeerMidTransferIsAnErrorWithUnackedCount) {
  Pipe p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  p.tap = [](int, std::vector<std::uint8_t>&) { return false; };  // peer vanishes after OPEN
  std::vector<std::uint8_t> m(5000, 7);
  ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  ASSERT_TRUE(p.a->send(2, Vc::kData, m, p.now).ok());
  p.pump();
  p.run_timers(us_to_ns(60'000'000));
  const Event* e = find(p.ev_a, EventKind::kError);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, Error::kRetryBudgetExhausted);
  EXPECT_EQ(e->unacked_messages, 2u);
  EXPECT_GT(e->stats.retransmits_rto, 3u);
}

TEST(Endpoint, ConnectionLimitAnswersOpenNack) {
  Pipe p(Profile::kWeft, 1);
  ASSERT_TRUE(p.b->open(7, Vc::kData, 0).ok());  // b is now full
  EXPECT_EQ(p.b->open(8, Vc::kData, 0).error(), Error::kTooManyConnections);
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  const Event* e = find(p.ev_a, EventKind::kError);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, Error::kOpenRefused);
}

TEST(Endpoint, MalformedAndMisaddressedFramesAreCountedAndHarmless) {
  Pipe p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  ASSERT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  std::vector<std::uint8_t> junk(80, 0xFF);
  p.b->on_frame(junk, p.now);
  EXPECT_EQ(p.b->stats().drops[static_cast<int>(DropReason::kMalformed)], 1u);
  EXPECT_EQ(p.b->stats().decode_errors[static_cast<int>(wire::DecodeError::kBadEtherType)], 1u);
  // A well-formed frame for another node.
  wire::TtpHeader h;
  h.opcode = wire::Opcode::kClose;
  h.vc = static_cast<std::uint8_t>(Vc::kData);
  std::vector<std::uint8_t> buf(128);
  std::size_t n = wire::encode(wire::Encapsulation::kEthernet, 1, 99, h, {}, {}, buf);
  p.b->on_frame({buf.data(), n}, p.now);
  EXPECT_EQ(p.b->stats().drops[static_cast<int>(DropReason::kNotForUs)], 1u);
  // A CLOSE with the wrong epoch (weft): dropped, link unharmed.
  n = wire::encode(wire::Encapsulation::kEthernet, 1, 2, h, {}, {}, buf);
  p.b->on_frame({buf.data(), n}, p.now);
  EXPECT_EQ(p.b->stats().drops[static_cast<int>(DropReason::kStaleEpoch)], 1u);
  EXPECT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
}

TEST(Endpoint, RestartedPeerReplacesTheLink) {
  Pipe p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  ASSERT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  // Node 1 restarts: a fresh endpoint with another seed opens again.
  EndpointConfig c;
  c.node_id = 1;
  c.rng_seed = 99;
  p.a = std::make_unique<Endpoint>(c);
  ASSERT_TRUE(p.a->open(2, Vc::kData, p.now).ok());
  p.pump();
  const Event* e = find(p.ev_b, EventKind::kError);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, Error::kPeerRestarted);
  EXPECT_EQ(p.b->state(1, Vc::kData), LinkState::kOpen);
  EXPECT_EQ(p.a->state(2, Vc::kData), LinkState::kOpen);
}

TEST(Endpoint, ThreeVcsAreIndependentLinks) {
  Pipe p;
  for (Vc vc : {Vc::kReqLo, Vc::kReqHi, Vc::kData}) ASSERT_TRUE(p.a->open(2, vc, 0).ok());
  p.pump();
  EXPECT_EQ(p.b->link_count(), 3u);
  std::vector<std::uint8_t> m(100, 3);
  ASSERT_TRUE(p.a->send(2, Vc::kReqHi, m, p.now).ok());
  p.pump();
  p.run_timers(p.now + us_to_ns(100));
  EXPECT_EQ(p.b->link_info(1, Vc::kReqHi)->stats.messages_received, 1u);
  EXPECT_EQ(p.b->link_info(1, Vc::kReqLo)->stats.messages_received, 0u);
  EXPECT_NE(p.a->link_info(2, Vc::kReqLo)->next_tx_id, p.a->link_info(2, Vc::kReqHi)->next_tx_id);
}

TEST(Endpoint, IdleEndpointArmsNoTimer) {
  Pipe p;
  EXPECT_EQ(p.a->next_timer(), kNever);
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  p.run_timers(us_to_ns(1000));
  EXPECT_EQ(p.a->next_timer(), kNever);
  EXPECT_EQ(p.b->next_timer(), kNever);
}

// Zero-copy send: the endpoint holds the application's buffer (no copy) until the message is
// acknowledged, then lets go of it; a refused send holds nothing.
TEST(Endpoint, SharedSendHoldsTheBufferUntilAcknowledged) {
  Pipe p;
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();
  std::vector<std::uint8_t> bytes(50000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 13);
  const std::vector<std::uint8_t> expected = bytes;
  const SharedBytes msg = SharedBytes::adopt(std::move(bytes));
  std::weak_ptr<const void> watch = msg.owner;
  ASSERT_TRUE(p.a->send_shared(2, Vc::kData, msg, 0).ok());
  ASSERT_TRUE(p.a->send_shared(2, Vc::kData, msg, 0).ok()) << "the same buffer may be queued twice";
  EXPECT_GE(msg.owner.use_count(), 3) << "the endpoint references the buffer, it did not copy it";
  p.pump();
  p.run_timers(us_to_ns(1000));
  int delivered = 0;
  for (const Event& e : p.ev_b) {
    if (e.kind != EventKind::kMessage) continue;
    EXPECT_EQ(e.message, expected);
    ++delivered;
  }
  EXPECT_EQ(delivered, 2);
  EXPECT_EQ(msg.owner.use_count(), 1) << "acknowledged messages release the buffer";
  // A send refused for lack of room takes no reference.
  EndpointConfig c;
  c.node_id = 1;
  c.send_buffer_bytes = 60000;
  Endpoint small(c);
  ASSERT_TRUE(small.open(2, Vc::kData, 0).ok());
  ASSERT_TRUE(small.send_shared(2, Vc::kData, msg, 0).ok());
  EXPECT_EQ(small.send_shared(2, Vc::kData, msg, 0).error(), Error::kSendBufferFull);
  EXPECT_EQ(msg.owner.use_count(), 2);
  EXPECT_FALSE(watch.expired());
}

// poll_transmit_gather puts the same bytes on the wire as poll_transmit: headers in the buffer,
// large payloads by reference (kept alive by payload_owner), small frames whole.
TEST(Endpoint, GatherTransmitMatchesWholeFrames) {
  for (auto enc : {wire::Encapsulation::kEthernet, wire::Encapsulation::kUdp}) {
    std::vector<std::vector<std::uint8_t>> wires[2];
    int gathered = 0;
    for (int mode = 0; mode < 2; ++mode) {
      EndpointConfig c;
      c.encapsulation = enc;
      c.node_id = 1;
      Endpoint a(c);
      c.node_id = 2;
      Endpoint b(c);
      std::vector<std::uint8_t> buf(9100), m1(20000, 0x5A), m2(100, 0x33), m3(kGatherMinPayloadBytes, 0x44);
      ASSERT_TRUE(a.open(2, Vc::kData, 0).ok());
      for (int round = 0; round < 50; ++round) {
        if (round == 2) {
          ASSERT_TRUE(a.send(2, Vc::kData, m1, 0).ok());
          ASSERT_TRUE(a.send(2, Vc::kData, m2, 0).ok());
          ASSERT_TRUE(a.send(2, Vc::kData, m3, 0).ok());
        }
        Transmit t;
        while (mode == 0 ? a.poll_transmit(buf, 0, t) : a.poll_transmit_gather(buf, 0, t)) {
          std::vector<std::uint8_t> frame(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(t.bytes));
          if (mode == 1 && !t.payload.empty()) {
            EXPECT_GE(t.payload.size(), kGatherMinPayloadBytes);
            EXPECT_TRUE(t.payload_owner != nullptr);
            frame.insert(frame.end(), t.payload.begin(), t.payload.end());
            ++gathered;
          }
          b.on_frame(frame, 0, 1);
          wires[mode].push_back(std::move(frame));
        }
        while (b.poll_transmit(buf, 0, t)) a.on_frame({buf.data(), t.bytes}, 0, 2);
      }
    }
    EXPECT_EQ(wires[0], wires[1]) << "encapsulation " << static_cast<int>(enc);
    EXPECT_GE(gathered, 4) << "20000 B and 512 B messages go by reference";
  }
}

// On a multipath fabric the responder's first PAYLOAD can overtake its OPEN_ACK: the opener, still
// in OPEN_SENT, refuses it with NACK_NOLINK, the responder sends its OPEN_ACK again, and the opener
// opens and sends. The refused PAYLOAD goes again as soon as the opener's frame confirms the link
// — here at once — not one RTO (1 ms before any RTT sample) later.
TEST(Endpoint, PayloadThatOvertookOpenAckIsResentOnConfirmation) {
  Pipe p;
  bool held = false;  // B's first OPEN_ACK is lost (or late) while its PAYLOAD goes ahead
  p.tap = [&](int side, std::vector<std::uint8_t>& f) {
    wire::Frame fr;
    if (side == 1 && !held && wire::decode(f, {}, fr) == wire::DecodeError::kNone &&
        fr.ttp.opcode == wire::Opcode::kOpenAck) {
      held = true;
      return false;
    }
    return true;
  };
  ASSERT_TRUE(p.a->open(2, Vc::kData, 0).ok());
  p.pump();  // A's OPEN reaches B; B's answer is lost
  ASSERT_TRUE(held);
  const std::vector<std::uint8_t> from_b(2000, 0x22), from_a(100, 0x11);
  ASSERT_TRUE(p.b->send(1, Vc::kData, from_b, 0).ok());
  ASSERT_TRUE(p.a->send(2, Vc::kData, from_a, 0).ok());
  p.pump();  // no time passes
  const Event* got = find(p.ev_a, EventKind::kMessage);
  ASSERT_NE(got, nullptr) << "B's refused PAYLOAD must go again once A confirmed the link, not after B's RTO";
  EXPECT_EQ(got->message, from_b);
  ASSERT_NE(find(p.ev_b, EventKind::kMessage), nullptr);
  EXPECT_EQ(find(p.ev_a, EventKind::kError), nullptr);
  EXPECT_EQ(find(p.ev_b, EventKind::kError), nullptr);
  const auto info = p.b->link_info(1, Vc::kData);
  ASSERT_TRUE(info.has_value());
  EXPECT_GE(info->stats.retransmits_nack, 1u) << "the refused PAYLOAD was resent";
}

}  // namespace
}  // namespace weft::transport
