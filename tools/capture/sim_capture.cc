// sim_capture: writes deterministic pcap files of TTP traffic, for the dissector test, for
// `weft decode` and for anyone who wants to look at weft on the wire in Wireshark.
//
//   sim_capture --profile weft|ttpoe-compat [--seed N] --out FILE.pcap
//       a lossy two-host sim::run_transfer (explicit loss mask plus seeded random loss), every
//       frame put on either wire direction written with PcapWriter::write_ethernet at its virtual
//       transmit time, dropped ones included (a capture at the sender's port sees them)
//   sim_capture --secure [--seed N] --out FILE.pcap
//       the same lossy weft transfer between two secured endpoints (a fixed cluster key,
//       ephemeral keys derived from the seed, ChaCha20-Poly1305 only so the bytes do not depend on
//       the CPU's AES support): OPEN / OPEN_ACK carry the Hello TLV, every later frame is protected
//       (security header, sealed bytes, tag); keys rotate every 8 frames and the transmission
//       counters start just below 2^53, so key generations and counters past a double's precision
//       show in the capture
//   sim_capture --udp --out FILE.pcap
//       hand-built frames in the UDP encapsulation (every opcode, both TLVs, every flag), plus a
//       datagram that is not TTP and one whose extension block is malformed, written with
//       PcapWriter::write_udp
//   sim_capture --synthetic --out FILE.pcap
//       hand-built raw Ethernet frames: 802.1Q and 802.1ad tags, every decode error of
//       wire::decode, and frames of other EtherTypes
//   sim_capture --mutate [--seed N] --out FILE.pcap
//       400 seeded mutations of those frames and of secured ones (OPEN with the Hello TLV,
//       protected frames with stand-in sealed bytes), both encapsulations (bytes overwritten in
//       the headers, random truncation, TTH/TSH lengths shortened together), then secured frames
//       broken on purpose, one per error path of the security header and the Hello TLV; for
//       decoder-against-decoder comparisons
//
// The same arguments give the same bytes. Exit status: 0 written, 1 the transfer failed or the
// file could not be written, 2 usage.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/crypto/credentials.h"
#include "weft/transport/pcap.h"
#include "weft/transport/scenario.h"
#include "weft/transport/wire.h"

namespace {

using namespace weft::transport;

constexpr const char* kUsage =
    "usage: sim_capture --profile weft|ttpoe-compat [--seed N] --out FILE.pcap\n"
    "       sim_capture --secure [--seed N] --out FILE.pcap\n"
    "       sim_capture --udp --out FILE.pcap\n"
    "       sim_capture --synthetic --out FILE.pcap\n"
    "       sim_capture --mutate [--seed N] --out FILE.pcap\n";

int usage(const std::string& why) {
  std::fprintf(stderr, "sim_capture: %s\n%s", why.c_str(), kUsage);
  return 2;
}

// ---- a lossy transfer over the simulator -------------------------------------------------------

// Credentials of every node of the secured capture: one fixed cluster key, no identity.
std::shared_ptr<const weft::crypto::Credentials> capture_credentials() {
  auto c = std::make_shared<weft::crypto::Credentials>();
  std::array<std::uint8_t, weft::crypto::kClusterKeyBytes> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0xC0 + i);
  c->set_cluster_key(key);
  c->deterministic_ephemeral = true;  // ephemeral keys from the endpoints' seeds: same seed, same bytes
  // ChaCha20-Poly1305 only: AES-256-GCM is offered only where the CPU has AES-NI, which would make
  // the negotiated suite, and so the sealed bytes, depend on the machine.
  c->aes256gcm = nullptr;
  return c;
}

