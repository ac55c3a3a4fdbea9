// make_fuzz_corpus: writes the checked-in seed corpora of the two fuzz targets.
//
//   make_fuzz_corpus <out-dir>     writes <out-dir>/decode/*.bin, <out-dir>/endpoint/*.bin and
//                                  <out-dir>/secure/*.bin
//
// decode/: one frame per file — a valid Ethernet frame per opcode, weft frames with feature and
// SACK extension blocks, UDP-encapsulated frames, and near misses that each break one rule of the
// codec (so the fuzzer starts next to every error path). Built with wire::encode.
// endpoint/: inputs of endpoint_fuzz.cc (format: endpoint_input.h). Every decode seed as a
// one-frame input (one_*); hand-built exchanges (conv_*); and conversations recorded from a real
// peer endpoint (rec_*): node 1 is set up exactly as the fuzzer sets it up, node 2 talks to it,
// and node 2's frames are written down with the fuzzer's timing, so the fuzzer replays the whole
// exchange (random epochs included) and starts from deep protocol states.
//
// secure/: inputs of secure_endpoint_fuzz.cc: the plaintext of each frame a peer sends on an
// open secured link (UDP encapsulation; ids are offsets from the link's receive / send points).
//
// Rerun after a wire-format change, and now and then as the endpoint's behaviour evolves
// (tests/fuzz/README.md).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "endpoint_input.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace {

namespace transport = weft::transport;
namespace wire = weft::transport::wire;
namespace fuzz = weft::fuzz;
using Bytes = std::vector<std::uint8_t>;

constexpr transport::NodeId kPeer = fuzz::kPeerNode;    // the remote node the seeds come from
constexpr transport::NodeId kLocal = fuzz::kLocalNode;  // the endpoints under test
constexpr std::uint32_t kPeerTxId = 0x00001000;
constexpr std::uint32_t kLocalTxId = fuzz::kLocalInitialTxId;
constexpr std::uint16_t kPeerEpoch = 0x0102;
constexpr std::uint8_t kOptOpenWeft = fuzz::kOptOpenWeft;
constexpr std::uint8_t kOptOpenCompat = fuzz::kOptOpenCompat;
constexpr std::uint8_t kOptUdp = fuzz::kOptUdp;
constexpr std::uint8_t kOptSend = fuzz::kOptSend;

struct FrameSpec {
  wire::Encapsulation enc = wire::Encapsulation::kEthernet;
  wire::TtpHeader ttp;
  wire::Extensions ext;
  Bytes payload;
};

Bytes encode(const FrameSpec& f) {
  Bytes out(wire::kWeftMaxFrameBytes);
  std::size_t n = wire::encode(f.enc, kPeer, kLocal, f.ttp, f.ext, f.payload, out);
  if (n == 0) {
    std::cerr << "make_fuzz_corpus: wire::encode failed for "
              << wire::opcode_name(f.ttp.opcode) << "\n";
    std::exit(1);
  }
  out.resize(n);
  return out;
}

wire::TtpHeader header(wire::Opcode op, std::uint32_t tx_id, std::uint32_t rx_id) {
  wire::TtpHeader h;
  h.opcode = op;
  h.vc = static_cast<std::uint8_t>(weft::transport::Vc::kData);
  h.tx_id = tx_id;
  h.rx_id = rx_id;
  return h;
}

wire::Extensions features() {
  wire::Extensions e;
  e.has_features = true;
  e.features.protocol_version = 1;
  e.features.epoch = kPeerEpoch;
  e.features.max_frame_bytes = 9000;
  e.features.recv_window_bytes = 4u << 20;
  e.features.feature_bits = wire::kFeatureSack | wire::kFeatureEcn | wire::kFeatureEntropy |
                            wire::kFeatureMessages;
  return e;
}

