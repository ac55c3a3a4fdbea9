// fuzz_decode: libFuzzer target for the TTP wire codec (weft::transport::wire).
//
// Every input is decoded four ways: {Ethernet, UDP} x {extension block parsed, ignored}. Decode
// must never read out of bounds (ASan) and its payload must lie inside the input. When a decode
// succeeds the frame is re-encoded with wire::encode and decoded again, and every defined field
// must come back unchanged: a round-trip property, checked with __builtin_trap so that a
// difference is a crash libFuzzer saves and minimises.
//
// What "defined" means: encode recomputes the TTP extension byte from the extension block, so the
// byte is compared with what encode must write (the first TLV's type, or 0) rather than with the
// input; with the block ignored (compat) the byte is arbitrary and the block is part of the
// payload. Ethernet frames are padded to 64 B on encode, which decode strips again.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "weft/transport/wire.h"

namespace {

namespace wire = weft::transport::wire;

// A violated property: trap, so libFuzzer reports the input as a crash, saves and minimises it.
// The stack trace names the failing line (frame #1).
[[gnu::noinline]] void require(bool property_holds) {
  if (!property_holds) __builtin_trap();
}

bool same_ttp(const wire::TtpHeader& a, const wire::TtpHeader& b) {
  return a.opcode == b.opcode && a.vc == b.vc && a.entropy == b.entropy && a.epoch == b.epoch &&
         a.congestion == b.congestion && a.version == b.version && a.flags == b.flags &&
         a.cr == b.cr && a.ce == b.ce && a.tx_id == b.tx_id && a.rx_id == b.rx_id;
}

bool same_hello(const wire::Hello& a, const wire::Hello& b) {
  return a.suites == b.suites && a.auth == b.auth && a.issued == b.issued && a.echo_issued == b.echo_issued &&
         a.ephemeral == b.ephemeral && a.identity == b.identity && a.echo_ephemeral == b.echo_ephemeral &&
         a.signature == b.signature && a.mac == b.mac;
}

bool same_ext(const wire::Extensions& a, const wire::Extensions& b) {
  if (a.has_features != b.has_features || a.sack_count != b.sack_count || a.has_hello != b.has_hello) return false;
  if (a.has_hello && !same_hello(a.hello, b.hello)) return false;
  if (a.has_features) {
    const wire::Features& fa = a.features;
    const wire::Features& fb = b.features;
    if (fa.protocol_version != fb.protocol_version || fa.epoch != fb.epoch ||
        fa.max_frame_bytes != fb.max_frame_bytes || fa.recv_window_bytes != fb.recv_window_bytes ||
        fa.feature_bits != fb.feature_bits)
      return false;
  }
  for (std::size_t i = 0; i < a.sack_count; ++i) {
    if (a.sack[i].first != b.sack[i].first || a.sack[i].last != b.sack[i].last) return false;
  }
  return true;
}

bool same_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// The extension byte encode writes for `ext`.
std::uint8_t expected_extension_byte(const wire::Extensions& ext) {
  if (ext.has_features) return wire::kExtFeatures;
  if (ext.sack_count > 0) return wire::kExtSack;
  if (ext.has_hello) return wire::kExtHello;
  return wire::kExtNone;
}

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
  const auto* begin = whole.data();
  const auto* end = whole.data() + whole.size();
  if (part.empty()) return true;
  return part.data() >= begin && part.data() <= end &&
         part.size() <= static_cast<std::size_t>(end - part.data());
}

