// The conformance clauses.
//
// Essay. A clause is a short script between the tester (node 2) and the implementation (node 1):
// drive the link into a state, send one stimulus, check exactly what comes back (opcode, VC, ids,
// epoch) and where the link ends up. The script reads like the spec table it checks. Checks that
// fail stop the clause with a message naming what was expected and what was seen, followed by the
// last frames exchanged.
//
// Three families:
//   - framing (TTPoE §2; ttpoe.md §2, §12.1): byte layout, lengths, padding, malformed frames;
//   - the receive table (ttpoe.md §3.2): one clause per cell, 11 opcodes × 6 states, generated from
//     kCells below. OPEN_RECD is transient in an implementation that answers OPEN at once, so its
//     column is reached by delivering the stimulus in the same burst as the OPEN; OPEN_SENT and
//     CLOSE_SENT need the implementation to open or close (host control); ACK-class cells in OPEN
//     and CLOSE_RECD need data of the implementation in flight (host control);
//   - scenarios (ttpoe.md §12.2-§12.6 and the weft profile): handshakes, data, close, faults, VCs.
//
// Id conventions the clauses expect (docs/conformance.md gives the reasons): OPEN_ACK TxID = the
// responder's first DATA TxID; NACK RxID = the first missing TxID; ACK RxID = the last in-order
// TxID; CLOSE TxID = last DATA + 1 (it consumes an id), CLOSE RxID = the last in-order received;
// CLOSE_NACK TxID = the sender's next TxID, RxID = its last in-order received; stateless replies
// echo the epoch of the frame they answer; the weft link epoch is the initiator's OPEN epoch.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "weft/conformance/conformance.h"

namespace weft::conformance {
namespace {

using wire::Opcode;
using LS = LinkState;

constexpr Vc kVc = Vc::kData;
constexpr std::uint32_t kStray = 0x5EED0000;  // ids that belong to no link

// Byte offsets in a raw Ethernet frame.
constexpr std::size_t kOffEtherType = 12;
constexpr std::size_t kOffTth = 14;
constexpr std::size_t kOffTotalLength = 16;
constexpr std::size_t kOffTthPad = 18;
constexpr std::size_t kOffTshSrc = 34;
constexpr std::size_t kOffTshDst = 37;
constexpr std::size_t kOffTshLength = 40;
constexpr std::size_t kOffTtp = 42;
constexpr std::size_t kOffOpcode = kOffTtp + 0;
constexpr std::size_t kOffVc = kOffTtp + 1;
constexpr std::size_t kOffExtension = kOffTtp + 9;
constexpr std::size_t kOffTxId = kOffTtp + 10;
constexpr std::size_t kOffRxId = kOffTtp + 14;

std::string hex(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

std::uint32_t be(const Bytes& b, std::size_t off, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | b[off + i];
  return v;
}

void put16(Bytes& b, std::size_t off, std::uint32_t v) {
  b[off] = static_cast<std::uint8_t>(v >> 8);
  b[off + 1] = static_cast<std::uint8_t>(v);
}

std::uint32_t isn(Vc vc) { return 0x00010010u + 0x01000000u * static_cast<std::uint32_t>(vc); }

std::string state_name(LS s) { return std::string(transport::link_state_name(s)); }
std::string op_name(Opcode op) { return std::string(wire::opcode_name(op)); }

// What the tester knows about one link. t_* are the tester's ids, i_* the implementation's.
struct Link {
  Vc vc = kVc;
  std::uint32_t t_open = 0;   // tester's OPEN TxID (tester-initiated links)
  std::uint32_t t_next = 0;   // tester's next DATA TxID
  std::uint32_t t_close = 0;  // tester's CLOSE TxID
  std::uint32_t i_open = 0;   // implementation's OPEN TxID (implementation-initiated links)
  std::uint32_t i_next = 0;   // implementation's next TxID
  std::uint32_t i_close = 0;  // implementation's CLOSE TxID
  std::uint32_t i_inflight = 0;  // implementation's unacknowledged PAYLOAD
  Bytes inflight;
};

// Tester OPEN(B) -> OPEN_ACK(RxID = B). The implementation's first DATA id is the OPEN_ACK TxID.
Link open_by_tester(Tester& t, Vc vc = kVc, std::uint32_t b = 0) {
  if (b == 0) b = isn(vc);
  t.send(t.open(vc, b));
  Seen a = t.expect(Opcode::kOpenAck, vc, {.rx = b}, "OPEN_ACK answering the tester's OPEN");
  t.expect_state(vc, LS::kOpen, "after OPEN/OPEN_ACK");
  Link l;
  l.vc = vc;
  l.t_open = b;
  l.t_next = b + 1;
  l.i_next = a.ttp.tx_id;
  return l;
}

// Host open -> OPEN(A); tester OPEN_ACK(TxID = its first DATA id B+1, RxID = A).
Link open_by_implementation(Tester& t, Vc vc = kVc, std::uint32_t b = 0) {
  if (b == 0) b = isn(vc) + 0x800;
  t.host_open(vc);
  Seen o = t.expect(Opcode::kOpen, vc, {}, "OPEN after host open");
  t.send(t.control(Opcode::kOpenAck, vc, b + 1, o.ttp.tx_id));
  t.expect_state(vc, LS::kOpen, "after OPEN_ACK");
  Link l;
  l.vc = vc;
  l.i_open = o.ttp.tx_id;
  l.i_next = o.ttp.tx_id + 1;
  l.t_next = b + 1;
  return l;
}

// Tester PAYLOADs, each answered ACK(RxID = its TxID).
void tester_data(Tester& t, Link& l, int n = 1, std::size_t bytes = 64) {
  for (int i = 0; i < n; ++i) {
    t.send(t.payload(l.vc, l.t_next, bytes));
    t.expect(Opcode::kAck, l.vc, {.rx = l.t_next}, "ACK of in-order PAYLOAD " + hex(l.t_next));
    ++l.t_next;
  }
}

// Host send -> PAYLOAD(TxID = the implementation's next id), left unacknowledged.
Seen implementation_data(Tester& t, Link& l, std::size_t bytes = 64) {
  Bytes m = Tester::pattern(0xD0000000u ^ l.i_next, bytes);
  t.host_send(l.vc, m);
  Seen p = t.expect(Opcode::kPayload, l.vc, {.tx = l.i_next, .payload = m}, "PAYLOAD after host send");
  l.i_inflight = l.i_next;
  l.inflight = m;
  ++l.i_next;
  return p;
}

// The messages the application received must be exactly `want` (when the target can tell).
void expect_delivered(Tester& t, Vc vc, const std::vector<Bytes>& want, const std::string& step) {
  std::optional<std::vector<Bytes>> got = t.received(vc);
  if (!got) {
    t.note("delivery not checked (the target does not report received messages)");
    return;
  }
  if (*got == want) return;
  std::string d = step + ": the application received " + std::to_string(got->size()) + " message(s), expected " +
                  std::to_string(want.size());
  for (std::size_t i = 0; i < std::min(got->size(), want.size()); ++i) {
    if ((*got)[i] != want[i]) {
      d += "; message " + std::to_string(i) + " differs";
      break;
    }
  }
  t.fail(d);
}

std::vector<Bytes> patterns(std::uint32_t first, std::uint32_t count, std::size_t bytes = 64) {
  std::vector<Bytes> v;
  for (std::uint32_t i = 0; i < count; ++i) v.push_back(Tester::pattern(first + i, bytes));
  return v;
}

std::function<std::string(const Seen&)> sack_is(std::vector<wire::SackRange> want) {
  return [want](const Seen& s) -> std::string {
    bool same = s.ext.sack_count == want.size();
    for (std::size_t i = 0; same && i < want.size(); ++i) {
      same = s.ext.sack[i].first == want[i].first && s.ext.sack[i].last == want[i].last;
    }
    if (same) return {};
    std::string w;
    for (const auto& r : want) w += (w.empty() ? "" : ",") + hex(r.first) + "-" + hex(r.last);
    return "SACK ranges differ (expected [" + w + "])";
  };
}

// ---- framing ------------------------------------------------------------------------------------

// Byte-level layout of a frame the implementation sent (independent of the codec).
void check_layout(Tester& t, const Seen& s, const std::string& what) {
  const Bytes& b = s.raw;
  auto bad = [&](const std::string& m) { t.fail(what + ": " + m + " in " + s.describe()); };
  if (b.size() < wire::kMinSendFrameBytes) bad("frame of " + std::to_string(b.size()) + " B, not padded to 64 B");
  if (be(b, kOffEtherType, 2) != wire::kEtherTypeTtp) bad("EtherType " + hex(be(b, kOffEtherType, 2)) + " != 0x9AC6");
  if (b[kOffTth] != 0x05) bad("TTH byte 0 is " + hex(b[kOffTth]) + ", expected 0x05 (styp 0, vers 0, tthl 5)");
  if (b[kOffTth + 1] != 0x00) bad("TTH byte 1 (gw, reserved) is " + hex(b[kOffTth + 1]) + ", expected 0");
  for (std::size_t i = kOffTthPad; i < kOffTshSrc; ++i) {
    if (b[i] != 0) bad("TTH padding byte " + std::to_string(i - kOffTth) + " is not zero");
  }
  const std::uint32_t total = be(b, kOffTotalLength, 2);
  const std::uint32_t tsh = be(b, kOffTshLength, 2);
  const std::size_t body = (t.weft() ? wire::extension_bytes(s.ext) : 0) + s.payload.size();
  if (total != wire::kTthToPayload + body) {
    bad("TTH total-length " + std::to_string(total) + ", expected " + std::to_string(wire::kTthToPayload + body) +
        " (46 + extension + payload)");
  }
  if (tsh != wire::kTshToPayload + body) {
    bad("TSH length " + std::to_string(tsh) + ", expected " + std::to_string(wire::kTshToPayload + body) +
        " (26 + extension + payload)");
  }
  const std::size_t frame = std::max<std::size_t>(wire::kMinSendFrameBytes, wire::kEthHeaderBytes + total);
  if (b.size() != frame) bad("frame of " + std::to_string(b.size()) + " B, expected " + std::to_string(frame));
  for (std::size_t i = wire::kEthHeaderBytes + total; i < b.size(); ++i) {
    if (b[i] != 0) bad("padding byte " + std::to_string(i) + " is not zero");
  }
  if (be(b, kOffTshSrc, 3) != t.info().implementation_node) bad("TSH src node " + hex(be(b, kOffTshSrc, 3)));
  if (be(b, kOffTshDst, 3) != t.info().tester_node) bad("TSH dst node " + hex(be(b, kOffTshDst, 3)));
  if (b[kOffOpcode] != static_cast<std::uint8_t>(s.ttp.opcode) || b[kOffVc] != s.ttp.vc) {
    bad("opcode/vc not at TTP bytes 0/1");
  }
  if (t.compat()) {
    for (std::size_t i = kOffTtp + 2; i <= kOffExtension; ++i) {
      if (b[i] != 0) bad("compat: reserved TTP byte " + std::to_string(i - kOffTtp) + " is not zero");
    }
  }
}

Outcome frame_layout(Target&, Tester& t) {
  t.require_ethernet();
  const std::uint32_t b = isn(kVc);
  t.send(t.open(kVc, b));
  Seen a = t.expect(Opcode::kOpenAck, kVc, {.rx = b}, "OPEN_ACK");
  check_layout(t, a, "OPEN_ACK");
  if (be(a.raw, kOffRxId, 4) != b) t.fail("OPEN_ACK: RxID not at TTP bytes 14-17 in network order");
  if (t.compat() && a.raw.size() != 64) t.fail("compat OPEN_ACK is " + std::to_string(a.raw.size()) + " B, expected 64");
  if (t.weft() && !a.ext.has_features) t.fail("weft OPEN_ACK without the feature block: " + a.describe());
  t.send(t.payload(kVc, b + 1));
  Seen k = t.expect(Opcode::kAck, kVc, {.rx = b + 1}, "ACK");
  check_layout(t, k, "ACK");
  if (k.raw.size() != 64) t.fail("ACK is " + std::to_string(k.raw.size()) + " B, expected 64 (padded control frame)");
  if (be(k.raw, kOffRxId, 4) != b + 1) t.fail("ACK: RxID not at TTP bytes 14-17 in network order");
  t.send(t.control(Opcode::kClose, kVc, b + 2, a.ttp.tx_id - 1));
  Seen c = t.expect(Opcode::kCloseAck, kVc, {.rx = b + 2}, "CLOSE_ACK");
  check_layout(t, c, "CLOSE_ACK");
  t.forget_link(kVc);
  t.send(t.payload(kVc, kStray));
  Seen n = t.expect(Opcode::kNackNolink, kVc, {.rx = kStray, .epoch = t.epoch_for(t.payload(kVc, kStray))},
                    "NACK_NOLINK");
  check_layout(t, n, "NACK_NOLINK");
  return t.pass();
}

Outcome payload_frame_lengths(Target&, Tester& t) {
  t.require_ethernet();
  t.require_host_control();
  Link l = open_by_tester(t);
  Seen p = implementation_data(t, l, 100);
  check_layout(t, p, "PAYLOAD of 100 B");
  if (be(p.raw, kOffTotalLength, 2) != 146 || be(p.raw, kOffTshLength, 2) != 126 || p.raw.size() != 160) {
    t.fail("PAYLOAD of 100 B: total-length " + std::to_string(be(p.raw, kOffTotalLength, 2)) + " (expected 146), TSH " +
           std::to_string(be(p.raw, kOffTshLength, 2)) + " (126), frame " + std::to_string(p.raw.size()) + " B (160)");
  }
  if (be(p.raw, kOffTxId, 4) != l.i_inflight) t.fail("PAYLOAD: TxID not at TTP bytes 10-13 in network order");
  Seen q = implementation_data(t, l, 1);
  check_layout(t, q, "PAYLOAD of 1 B");
  if (be(q.raw, kOffTotalLength, 2) != 47 || q.raw.size() != 64) {
    t.fail("PAYLOAD of 1 B: total-length " + std::to_string(be(q.raw, kOffTotalLength, 2)) +
           " (expected 47), frame " + std::to_string(q.raw.size()) + " B (expected 64: padded)");
  }
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  t.expect_silence("both PAYLOADs acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome min_frame_accepted(Target&, Tester& t) {
  t.require_ethernet();
  Out c = t.control(Opcode::kClose, kVc, kStray + 1, kStray);
  Bytes f = t.build(c);
  f.resize(wire::kMinRecvFrameBytes);
  t.send_raw(f, "CLOSE vc2 tx=" + hex(kStray + 1) + " unpadded");
  t.expect(Opcode::kCloseAck, kVc, {.rx = kStray + 1, .epoch = t.epoch_for(c)}, "a 60 B frame is accepted");
  Link l = open_by_tester(t);
  Out c2 = t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1);
  Bytes f2 = t.build(c2);
  f2.resize(wire::kMinRecvFrameBytes);
  t.send_raw(f2, "CLOSE vc2 tx=" + hex(l.t_next) + " unpadded");
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next}, "a 60 B CLOSE closes the link");
  t.expect_state(kVc, LS::kClosed, "after the 60 B CLOSE");
  return t.pass();
}

// Sends each malformed variant of `base` in CLOSED (expecting silence and no link), then of a
// CLOSE on an OPEN link (expecting silence and the link still OPEN).
Outcome malformed_dropped(Tester& t, const std::string& what, const std::vector<std::function<void(Bytes&)>>& damage) {
  t.require_ethernet();
  for (std::size_t i = 0; i < damage.size(); ++i) {
    Bytes f = t.build(t.open(kVc, isn(kVc)));
    damage[i](f);
    t.send_raw(f, "OPEN with " + what + " #" + std::to_string(i));
    t.expect_silence("OPEN with " + what + " #" + std::to_string(i) + " is dropped without a reply");
    for (int v = 0; v < transport::kVcCount; ++v) {
      t.expect_state(static_cast<Vc>(v), LS::kClosed, "a malformed OPEN creates no link");
    }
  }
  t.forget_link(kVc);
  Out probe = t.payload(kVc, kStray);
  t.send(probe);
  t.expect(Opcode::kNackNolink, kVc, {.rx = kStray, .epoch = t.epoch_for(probe)}, "no link was created");
  Link l = open_by_tester(t);
  for (std::size_t i = 0; i < damage.size(); ++i) {
    Bytes f = t.build(t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1));
    damage[i](f);
    t.send_raw(f, "CLOSE with " + what + " #" + std::to_string(i));
    t.expect_silence("CLOSE with " + what + " #" + std::to_string(i) + " is dropped without a reply");
    t.expect_state(kVc, LS::kOpen, "a malformed CLOSE changes no state");
  }
  tester_data(t, l, 1);
  return t.pass();
}