wire::Extensions sack(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> ranges) {
  wire::Extensions e;
  for (auto [first, last] : ranges) {
    e.sack[e.sack_count].first = first;
    e.sack[e.sack_count].last = last;
    ++e.sack_count;
  }
  return e;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

// Ethernet TTP byte offset (the TTP header starts after Ethernet, TTH and TSH).
constexpr std::size_t kTtpAt = wire::kEthHeaderBytes + wire::kTthBytes + wire::kTshBytes;
constexpr std::size_t kExtAt = kTtpAt + wire::kTtpBytes;

class Writer {
 public:
  explicit Writer(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ / "decode");
    std::filesystem::create_directories(dir_ / "endpoint");
  }

  // A decode seed; also an endpoint seed of one frame with the matching encapsulation option.
  void frame(const std::string& name, const Bytes& f, bool udp = false) {
    write(dir_ / "decode" / (name + ".bin"), f);
    conversation("one_" + name, udp ? kOptUdp : 0, {f});
  }

  void conversation(const std::string& name, std::uint8_t options, const std::vector<Bytes>& frames) {
    Bytes in{options};
    for (const Bytes& f : frames) {
      in.push_back(static_cast<std::uint8_t>(f.size() >> 8));
      in.push_back(static_cast<std::uint8_t>(f.size()));
      in.insert(in.end(), f.begin(), f.end());
    }
    write(dir_ / "endpoint" / (name + ".bin"), in);
  }

  int files() const { return files_; }

 private:
  void write(const std::filesystem::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) {
      std::cerr << "make_fuzz_corpus: cannot write " << p << "\n";
      std::exit(1);
    }
    ++files_;
  }

  std::filesystem::path dir_;
  int files_ = 0;
};


// A conversation between node 1 and a real peer endpoint, node 2. Node 1 is what
// endpoint_fuzz.cc runs: an endpoint per profile, set up, opened, fed and stepped exactly as the
// fuzzer does; node 2 talks to the one of `profile` (the other one hears node 2's frames too, as
// in the fuzzer, and its replies are dropped).
struct Recording {
  std::string name;
  std::uint8_t options = 0;  // fuzzer options; node 1 opens (and sends) when its bit is set
  transport::Profile profile = transport::Profile::kWeft;
  bool peer_opens = false;                 // node 2 opens the link (node 1 is passive)
  std::vector<std::size_t> peer_messages;  // node 2 sends these once its link is open
  bool peer_closes = false;                // node 2 closes once node 1's message (if any) arrived
  bool drop_first_local_payload = false;   // node 1's first PAYLOAD is lost on the way
};

// A recording stops when nothing is in flight and no timer is armed, after this many waits in a
// row, or at these sizes. Node 2 keeps its own clock: it may run ahead of node 1 to fire its
// timers (delayed ACKs) while node 1 is idle, since the fuzzer's time moves only with its input.
constexpr int kMaxWaitsInARow = 8;
constexpr int kMaxIterations = 4096;
constexpr std::size_t kMaxRecordedFrames = 96;
constexpr std::size_t kMaxRecordedBytes = 3800;  // under libFuzzer's default max_len (4096)