// A protected frame (weft, flag 0x04): decode stops at the security header. Its parts lie inside
// the input in order, and encode_protected with the same header, security header and sealed bytes
// rebuilds a frame that decodes to the same parts.
void round_trip_protected(std::span<const std::uint8_t> input, const wire::DecodeOptions& opt,
                          const wire::Frame& first) {
  require(first.ext.empty() && first.payload.empty());
  require(first.tag.size() == wire::kTagBytes);
  require(inside(first.sealed, input) && inside(first.tag, input));
  require(first.aad_bytes == wire::ttp_offset(opt.encapsulation) + wire::kTtpBytes + wire::kSecurityHeaderBytes);
  require(first.sealed.data() == input.data() + first.aad_bytes);
  require(first.tag.data() == first.sealed.data() + first.sealed.size());
  static std::uint8_t buf[wire::kWeftMaxFrameBytes + wire::kMinSendFrameBytes];
  wire::ProtectedLayout layout;
  wire::TtpHeader h = first.ttp;
  h.flags &= static_cast<std::uint8_t>(~wire::kFlagProtected);
  const std::size_t n = wire::encode_protected(opt.encapsulation, first.src_node, first.dst_node, h, {},
                                               first.security, first.sealed.size(),
                                               std::span<std::uint8_t>(buf, sizeof(buf)), layout);
  require(n > 0 && n == layout.total);
  if (!first.sealed.empty()) std::memcpy(buf + layout.payload_offset, first.sealed.data(), first.sealed.size());
  std::memcpy(buf + layout.tag_offset, first.tag.data(), wire::kTagBytes);
  // encode_protected names no extension type (the block is inside the sealed bytes): carry it over.
  buf[wire::ttp_offset(opt.encapsulation) + 9] = first.ttp.extension;
  wire::Frame second;
  require(wire::decode({buf, n}, opt, second) == wire::DecodeError::kNone);
  require(second.is_protected);
  require(same_ttp(first.ttp, second.ttp) && second.ttp.extension == first.ttp.extension);
  require(second.security.key_generation == first.security.key_generation &&
          second.security.counter == first.security.counter);
  require(same_bytes(first.sealed, second.sealed) && same_bytes(first.tag, second.tag));
}

void round_trip(std::span<const std::uint8_t> input, wire::Encapsulation enc, bool parse_extensions) {
  wire::DecodeOptions opt;
  opt.encapsulation = enc;
  opt.parse_extensions = parse_extensions;
  wire::Frame first;
  if (wire::decode(input, opt, first) != wire::DecodeError::kNone) return;
  require(!first.is_protected || parse_extensions);
  if (first.is_protected) {
    round_trip_protected(input, opt, first);
    return;
  }

  require(inside(first.payload, input));
  require(static_cast<int>(first.ttp.opcode) < wire::kOpcodeCount);
  require(first.ttp.vc < weft::transport::kVcCount);
  require(first.ttp.version <= 0x0F && first.ttp.flags <= 0x0F);
  require(first.ext.sack_count <= wire::kMaxSackRanges);
  if (!parse_extensions) require(first.ext.empty());
  if (enc == wire::Encapsulation::kEthernet) {
    require(first.src_node <= weft::transport::kNodeIdMask);
    require(first.dst_node <= weft::transport::kNodeIdMask);
    require(input.size() >= wire::kMinRecvFrameBytes);
  } else {
    require(first.src_node == 0 && first.dst_node == 0);
  }
  require(wire::header_bytes(enc, first.ext) + first.payload.size() <= input.size());

  // Re-encode. The result is never longer than the input (plus Ethernet's padding to 64 B).
  static std::uint8_t buf[wire::kWeftMaxFrameBytes + wire::kMinSendFrameBytes];
  const std::size_t n = wire::encode(enc, first.src_node, first.dst_node, first.ttp, first.ext,
                                     first.payload, std::span<std::uint8_t>(buf, sizeof(buf)));
  require(n > 0);
  require(n == wire::header_bytes(enc, first.ext) + first.payload.size() ||
                  (enc == wire::Encapsulation::kEthernet && n == wire::kMinSendFrameBytes));
  if (enc == wire::Encapsulation::kEthernet) require(n >= wire::kMinSendFrameBytes);

  const std::span<const std::uint8_t> encoded(buf, n);
  wire::Frame second;
  require(wire::decode(encoded, opt, second) == wire::DecodeError::kNone);
  require(second.src_node == first.src_node && second.dst_node == first.dst_node);
  require(same_ttp(first.ttp, second.ttp));
  require(second.ttp.extension == expected_extension_byte(first.ext));
  require(same_ext(first.ext, second.ext));
  require(same_bytes(first.payload, second.payload));
  require(inside(second.payload, encoded));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  for (auto enc : {wire::Encapsulation::kEthernet, wire::Encapsulation::kUdp}) {
    round_trip(input, enc, true);
    round_trip(input, enc, false);
  }
  return 0;
}