Outcome bad_opcode(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  for (std::uint8_t op : {0x0B, 0x0F, 0x3F, 0xFF}) d.push_back([op](Bytes& b) { b[kOffOpcode] = op; });
  return malformed_dropped(t, "opcode > 0x0A", d);
}

Outcome bad_vc(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  for (std::uint8_t vc : {3, 4, 0xFF}) d.push_back([vc](Bytes& b) { b[kOffVc] = vc; });
  return malformed_dropped(t, "VC > 2", d);
}

Outcome bad_tth(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  // tthl 4, 6 and 15; vers 1; styp 1.
  for (std::uint8_t b0 : {0x04, 0x06, 0x0F, 0x15, 0x45}) d.push_back([b0](Bytes& b) { b[kOffTth] = b0; });
  return malformed_dropped(t, "TTH byte 0 != 0x05", d);
}

Outcome bad_ethertype(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  for (std::uint32_t et : {0x0800u, 0x86DDu, 0x9AC7u}) d.push_back([et](Bytes& b) { put16(b, kOffEtherType, et); });
  return malformed_dropped(t, "EtherType != 0x9AC6", d);
}

Outcome bad_lengths(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  d.push_back([](Bytes& b) { put16(b, kOffTshLength, be(b, kOffTshLength, 2) + 1); });  // TSH != total - 20
  d.push_back([](Bytes& b) {  // lengths claim more than the frame holds
    put16(b, kOffTotalLength, 400);
    put16(b, kOffTshLength, 380);
  });
  d.push_back([](Bytes& b) {  // total-length below the headers
    put16(b, kOffTotalLength, 40);
    put16(b, kOffTshLength, 20);
  });
  d.push_back([](Bytes& b) { b.resize(wire::kMinRecvFrameBytes - 1); });  // runt
  return malformed_dropped(t, "bad lengths", d);
}

Outcome not_addressed(Target&, Tester& t) {
  std::vector<std::function<void(Bytes&)>> d;
  for (std::uint32_t node : {0x000003u, 0x000000u, 0xFFFFFFu}) {
    d.push_back([node](Bytes& b) {
      b[kOffTshDst] = static_cast<std::uint8_t>(node >> 16);
      b[kOffTshDst + 1] = static_cast<std::uint8_t>(node >> 8);
      b[kOffTshDst + 2] = static_cast<std::uint8_t>(node);
    });
  }
  return malformed_dropped(t, "TSH dst node not the implementation's", d);
}

Outcome compat_reserved_ignored(Target&, Tester& t) {
  t.require_ethernet();
  auto garble = [](Bytes& b) {
    const std::uint8_t junk[] = {0x12, 0x34, 0xBE, 0xEF, 0x55, 0xA5, 0x03, 0x20};  // TTP bytes 2..9
    for (std::size_t i = 0; i < sizeof junk; ++i) b[kOffTtp + 2 + i] = junk[i];
  };
  const std::uint32_t b = isn(kVc);
  Bytes o = t.build(t.open(kVc, b));
  garble(o);
  t.send_raw(o, "OPEN vc2 tx=" + hex(b) + " with junk in entropy/epoch/congestion/reserved/extension");
  Seen a = t.expect(Opcode::kOpenAck, kVc, {.rx = b}, "reserved fields are ignored on receive (OPEN)");
  Bytes p = t.build(t.payload(kVc, b + 1));
  garble(p);
  t.send_raw(p, "PAYLOAD vc2 tx=" + hex(b + 1) + " with junk reserved fields");
  t.expect(Opcode::kAck, kVc, {.rx = b + 1}, "reserved fields are ignored on receive (PAYLOAD)");
  expect_delivered(t, kVc, {Tester::pattern(b + 1, 64)}, "the PAYLOAD bytes after the 18 B header");
  Bytes c = t.build(t.control(Opcode::kClose, kVc, b + 2, a.ttp.tx_id - 1));
  garble(c);
  t.send_raw(c, "CLOSE vc2 tx=" + hex(b + 2) + " with junk reserved fields");
  t.expect(Opcode::kCloseAck, kVc, {.rx = b + 2}, "reserved fields are ignored on receive (CLOSE)");
  return t.pass();
}

Outcome compat_reserved_zero(Target&, Tester& t) {
  t.require_ethernet();
  std::vector<Seen> seen;
  Link l = open_by_tester(t);
  (void)l;
  // Every frame kind reachable without host control, then PAYLOAD when the target allows.
  t.send(t.payload(kVc, isn(kVc) + 1));
  seen.push_back(t.expect(Opcode::kAck, kVc, {.rx = isn(kVc) + 1}, "ACK"));
  t.send(t.payload(kVc, isn(kVc) + 3));
  seen.push_back(t.expect(Opcode::kNack, kVc, {.rx = isn(kVc) + 2}, "NACK"));
  t.send(t.control(Opcode::kClose, kVc, isn(kVc) + 3, 0));
  seen.push_back(t.expect(Opcode::kCloseNack, kVc, {}, "CLOSE_NACK"));
  t.send(t.payload(kVc, isn(kVc) + 2));
  t.expect(Opcode::kAck, kVc, {.rx = isn(kVc) + 2}, "ACK of the missing PAYLOAD");
  t.send(t.control(Opcode::kClose, kVc, isn(kVc) + 3, 0));
  seen.push_back(t.expect(Opcode::kCloseAck, kVc, {.rx = isn(kVc) + 3}, "CLOSE_ACK"));
  t.send(t.payload(kVc, kStray));
  seen.push_back(t.expect(Opcode::kNackNolink, kVc, {.rx = kStray}, "NACK_NOLINK"));
  for (const Seen& s : seen) check_layout(t, s, op_name(s.ttp.opcode));
  if (t.info().host_control) {
    Link m = open_by_tester(t, Vc::kReqLo);
    Seen p = implementation_data(t, m);
    check_layout(t, p, "PAYLOAD");
  } else {
    t.note("PAYLOAD not checked (needs host control)");
  }
  return t.pass();
}

// ---- §3.2 receive table ---------------------------------------------------------------------------

enum class Reply : std::uint8_t {
  kNone,        // no frame
  kOpenAck,     // OPEN_ACK(RxID = the OPEN's TxID)
  kCloseAck,    // CLOSE_ACK(RxID = the CLOSE's TxID)
  kCloseNack,   // CLOSE_NACK(TxID = next TxID, RxID = last in-order received)
  kNackNolink,  // NACK_NOLINK(RxID = the PAYLOAD's TxID)
  kAck,         // ACK(RxID = the PAYLOAD's TxID)
  kReplay,      // the implementation's in-flight PAYLOAD again (within the reply window)
  kReplayLater, // ... within the replay deadline (after a NACK_FULL pause)
};

struct Cell {
  Opcode opcode;
  LS state;
  Reply reply;
  LS after;
  bool data_in_flight;  // the implementation has an unacknowledged PAYLOAD (host control)
  const char* text;
};