int write_transfer(const std::string& profile, std::uint64_t seed, const std::string& out, bool secure) {
  sim::TransferSpec spec;
  spec.seed = seed;
  if (secure) {
    spec.endpoint.credentials = capture_credentials();
    spec.endpoint.rotate_packets = 8;                       // key generations advance in the capture
    spec.endpoint.initial_tx_counter = (1ull << 53) - 40;   // counters cross 2^53
  }
  if (profile == "weft") {
    spec.endpoint.profile = Profile::kWeft;
    // 1500 B frames, so one message spans many frames and the losses below leave holes the
    // receiver reports with SACK ranges.
    spec.endpoint.max_frame_bytes = 1500;
    spec.a_to_b = {1, 30000, 100, 6000};
    spec.link.a_to_b.drop_frames = {2, 5, 6, 12};
    spec.link.a_to_b.loss = 0.02;
  } else if (profile == "ttpoe-compat") {
    spec.endpoint.profile = Profile::kTtpoeCompat;
    spec.endpoint.max_frame_bytes = static_cast<std::uint32_t>(wire::kCompatMaxFrameBytes);
    spec.a_to_b = {1024, 1, 500, 700, 1024};
    spec.link.a_to_b.drop_frames = {2, 4};
  } else {
    return usage("unknown profile '" + profile + "' (weft or ttpoe-compat)");
  }
  spec.b_to_a = {64};
  spec.link.b_to_a.drop_frames = {1};
  spec.endpoint.fixed_initial_tx_id = 0xFFFFFFFD;  // the ids wrap inside the capture
  PcapWriter pcap(out);
  spec.trace = [&](const sim::TraceRecord& t) { pcap.write_ethernet(t.time, t.frame); };
  const sim::TransferResult r = sim::run_transfer(spec);
  if (!r.ok) {
    std::fprintf(stderr, "sim_capture: the transfer failed: %s\n", r.failure.c_str());
    return 1;
  }
  pcap.flush();
  std::printf("wrote %s: %llu frames (profile %s%s, seed %llu)\n", out.c_str(),
              static_cast<unsigned long long>(pcap.packets()), profile.c_str(), secure ? ", secured" : "",
              static_cast<unsigned long long>(seed));
  return 0;
}

// ---- hand-built frames ---------------------------------------------------------------------------

wire::TtpHeader header(wire::Opcode op, std::uint8_t vc, std::uint32_t tx, std::uint32_t rx) {
  wire::TtpHeader h;
  h.opcode = op;
  h.vc = vc;
  h.tx_id = tx;
  h.rx_id = rx;
  return h;
}

wire::Extensions features(std::uint16_t epoch) {
  wire::Extensions e;
  e.has_features = true;
  e.features.protocol_version = 1;
  e.features.epoch = epoch;
  e.features.max_frame_bytes = 9000;
  e.features.recv_window_bytes = 4u << 20;
  e.features.feature_bits =
      wire::kFeatureSack | wire::kFeatureEcn | wire::kFeatureEntropy | wire::kFeatureMessages;
  return e;
}

wire::Extensions sack(std::initializer_list<wire::SackRange> ranges) {
  wire::Extensions e;
  for (const wire::SackRange& r : ranges) e.sack[e.sack_count++] = r;
  return e;
}