void record(Writer& w, const Recording& r) {
  using transport::Profile;
  const wire::Encapsulation enc = fuzz::option_encapsulation(r.options);
  const transport::Vc vc = fuzz::option_vc(r.options);
  // Node 1, in the fuzzer's order: [0] weft, [1] compat.
  transport::Endpoint node1[] = {transport::Endpoint(fuzz::endpoint_config(Profile::kWeft, enc)),
                                 transport::Endpoint(fuzz::endpoint_config(Profile::kTtpoeCompat, enc))};
  const std::uint8_t open_bits[] = {kOptOpenWeft, kOptOpenCompat};
  const std::size_t talker = r.profile == Profile::kWeft ? 0 : 1;
  transport::EndpointConfig peer_config = fuzz::endpoint_config(r.profile, enc);
  peer_config.node_id = kPeer;
  peer_config.rng_seed = 2;
  peer_config.fixed_initial_tx_id = kPeerTxId;
  transport::Endpoint peer(peer_config);

  transport::TimeNs now = fuzz::kStartNs;  // node 1's time, as in the fuzzer
  transport::TimeNs peer_now = now;         // node 2's time: never behind node 1's
  Bytes buf(wire::kWeftMaxFrameBytes);
  std::deque<Bytes> to_node1;
  std::vector<Bytes> frames;
  std::size_t recorded_bytes = 1;
  int node1_payloads = 0;
  std::size_t peer_got = 0;
  bool peer_sent = false;
  bool peer_closed = false;
  std::string node1_events;
  const bool node1_sends = (r.options & kOptSend) != 0 && (r.options & open_bits[talker]) != 0;

  auto step_node1 = [&](std::size_t i) {
    transport::Endpoint& ep = node1[i];
    if (ep.next_timer() <= now) ep.on_timer(now);
    transport::Transmit tx;
    while (ep.poll_transmit(buf, now, tx)) {
      if (i != talker) continue;
      if (tx.opcode == wire::Opcode::kPayload && node1_payloads++ == 0 && r.drop_first_local_payload)
        continue;
      peer_now = std::max(peer_now, now);
      peer.on_frame(std::span<const std::uint8_t>(buf).first(tx.bytes), peer_now, kLocal);
    }
    while (auto ev = ep.poll_event()) {
      if (i != talker) continue;
      node1_events += (node1_events.empty() ? "" : ",") + std::string(transport::event_kind_name(ev->kind));
    }
  };
  auto step_peer = [&] {
    peer_now = std::max(peer_now, now);
    if (peer.next_timer() <= peer_now) peer.on_timer(peer_now);
    while (auto ev = peer.poll_event()) {
      if (ev->kind == transport::EventKind::kMessage) ++peer_got;
      if (ev->kind == transport::EventKind::kOpened && !peer_sent) {
        peer_sent = true;
        for (std::size_t n : r.peer_messages) {
          const Bytes m(n, 0x5A);
          static_cast<void>(peer.send(kLocal, vc, m, peer_now).ok());
        }
      }
    }
    if (r.peer_closes && !peer_closed && peer_sent && peer_got >= (node1_sends ? 1u : 0u)) {
      peer_closed = true;
      static_cast<void>(peer.close(kLocal, vc, peer_now).ok());
    }
    transport::Transmit tx;
    while (peer.poll_transmit(buf, peer_now, tx))
      to_node1.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(tx.bytes));
  };
  auto node1_timer = [&] { return std::min(node1[0].next_timer(), node1[1].next_timer()); };

  // Start as the fuzzer does: opens and sends at kStartNs, each followed by a step.
  if (r.peer_opens) static_cast<void>(peer.open(kLocal, vc, now).ok());
  for (std::size_t i = 0; i < 2; ++i) {
    if ((r.options & open_bits[i]) == 0 || !node1[i].open(kPeer, vc, now).ok()) continue;
    if ((r.options & kOptSend) != 0) {
      const Profile p = i == 0 ? Profile::kWeft : Profile::kTtpoeCompat;
      const Bytes m(fuzz::message_bytes(p), fuzz::kMessageByte);
      static_cast<void>(node1[i].send(kPeer, vc, m, now).ok());
    }
    step_node1(i);
  }
  step_peer();

  int waits = 0;
  for (int iteration = 0; iteration < kMaxIterations && frames.size() < kMaxRecordedFrames; ++iteration) {
    Bytes f;
    if (!to_node1.empty()) {
      f = std::move(to_node1.front());
      to_node1.pop_front();
      waits = 0;
    } else if (peer.next_timer() != transport::kNever && peer.next_timer() <= node1_timer()) {
      peer_now = std::max(peer_now, peer.next_timer());  // node 2's timer first, no input
      step_peer();
      continue;
    } else if (node1_timer() == transport::kNever || ++waits > kMaxWaitsInARow) {
      break;
    }
    if (recorded_bytes + 2 + f.size() > kMaxRecordedBytes) break;
    recorded_bytes += 2 + f.size();
    now = fuzz::next_input_time(now, f.empty(), node1_timer());
    for (std::size_t i = 0; i < 2; ++i) {
      if (!f.empty()) node1[i].on_frame(f, now, kPeer);
      step_node1(i);
    }
    frames.push_back(std::move(f));
    step_peer();
  }
  while (!frames.empty() && frames.back().empty()) frames.pop_back();
  const auto waited = std::count_if(frames.begin(), frames.end(), [](const Bytes& f) { return f.empty(); });
  std::cout << "  " << r.name << ": " << frames.size() - static_cast<std::size_t>(waited)
            << " frames from node 2, " << waited << " waits; node 1 ("
            << transport::profile_name(r.profile) << ") events: "
            << (node1_events.empty() ? "none" : node1_events) << "\n";
  w.conversation(r.name, r.options, frames);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_fuzz_corpus <out-dir>   (writes <out-dir>/decode and <out-dir>/endpoint)\n";
    return 2;
  }
  Writer w(argv[1]);
  using wire::Opcode;
  const auto eth = wire::Encapsulation::kEthernet;
  const auto udp = wire::Encapsulation::kUdp;

  // --- one valid Ethernet frame per opcode (compat-shaped: no extension block) ----------------
  const Bytes hello = text("hello, weft");
  const std::pair<Opcode, const char*> opcodes[] = {
      {Opcode::kOpen, "open"},         {Opcode::kOpenAck, "open_ack"},
      {Opcode::kOpenNack, "open_nack"}, {Opcode::kClose, "close"},
      {Opcode::kCloseAck, "close_ack"}, {Opcode::kCloseNack, "close_nack"},
      {Opcode::kPayload, "payload"},    {Opcode::kAck, "ack"},
      {Opcode::kNack, "nack"},          {Opcode::kNackFull, "nack_full"},
      {Opcode::kNackNolink, "nack_nolink"},
  };
  static_assert(sizeof(opcodes) / sizeof(opcodes[0]) == wire::kOpcodeCount);
  for (const auto& [op, name] : opcodes) {
    FrameSpec f{eth, header(op, kPeerTxId, kLocalTxId), {}, {}};
    if (op == Opcode::kPayload) {
      f.ttp.flags = wire::kFlagEndOfMessage;
      f.payload = hello;
    }
    w.frame(std::string("eth_") + name, encode(f));
  }

  // --- weft frames with extension blocks and weft header fields ---------------------------------
  FrameSpec open{eth, header(Opcode::kOpen, kPeerTxId, 0), features(), {}};
  open.ttp.epoch = kPeerEpoch;
  w.frame("eth_weft_open_features", encode(open));
  FrameSpec open_ack{eth, header(Opcode::kOpenAck, kPeerTxId, kLocalTxId), features(), {}};
  w.frame("eth_weft_open_ack_features", encode(open_ack));
  {  // secured: an OPEN with the Hello TLV, and a protected ACK (security header, sealed bytes, tag)
    FrameSpec hello_open = open;
    hello_open.ext.has_hello = true;
    hello_open.ext.hello.suites = 3;
    hello_open.ext.hello.auth = wire::kAuthClusterMac;
    hello_open.ext.hello.issued = 1'000'000'000;
    hello_open.ext.hello.ephemeral.fill(0x5E);
    hello_open.ext.hello.mac.fill(0xAC);
    w.frame("eth_weft_open_hello", encode(hello_open));
    wire::TtpHeader h = header(Opcode::kAck, 0, 7);
    Bytes b(200);
    wire::ProtectedLayout lay;
    b.resize(wire::encode_protected(wire::Encapsulation::kEthernet, 2, 1, h, {}, {3, 0x1234}, 24, b, lay));
    std::fill(b.begin() + static_cast<std::ptrdiff_t>(lay.body_offset), b.end(), 0xA5);
    w.frame("eth_weft_protected_ack", b);
  }
  FrameSpec ack{eth, header(Opcode::kAck, 0, kLocalTxId + 1),
                sack({{kLocalTxId + 3, kLocalTxId + 4}, {kLocalTxId + 7, kLocalTxId + 9},
                      {kLocalTxId + 12, kLocalTxId + 12}}),
                {}};
  ack.ttp.congestion = 2;
  w.frame("eth_weft_ack_sack", encode(ack));
  FrameSpec ack_both{eth, header(Opcode::kAck, 0, kLocalTxId), features(), {}};
  ack_both.ext.sack_count = 1;
  ack_both.ext.sack[0] = {kLocalTxId + 2, kLocalTxId + 5};
  w.frame("eth_weft_ack_features_sack", encode(ack_both));
  FrameSpec ack_wrap{eth, header(Opcode::kAck, 0, 0xFFFFFFF0u),
                     sack({{0xFFFFFFFEu, 0x00000002u}}), {}};
  w.frame("eth_weft_ack_sack_wrap", encode(ack_wrap));
  FrameSpec jumbo{eth, header(Opcode::kPayload, kPeerTxId + 1, 0), {}, pattern(2000)};
  jumbo.ttp.entropy = 0xBEEF;
  jumbo.ttp.epoch = kPeerEpoch;
  jumbo.ttp.ce = true;
  jumbo.ttp.flags = wire::kFlagEndOfMessage;
  w.frame("eth_weft_payload_jumbo_ce", encode(jumbo));
  FrameSpec full{eth, header(Opcode::kPayload, kPeerTxId + 1, 0), {}, pattern(1024)};
  w.frame("eth_compat_payload_1024", encode(full));

  // --- UDP encapsulation -----------------------------------------------------------------------
  FrameSpec u_open = open;
  u_open.enc = udp;
  w.frame("udp_weft_open_features", encode(u_open), true);
  FrameSpec u_payload{udp, header(Opcode::kPayload, kPeerTxId + 1, 0), {}, hello};
  u_payload.ttp.flags = wire::kFlagEndOfMessage;
  w.frame("udp_payload", encode(u_payload), true);
  FrameSpec u_ack = ack;
  u_ack.enc = udp;
  w.frame("udp_weft_ack_sack", encode(u_ack), true);
  w.frame("udp_close", encode({udp, header(Opcode::kClose, kPeerTxId + 2, 0), {}, {}}), true);
  w.frame("udp_nack", encode({udp, header(Opcode::kNack, 0, kLocalTxId + 1), {}, {}}), true);

  // --- near misses: a valid frame with one rule broken ------------------------------------------
  const Bytes base = encode({eth, header(Opcode::kPayload, kPeerTxId, 0), {}, hello});
  auto broken = [&](const std::string& name, Bytes b, auto&& mutate) {
    mutate(b);
    w.frame("bad_" + name, b);
  };
  broken("ethertype", base, [](Bytes& b) { b[12] = 0x08; b[13] = 0x00; });
  broken("tth_byte0", base, [](Bytes& b) { b[14] = 0x15; });
  broken("tsh_length", base, [](Bytes& b) { b[kTtpAt - 1] ^= 0x01; });
  broken("truncated", base, [](Bytes& b) { b.resize(wire::kMinRecvFrameBytes - 1); });
  broken("opcode", base, [](Bytes& b) { b[kTtpAt] = wire::kOpcodeCount; });
  broken("vc", base, [](Bytes& b) { b[kTtpAt + 1] = weft::transport::kVcCount; });
  const Bytes with_sack = encode(ack);
  broken("ext_version", with_sack, [](Bytes& b) { b[kExtAt] = 2; });
  broken("ext_overrun", with_sack, [](Bytes& b) { b[kExtAt + 3] = 0xF0; });
  broken("ext_first_type", with_sack, [](Bytes& b) { b[kTtpAt + 9] = wire::kExtFeatures; });
  broken("sack_reversed", with_sack, [](Bytes& b) { b[kExtAt + 6 + 3] ^= 0x10; });  // first > last
  broken("ext_unknown_tlv", encode(open), [](Bytes& b) {
    b[kTtpAt + 9] = 0x11;
    b[kExtAt + 4] = 0x11;
  });

  // --- conversations: peer node 2 talking to the endpoints under test (node 1) ------------------
  // Links opened by node 1 use VC 2 (DATA), as the frames below do.
  const std::uint8_t data_vc = fuzz::options_with_vc(0, transport::Vc::kData);
  auto opts = [&](int bits) { return static_cast<std::uint8_t>(data_vc | bits); };
  FrameSpec p1{eth, header(Opcode::kPayload, kPeerTxId + 1, 0), {}, hello};
  p1.ttp.epoch = kPeerEpoch;
  FrameSpec p2 = p1;
  p2.ttp.tx_id = kPeerTxId + 2;
  p2.ttp.flags = wire::kFlagEndOfMessage;
  FrameSpec close{eth, header(Opcode::kClose, kPeerTxId + 3, 0), {}, {}};
  close.ttp.epoch = kPeerEpoch;
  FrameSpec close_ack{eth, header(Opcode::kCloseAck, 0, kLocalTxId + 1), {}, {}};
  close_ack.ttp.epoch = kPeerEpoch;
  FrameSpec ack1{eth, header(Opcode::kAck, 0, kLocalTxId + 1), {}, {}};
  ack1.ttp.epoch = kPeerEpoch;
  FrameSpec nack1{eth, header(Opcode::kNack, 0, kLocalTxId + 1), {}, {}};
  FrameSpec nack_full{eth, header(Opcode::kNackFull, 0, kLocalTxId + 1), {}, {}};
  // Passive open, then a two-segment message, then the peer closes.
  w.conversation("conv_passive_open_payload_close", opts(0),
                 {encode(open), encode(p1), encode(p2), encode(close)});
  // Compat-shaped passive open (no extension block) and a payload.
  w.conversation("conv_compat_open_payload", opts(0),
                 {encode({eth, header(Opcode::kOpen, kPeerTxId, 0), {}, {}}), encode(p2)});
  // Active open (both endpoints), the peer accepts, we send, it ACKs, then close.
  w.conversation("conv_active_open_ack_close", opts(kOptOpenWeft | kOptOpenCompat | kOptSend),
                 {encode(open_ack), encode(ack1), encode(close_ack)});
  // Active open with a message queued; the peer NACKs, then NACK_FULLs, then SACKs.
  w.conversation("conv_active_open_nacks", opts(kOptOpenWeft | kOptOpenCompat | kOptSend),
                 {encode(open_ack), encode(nack1), encode(nack_full), encode(ack)});
  // Active open that is refused.
  w.conversation("conv_active_open_refused", opts(kOptOpenWeft | kOptOpenCompat),
                 {encode({eth, header(Opcode::kOpenNack, kPeerTxId, kLocalTxId), {}, {}})});
  // Active open that is never answered: only timers run.
  w.conversation("conv_active_open_silent", opts(kOptOpenWeft | kOptOpenCompat | kOptSend), {});
  // UDP: passive open, payload, close.
  FrameSpec u_close = close;
  u_close.enc = udp;
  FrameSpec u_p2 = p2;
  u_p2.enc = udp;
  w.conversation("conv_udp_passive_open_payload_close", opts(kOptUdp),
                 {encode(u_open), encode(u_p2), encode(u_close)});

  // --- conversations recorded from a real peer endpoint --------------------------------------
  std::cout << "make_fuzz_corpus: recorded conversations\n";
  using transport::Profile;
  using transport::Vc;
  record(w, {"rec_weft_active_send_close", opts(kOptOpenWeft | kOptSend),
             Profile::kWeft, false, {}, true, false});
  record(w, {"rec_weft_active_send_loss", opts(kOptOpenWeft | kOptSend),
             Profile::kWeft, false, {}, true, true});
  record(w, {"rec_weft_passive_messages_close", opts(0), Profile::kWeft, true, {100, 1500}, true, false});
  record(w, {"rec_weft_udp_active_send_reqlo",
             fuzz::options_with_vc(kOptUdp | kOptOpenWeft | kOptSend, Vc::kReqLo), Profile::kWeft,
             false, {}, true, false});
  record(w, {"rec_weft_udp_passive_messages", opts(kOptUdp),
             Profile::kWeft, true, {500}, true, false});
  record(w, {"rec_compat_active_send_close", opts(kOptOpenCompat | kOptSend),
             Profile::kTtpoeCompat, false, {}, true, false});
  record(w, {"rec_compat_active_send_loss", opts(kOptOpenCompat | kOptSend),
             Profile::kTtpoeCompat, false, {}, true, true});
  record(w, {"rec_compat_passive_messages_close", opts(0), Profile::kTtpoeCompat, true, {1000, 10}, true,
             false});

  // --- secured endpoint past authentication (secure_endpoint_fuzz.cc) ---------------------------
  {
    std::filesystem::create_directories(std::filesystem::path(argv[1]) / "secure");
    auto seed = [&](const std::string& name, std::uint8_t options, std::vector<Bytes> frames) {
      Bytes in{options};
      for (const Bytes& f : frames) {
        in.push_back(static_cast<std::uint8_t>(f.size() >> 8));
        in.push_back(static_cast<std::uint8_t>(f.size()));
        in.insert(in.end(), f.begin(), f.end());
      }
      std::ofstream out(std::filesystem::path(argv[1]) / "secure" / (name + ".bin"), std::ios::binary);
      out.write(reinterpret_cast<const char*>(in.data()), static_cast<std::streamsize>(in.size()));
    };
    auto plain = [](Opcode op, std::uint32_t tx_off, std::uint32_t rx_off, const wire::Extensions& ext,
                    const Bytes& payload, std::uint8_t flags = 0) {
      wire::TtpHeader h;
      h.opcode = op;
      h.vc = static_cast<std::uint8_t>(transport::Vc::kData);
      h.tx_id = tx_off;
      h.rx_id = rx_off;
      h.flags = flags;
      Bytes b(wire::kWeftMaxFrameBytes);
      b.resize(wire::encode(wire::Encapsulation::kUdp, 2, 1, h, ext, payload, b));
      return b;
    };
    wire::Extensions none, sack;
    sack.sack_count = 2;
    sack.sack[0] = {3, 4};
    sack.sack[1] = {6, 6};
    const Bytes small = pattern(100);
    seed("payload_messages", 0, {plain(Opcode::kPayload, 0, 0, none, small, wire::kFlagEndOfMessage),
                                 plain(Opcode::kPayload, 2, 0, none, small),
                                 plain(Opcode::kPayload, 1, 0, none, small, wire::kFlagEndOfMessage)});
    seed("acks_with_data", 1, {plain(Opcode::kAck, 0, 1, none, {}), plain(Opcode::kAck, 0, 1, sack, {}),
                               plain(Opcode::kNack, 0, 2, none, {}), plain(Opcode::kNackFull, 0, 2, none, {}),
                               plain(Opcode::kPayload, 0, 3, none, small,
                                     wire::kFlagEndOfMessage | wire::kFlagAckPiggyback)});
    seed("close_sequence", 0, {plain(Opcode::kClose, 0, 0, none, {}), Bytes{}, plain(Opcode::kCloseAck, 0, 1, none, {})});
    seed("close_nack_nolink", 1, {plain(Opcode::kCloseNack, 0, 0, none, {}), plain(Opcode::kNackNolink, 0, 1, none, {})});
    seed("stale_epoch_open", 2, {plain(Opcode::kOpen, 0, 0, none, {}), plain(Opcode::kPayload, 0, 0, none, small)});
    std::cout << "make_fuzz_corpus: wrote 5 secured-endpoint seeds\n";
  }
  std::cout << "make_fuzz_corpus: wrote " << w.files() << " files under " << argv[1] << "\n";
  return 0;
}