// ttpoe.md §3.2, row by row; columns CLOSED, OPEN_SENT, OPEN_RECD, OPEN, CLOSE_SENT, CLOSE_RECD.
// OPEN_RECD becomes OPEN once the implementation sends its OPEN_ACK, which it does right after
// the burst; "after" is the state once every reply is out.
constexpr Cell kCells[] = {
    {Opcode::kOpen, LS::kClosed, Reply::kOpenAck, LS::kOpen, false,
     "OPEN in CLOSED: OPEN_ACK(RxID = the OPEN's TxID), CLOSED -> OPEN_RECD -> OPEN"},
    {Opcode::kOpen, LS::kOpenSent, Reply::kOpenAck, LS::kOpenSent, false,
     "OPEN in OPEN_SENT (passing ships): OPEN_ACK, stay OPEN_SENT until the peer's OPEN_ACK"},
    {Opcode::kOpen, LS::kOpenRecd, Reply::kOpenAck, LS::kOpen, false,
     "duplicate OPEN in OPEN_RECD: OPEN_ACK (identical answers may coalesce), stay"},
    {Opcode::kOpen, LS::kOpen, Reply::kOpenAck, LS::kOpen, false,
     "duplicate OPEN in OPEN (lost OPEN_ACK): OPEN_ACK with the same ids, stay OPEN"},
    {Opcode::kOpen, LS::kCloseSent, Reply::kOpenAck, LS::kCloseSent, false,
     "duplicate OPEN in CLOSE_SENT: OPEN_ACK(TxID = first DATA id, RxID = OPEN TxID), stay"},
    {Opcode::kOpen, LS::kCloseRecd, Reply::kOpenAck, LS::kCloseRecd, false,
     "duplicate OPEN in CLOSE_RECD: OPEN_ACK(TxID = first DATA id, RxID = OPEN TxID), stay"},

    {Opcode::kOpenAck, LS::kClosed, Reply::kNone, LS::kClosed, false, "OPEN_ACK in CLOSED: illegal, dropped"},
    {Opcode::kOpenAck, LS::kOpenSent, Reply::kNone, LS::kOpen, false, "OPEN_ACK(RxID = OPEN TxID) in OPEN_SENT: -> OPEN"},
    {Opcode::kOpenAck, LS::kOpenRecd, Reply::kNone, LS::kOpen, false,
     "OPEN_ACK in OPEN_RECD: stay (it acknowledges a local OPEN only)"},
    {Opcode::kOpenAck, LS::kOpen, Reply::kNone, LS::kOpen, false, "OPEN_ACK in OPEN: stay, no reply"},
    {Opcode::kOpenAck, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false, "OPEN_ACK in CLOSE_SENT: stay, no reply"},
    {Opcode::kOpenAck, LS::kCloseRecd, Reply::kNone, LS::kCloseRecd, false, "OPEN_ACK in CLOSE_RECD: stay, no reply"},

    {Opcode::kOpenNack, LS::kClosed, Reply::kNone, LS::kClosed, false, "OPEN_NACK in CLOSED: illegal, dropped"},
    {Opcode::kOpenNack, LS::kOpenSent, Reply::kNone, LS::kClosed, false,
     "OPEN_NACK(RxID = OPEN TxID) in OPEN_SENT: -> CLOSED, no OPEN replay"},
    {Opcode::kOpenNack, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "OPEN_NACK in OPEN_RECD: illegal, dropped"},
    {Opcode::kOpenNack, LS::kOpen, Reply::kNone, LS::kOpen, false, "OPEN_NACK in OPEN: illegal, dropped"},
    {Opcode::kOpenNack, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false, "OPEN_NACK in CLOSE_SENT: illegal, dropped"},
    {Opcode::kOpenNack, LS::kCloseRecd, Reply::kNone, LS::kCloseRecd, false, "OPEN_NACK in CLOSE_RECD: illegal, dropped"},

    {Opcode::kClose, LS::kClosed, Reply::kCloseAck, LS::kClosed, false,
     "CLOSE in CLOSED: CLOSE_ACK(RxID = CLOSE TxID, epoch echoed), stay CLOSED"},
    {Opcode::kClose, LS::kOpenSent, Reply::kCloseAck, LS::kClosed, false,
     "CLOSE in OPEN_SENT (from a prior connection): CLOSE_ACK, -> CLOSED, no OPEN replay"},
    {Opcode::kClose, LS::kOpenRecd, Reply::kCloseAck, LS::kOpen, false, "CLOSE in OPEN_RECD: CLOSE_ACK, stay"},
    {Opcode::kClose, LS::kOpen, Reply::kCloseAck, LS::kClosed, false,
     "CLOSE in OPEN, both sides quiesced: CLOSE_ACK, -> CLOSED (two-message close)"},
    {Opcode::kClose, LS::kCloseSent, Reply::kCloseAck, LS::kClosed, false,
     "CLOSE in CLOSE_SENT whose ids match (simultaneous close): CLOSE_ACK, -> CLOSED"},
    {Opcode::kClose, LS::kCloseRecd, Reply::kCloseNack, LS::kCloseRecd, false,
     "replayed CLOSE in CLOSE_RECD while data is missing: CLOSE_NACK, stay; once the data arrived, "
     "CLOSE_ACK -> CLOSED"},

    {Opcode::kCloseAck, LS::kClosed, Reply::kNone, LS::kClosed, false, "CLOSE_ACK in CLOSED: stay, no reply"},
    {Opcode::kCloseAck, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "CLOSE_ACK in OPEN_SENT: stay, no reply"},
    {Opcode::kCloseAck, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "CLOSE_ACK in OPEN_RECD: stay, no reply"},
    {Opcode::kCloseAck, LS::kOpen, Reply::kNone, LS::kOpen, false, "CLOSE_ACK in OPEN: stay, no reply"},
    {Opcode::kCloseAck, LS::kCloseSent, Reply::kNone, LS::kClosed, false,
     "CLOSE_ACK(RxID = CLOSE TxID) in CLOSE_SENT: -> CLOSED"},
    {Opcode::kCloseAck, LS::kCloseRecd, Reply::kNone, LS::kClosed, false, "CLOSE_ACK in CLOSE_RECD: -> CLOSED"},

    {Opcode::kCloseNack, LS::kClosed, Reply::kNone, LS::kClosed, false, "CLOSE_NACK in CLOSED: illegal, dropped"},
    {Opcode::kCloseNack, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "CLOSE_NACK in OPEN_SENT: illegal, dropped"},
    {Opcode::kCloseNack, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "CLOSE_NACK in OPEN_RECD: illegal, dropped"},
    {Opcode::kCloseNack, LS::kOpen, Reply::kNone, LS::kOpen, false, "CLOSE_NACK in OPEN: illegal, dropped"},
    {Opcode::kCloseNack, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false,
     "CLOSE_NACK in CLOSE_SENT: stay, no CLOSE replay while the declared ids differ"},
    {Opcode::kCloseNack, LS::kCloseRecd, Reply::kNone, LS::kCloseRecd, false, "CLOSE_NACK in CLOSE_RECD: legal, stay"},

    {Opcode::kPayload, LS::kClosed, Reply::kNackNolink, LS::kClosed, false,
     "PAYLOAD in CLOSED: NACK_NOLINK(RxID = PAYLOAD TxID, epoch echoed)"},
    {Opcode::kPayload, LS::kOpenSent, Reply::kNackNolink, LS::kOpenSent, false, "PAYLOAD in OPEN_SENT: NACK_NOLINK, stay"},
    {Opcode::kPayload, LS::kOpenRecd, Reply::kNackNolink, LS::kOpen, false,
     "PAYLOAD in OPEN_RECD: NACK_NOLINK, not delivered; replayed once OPEN, it is ACKed"},
    {Opcode::kPayload, LS::kOpen, Reply::kAck, LS::kOpen, false, "PAYLOAD in OPEN, in order: ACK(RxID = its TxID)"},
    {Opcode::kPayload, LS::kCloseSent, Reply::kAck, LS::kCloseSent, false,
     "PAYLOAD in CLOSE_SENT below the closing id: processed as in OPEN (ACK)"},
    {Opcode::kPayload, LS::kCloseRecd, Reply::kAck, LS::kCloseRecd, false,
     "PAYLOAD in CLOSE_RECD below the peer's CLOSE TxID: processed as in OPEN (ACK)"},

    {Opcode::kAck, LS::kClosed, Reply::kNone, LS::kClosed, false, "ACK in CLOSED: discarded"},
    {Opcode::kAck, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "ACK in OPEN_SENT: discarded"},
    {Opcode::kAck, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "ACK in OPEN_RECD: discarded"},
    {Opcode::kAck, LS::kOpen, Reply::kNone, LS::kOpen, true, "ACK in OPEN: processed (the PAYLOAD is not replayed)"},
    {Opcode::kAck, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false,
     "ACK in CLOSE_SENT (nothing in flight): no reply, stay"},
    {Opcode::kAck, LS::kCloseRecd, Reply::kNone, LS::kCloseRecd, true,
     "ACK in CLOSE_RECD: processed (no replay); the replayed CLOSE then gets CLOSE_ACK"},

    {Opcode::kNack, LS::kClosed, Reply::kNone, LS::kClosed, false, "NACK in CLOSED: discarded"},
    {Opcode::kNack, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "NACK in OPEN_SENT: discarded"},
    {Opcode::kNack, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "NACK in OPEN_RECD: discarded"},
    {Opcode::kNack, LS::kOpen, Reply::kReplay, LS::kOpen, true, "NACK(RxID = in-flight TxID) in OPEN: replay it"},
    {Opcode::kNack, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false,
     "NACK naming the CLOSE's id in CLOSE_SENT (no data in flight): no reply, stay"},
    {Opcode::kNack, LS::kCloseRecd, Reply::kReplay, LS::kCloseRecd, true, "NACK in CLOSE_RECD: replay the PAYLOAD"},

    {Opcode::kNackFull, LS::kClosed, Reply::kNone, LS::kClosed, false, "NACK_FULL in CLOSED: discarded"},
    {Opcode::kNackFull, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "NACK_FULL in OPEN_SENT: discarded"},
    {Opcode::kNackFull, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "NACK_FULL in OPEN_RECD: discarded"},
    {Opcode::kNackFull, LS::kOpen, Reply::kReplayLater, LS::kOpen, true, "NACK_FULL in OPEN: pause, then replay"},
    {Opcode::kNackFull, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false,
     "NACK_FULL in CLOSE_SENT (no data in flight): no reply, stay"},
    {Opcode::kNackFull, LS::kCloseRecd, Reply::kReplayLater, LS::kCloseRecd, true,
     "NACK_FULL in CLOSE_RECD: pause, then replay"},

    {Opcode::kNackNolink, LS::kClosed, Reply::kNone, LS::kClosed, false, "NACK_NOLINK in CLOSED: discarded (lost)"},
    {Opcode::kNackNolink, LS::kOpenSent, Reply::kNone, LS::kOpenSent, false, "NACK_NOLINK in OPEN_SENT: discarded"},
    {Opcode::kNackNolink, LS::kOpenRecd, Reply::kNone, LS::kOpen, false, "NACK_NOLINK in OPEN_RECD: discarded"},
    {Opcode::kNackNolink, LS::kOpen, Reply::kNone, LS::kClosed, true,
     "NACK_NOLINK(RxID = in-flight TxID) in OPEN: link down -> CLOSED, no more replays"},
    {Opcode::kNackNolink, LS::kCloseSent, Reply::kNone, LS::kCloseSent, false,
     "NACK_NOLINK naming the CLOSE's id in CLOSE_SENT (no PAYLOAD refused): no reply, stay"},
    {Opcode::kNackNolink, LS::kCloseRecd, Reply::kNone, LS::kClosed, true,
     "NACK_NOLINK in CLOSE_RECD with data in flight: link down -> CLOSED, no more replays"},
};
static_assert(sizeof kCells / sizeof kCells[0] == wire::kOpcodeCount * transport::kLinkStateCount,
              "one cell per (opcode, state)");

// Drives the link into `cell.state`. OPEN_RECD is prepared but not entered: the stimulus goes in
// the same burst as the OPEN.
Link cell_setup(Tester& t, const Cell& cell) {
  Link l;
  switch (cell.state) {
    case LS::kClosed:
      return l;
    case LS::kOpenSent: {
      t.require_host_control();
      t.host_open(kVc);
      Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
      t.expect_state(kVc, LS::kOpenSent, "after host open");
      l.i_open = o.ttp.tx_id;
      l.i_next = o.ttp.tx_id + 1;
      l.t_open = isn(kVc);
      l.t_next = l.t_open + 1;
      return l;
    }
    case LS::kOpenRecd:
      t.require_atomic_bursts();
      l.t_open = isn(kVc);
      l.t_next = l.t_open + 1;
      return l;
    case LS::kOpen:
      if (cell.data_in_flight) t.require_host_control();
      l = open_by_tester(t);
      if (cell.data_in_flight) {
        tester_data(t, l, 1);  // shows the tester reached OPEN (it got the OPEN_ACK)
        implementation_data(t, l);
      }
      return l;
    case LS::kCloseSent: {
      t.require_host_control();
      l = open_by_tester(t);
      t.host_close(kVc);
      Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
                        "CLOSE(TxID = last DATA + 1, RxID = last in-order received) after host close");
      t.expect_state(kVc, LS::kCloseSent, "after host close");
      l.i_close = c.ttp.tx_id;
      ++l.i_next;
      return l;
    }
    case LS::kCloseRecd:
      if (cell.data_in_flight) {
        t.require_host_control();
        l = open_by_tester(t);
        implementation_data(t, l);
        // The tester has sent everything; the implementation's PAYLOAD is unacknowledged.
        l.t_close = l.t_next;
        t.send(t.control(Opcode::kClose, kVc, l.t_close, l.i_inflight));
      } else {
        l = open_by_tester(t);
        // The CLOSE declares one PAYLOAD (t_next) the implementation never received.
        l.t_close = l.t_next + 1;
        t.send(t.control(Opcode::kClose, kVc, l.t_close, l.i_next - 1));
      }
      t.expect(Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
               "CLOSE_NACK(TxID = next TxID, RxID = last in-order received) to a CLOSE before quiescence");
      t.expect_state(kVc, LS::kCloseRecd, "after CLOSE_NACK");
      return l;
  }
  return l;
}

Out cell_stimulus(Tester& t, const Cell& cell, const Link& l) {
  const bool has_data = cell.data_in_flight;
  const std::uint32_t ack_id = has_data                          ? l.i_inflight
                               : cell.state == LS::kCloseSent    ? l.i_close - 1
                               : cell.state == LS::kOpenSent     ? l.i_open
                                                                 : kStray;
  const std::uint32_t nack_id = cell.state == LS::kCloseSent && !has_data ? l.i_close : ack_id;
  switch (cell.opcode) {
    case Opcode::kOpen:
      return t.open(kVc, cell.state == LS::kClosed ? isn(kVc) : l.t_open);
    case Opcode::kOpenAck:
      return t.control(Opcode::kOpenAck, kVc, l.t_next != 0 ? l.t_next : kStray + 2,
                       cell.state == LS::kOpenSent ? l.i_open : kStray);
    case Opcode::kOpenNack:
      return t.control(Opcode::kOpenNack, kVc, 0, cell.state == LS::kOpenSent ? l.i_open : kStray);
    case Opcode::kClose:
      switch (cell.state) {
        case LS::kClosed: return t.control(Opcode::kClose, kVc, kStray + 0x10, kStray);
        case LS::kOpenSent: return t.control(Opcode::kClose, kVc, kStray + 0x20, l.i_open);
        case LS::kOpenRecd: return t.control(Opcode::kClose, kVc, kStray + 0x30, kStray);
        case LS::kOpen: return t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1);
        case LS::kCloseSent: return t.control(Opcode::kClose, kVc, l.t_next, l.i_close - 1);
        case LS::kCloseRecd: return t.control(Opcode::kClose, kVc, l.t_close, l.i_next - 1);
      }
      break;
    case Opcode::kCloseAck:
      return t.control(Opcode::kCloseAck, kVc, 0, cell.state == LS::kCloseSent ? l.i_close : l.i_next);
    case Opcode::kCloseNack:
      return t.control(Opcode::kCloseNack, kVc, l.t_next + 1,
                       cell.state == LS::kCloseSent ? l.i_close - 1 : l.i_next - 1);
    case Opcode::kPayload:
      return t.payload(kVc, cell.state == LS::kClosed || cell.state == LS::kOpenSent ? kStray + 0x40 : l.t_next);
    case Opcode::kAck:
      return t.control(Opcode::kAck, kVc, 0, ack_id);
    case Opcode::kNack:
    case Opcode::kNackFull:
    case Opcode::kNackNolink:
      return t.control(cell.opcode, kVc, 0, nack_id);
  }
  return t.control(cell.opcode, kVc, 0, 0);
}