std::vector<std::uint8_t> payload_bytes(std::size_t n) {
  std::vector<std::uint8_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

std::vector<std::uint8_t> encode(wire::Encapsulation enc, NodeId src, NodeId dst,
                                 const wire::TtpHeader& h, const wire::Extensions& ext,
                                 std::size_t payload_len) {
  std::vector<std::uint8_t> buf(16384);
  const std::vector<std::uint8_t> p = payload_bytes(payload_len);
  buf.resize(wire::encode(enc, src, dst, h, ext, p, buf));
  if (buf.empty()) throw std::runtime_error("sim_capture: a synthetic frame did not encode");
  return buf;
}

// A well-formed exchange covering every opcode, both TLVs and every header field.
std::vector<std::vector<std::uint8_t>> exchange(wire::Encapsulation enc, NodeId a, NodeId b) {
  using wire::Opcode;
  std::vector<std::vector<std::uint8_t>> f;
  auto add = [&](NodeId s, NodeId d, wire::TtpHeader h, const wire::Extensions& e, std::size_t n) {
    f.push_back(encode(enc, s, d, h, e, n));
  };
  wire::TtpHeader h = header(Opcode::kOpen, 2, 0xFFFFFFFE, 0);
  h.epoch = 0x1234;
  h.entropy = 0xBEEF;
  add(a, b, h, features(0x1234), 0);
  h = header(Opcode::kOpenAck, 2, 0x00010000, 0xFFFFFFFE);
  h.epoch = 0x1234;
  add(b, a, h, features(0x5678), 0);
  h = header(Opcode::kPayload, 2, 0xFFFFFFFF, 0);
  h.epoch = 0x1234;
  h.entropy = 0x0102;
  h.flags = wire::kFlagEndOfMessage;
  add(a, b, h, {}, 100);
  h = header(Opcode::kPayload, 2, 0x00000000, 0);
  h.epoch = 0x1234;
  h.entropy = 0xFFFF;
  h.ce = true;
  add(a, b, h, {}, 1000);
  h = header(Opcode::kAck, 2, 0, 0xFFFFFFFF);
  h.epoch = 0x1234;
  h.congestion = 3;
  h.cr = true;
  add(b, a, h, sack({{0x00000002, 0x00000004}, {0x00000007, 0x00000007}}), 0);
  h = header(Opcode::kNack, 1, 0, 0x00000000);
  h.epoch = 0x1234;
  add(b, a, h, {}, 0);
  h = header(Opcode::kNackFull, 0, 0, 0x00000001);
  add(b, a, h, {}, 0);
  h = header(Opcode::kNackNolink, 2, 0, 0x00000005);
  add(b, a, h, {}, 0);
  h = header(Opcode::kOpenNack, 2, 0, 0x00000042);
  add(b, a, h, {}, 0);
  h = header(Opcode::kClose, 2, 0x00000009, 0x00010003);
  h.epoch = 0x1234;
  add(a, b, h, {}, 0);
  h = header(Opcode::kCloseNack, 2, 0x00010004, 0x00000008);
  h.epoch = 0x1234;
  add(b, a, h, {}, 0);
  h = header(Opcode::kCloseAck, 2, 0, 0x00000009);
  h.epoch = 0x1234;
  add(b, a, h, {}, 0);
  return f;
}

// Frames of a secured link, built by hand (no keys: the sealed bytes and tags are stand-ins, which
// is all a decoder without keys looks at): OPEN with features and Hello, OPEN_ACK with Hello only,
// and protected frames with and without sealed bytes.
std::vector<std::vector<std::uint8_t>> secure_exchange(wire::Encapsulation enc, NodeId a, NodeId b) {
  using wire::Opcode;
  std::vector<std::vector<std::uint8_t>> f;
  auto fill = [](auto& arr, std::uint8_t base) {
    for (std::size_t i = 0; i < arr.size(); ++i) arr[i] = static_cast<std::uint8_t>(base + 3 * i);
  };
  wire::Extensions open = features(0x4321);
  open.has_hello = true;
  open.hello.suites = 0x03;
  open.hello.auth = wire::kAuthSignature | wire::kAuthClusterMac;
  open.hello.issued = 0x0123456789ABCDEFull;  // above 2^53
  fill(open.hello.ephemeral, 0x11);
  fill(open.hello.identity, 0x22);
  fill(open.hello.signature, 0x33);
  fill(open.hello.mac, 0x44);
  wire::TtpHeader h = header(Opcode::kOpen, 2, 0x00000100, 0);
  h.epoch = 0x4321;
  f.push_back(encode(enc, a, b, h, open, 0));
  wire::Extensions ack;  // Hello only: the extension byte names it
  ack.has_hello = true;
  ack.hello.suites = 0x02;
  ack.hello.auth = wire::kAuthClusterMac;
  ack.hello.issued = 2'000'000'123;
  ack.hello.echo_issued = open.hello.issued;
  fill(ack.hello.ephemeral, 0x55);
  ack.hello.echo_ephemeral = open.hello.ephemeral;
  fill(ack.hello.mac, 0x66);
  h = header(Opcode::kOpenAck, 2, 0x00020000, 0x00000100);
  h.epoch = 0x4321;
  f.push_back(encode(enc, b, a, h, ack, 0));
  // Protected frames: PAYLOAD (with ACK piggybacked), ACK with a sealed SACK block, and a CLOSE
  // whose sealed body is empty (header and tag only).
  auto prot = [&](NodeId s, NodeId d, wire::TtpHeader th, const wire::Extensions& ext, std::size_t payload_len,
                  std::uint8_t gen, std::uint64_t counter) {
    std::vector<std::uint8_t> buf(16384);
    wire::ProtectedLayout lay;
    const std::size_t n = wire::encode_protected(enc, s, d, th, ext, wire::SecurityHeader{gen, counter},
                                                 payload_len, buf, lay);
    if (n == 0) throw std::runtime_error("sim_capture: a protected frame did not encode");
    buf.resize(n);
    // Stand-in ciphertext and tag over the body (the block was written in plaintext).
    for (std::size_t i = lay.body_offset; i < n; ++i) buf[i] = static_cast<std::uint8_t>(i * 29 + counter);
    f.push_back(std::move(buf));
  };
  h = header(Opcode::kPayload, 2, 0x00000101, 0x00020003);
  h.epoch = 0x4321;
  h.flags = wire::kFlagEndOfMessage | wire::kFlagAckPiggyback;
  prot(a, b, h, {}, 200, 0, 5);
  h = header(Opcode::kAck, 2, 0, 0x00000101);
  h.epoch = 0x4321;
  h.congestion = 1;
  prot(b, a, h, sack({{0x103, 0x105}}), 0, 3, (1ull << 53) + 1);
  h = header(Opcode::kClose, 2, 0x00000106, 0x00020004);
  h.epoch = 0x4321;
  prot(a, b, h, {}, 0, 255, 0xFFFFFFFFFFFFFFF0ull);
  return f;
}

// Sets TTH total-length and TSH length of an Ethernet frame to cover all of it (no padding).
void fit_lengths(wire::Encapsulation enc, std::vector<std::uint8_t>& f) {
  if (enc != wire::Encapsulation::kEthernet) return;
  const std::size_t total = f.size() - wire::kEthHeaderBytes;
  f[wire::kEthHeaderBytes + 2] = static_cast<std::uint8_t>(total >> 8);
  f[wire::kEthHeaderBytes + 3] = static_cast<std::uint8_t>(total);
  const std::size_t tsh = total - wire::kTthBytes;
  f[wire::kEthHeaderBytes + wire::kTthBytes + 6] = static_cast<std::uint8_t>(tsh >> 8);
  f[wire::kEthHeaderBytes + wire::kTthBytes + 7] = static_cast<std::uint8_t>(tsh);
}

// Secured frames broken on purpose, one per error path of the security header and the Hello TLV
// (and the frames just inside the limits), so the decoders are compared on each whatever the
// random mutations hit.
std::vector<std::vector<std::uint8_t>> secure_malformed(wire::Encapsulation enc, NodeId a, NodeId b) {
  const auto good = secure_exchange(enc, a, b);
  const std::vector<std::uint8_t>& open = good[0];   // features + Hello
  const std::vector<std::uint8_t>& hello = good[1];  // Hello only
  const std::vector<std::uint8_t>& payload = good[2];
  const std::vector<std::uint8_t>& close = good[4];  // protected, nothing sealed: 28 B after TTP
  const std::size_t ttp = wire::ttp_offset(enc);
  const std::size_t sec = ttp + wire::kTtpBytes;  // security header, or extension block
  std::vector<std::vector<std::uint8_t>> f;
  auto with = [&](const std::vector<std::uint8_t>& base, std::size_t at, std::uint8_t v) {
    std::vector<std::uint8_t> x = base;
    x[at] = v;
    f.push_back(std::move(x));
  };
  with(payload, sec, 2);          // security header version 2: bad-security-header
  with(payload, sec, 0);          // version 0: bad-security-header
  with(payload, sec + 2, 0x80);   // reserved bits: bad-security-header
  with(close, sec + 3, 0x01);     // reserved bits, nothing sealed: bad-security-header
  {
    std::vector<std::uint8_t> x = close;  // 27 B after the TTP header: truncated
    x.pop_back();
    fit_lengths(enc, x);
    f.push_back(x);
    x.resize(sec + 12);  // the security header and no tag: truncated
    fit_lengths(enc, x);
    f.push_back(x);
    x[sec] = 7;  // ... also with a bad version: still truncated (the length is checked first)
    f.push_back(x);
    x.resize(sec);  // the protected flag and nothing after the TTP header: truncated
    fit_lengths(enc, x);
    if (enc == wire::Encapsulation::kEthernet) x.resize(wire::kMinSendFrameBytes, 0);  // padding
    f.push_back(x);
  }
  with(close, ttp + 9, 0x30);     // protected: the extension byte is not checked (sealed block)
  with(payload, ttp + 7, 0x14);   // protected with version nibble 1: decodes (weft ignores it)
  with(payload, ttp + 7, 0x0C);   // protected with flag 0x08 too
  with(payload, ttp, 0x0B);       // protected, bad opcode: bad-opcode comes first
  with(open, ttp + 7, wire::kFlagProtected);  // a plaintext OPEN marked protected: read as sealed
  // Hello TLV errors (bad-extension each).
  const std::size_t hello_tlv = sec + wire::kExtBlockHeaderBytes;  // in `hello` (Hello only)
  with(hello, hello_tlv + 1, 211);                // length 211
  with(hello, hello_tlv + 1, 213);                // length 213 (overruns the block)
  with(hello, hello_tlv + 2 + 2, 0x01);           // reserved (high byte)
  with(hello, hello_tlv + 2 + 3, 0x01);           // reserved (low byte)
  with(hello, hello_tlv + 2, 0xFF);               // every suite bit: decodes
  with(hello, hello_tlv + 2 + 1, 0xFF);           // every auth bit: decodes
  with(hello, ttp + 9, wire::kExtFeatures);       // the extension byte names another first TLV
  with(open, ttp + 9, wire::kExtHello);           // ... and the other way round
  auto grow_block = [&](std::vector<std::uint8_t> x, const std::vector<std::uint8_t>& tlv) {
    x.insert(x.end(), tlv.begin(), tlv.end());  // these frames have no payload and no padding
    const std::size_t len = (std::size_t{x[sec + 2]} << 8 | x[sec + 3]) + tlv.size();
    x[sec + 2] = static_cast<std::uint8_t>(len >> 8);
    x[sec + 3] = static_cast<std::uint8_t>(len);
    fit_lengths(enc, x);
    f.push_back(std::move(x));
  };
  grow_block(hello, {wire::kExtSack, 8, 0, 0, 0, 1, 0, 0, 0, 2});  // a TLV after Hello
  grow_block(hello, std::vector<std::uint8_t>(hello.begin() + static_cast<std::ptrdiff_t>(hello_tlv),
                                              hello.end()));        // Hello twice
  grow_block(hello, {0x00});                                        // one stray byte after Hello
  return f;
}

int write_udp(const std::string& out) {
  const UdpAddress a{0x0A000001, 47100};  // 10.0.0.1:47100
  const UdpAddress b{0x0A000002, 47200};  // 10.0.0.2:47200
  PcapWriter pcap(out);
  TimeNs t = 1'000'000'000;
  auto frames = exchange(wire::Encapsulation::kUdp, 0, 0);
  // Which side sends each frame of exchange(): the same order as there.
  const bool from_a[] = {true, false, true, true, false, false, false, false, false, true, false, false};
  static_assert(sizeof from_a == 12);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uint8_t tos = i == 3 ? 0x03 : 0x00;  // the CE-marked PAYLOAD also has IP ECN CE
    pcap.write_udp(t, from_a[i] ? a : b, from_a[i] ? b : a, tos, frames[i]);
    t += 2'500;
  }
  // Not TTP: plain text between the same hosts on another port.
  const std::string text = "hello, this datagram is not TTP";
  pcap.write_udp(t, UdpAddress{0x0A000001, 5353}, UdpAddress{0x0A000002, 5353}, 0,
                 std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  t += 2'500;
  // TTP header whose extension byte announces SACK but whose block is cut short: a TTP frame
  // that does not decode (bad-extension).
  wire::TtpHeader h = header(wire::Opcode::kAck, 2, 0, 7);
  std::vector<std::uint8_t> bad = encode(wire::Encapsulation::kUdp, 0, 0, h, sack({{9, 12}}), 0);
  bad[wire::kTtpBytes + 3] = 8;  // block length 8: the SACK TLV (10 B) overruns it
  pcap.write_udp(t, a, b, 0, bad);
  t += 2'500;
  // Datagrams to the TTP port too short for a TTP header: MALFORMED(truncated) when decoding by
  // port, not TTP for the heuristic.
  pcap.write_udp(t, a, b, 0, std::span(bad).first(5));
  t += 2'500;
  pcap.write_udp(t, a, b, 0, std::span<const std::uint8_t>());
  pcap.flush();
  std::printf("wrote %s: %llu packets (UDP encapsulation)\n", out.c_str(),
              static_cast<unsigned long long>(pcap.packets()));
  return 0;
}

std::vector<std::uint8_t> with_tag(const std::vector<std::uint8_t>& frame, std::uint16_t tpid,
                                   std::uint16_t tci) {
  std::vector<std::uint8_t> out(frame.begin(), frame.begin() + 12);
  out.push_back(static_cast<std::uint8_t>(tpid >> 8));
  out.push_back(static_cast<std::uint8_t>(tpid));
  out.push_back(static_cast<std::uint8_t>(tci >> 8));
  out.push_back(static_cast<std::uint8_t>(tci));
  out.insert(out.end(), frame.begin() + 12, frame.end());
  return out;
}

int write_synthetic(const std::string& out) {
  using wire::Opcode;
  constexpr std::size_t kTtp = wire::kEthHeaderBytes + wire::kTthBytes + wire::kTshBytes;  // TTP start
  PcapWriter pcap(out);
  TimeNs t = 2'000'000'000;
  auto put = [&](const std::vector<std::uint8_t>& f) {
    pcap.write_ethernet(t, f);
    t += 1'000;
  };
  for (const auto& f : exchange(wire::Encapsulation::kEthernet, 1, 2)) put(f);

  wire::TtpHeader h = header(Opcode::kPayload, 2, 0x00000100, 0);
  h.flags = wire::kFlagEndOfMessage;
  const std::vector<std::uint8_t> ok = encode(wire::Encapsulation::kEthernet, 0x000A0B, 0xFFFFFE, h, {}, 20);
  put(with_tag(ok, 0x8100, (5u << 13) | 100));                          // 802.1Q, PCP 5, VLAN 100
  put(with_tag(with_tag(ok, 0x8100, 200), 0x88A8, 300));                // 802.1ad 300, then 802.1Q 200
  {
    wire::TtpHeader a = header(Opcode::kAck, 2, 0, 0x00000100);
    a.congestion = 255;
    a.ce = true;
    put(encode(wire::Encapsulation::kEthernet, 0xFFFFFE, 0x000A0B, a,
               sack({{0x102, 0x104}, {0x106, 0x106}, {0xFFFFFFF0, 0x00000003}}), 0));
  }
  // Malformed frames, one per decode error.
  std::vector<std::uint8_t> f = ok;
  f[wire::kEthHeaderBytes] = 0x45;  // bad-tth
  put(f);
  f = ok;
  f[kTtp - 1] ^= 0x01;  // TSH length no longer TTH total-length - 20: bad-length
  put(f);
  f = ok;
  f.resize(f.size() - 8);  // TTH total-length now runs past the frame: truncated
  put(f);
  f = std::vector<std::uint8_t>(ok.begin(), ok.begin() + 50);  // shorter than 60 B: truncated
  put(f);
  put(std::vector<std::uint8_t>(ok.begin(), ok.begin() + 30));    // ends inside the TTH: truncated
  put(std::vector<std::uint8_t>(ok.begin(), ok.begin() + kTtp));  // ends after the TSH: truncated
  f = ok;
  f[kTtp] = 0x0B;  // bad-opcode
  put(f);
  f = ok;
  f[kTtp + 1] = 3;  // bad-vc
  put(f);
  {
    std::vector<std::uint8_t> e = encode(wire::Encapsulation::kEthernet, 1, 2, header(Opcode::kOpen, 2, 1, 0),
                                         features(0x1111), 0);
    e[kTtp + wire::kTtpBytes] = 2;  // extension block version 2: bad-extension
    put(e);
    // A compat-style frame whose extension byte is garbage (the reference leaves it uninitialised):
    // bad-extension for a weft decoder, a good PAYLOAD for a compat one.
    std::vector<std::uint8_t> c = encode(wire::Encapsulation::kEthernet, 3, 4,
                                         header(Opcode::kPayload, 2, 0x77, 0), {}, 40);
    c[kTtp + 9] = 0x5A;
    put(c);
    // More bad-extension cases: a SACK range whose first is after its last; a block whose first
    // TLV is not the type the extension byte names; an unknown TLV type (0x30); and (truncated)
    // an extension byte with no block after the header.
    const wire::TtpHeader ack = header(Opcode::kAck, 2, 0, 0x10);
    std::vector<std::uint8_t> s = encode(wire::Encapsulation::kEthernet, 2, 1, ack, sack({{0x20, 0x30}}), 0);
    s[kTtp + wire::kTtpBytes + wire::kExtBlockHeaderBytes + 2 + 3] = 0x40;  // first 0x40 > last 0x30
    put(s);
    s = encode(wire::Encapsulation::kEthernet, 2, 1, ack, sack({{0x20, 0x30}}), 0);
    s[kTtp + 9] = wire::kExtFeatures;  // the block starts with SACK
    put(s);
    s = encode(wire::Encapsulation::kEthernet, 1, 2, header(Opcode::kOpen, 2, 1, 0), features(0x2222), 0);
    s[kTtp + wire::kTtpBytes + wire::kExtBlockHeaderBytes] = 0x30;  // TLV type 0x30, unknown
    s[kTtp + 9] = 0x30;
    put(s);
    s = encode(wire::Encapsulation::kEthernet, 2, 1, ack, {}, 0);
    s[kTtp + 9] = wire::kExtSack;  // no block follows (TTH total-length ends at the TTP header)
    put(s);
  }
  put(encode(wire::Encapsulation::kEthernet, 1, 2, header(Opcode::kPayload, 2, 0x200, 0), {},
             wire::kWeftMaxFrameBytes - wire::kL2HeaderBytes + 1));  // 9001 B: oversize
  // Not TTP: an ARP request and an ICMP echo over IPv4.
  {
    std::vector<std::uint8_t> arp = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x57, 0x46, 0x00, 0x00, 0x01,
                                     0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
                                     0x02, 0x57, 0x46, 0x00, 0x00, 0x01, 10, 0, 0, 1,
                                     0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
    arp.resize(60, 0);
    put(arp);
    std::vector<std::uint8_t> icmp = {0x02, 0x57, 0x46, 0x00, 0x00, 0x02, 0x02, 0x57, 0x46, 0x00, 0x00, 0x01,
                                      0x08, 0x00, 0x45, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x40, 0x00, 64, 1,
                                      0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2,
                                      8, 0, 0xF7, 0xFF, 0, 0, 0, 0};
    icmp.resize(60, 0);
    put(icmp);
  }
  pcap.flush();
  std::printf("wrote %s: %llu packets (raw Ethernet)\n", out.c_str(),
              static_cast<unsigned long long>(pcap.packets()));
  return 0;
}

// Deterministic mutations of well-formed frames (both encapsulations): random bytes overwritten
// in the headers and extension block, and random truncations. For checking that two decoders
// (weft decode and the Wireshark dissector) agree frame by frame, malformed frames included.
int write_mutated(const std::string& out, std::uint64_t seed, int count) {
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  auto next = [&state]() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  auto eth = exchange(wire::Encapsulation::kEthernet, 1, 2);
  auto udp = exchange(wire::Encapsulation::kUdp, 0, 0);
  for (auto& f : secure_exchange(wire::Encapsulation::kEthernet, 1, 2)) eth.push_back(std::move(f));
  for (auto& f : secure_exchange(wire::Encapsulation::kUdp, 0, 0)) udp.push_back(std::move(f));
  const UdpAddress a{0x0A000001, 47100};
  const UdpAddress b{0x0A000002, 47200};
  PcapWriter pcap(out);
  TimeNs t = 3'000'000'000;
  for (int i = 0; i < count; ++i, t += 1'000) {
    const bool use_udp = (next() & 1) != 0;
    const auto& pool = use_udp ? udp : eth;
    std::vector<std::uint8_t> f = pool[next() % pool.size()];
    // Mutate where the decoders look: the Ethernet/TTH/TSH/TTP headers and the extension block.
    const std::size_t span = std::min<std::size_t>(f.size(), use_udp ? 40 : 100);
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = next() % span;
      // Small values are the interesting ones for opcode, vc, lengths and TLV types.
      f[at] = (next() & 1) != 0 ? static_cast<std::uint8_t>(next() % 0x24) : static_cast<std::uint8_t>(next());
    }
    if (next() % 5 == 0) f.resize(next() % (f.size() + 1));
    if (!use_udp && f.size() >= wire::kEthHeaderBytes + wire::kTthBytes + wire::kTshBytes && next() % 6 == 0) {
      // Shorten TTH total-length and TSH length together (consistent, so the decoders get past the
      // length checks) and cut the frame there: security headers, extension blocks and protected
      // frames that end early. At least 60 B stay (the rest reads as Ethernet padding).
      constexpr std::size_t kTth = wire::kEthHeaderBytes;
      const std::size_t total = next() % (f.size() - kTth + 1);
      f[kTth + 2] = static_cast<std::uint8_t>(total >> 8);
      f[kTth + 3] = static_cast<std::uint8_t>(total);
      const std::size_t tsh = total >= wire::kTthBytes ? total - wire::kTthBytes : 0;
      f[kTth + wire::kTthBytes + 6] = static_cast<std::uint8_t>(tsh >> 8);
      f[kTth + wire::kTthBytes + 7] = static_cast<std::uint8_t>(tsh);
      f.resize(std::max(kTth + total, std::min<std::size_t>(f.size(), wire::kMinRecvFrameBytes)));
    }
    if (use_udp) {
      if (!f.empty()) pcap.write_udp(t, a, b, 0, f);
    } else if (f.size() >= wire::kEthHeaderBytes) {
      f[12] = 0x9A;  // keep it a TTP frame: the EtherType is not what this exercises
      f[13] = 0xC6;
      pcap.write_ethernet(t, f);
    }
  }
  // Then the secured frames broken on purpose, in both encapsulations.
  for (const auto& f : secure_malformed(wire::Encapsulation::kEthernet, 1, 2)) {
    pcap.write_ethernet(t, f);
    t += 1'000;
  }
  for (const auto& f : secure_malformed(wire::Encapsulation::kUdp, 0, 0)) {
    pcap.write_udp(t, a, b, 0, f);
    t += 1'000;
  }
  pcap.flush();
  std::printf("wrote %s: %llu mutated frames (seed %llu)\n", out.c_str(),
              static_cast<unsigned long long>(pcap.packets()), static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile, out, mode = "transfer";
  std::uint64_t seed = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--profile" && i + 1 < argc) {
      profile = argv[++i];
    } else if (a == "--seed" && i + 1 < argc) {
      try {
        std::size_t used = 0;
        const std::string v = argv[++i];
        seed = std::stoull(v, &used);
        if (used != v.size() || v.starts_with("-")) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        return usage(std::string("--seed '") + argv[i] + "' is not a non-negative integer");
      }
    } else if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (a == "--udp") {
      mode = "udp";
    } else if (a == "--synthetic") {
      mode = "synthetic";
    } else if (a == "--mutate") {
      mode = "mutate";
    } else if (a == "--secure") {
      mode = "secure";
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      return usage("unexpected argument '" + a + "'");
    }
  }
  if (out.empty()) return usage("--out FILE.pcap is required");
  if (mode == "transfer" && profile.empty()) return usage("one of --profile, --udp or --synthetic is required");
  if (mode != "transfer" && !profile.empty()) return usage("--profile goes with a transfer, not with --" + mode);
  if (mode == "secure") profile = "weft";  // security is weft's (ttpoe-compat has none)
  try {
    if (mode == "udp") return write_udp(out);
    if (mode == "synthetic") return write_synthetic(out);
    if (mode == "mutate") return write_mutated(out, seed, 400);
    return write_transfer(profile, seed, out, mode == "secure");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sim_capture: %s\n", e.what());
    return 1;
  }
}