Outcome run_cell(Tester& t, const Cell& cell) {
  Link l = cell_setup(t, cell);
  const Out stim = cell_stimulus(t, cell, l);
  const std::string in = op_name(cell.opcode) + " in " + state_name(cell.state);
  std::vector<Want> wants;
  if (cell.state == LS::kOpenRecd) {
    t.send_burst({t.open(kVc, l.t_open), stim});
    wants.push_back(Want{Opcode::kOpenAck, kVc, {.rx = l.t_open}});
  } else {
    t.send(stim);
  }
  const std::uint16_t echo = t.epoch_for(stim);
  switch (cell.reply) {
    case Reply::kNone:
      break;
    case Reply::kOpenAck:
      if (cell.state == LS::kOpenRecd) break;  // the burst's OPEN_ACK answers both OPENs
      if (cell.state == LS::kOpenSent) {
        wants.push_back(Want{Opcode::kOpenAck, kVc, {.tx = l.i_open + 1, .rx = stim.tx}});
      } else if (cell.state == LS::kClosed) {
        wants.push_back(Want{Opcode::kOpenAck, kVc, {.rx = stim.tx}});
      } else {
        // The first DATA id the implementation announced in its first OPEN_ACK.
        const std::uint32_t first = cell.state == LS::kCloseSent ? l.i_close : l.i_next;
        wants.push_back(Want{Opcode::kOpenAck, kVc, {.tx = first, .rx = stim.tx}});
      }
      break;
    case Reply::kCloseAck:
      wants.push_back(Want{Opcode::kCloseAck, kVc, {.rx = stim.tx, .epoch = echo}});
      break;
    case Reply::kCloseNack:
      wants.push_back(Want{Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1}});
      break;
    case Reply::kNackNolink:
      wants.push_back(Want{Opcode::kNackNolink, kVc, {.rx = stim.tx, .epoch = echo}});
      break;
    case Reply::kAck:
      wants.push_back(Want{Opcode::kAck, kVc, {.rx = stim.tx}});
      break;
    case Reply::kReplay:
      wants.push_back(Want{Opcode::kPayload, kVc, {.tx = l.i_inflight, .payload = l.inflight}});
      break;
    case Reply::kReplayLater:
      break;
  }
  if (!wants.empty()) t.expect_unordered(wants, in);
  if (cell.reply == Reply::kReplayLater) {
    t.await(Opcode::kPayload, kVc, {.tx = l.i_inflight, .payload = l.inflight}, in + ": replay after the pause",
            t.replay_deadline());
  }
  if (cell.state == LS::kOpenRecd && cell.opcode == Opcode::kOpen) {
    // A second, identical OPEN_ACK is allowed; nothing else.
    for (const Seen& s : t.drain(t.reply_window())) {
      if (s.ttp.opcode != Opcode::kOpenAck || s.ttp.rx_id != l.t_open) {
        t.fail(in + ": expected at most a second OPEN_ACK rx=" + hex(l.t_open) + "; saw " + s.describe());
      }
    }
  } else {
    t.expect_silence(in + ": nothing more");
  }
  t.expect_state(kVc, cell.after, in);

  // Follow-ups that show the state at the packet level.
  if (cell.state == LS::kOpenSent && cell.after == LS::kClosed) {
    t.expect_silence(in + ": no OPEN replay once CLOSED", t.replay_deadline());
  }
  if (cell.opcode == Opcode::kAck && cell.data_in_flight) {
    t.expect_silence(in + ": the acknowledged PAYLOAD is not replayed", t.replay_deadline());
    if (cell.state == LS::kCloseRecd) {
      t.send(t.control(Opcode::kClose, kVc, l.t_close, l.i_next - 1));
      t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_close}, "replayed CLOSE once quiesced: CLOSE_ACK");
      t.expect_state(kVc, LS::kClosed, "after CLOSE_ACK");
    }
  }
  if (cell.opcode == Opcode::kNackNolink && cell.data_in_flight) {
    t.expect_silence(in + ": no replay on a link that is down", t.replay_deadline());
  }
  if (cell.opcode == Opcode::kCloseNack && cell.state == LS::kCloseSent) {
    t.expect_silence(in + ": no CLOSE replay while the ids differ", t.replay_deadline());
  }
  if (cell.opcode == Opcode::kPayload && cell.state == LS::kOpenRecd) {
    t.send(t.payload(kVc, l.t_next));
    t.expect(Opcode::kAck, kVc, {.rx = l.t_next}, "the PAYLOAD refused in OPEN_RECD, replayed in OPEN: ACK");
    expect_delivered(t, kVc, {Tester::pattern(l.t_next, 64)}, "delivered once, after OPEN");
  }
  if (cell.opcode == Opcode::kClose && cell.state == LS::kCloseRecd) {
    t.send(t.payload(kVc, l.t_next));
    t.expect(Opcode::kAck, kVc, {.rx = l.t_next}, "the missing PAYLOAD in CLOSE_RECD: ACK");
    t.send(stim);
    t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_close}, "replayed CLOSE once quiesced: CLOSE_ACK");
    t.expect_state(kVc, LS::kClosed, "after CLOSE_ACK");
  }
  if (cell.opcode == Opcode::kOpenAck && cell.state == LS::kOpenSent) {
    t.send(t.payload(kVc, l.t_next));
    t.expect(Opcode::kAck, kVc, {.rx = l.t_next}, "OPEN after OPEN_ACK: the peer's first PAYLOAD is ACKed");
  }
  return t.pass();
}

// ---- §12.2 open -------------------------------------------------------------------------------------

Outcome host_open_sends_open(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  t.expect_state(kVc, LS::kOpenSent, "CLOSED -> OPEN_SENT on host open");
  if (t.info().initial_tx_id && o.ttp.tx_id != *t.info().initial_tx_id) {
    t.fail("OPEN TxID " + hex(o.ttp.tx_id) + ", configured initial TxID " + hex(*t.info().initial_tx_id));
  }
  if (t.weft()) {
    if (!o.ext.has_features) t.fail("weft OPEN without the feature block: " + o.describe());
    if (o.ext.features.protocol_version != 1) t.fail("weft OPEN feature block version is not 1: " + o.describe());
    if (o.ttp.epoch == 0 || o.ext.features.epoch != o.ttp.epoch) {
      t.fail("weft OPEN must carry a non-zero epoch, equal in the header and the feature block: " + o.describe());
    }
  } else if (o.ttp.extension != 0 || o.ttp.epoch != 0) {
    t.fail("compat OPEN with an extension or epoch: " + o.describe());
  }
  return t.pass();
}

Outcome open_ack_answers_open(Target&, Tester& t) {
  const std::uint32_t b = isn(kVc);
  t.send(t.open(kVc, b));
  Seen a = t.expect(Opcode::kOpenAck, kVc, {.rx = b}, "OPEN_ACK(RxID = OPEN TxID)");
  if (t.weft() && (!a.ext.has_features || a.ext.features.protocol_version != 1)) {
    t.fail("weft OPEN_ACK must carry the version 1 feature block: " + a.describe());
  }
  t.expect_state(kVc, LS::kOpen, "OPEN_RECD -> OPEN once OPEN_ACK is sent");
  t.send(t.payload(kVc, b + 1));
  t.expect(Opcode::kAck, kVc, {.rx = b + 1}, "the first PAYLOAD (OPEN TxID + 1) is ACKed");
  expect_delivered(t, kVc, {Tester::pattern(b + 1, 64)}, "the first PAYLOAD");
  return t.pass();
}

Outcome responder_first_payload(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  const std::uint32_t first = l.i_next;
  Seen p = implementation_data(t, l);
  if (p.ttp.tx_id != first) t.fail("first PAYLOAD TxID " + hex(p.ttp.tx_id) + " != OPEN_ACK TxID " + hex(first));
  return t.pass();
}

Outcome initiator_first_payload(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  const Bytes m = Tester::pattern(0xABCD, 80);
  t.host_send(kVc, m);
  t.expect_silence("PAYLOAD stalls in OPEN_SENT", t.replay_deadline() / 4);
  const std::uint32_t tfirst = isn(kVc) + 0x900;
  t.send(t.control(Opcode::kOpenAck, kVc, tfirst, o.ttp.tx_id));
  t.expect(Opcode::kPayload, kVc, {.tx = o.ttp.tx_id + 1, .payload = m}, "first PAYLOAD TxID = OPEN TxID + 1");
  t.expect_state(kVc, LS::kOpen, "OPEN_SENT -> OPEN on OPEN_ACK");
  t.send(t.payload(kVc, tfirst));
  t.expect(Opcode::kAck, kVc, {.rx = tfirst}, "the OPEN_ACK TxID is the peer's first DATA id");
  return t.pass();
}

Outcome open_replayed(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  t.await(Opcode::kOpen, kVc, {.tx = o.ttp.tx_id, .epoch = o.ttp.epoch}, "unanswered OPEN replayed (same TxID)",
          t.replay_deadline());
  t.expect_state(kVc, LS::kOpenSent, "still OPEN_SENT");
  t.send(t.control(Opcode::kOpenAck, kVc, isn(kVc) + 1, o.ttp.tx_id));
  t.expect_silence("OPEN_ACK ends the replays");
  t.expect_state(kVc, LS::kOpen, "OPEN after OPEN_ACK");
  return t.pass();
}

Outcome open_ack_wrong_rxid(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  for (std::uint32_t wrong : {o.ttp.tx_id + 1, o.ttp.tx_id - 1}) {
    t.send(t.control(Opcode::kOpenAck, kVc, isn(kVc) + 1, wrong));
    t.expect_silence("OPEN_ACK naming another OPEN (RxID " + hex(wrong) + ") is ignored");
    t.expect_state(kVc, LS::kOpenSent, "an OPEN_ACK for another OPEN does not open the link");
  }
  t.send(t.control(Opcode::kOpenAck, kVc, isn(kVc) + 1, o.ttp.tx_id));
  t.expect_state(kVc, LS::kOpen, "the right OPEN_ACK opens it");
  return t.pass();
}

Outcome duplicate_open_keeps_state(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t first = l.i_next;
  tester_data(t, l, 1);
  t.send(t.open(kVc, l.t_open));
  t.expect(Opcode::kOpenAck, kVc, {.tx = first, .rx = l.t_open}, "duplicate OPEN (OPEN_ACK lost): same OPEN_ACK");
  t.expect_state(kVc, LS::kOpen, "stays OPEN");
  t.send(t.payload(kVc, l.t_open + 1));
  t.expect(Opcode::kAck, kVc, {.rx = l.t_open + 1}, "receive state kept: the old PAYLOAD is a duplicate (re-ACK)");
  tester_data(t, l, 1);
  expect_delivered(t, kVc, patterns(l.t_open + 1, 2), "each PAYLOAD delivered once");
  return t.pass();
}

Outcome duplicate_open_same_txid(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  const std::uint32_t first = l.i_next;
  implementation_data(t, l);  // the OPEN_ACK and this PAYLOAD are "lost"
  t.send(t.open(kVc, l.t_open));
  t.expect(Opcode::kOpenAck, kVc, {.tx = first, .rx = l.t_open},
           "duplicate OPEN after the implementation sent data: OPEN_ACK TxID is still the first DATA id "
           "(else the peer takes the replayed PAYLOAD " + hex(first) + " for a duplicate)");
  return t.pass();
}

Outcome passing_ships(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  const std::uint32_t a = o.ttp.tx_id;
  const std::uint32_t b = isn(kVc);
  t.send(t.open(kVc, b));  // crossed the implementation's OPEN on the wire
  t.expect(Opcode::kOpenAck, kVc, {.tx = a + 1, .rx = b}, "the peer's OPEN is answered (epoch: the lower node id's)");
  t.expect_state(kVc, LS::kOpenSent, "passing ships do not shortcut to OPEN");
  const Bytes m = Tester::pattern(0x5150, 64);
  t.host_send(kVc, m);
  t.expect_silence("no PAYLOAD before the OPEN_ACK");
  t.send(t.control(Opcode::kOpenAck, kVc, b + 1, a));
  t.expect(Opcode::kPayload, kVc, {.tx = a + 1, .payload = m}, "OPEN after both OPEN and OPEN_ACK");
  t.expect_state(kVc, LS::kOpen, "OPEN");
  t.send(t.payload(kVc, b + 1));
  t.expect(Opcode::kAck, kVc, {.rx = b + 1}, "the peer's first PAYLOAD (its OPEN TxID + 1)");
  return t.pass();
}

Outcome open_nack_no_room(Target&, Tester& t) {
  t.require_ethernet();
  const std::optional<std::uint32_t> limit = t.info().link_limit;
  if (!limit || *limit > 8 || *limit == 0) {
    t.skip("skipped (needs host control: a known link limit of at most 8, TargetHints::link_limit)");
  }
  std::uint32_t made = 0;
  for (NodeId node = t.info().tester_node; made < *limit; node += 0x10) {
    for (int v = 0; v < transport::kVcCount && made < *limit; ++v, ++made) {
      Out o = t.open(static_cast<Vc>(v), isn(static_cast<Vc>(v)) + node);
      o.src = node;
      t.send(o);
      t.expect(Opcode::kOpenAck, o.vc, {.rx = o.tx, .epoch = t.epoch_for(o), .to = node},
               "link " + std::to_string(made + 1) + " of " + std::to_string(*limit));
    }
  }
  const NodeId extra = 0x0000A0;
  Out o = t.open(kVc, 0x00777000);
  o.src = extra;
  t.send(o);
  t.expect(Opcode::kOpenNack, kVc, {.rx = o.tx, .epoch = t.epoch_for(o), .to = extra},
           "OPEN beyond the link limit: OPEN_NACK(RxID = OPEN TxID)");
  t.expect_state(kVc, LS::kClosed, "the refused link stays CLOSED", extra);
  Out p = t.payload(kVc, o.tx + 1);
  p.src = extra;
  t.send(p);
  t.expect(Opcode::kNackNolink, kVc, {.rx = p.tx, .epoch = t.epoch_for(p), .to = extra}, "no link was created");
  return t.pass();
}

Outcome open_nack_closes(Target&, Tester& t) {
  t.require_host_control();
  t.host_open(kVc);
  Seen o = t.expect(Opcode::kOpen, kVc, {}, "OPEN after host open");
  t.send(t.control(Opcode::kOpenNack, kVc, 0, o.ttp.tx_id));
  t.expect_state(kVc, LS::kClosed, "OPEN_SENT -> CLOSED on OPEN_NACK");
  t.expect_silence("no OPEN replay after OPEN_NACK", t.replay_deadline());
  Out p = t.payload(kVc, kStray);
  t.send(p);
  t.expect(Opcode::kNackNolink, kVc, {.rx = kStray, .epoch = t.epoch_for(p)}, "no link left");
  return t.pass();
}

// ---- §12.3 data -------------------------------------------------------------------------------------

Outcome in_order_acked(Target&, Tester& t) {
  Link l = open_by_tester(t);
  std::vector<Bytes> want;
  for (int i = 0; i < 5; ++i) {
    const std::size_t n = 64 + 100 * static_cast<std::size_t>(i);
    t.send(t.payload(kVc, l.t_next, n));
    t.expect(Opcode::kAck, kVc, {.rx = l.t_next}, "ACK(RxID = TxID) of in-order PAYLOAD");
    want.push_back(Tester::pattern(l.t_next, n));
    ++l.t_next;
  }
  expect_delivered(t, kVc, want, "in order, each once");
  return t.pass();
}

Outcome duplicate_reacked(Target&, Tester& t) {
  Link l = open_by_tester(t);
  tester_data(t, l, 3);
  t.send(t.payload(kVc, l.t_open + 2));
  t.expect(Opcode::kAck, kVc, {.rx = l.t_open + 3}, "duplicate PAYLOAD re-ACKed (RxID = last in-order)");
  t.send(t.payload(kVc, l.t_open + 1));
  t.expect(Opcode::kAck, kVc, {.rx = l.t_open + 3}, "older duplicate re-ACKed");
  expect_delivered(t, kVc, patterns(l.t_open + 1, 3), "duplicates are not delivered again");
  return t.pass();
}

Outcome gap_go_back_n(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t b = l.t_open;
  tester_data(t, l, 1);
  t.send(t.payload(kVc, b + 3));
  t.expect(Opcode::kNack, kVc, {.rx = b + 2}, "gap: NACK(RxID = first missing TxID)");
  t.send(t.payload(kVc, b + 4));
  t.expect_silence("go-back-N: younger PAYLOAD ignored after the NACK");
  t.send(t.payload(kVc, b + 3));
  t.expect_silence("still ignored (no second NACK) until the failed id returns");
  for (std::uint32_t id = b + 2; id <= b + 4; ++id) {
    t.send(t.payload(kVc, id));
    t.expect(Opcode::kAck, kVc, {.rx = id}, "replay from the failed id: ACK");
  }
  expect_delivered(t, kVc, patterns(b + 1, 4), "in order, each once");
  return t.pass();
}

Outcome nack_full_recovery(Target&, Tester& t) {
  t.require_host_control();
  const std::optional<std::uint32_t> buf = t.info().recv_buffer_bytes;
  if (!buf || *buf > (64u << 10)) t.skip("skipped (needs host control: a known receive buffer of at most 64 KiB)");
  Link l = open_by_tester(t);
  t.hold_delivery(true);
  constexpr std::size_t kSize = 1000;
  std::uint64_t accepted = 0;
  std::optional<std::uint32_t> full_id;
  const std::uint32_t first = l.t_next;
  while (!full_id) {
    t.send(t.payload(kVc, l.t_next, kSize));
    // compat: NACK_FULL's RxID "loses meaning" (spec); weft: it names the refused id.
    Expect full;
    if (t.weft()) full.rx = l.t_next;
    auto [i, s] = t.expect_any({Want{Opcode::kAck, kVc, {.rx = l.t_next}}, Want{Opcode::kNackFull, kVc, full}},
                               "PAYLOAD while the application reads nothing");
    if (i == 1) {
      full_id = l.t_next;
      break;
    }
    accepted += kSize;
    ++l.t_next;
    if (accepted > *buf) {
      t.fail("accepted " + std::to_string(accepted) + " B while the application read nothing; the receive buffer is " +
             std::to_string(*buf) + " B and no NACK_FULL came");
    }
  }
  if (t.compat()) {
    t.send(t.payload(kVc, *full_id + 1, kSize));
    t.expect_silence("go-back-N after NACK_FULL: younger PAYLOAD ignored");
  }
  t.hold_delivery(false);
  for (std::uint32_t id = *full_id; id <= *full_id + 1; ++id) {
    t.send(t.payload(kVc, id, kSize));
    t.expect(Opcode::kAck, kVc, {.rx = id}, "after the application read: replayed PAYLOAD ACKed");
  }
  expect_delivered(t, kVc, patterns(first, *full_id + 2 - first, kSize), "every PAYLOAD once, in order");
  return t.pass();
}

Outcome ack_stops_replay(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  implementation_data(t, l);
  implementation_data(t, l);
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  t.expect_silence("a cumulative ACK of the last PAYLOAD: nothing is replayed", t.replay_deadline());
  return t.pass();
}

Outcome nack_go_back_n_replay(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  std::vector<Seen> sent;
  for (int i = 0; i < 4; ++i) sent.push_back(implementation_data(t, l));
  t.send(t.control(Opcode::kNack, kVc, 0, sent[1].ttp.tx_id));
  for (std::size_t i = 1; i < 4; ++i) {
    t.expect(Opcode::kPayload, kVc, {.tx = sent[i].ttp.tx_id, .payload = sent[i].payload},
             "go-back-N: replay from the NACKed id, in order");
  }
  t.send(t.control(Opcode::kAck, kVc, 0, sent[3].ttp.tx_id));
  t.expect_silence("all acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome nack_selective_replay(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  std::vector<Seen> sent;
  for (int i = 0; i < 4; ++i) sent.push_back(implementation_data(t, l));
  t.send(t.control(Opcode::kNack, kVc, 0, sent[1].ttp.tx_id));
  t.expect(Opcode::kPayload, kVc, {.tx = sent[1].ttp.tx_id, .payload = sent[1].payload}, "weft: replay the NACKed id");
  t.expect_silence("weft: only the NACKed id is replayed");
  t.send(t.control(Opcode::kAck, kVc, 0, sent[3].ttp.tx_id));
  t.expect_silence("all acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome nack_full_pause_replay(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  Seen p0 = implementation_data(t, l);
  Seen p1 = implementation_data(t, l);
  t.send(t.control(Opcode::kNackFull, kVc, 0, p0.ttp.tx_id));
  t.await(Opcode::kPayload, kVc, {.tx = p0.ttp.tx_id, .payload = p0.payload}, "NACK_FULL: the PAYLOAD is replayed",
          t.replay_deadline());
  if (t.compat()) {
    t.expect(Opcode::kPayload, kVc, {.tx = p1.ttp.tx_id, .payload = p1.payload}, "compat: go-back-N tail replayed");
  }
  t.send(t.control(Opcode::kAck, kVc, 0, p1.ttp.tx_id));
  t.expect_silence("all acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome wrap_receive(Target&, Tester& t) {
  Link l = open_by_tester(t, kVc, 0xFFFFFFFCu);
  tester_data(t, l, 5);  // 0xFFFFFFFD .. 0x00000001
  t.send(t.payload(kVc, 0xFFFFFFFFu));
  t.expect(Opcode::kAck, kVc, {.rx = 0x00000001u}, "0xFFFFFFFF is older than 0x00000001: duplicate, re-ACK");
  if (t.compat()) {
    t.send(t.payload(kVc, 0x00000003u));
    t.expect(Opcode::kNack, kVc, {.rx = 0x00000002u}, "gap after the wrap: NACK(first missing)");
  } else {
    t.send(t.payload(kVc, 0x00000003u));
    t.expect(Opcode::kAck, kVc, {.rx = 0x00000001u, .check = sack_is({{3, 3}})}, "gap after the wrap: SACK");
  }
  t.send(t.payload(kVc, 0x00000002u));
  t.expect(Opcode::kAck, kVc, {.rx = t.compat() ? 0x00000002u : 0x00000003u}, "hole filled");
  if (t.compat()) {
    t.send(t.payload(kVc, 0x00000003u));
    t.expect(Opcode::kAck, kVc, {.rx = 0x00000003u}, "replayed after go-back-N");
  }
  expect_delivered(t, kVc, patterns(0xFFFFFFFDu, 7), "in order across the wrap");
  return t.pass();
}

Outcome wrap_send(Target&, Tester& t) {
  t.require_host_control();
  const std::optional<std::uint32_t> first = t.info().initial_tx_id;
  if (!first || static_cast<std::uint32_t>(0u - *first) > 64u) {
    t.skip("skipped (needs host control: the implementation's TxIDs starting within 64 of 2^32, "
           "TargetHints::initial_tx_id)");
  }
  Link l = open_by_implementation(t);
  if (l.i_open != *first) t.fail("OPEN TxID " + hex(l.i_open) + ", configured " + hex(*first));
  std::vector<Seen> sent;
  while (sent.size() < 20) sent.push_back(implementation_data(t, l));  // TxIDs run across 0
  if (wire::id_before(sent.back().ttp.tx_id, sent.front().ttp.tx_id) || sent.back().ttp.tx_id > 0x100) {
    t.fail("the PAYLOAD TxIDs did not cross 2^32: last " + hex(sent.back().ttp.tx_id));
  }
  t.send(t.control(Opcode::kAck, kVc, 0, 0x00000001u));
  std::size_t nacked = 0;
  while (sent[nacked].ttp.tx_id != 0x00000002u) ++nacked;
  t.send(t.control(Opcode::kNack, kVc, 0, 0x00000002u));
  const std::size_t last = t.compat() ? sent.size() - 1 : nacked;
  for (std::size_t i = nacked; i <= last; ++i) {
    t.expect(Opcode::kPayload, kVc, {.tx = sent[i].ttp.tx_id, .payload = sent[i].payload},
             "replay after ACK(0x00000001) and NACK(0x00000002)");
  }
  t.expect_silence("ACK 0x00000001 covered every id before the wrap");
  t.send(t.control(Opcode::kAck, kVc, 0, sent.back().ttp.tx_id));
  t.expect_silence("all acknowledged", t.replay_deadline());
  return t.pass();
}

// ---- §12.4 close ----------------------------------------------------------------------------------

Outcome close_by_tester(Target&, Tester& t) {
  Link l = open_by_tester(t);
  tester_data(t, l, 1);
  t.send(t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1));
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next}, "CLOSE(TxID = last DATA + 1): CLOSE_ACK(RxID = CLOSE TxID)");
  t.expect_state(kVc, LS::kClosed, "closed after two messages");
  t.expect_silence("no TIME_WAIT traffic", t.replay_deadline());
  t.forget_link(kVc);
  t.new_tester_epoch(kVc);
  t.send(t.open(kVc, l.t_next + 0x100));
  t.expect(Opcode::kOpenAck, kVc, {.rx = l.t_next + 0x100}, "reopen at once (no TIME_WAIT)");
  return t.pass();
}

Outcome close_by_implementation(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  tester_data(t, l, 1);
  implementation_data(t, l);
  t.host_close(kVc);
  t.expect_silence("CLOSE waits until the data sent is acknowledged");
  t.expect_state(kVc, LS::kOpen, "still OPEN while data is unacknowledged");
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
                    "CLOSE(TxID = last DATA + 1, RxID = last in-order received)");
  t.expect_state(kVc, LS::kCloseSent, "OPEN -> CLOSE_SENT");
  t.send(t.control(Opcode::kCloseAck, kVc, 0, c.ttp.tx_id));
  t.expect_state(kVc, LS::kClosed, "CLOSE_SENT -> CLOSED on CLOSE_ACK");
  t.expect_silence("closed after two messages; nothing follows", t.replay_deadline());
  return t.pass();
}

Outcome close_nack_missing_data(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t close_id = l.t_next + 1;  // declares PAYLOAD t_next, never sent
  t.send(t.control(Opcode::kClose, kVc, close_id, l.i_next - 1));
  t.expect(Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
           "CLOSE before quiescence: CLOSE_NACK(TxID = next TxID, RxID = last in-order received)");
  t.expect_state(kVc, LS::kCloseRecd, "OPEN -> CLOSE_RECD");
  tester_data(t, l, 1);
  t.send(t.control(Opcode::kClose, kVc, close_id, l.i_next - 1));
  t.expect(Opcode::kCloseAck, kVc, {.rx = close_id}, "replayed CLOSE once quiesced: CLOSE_ACK");
  t.expect_state(kVc, LS::kClosed, "CLOSE_RECD -> CLOSED");
  return t.pass();
}

Outcome close_nack_unacked(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  implementation_data(t, l);
  t.send(t.control(Opcode::kClose, kVc, l.t_next, l.i_inflight));
  t.expect(Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
           "CLOSE while own PAYLOAD is unacknowledged: CLOSE_NACK");
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  t.expect_silence("ACK in CLOSE_RECD: no reply");
  t.send(t.control(Opcode::kClose, kVc, l.t_next, l.i_inflight));
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next}, "replayed CLOSE once quiesced: CLOSE_ACK");
  t.expect_state(kVc, LS::kClosed, "CLOSED");
  return t.pass();
}

// Implementation closes (CLOSE(F, B)); the tester answers CLOSE_NACK declaring PAYLOAD B+1.
Link held_close(Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE after host close");
  l.i_close = c.ttp.tx_id;
  t.send(t.control(Opcode::kCloseNack, kVc, l.t_next + 1, l.i_close - 1));
  return l;
}

Outcome no_close_storm(Target&, Tester& t) {
  Link l = held_close(t);
  t.expect_silence("no CLOSE replay until the ids declared by CLOSE_NACK match", t.replay_deadline());
  t.expect_state(kVc, LS::kCloseSent, "stays CLOSE_SENT");
  t.send(t.payload(kVc, l.t_next));
  t.expect_unordered({Want{Opcode::kAck, kVc, {.rx = l.t_next}},
                      Want{Opcode::kClose, kVc, {.tx = l.i_close, .rx = l.t_next}}},
                     "the declared PAYLOAD arrived: ACK, and CLOSE replayed with the new RxID");
  t.send(t.control(Opcode::kCloseAck, kVc, 0, l.i_close));
  t.expect_state(kVc, LS::kClosed, "CLOSED on CLOSE_ACK");
  t.expect_silence("nothing follows", t.replay_deadline());
  return t.pass();
}

Outcome close_nack_matching_replays_on_timer(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE after host close");
  // The ids already match; the peer is waiting for its own data to be acknowledged.
  t.send(t.control(Opcode::kCloseNack, kVc, l.t_next, c.ttp.tx_id - 1));
  t.expect_silence("CLOSE_NACK with matching ids: no CLOSE replay at once (no CLOSE/CLOSE_NACK ping-pong)");
  t.expect_state(kVc, LS::kCloseSent, "stays CLOSE_SENT");
  t.await(Opcode::kClose, kVc, {.tx = c.ttp.tx_id, .rx = c.ttp.rx_id}, "CLOSE replayed on the timer",
          t.replay_deadline());
  t.send(t.control(Opcode::kCloseAck, kVc, 0, c.ttp.tx_id));
  t.expect_state(kVc, LS::kClosed, "CLOSED on CLOSE_ACK");
  return t.pass();
}

Outcome nolink_past_close_nack_id(Target&, Tester& t) {
  Link l = held_close(t);
  for (std::uint32_t id : {l.t_next + 1, l.t_next + 2}) {
    t.send(t.payload(kVc, id));
    t.expect(Opcode::kNackNolink, kVc, {.rx = id}, "PAYLOAD at or past the TxID the CLOSE_NACK declared: NACK_NOLINK");
  }
  t.expect_state(kVc, LS::kCloseSent, "stays CLOSE_SENT");
  t.send(t.payload(kVc, l.t_next));
  t.expect_unordered({Want{Opcode::kAck, kVc, {.rx = l.t_next}},
                      Want{Opcode::kClose, kVc, {.tx = l.i_close, .rx = l.t_next}}},
                     "the PAYLOAD below the closing id is accepted");
  return t.pass();
}

Outcome nolink_after_close_replay(Target&, Tester& t) {
  Link l = held_close(t);
  t.send(t.payload(kVc, l.t_next));
  t.expect_unordered({Want{Opcode::kAck, kVc, {.rx = l.t_next}},
                      Want{Opcode::kClose, kVc, {.tx = l.i_close, .rx = l.t_next}}},
                     "ACK, and CLOSE replayed with RxID " + hex(l.t_next));
  t.send(t.payload(kVc, l.t_next + 1));
  t.expect(Opcode::kNackNolink, kVc, {.rx = l.t_next + 1},
           "PAYLOAD past the closing id (the peer's CLOSE_NACK declared " + hex(l.t_next + 1) +
               " as its next TxID; the replayed CLOSE's RxID is " + hex(l.t_next) + "): NACK_NOLINK");
  return t.pass();
}

Outcome nolink_past_peer_close(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t close_id = l.t_next + 1;
  t.send(t.control(Opcode::kClose, kVc, close_id, l.i_next - 1));
  t.expect(Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE before quiescence: CLOSE_NACK");
  t.send(t.payload(kVc, close_id + 1));
  t.expect(Opcode::kNackNolink, kVc, {.rx = close_id + 1},
           "CLOSE_RECD: PAYLOAD past the peer's CLOSE TxID " + hex(close_id) + " gets NACK_NOLINK");
  return t.pass();
}

Outcome simultaneous_close(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  tester_data(t, l, 1);
  implementation_data(t, l);
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE after host close");
  // The tester's CLOSE crossed it: TxID = own DATA + 1, RxID = the implementation's last DATA.
  t.send(t.control(Opcode::kClose, kVc, l.t_next, c.ttp.tx_id - 1));
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next}, "simultaneous CLOSE with matching ids: CLOSE_ACK");
  t.expect_state(kVc, LS::kClosed, "CLOSE_SENT -> CLOSED");
  t.send(t.control(Opcode::kCloseAck, kVc, 0, c.ttp.tx_id));
  t.expect_silence("the tester's CLOSE_ACK arriving in CLOSED: no reply", t.replay_deadline());
  return t.pass();
}

Outcome simultaneous_close_mismatch(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE after host close");
  ++l.i_next;
  const std::uint32_t close_id = l.t_next + 1;  // declares PAYLOAD t_next, not yet received
  t.send(t.control(Opcode::kClose, kVc, close_id, c.ttp.tx_id - 1));
  t.expect(Opcode::kCloseNack, kVc, {.tx = l.i_next, .rx = l.t_next - 1},
           "simultaneous CLOSE whose ids do not match: CLOSE_NACK(TxID = next TxID, RxID = last received)");
  t.expect_state(kVc, LS::kCloseSent, "stays CLOSE_SENT");
  tester_data(t, l, 1);
  t.send(t.control(Opcode::kClose, kVc, close_id, c.ttp.tx_id - 1));
  t.expect(Opcode::kCloseAck, kVc, {.rx = close_id}, "replayed CLOSE with matching ids: CLOSE_ACK");
  t.expect_state(kVc, LS::kClosed, "CLOSED");
  return t.pass();
}

Outcome close_replayed(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.tx = l.i_next, .rx = l.t_next - 1}, "CLOSE after host close");
  t.await(Opcode::kClose, kVc, {.tx = c.ttp.tx_id, .rx = c.ttp.rx_id}, "unanswered CLOSE replayed, same ids",
          t.replay_deadline());
  t.send(t.control(Opcode::kCloseAck, kVc, 0, c.ttp.tx_id));
  t.expect_state(kVc, LS::kClosed, "CLOSED on CLOSE_ACK");
  return t.pass();
}

Outcome close_after_close(Target&, Tester& t) {
  Link l = open_by_tester(t);
  Out c = t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1);
  t.send(c);
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next}, "CLOSE_ACK");
  t.expect_state(kVc, LS::kClosed, "CLOSED");
  t.send(c);  // the CLOSE_ACK was lost; the peer replays its CLOSE
  t.expect(Opcode::kCloseAck, kVc, {.rx = l.t_next, .epoch = t.epoch_for(c)},
           "replayed CLOSE in CLOSED answered again (epoch echoed)");
  t.expect_state(kVc, LS::kClosed, "stays CLOSED");
  return t.pass();
}

// ---- §12.5 faults -----------------------------------------------------------------------------------

Outcome duplicated_payloads(Target&, Tester& t) {
  Link l = open_by_tester(t);
  for (int i = 0; i < 4; ++i) {
    for (int copy = 0; copy < 2; ++copy) {
      t.send(t.payload(kVc, l.t_next));
      t.expect(Opcode::kAck, kVc, {.rx = l.t_next}, copy == 0 ? "ACK" : "duplicate re-ACKed");
    }
    ++l.t_next;
  }
  expect_delivered(t, kVc, patterns(l.t_open + 1, 4), "each PAYLOAD delivered once");
  return t.pass();
}

Outcome reordered_payloads(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t b = l.t_open;
  tester_data(t, l, 1);
  t.send(t.payload(kVc, b + 3));  // overtook b + 2
  if (t.compat()) {
    t.expect(Opcode::kNack, kVc, {.rx = b + 2}, "reordered: NACK(first missing)");
    t.send(t.payload(kVc, b + 2));
    t.expect(Opcode::kAck, kVc, {.rx = b + 2}, "the late PAYLOAD");
    t.send(t.payload(kVc, b + 3));
    t.expect(Opcode::kAck, kVc, {.rx = b + 3}, "the go-back-N replay");
  } else {
    t.expect(Opcode::kAck, kVc, {.rx = b + 1, .check = sack_is({{b + 3, b + 3}})}, "reordered: SACK");
    t.send(t.payload(kVc, b + 2));
    t.expect(Opcode::kAck, kVc, {.rx = b + 3}, "the late PAYLOAD completes the run");
  }
  t.send(t.payload(kVc, b + 4));
  t.expect(Opcode::kAck, kVc, {.rx = b + 4}, "in order again");
  expect_delivered(t, kVc, patterns(b + 1, 4), "delivered in TxID order, each once");
  return t.pass();
}

Outcome lost_acks(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  for (int i = 0; i < 3; ++i) implementation_data(t, l);
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));  // the ACKs of the first two were lost
  t.expect_silence("the cumulative ACK covers the PAYLOADs whose ACKs were lost", t.replay_deadline());
  Seen p = implementation_data(t, l);  // its ACK is lost too
  t.await(Opcode::kPayload, kVc, {.tx = p.ttp.tx_id, .payload = p.payload}, "no ACK at all: replayed on timeout",
          t.replay_deadline());
  t.send(t.control(Opcode::kAck, kVc, 0, p.ttp.tx_id));
  t.expect_silence("acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome lost_open_ack_nolink(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);  // this OPEN_ACK is "lost": the tester stays in OPEN_SENT
  const std::uint32_t first = l.i_next;
  Seen p = implementation_data(t, l);
  t.send(t.control(Opcode::kNackNolink, kVc, 0, p.ttp.tx_id));  // OPEN_SENT answers PAYLOAD so
  t.expect(Opcode::kOpenAck, kVc, {.tx = first, .rx = l.t_open},
           "NACK_NOLINK before the peer showed it reached OPEN: the OPEN_ACK is sent again, the link stays up");
  t.expect_state(kVc, LS::kOpen, "the link is not failed");
  t.await(Opcode::kPayload, kVc, {.tx = p.ttp.tx_id, .payload = p.payload}, "the refused PAYLOAD is retried",
          t.replay_deadline());
  t.send(t.control(Opcode::kAck, kVc, 0, p.ttp.tx_id));
  tester_data(t, l, 1);
  t.expect_silence("acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome payload_replayed_on_timeout(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_tester(t);
  Seen p0 = implementation_data(t, l);
  Seen p1 = implementation_data(t, l);
  t.await(Opcode::kPayload, kVc, {.tx = p0.ttp.tx_id, .payload = p0.payload},
          "unacknowledged PAYLOAD replayed on timeout (same TxID, same bytes)", t.replay_deadline());
  if (t.weft()) {
    // weft probes with the oldest segment only; once the probe is acknowledged, the segments sent
    // before it and still unacknowledged are judged lost (RACK) and replayed.
    t.send(t.control(Opcode::kAck, kVc, 0, p0.ttp.tx_id));
    t.await(Opcode::kPayload, kVc, {.tx = p1.ttp.tx_id, .payload = p1.payload},
            "and, after the probe is acknowledged, the one after it", t.replay_deadline());
  } else {
    t.expect(Opcode::kPayload, kVc, {.tx = p1.ttp.tx_id, .payload = p1.payload}, "and the one after it (go-back-N)");
  }
  t.send(t.control(Opcode::kAck, kVc, 0, p1.ttp.tx_id));
  t.expect_silence("acknowledged", t.replay_deadline());
  return t.pass();
}

Outcome peer_restart(Target&, Tester& t) {
  Link l = open_by_tester(t);
  tester_data(t, l, 3);
  const std::uint16_t old_epoch = t.link_epoch(kVc).value_or(0);
  // The tester restarts: new OPEN TxID (older than the ids the implementation already received,
  // so stale receive state would take the new data for duplicates) and, in weft, a new epoch.
  t.forget_link(kVc);
  t.new_tester_epoch(kVc);
  const std::uint32_t b2 = l.t_open - 0x100;
  t.send(t.open(kVc, b2));
  t.expect(Opcode::kOpenAck, kVc, {.rx = b2}, "the restarted peer's OPEN is answered");
  t.send(t.payload(kVc, b2 + 1));
  t.expect(Opcode::kAck, kVc, {.rx = b2 + 1},
           "the restarted peer's first PAYLOAD (its new OPEN TxID + 1) is accepted, not taken for a duplicate");
  std::optional<std::vector<Bytes>> got = t.received(kVc);
  if (got && (got->empty() || got->back() != Tester::pattern(b2 + 1, 64))) {
    t.fail("the restarted peer's first PAYLOAD was not delivered");
  }
  if (t.weft()) {
    Out stale = t.payload(kVc, l.t_next);
    stale.epoch = old_epoch;
    t.send(stale);
    t.expect_silence("a late PAYLOAD of the old incarnation (old epoch) is dropped");
  }
  return t.pass();
}

// ---- §12.6 VCs --------------------------------------------------------------------------------------

Outcome vcs_independent(Target&, Tester& t) {
  Link v[3];
  for (int i = 0; i < 3; ++i) v[i] = open_by_tester(t, static_cast<Vc>(i));
  for (int i : {0, 2, 1}) tester_data(t, v[i], 1);
  const Vc a = Vc::kReqLo, c = Vc::kData;
  if (t.compat()) {
    t.send(t.payload(a, v[0].t_next + 1));
    t.expect(Opcode::kNack, a, {.rx = v[0].t_next}, "gap on VC0: NACK on VC0");
  } else {
    t.send(t.payload(a, v[0].t_next + 1));
    t.expect(Opcode::kAck, a, {.rx = v[0].t_next - 1, .check = sack_is({{v[0].t_next + 1, v[0].t_next + 1}})},
             "gap on VC0: SACK on VC0");
  }
  tester_data(t, v[2], 1);  // VC2 unaffected by VC0's gap
  t.send(t.control(Opcode::kClose, Vc::kReqHi, v[1].t_next, v[1].i_next - 1));
  t.expect(Opcode::kCloseAck, Vc::kReqHi, {.rx = v[1].t_next}, "close VC1 alone");
  t.expect_state(Vc::kReqHi, LS::kClosed, "VC1 closed");
  t.expect_state(a, LS::kOpen, "VC0 still open");
  t.expect_state(c, LS::kOpen, "VC2 still open");
  Out p = t.payload(Vc::kReqHi, v[1].t_next + 1);
  t.send(p);
  t.expect(Opcode::kNackNolink, Vc::kReqHi, {.rx = p.tx, .epoch = t.epoch_for(p)}, "VC1 has no link");
  tester_data(t, v[2], 1);
  t.send(t.payload(a, v[0].t_next));
  t.expect(Opcode::kAck, a, {.rx = t.compat() ? v[0].t_next : v[0].t_next + 1}, "VC0 fills its own hole");
  return t.pass();
}

Outcome vcs_separate_ids(Target&, Tester& t) {
  t.require_host_control();
  Link v[3];
  for (int i = 0; i < 3; ++i) v[i] = open_by_implementation(t, static_cast<Vc>(i));
  for (int i : {2, 0, 1}) implementation_data(t, v[i]);
  implementation_data(t, v[2]);
  implementation_data(t, v[0]);  // each VC continues its own sequence
  for (int i = 0; i < 3; ++i) {
    t.send(t.control(Opcode::kAck, static_cast<Vc>(i), 0, v[i].i_inflight));
    tester_data(t, v[i], 1);
  }
  t.expect_silence("every VC acknowledged", t.replay_deadline());
  return t.pass();
}

// ---- weft profile ------------------------------------------------------------------------------------

Outcome epoch_mismatch_dropped(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint16_t e = *t.link_epoch(kVc);
  Out p = t.payload(kVc, l.t_next);
  p.epoch = static_cast<std::uint16_t>(e ^ 0x5A5A);
  t.send(p);
  t.expect_silence("PAYLOAD with another epoch is dropped");
  Out c = t.control(Opcode::kClose, kVc, l.t_next, l.i_next - 1);
  c.epoch = static_cast<std::uint16_t>(e + 1);
  t.send(c);
  t.expect_silence("CLOSE with another epoch is dropped");
  t.expect_state(kVc, LS::kOpen, "no state change");
  tester_data(t, l, 1);
  expect_delivered(t, kVc, {Tester::pattern(l.t_open + 1, 64)}, "only the PAYLOAD with the link epoch");
  if (t.info().host_control) {
    Seen d = implementation_data(t, l);
    Out a = t.control(Opcode::kAck, kVc, 0, d.ttp.tx_id);
    a.epoch = static_cast<std::uint16_t>(e ^ 0x00FF);
    t.send(a);
    t.await(Opcode::kPayload, kVc, {.tx = d.ttp.tx_id}, "an ACK with another epoch is ignored: replay",
            t.replay_deadline());
  }
  return t.pass();
}

Outcome open_without_features(Target&, Tester& t) {
  Out o = t.open(kVc, isn(kVc));
  o.features = false;
  t.send(o);
  t.expect_silence("weft OPEN without the feature block is dropped (no downgrade to compat)");
  t.expect_state(kVc, LS::kClosed, "no link");
  Out p = t.payload(kVc, isn(kVc) + 1);
  t.send(p);
  t.expect(Opcode::kNackNolink, kVc, {.rx = p.tx, .epoch = t.epoch_for(p)}, "no link was created");
  open_by_tester(t);
  return t.pass();
}

Outcome sack_ranges(Target&, Tester& t) {
  Link l = open_by_tester(t);
  const std::uint32_t b = l.t_open;
  tester_data(t, l, 1);
  t.send(t.payload(kVc, b + 3));
  t.expect(Opcode::kAck, kVc, {.rx = b + 1, .check = sack_is({{b + 3, b + 3}})}, "hole at b+2: SACK [b+3]");
  t.send(t.payload(kVc, b + 5));
  t.expect(Opcode::kAck, kVc, {.rx = b + 1, .check = sack_is({{b + 3, b + 3}, {b + 5, b + 5}})}, "two ranges");
  t.send(t.payload(kVc, b + 4));
  t.expect(Opcode::kAck, kVc, {.rx = b + 1, .check = sack_is({{b + 3, b + 5}})}, "ranges merge");
  t.send(t.payload(kVc, b + 2));
  t.expect(Opcode::kAck, kVc, {.rx = b + 5, .check = sack_is({})}, "hole filled: cumulative, no SACK");
  expect_delivered(t, kVc, patterns(b + 1, 5), "delivered in order");
  return t.pass();
}

Outcome ack_coalescing(Target&, Tester& t) {
  Link l = open_by_tester(t);
  // One burst: over a real datapath the 8 frames leave in one send call, so they arrive within the
  // implementation's ACK delay rather than one tester step apart.
  std::vector<Out> burst;
  for (int i = 0; i < 8; ++i) burst.push_back(t.payload(kVc, l.t_next + static_cast<std::uint32_t>(i)));
  t.send_burst(burst);
  const std::uint32_t last = l.t_next + 7;
  std::vector<Seen> acks = t.drain(t.reply_window());
  if (acks.empty()) t.fail("8 in-order PAYLOADs: no ACK within " + std::to_string(t.reply_window()) + " ns");
  if (acks.size() >= 8) t.fail("8 back-to-back PAYLOADs answered by " + std::to_string(acks.size()) + " ACKs (no coalescing)");
  std::uint32_t prev = l.t_open;
  for (const Seen& a : acks) {
    if (a.ttp.opcode != Opcode::kAck || !wire::id_after(a.ttp.rx_id, prev)) {
      t.fail("coalesced ACKs must be ACKs with increasing RxID; saw " + a.describe());
    }
    prev = a.ttp.rx_id;
  }
  if (prev != last) t.fail("the last coalesced ACK has RxID " + hex(prev) + ", expected " + hex(last));
  t.send(t.payload(kVc, last + 1));
  t.expect(Opcode::kAck, kVc, {.rx = last + 1}, "a lone PAYLOAD is ACKed within the ACK delay");
  return t.pass();
}

Outcome epoch_on_every_frame(Target&, Tester& t) {
  t.require_host_control();
  Link l = open_by_implementation(t);
  const std::uint16_t e = *t.link_epoch(kVc);
  if (e == 0) t.fail("the implementation's OPEN carried epoch 0");
  Seen p = implementation_data(t, l);
  (void)p;
  t.send(t.payload(kVc, l.t_next));
  t.expect(Opcode::kAck, kVc, {.rx = l.t_next, .epoch = e}, "ACK carries the link epoch");
  t.send(t.control(Opcode::kAck, kVc, 0, l.i_inflight));
  t.host_close(kVc);
  Seen c = t.expect(Opcode::kClose, kVc, {.epoch = e}, "CLOSE carries the link epoch");
  t.send(t.control(Opcode::kCloseAck, kVc, 0, c.ttp.tx_id));
  t.expect_state(kVc, LS::kClosed, "CLOSED");
  return t.pass();
}

Outcome stateless_echo(Target&, Tester& t) {
  Out p = t.payload(kVc, kStray);
  p.epoch = 0x1234;
  t.send(p);
  t.expect(Opcode::kNackNolink, kVc, {.rx = kStray, .epoch = 0x1234}, "NACK_NOLINK echoes the PAYLOAD's epoch");
  Out c = t.control(Opcode::kClose, kVc, kStray + 1, 0);
  c.epoch = 0x4321;
  t.send(c);
  t.expect(Opcode::kCloseAck, kVc, {.rx = kStray + 1, .epoch = 0x4321}, "CLOSE_ACK from CLOSED echoes the CLOSE's epoch");
  return t.pass();
}

// ---- registry ------------------------------------------------------------------------------------------

std::vector<Clause> build() {
  using PM = ProfileMask;
  std::vector<Clause> v;
  auto add = [&](std::string id, std::string ref, std::string text, PM pm, Outcome (*fn)(Target&, Tester&),
                 TargetHints hints = {}) {
    v.push_back(Clause{std::move(id), std::move(ref), std::move(text), pm, fn, hints});
  };

  // Framing.
  add("S2_frame_layout", "TTPoE §2; ttpoe.md §2.2-§2.6, §12.1",
      "Control frames: EtherType 0x9AC6, TTH byte 0 = 0x05, TTH padding zero, total-length = 46 + "
      "extension + payload, TSH length = total - 20, TSH node ids, TTP fields in network order, "
      "padded to 64 B with zeros; compat: reserved TTP bytes zero",
      PM::kBoth, frame_layout);
  add("S2_payload_frame_lengths", "ttpoe.md §2.2, §2.3, §2.6, §12.1",
      "PAYLOAD of 100 B: total-length 146, TSH length 126, 160 B frame; of 1 B: total-length 47, padded to 64 B",
      PM::kBoth, payload_frame_lengths);
  add("S2_min_frame_60_accepted", "ttpoe.md §2.6, §12.1",
      "A 60 B frame (Ethernet minimum without FCS, unpadded) is accepted", PM::kBoth, min_frame_accepted);
  add("S2_bad_opcode_dropped", "TTPoE §2.7; ttpoe.md §2.4, §12.1",
      "Opcode > 0x0A: dropped, no reply, no state change (in CLOSED and in OPEN)", PM::kBoth, bad_opcode);
  add("S2_bad_vc_dropped", "ttpoe.md §2.4, §6, §12.1", "VC > 2: dropped, no reply, no state change", PM::kBoth,
      bad_vc);
  add("S2_bad_tth_dropped", "ttpoe.md §2.2, §12.1",
      "TTH byte 0 other than 0x05 (tthl 4/6/15, vers 1, styp 1): dropped, no reply, no state change", PM::kBoth,
      bad_tth);
  add("S2_bad_ethertype_dropped", "ttpoe.md §2.1, §12.1", "EtherType other than 0x9AC6: dropped", PM::kBoth,
      bad_ethertype);
  add("S2_bad_lengths_dropped", "ttpoe.md §2.2, §2.3, §2.6",
      "TSH length != total-length - 20, lengths beyond the frame, total-length < 46, 59 B runt: dropped",
      PM::kBoth, bad_lengths);
  add("S2_not_addressed_dropped", "ttpoe.md §2.3",
      "TSH dst node other than the implementation's: dropped, no reply", PM::kBoth, not_addressed);
  add("S2_compat_reserved_ignored", "ttpoe.md §2.4 (interop hazard)",
      "compat: junk in entropy/epoch/congestion/reserved/extension bytes is ignored on receive", PM::kCompat,
      compat_reserved_ignored);
  add("S2_compat_reserved_zero", "DESIGN.md §2 (compat); ttpoe.md §2.4",
      "compat: every frame kind sent has TTP bytes 2-9 zero and no extension block", PM::kCompat,
      compat_reserved_zero);

  // §3.2 receive table.
  for (const Cell& cell : kCells) {
    const std::string id = "S3_2_" + op_name(cell.opcode) + "_in_" + state_name(cell.state);
    const Cell copy = cell;
    v.push_back(Clause{id,
                       "TTPoE §3 " + op_name(cell.opcode) + " table, " + state_name(cell.state) +
                           " column; ttpoe.md §3.2",
                       cell.text, PM::kBoth, [copy](Target&, Tester& t) { return run_cell(t, copy); }, {}});
  }

  // §12.2 open.
  add("S12_2_host_open_sends_OPEN", "ttpoe.md §3.2 send rules, §12.2",
      "Host open: CLOSED -> OPEN_SENT, OPEN sent (weft: version 1 feature block, non-zero epoch in header and block)",
      PM::kBoth, host_open_sends_open);
  add("S12_2_OPEN_ACK_answers_OPEN", "TTPoE §3 OPEN_ACK; ttpoe.md §2.7, §12.2",
      "OPEN -> OPEN_ACK(RxID = OPEN TxID) and OPEN; the peer's first PAYLOAD (OPEN TxID + 1) is ACKed", PM::kBoth,
      open_ack_answers_open);
  add("S12_2_responder_first_PAYLOAD_is_OPEN_ACK_TxID", "ttpoe.md §2.7 (OPEN_ACK TxID = 1st local DATA ID)",
      "The responder's first PAYLOAD carries the TxID its OPEN_ACK announced", PM::kBoth, responder_first_payload);
  add("S12_2_initiator_first_PAYLOAD_and_stall", "ttpoe.md §2.7, §3.2 assumption 4, §12.2",
      "PAYLOAD stalls in OPEN_SENT; after OPEN_ACK the first PAYLOAD TxID = OPEN TxID + 1; the OPEN_ACK TxID is "
      "the peer's first DATA id",
      PM::kBoth, initiator_first_payload);
  add("S12_2_OPEN_replayed_after_timeout", "ttpoe.md §3.1 (OPEN_SENT timeout), §12.2",
      "An unanswered OPEN is replayed with the same TxID (and epoch)", PM::kBoth, open_replayed);
  add("S12_2_OPEN_ACK_wrong_RxID_ignored", "ttpoe.md §2.7 (OPEN_ACK RxID = the OPEN's TxID)",
      "An OPEN_ACK whose RxID names another OPEN does not open the link", PM::kBoth, open_ack_wrong_rxid);
  add("S12_2_duplicate_OPEN_keeps_receive_state", "ttpoe.md §3.2 OPEN row, §12.2, §12.5 (lost OPEN_ACK)",
      "Duplicate OPEN in OPEN: the same OPEN_ACK again, receive state kept (an old PAYLOAD is still a duplicate)",
      PM::kBoth, duplicate_open_keeps_state);
  add("S12_2_duplicate_OPEN_same_OPEN_ACK_TxID", "ttpoe.md §2.7, §12.2",
      "Duplicate OPEN after the responder sent data: OPEN_ACK TxID is still the first DATA id", PM::kBoth,
      duplicate_open_same_txid);
  add("S12_2_passing_ship_OPENs", "ttpoe.md §3.2 assumption 3, §12.2",
      "Crossing OPENs: each answered with OPEN_ACK; OPEN only after the peer's OPEN_ACK; weft link epoch = the lower "
      "node id's OPEN epoch",
      PM::kBoth, passing_ships);
  add("S12_2_OPEN_NACK_when_no_link_available", "TTPoE §3 OPEN table (no available ways); ttpoe.md §12.2",
      "OPEN beyond the link limit: OPEN_NACK(RxID = OPEN TxID), no link", PM::kBoth, open_nack_no_room,
      TargetHints{.link_limit = 3});
  add("S12_2_OPEN_NACK_closes_OPEN_SENT", "ttpoe.md §3.1, §3.2 OPEN_NACK row, §12.2",
      "OPEN_NACK in OPEN_SENT: CLOSED, no OPEN replay", PM::kBoth, open_nack_closes);

  // §12.3 data.
  add("S12_3_in_order_ACK", "ttpoe.md §3.2 PAYLOAD row, §12.3",
      "In-order PAYLOADs each ACKed (RxID = TxID) and delivered once, in order", PM::kBoth, in_order_acked);
  add("S12_3_duplicate_reACKed", "ttpoe.md §3.2 assumption 6, §12.3",
      "Duplicate PAYLOADs re-ACKed with the cumulative RxID, not delivered again", PM::kBoth, duplicate_reacked);
  add("S12_3_gap_NACK_then_go_back_N", "ttpoe.md §3.2 assumption 7, §12.3",
      "compat: gap -> NACK(first missing id), then silence for younger ids until the failed id is replayed",
      PM::kCompat, gap_go_back_n);
  add("S12_3_NACK_FULL_then_recovery", "TTPoE NACK_FULL; ttpoe.md §5, §12.3",
      "Receive buffer full (application not reading): NACK_FULL (compat: younger ids ignored); after the "
      "application reads, the replay is ACKed",
      PM::kBoth, nack_full_recovery, TargetHints{.recv_buffer_bytes = 4096});
  add("S12_3_ACK_stops_replay", "ttpoe.md §3.2 ACK row (process), §4",
      "A cumulative ACK retires every PAYLOAD up to its RxID: no replay", PM::kBoth, ack_stops_replay);
  add("S12_3_NACK_go_back_N_replay", "ttpoe.md §3.2 assumption 7, §4",
      "compat: NACK(id) -> replay from id, in order (go-back-N)", PM::kCompat, nack_go_back_n_replay);
  add("S12_3_NACK_selective_replay", "DESIGN.md §3 (weft)",
      "weft: NACK(id) -> replay that id only", PM::kWeft, nack_selective_replay);
  add("S12_3_NACK_FULL_pause_then_replay", "TTPoE NACK_FULL; ttpoe.md §5",
      "NACK_FULL received: the PAYLOAD is replayed after a pause (compat: the tail too)", PM::kBoth,
      nack_full_pause_replay);
  add("S12_3_wrap_receive", "ttpoe.md §3.2 assumption 5, §12.3",
      "Peer TxIDs across 2^32: in-order ACKs, 0xFFFFFFFF older than 0x00000001, gaps after the wrap", PM::kBoth,
      wrap_receive);
  add("S12_3_wrap_send", "ttpoe.md §3.2 assumption 5, §12.3",
      "Own TxIDs from 0xFFFFFFF0 across 2^32: consecutive ids, cumulative ACK and NACK across the wrap", PM::kBoth,
      wrap_send, TargetHints{.initial_tx_id = 0xFFFFFFF0u});

  // §12.4 close.
  add("S12_4_close_by_tester_two_messages", "ttpoe.md §3.4, §12.4",
      "Peer CLOSE(TxID = last DATA + 1) -> CLOSE_ACK(RxID = CLOSE TxID) -> CLOSED; nothing follows; reopen at once",
      PM::kBoth, close_by_tester);
  add("S12_4_close_by_implementation_two_messages", "ttpoe.md §3.1, §12.4",
      "Host close: CLOSE only after the data sent is acknowledged, CLOSE(TxID = last DATA + 1, RxID = last "
      "in-order received); CLOSE_ACK -> CLOSED",
      PM::kBoth, close_by_implementation);
  add("S12_4_CLOSE_NACK_when_peer_data_missing", "ttpoe.md §3.1 (CLOSE_RECD !quiesced), §12.4",
      "CLOSE declaring a PAYLOAD not received: CLOSE_NACK(TxID = next TxID, RxID = last in-order), CLOSE_RECD; "
      "after the PAYLOAD, the replayed CLOSE gets CLOSE_ACK",
      PM::kBoth, close_nack_missing_data);
  add("S12_4_CLOSE_NACK_when_own_data_unacked", "ttpoe.md §3.1 (CLOSE_RECD !quiesced), §12.4",
      "CLOSE while own PAYLOAD is unacknowledged: CLOSE_NACK; after the ACK the replayed CLOSE gets CLOSE_ACK",
      PM::kBoth, close_nack_unacked);
  add("S12_4_no_CLOSE_replay_until_ids_match", "ttpoe.md §3.2 assumption 9, §12.4",
      "After CLOSE_NACK no CLOSE replay (storm prevention) until the declared PAYLOAD arrived; then CLOSE again "
      "with the new RxID",
      PM::kBoth, no_close_storm);
  add("S12_4_CLOSE_NACK_with_matching_ids_replays_on_timer", "ttpoe.md §3.2 assumption 9; docs/wire-format.md",
      "CLOSE_NACK whose TxID is already the next expected id: CLOSE replayed on the timer, not at once", PM::kBoth,
      close_nack_matching_replays_on_timer);
  add("S12_4_NACK_NOLINK_past_CLOSE_NACK_TxID", "ttpoe.md §3.2 PAYLOAD row (CLOSE_SENT), §12.4",
      "CLOSE_SENT: PAYLOAD at or past the TxID the peer's CLOSE_NACK declared gets NACK_NOLINK", PM::kBoth,
      nolink_past_close_nack_id);
  add("S12_4_NACK_NOLINK_past_closing_id_after_CLOSE_replay", "ttpoe.md §3.2 PAYLOAD row (CLOSE_SENT), §12.4",
      "CLOSE_SENT after the CLOSE replay: PAYLOAD past the closing id still gets NACK_NOLINK", PM::kBoth,
      nolink_after_close_replay);
  add("S12_4_NACK_NOLINK_past_peer_CLOSE_TxID", "ttpoe.md §3.2 PAYLOAD row (CLOSE_RECD), §12.4",
      "CLOSE_RECD: PAYLOAD past the peer's CLOSE TxID gets NACK_NOLINK", PM::kBoth, nolink_past_peer_close);
  add("S12_4_simultaneous_CLOSE", "ttpoe.md §3.2 (SPEC §4.1 simultaneous case), §12.4",
      "Crossing CLOSEs with matching ids: CLOSE_ACK(RxID = peer CLOSE TxID), CLOSED; a late CLOSE_ACK is ignored",
      PM::kBoth, simultaneous_close);
  add("S12_4_simultaneous_CLOSE_mismatch", "ttpoe.md §3.2 CLOSE row (CLOSE_SENT), §12.4",
      "Crossing CLOSEs whose ids differ: CLOSE_NACK, stay CLOSE_SENT; after the PAYLOAD, CLOSE_ACK", PM::kBoth,
      simultaneous_close_mismatch);
  add("S12_4_CLOSE_replayed_after_timeout", "ttpoe.md §3.1 (CLOSE_SENT timeout), §12.5",
      "An unanswered CLOSE is replayed with the same ids", PM::kBoth, close_replayed);
  add("S12_4_CLOSE_in_CLOSED_after_close", "ttpoe.md §3.2 assumption 1, 8, §12.4",
      "The peer replays its CLOSE (CLOSE_ACK lost): answered again from CLOSED, epoch echoed", PM::kBoth,
      close_after_close);

  // §12.5 faults.
  add("S12_5_duplicated_PAYLOADs", "ttpoe.md §12.5", "Every PAYLOAD twice: re-ACKed, delivered once", PM::kBoth,
      duplicated_payloads);
  add("S12_5_reordered_PAYLOADs", "ttpoe.md §12.5",
      "Two PAYLOADs swapped: compat NACK + go-back-N, weft SACK; delivered in order, once", PM::kBoth,
      reordered_payloads);
  add("S12_5_lost_ACKs", "ttpoe.md §12.5",
      "Lost ACKs: a later cumulative ACK retires them; with no ACK at all the PAYLOAD is replayed", PM::kBoth,
      lost_acks);
  add("S12_5_lost_OPEN_ACK_NACK_NOLINK_recovers", "ttpoe.md §3.2 (NACK_NOLINK row); docs/wire-format.md",
      "OPEN_ACK lost, the responder's first PAYLOAD answered NACK_NOLINK from OPEN_SENT: OPEN_ACK resent, data "
      "retried, link kept",
      PM::kBoth, lost_open_ack_nolink);
  add("S12_5_PAYLOAD_replayed_after_timeout", "ttpoe.md §4 (timer expiry), §12.5",
      "Unacknowledged PAYLOADs replayed on timeout with the same TxIDs and bytes (compat: the whole tail, go-back-N; "
      "weft: the oldest as a probe, the rest once it is acknowledged)",
      PM::kBoth,
      payload_replayed_on_timeout);
  add("S12_5_peer_restart", "ttpoe.md §11 (epoch), §12.5",
      "The peer restarts and opens again with an older TxID (weft: new epoch): its new PAYLOADs are accepted, not "
      "taken for duplicates; weft drops the old epoch",
      PM::kBoth, peer_restart);

  // §12.6 VCs.
  add("S12_6_three_VCs_independent", "ttpoe.md §6 (VCs), §12.6",
      "VC0/1/2 are separate links: separate OPENs, ids, gaps and closes", PM::kBoth, vcs_independent);
  add("S12_6_three_VCs_separate_id_spaces", "ttpoe.md §6, §12.6",
      "The implementation's TxIDs advance per VC, each from its own OPEN", PM::kBoth, vcs_separate_ids);

  // weft profile.
  add("W_epoch_mismatch_dropped", "DESIGN.md §2, §4 (stale epoch)",
      "weft: PAYLOAD, CLOSE and ACK with another epoch are dropped, no state change", PM::kWeft,
      epoch_mismatch_dropped);
  add("W_OPEN_without_features_dropped", "DESIGN.md §2 (no downgrade)",
      "weft: an OPEN without the feature block is dropped; no link", PM::kWeft, open_without_features);
  add("W_SACK_ranges", "DESIGN.md §2, §3 (SACK, extension 0x20)",
      "weft: holes reported at once as SACK ranges that merge as they fill", PM::kWeft, sack_ranges);
  add("W_ACK_coalescing", "DESIGN.md §3 (ACKs coalesced)",
      "weft: back-to-back in-order PAYLOADs get fewer ACKs than PAYLOADs, the last covering all; a lone PAYLOAD is "
      "ACKed within the ACK delay",
      PM::kWeft, ack_coalescing);
  add("W_epoch_on_every_frame", "DESIGN.md §2 (epoch check)",
      "weft: after OPEN every frame (PAYLOAD, ACK, CLOSE) carries the initiator's OPEN epoch", PM::kWeft,
      epoch_on_every_frame);
  add("W_stateless_replies_echo_epoch", "DESIGN.md §2; docs/conformance.md decisions",
      "weft: NACK_NOLINK and CLOSE_ACK sent without a link echo the epoch of the frame they answer", PM::kWeft,
      stateless_echo);
  return v;
}

}  // namespace

const std::vector<Clause>& clauses() {
  static const std::vector<Clause> all = build();
  return all;
}

}  // namespace weft::conformance
