#include "weft/transport/wire.h"

#include <cstring>

namespace weft::transport::wire {
namespace {

// Bounds-checked big-endian reader. Every read checks; a failed read latches `ok = false`.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return b_.size() - pos_; }
  std::uint8_t u8() {
    if (!need(1)) return 0;
    return b_[pos_++];
  }
  std::uint16_t u16() {
    if (!need(2)) return 0;
    std::uint16_t v = static_cast<std::uint16_t>((b_[pos_] << 8) | b_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u24() {
    if (!need(3)) return 0;
    std::uint32_t v = (std::uint32_t{b_[pos_]} << 16) | (std::uint32_t{b_[pos_ + 1]} << 8) | b_[pos_ + 2];
    pos_ += 3;
    return v;
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = (std::uint32_t{b_[pos_]} << 24) | (std::uint32_t{b_[pos_ + 1]} << 16) |
                      (std::uint32_t{b_[pos_ + 2]} << 8) | b_[pos_ + 3];
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t hi = u32();
    return (hi << 32) | u32();
  }
  template <std::size_t N>
  void bytes(std::array<std::uint8_t, N>& out) {
    if (!need(N)) return;
    std::memcpy(out.data(), b_.data() + pos_, N);
    pos_ += N;
  }
  void skip(std::size_t n) {
    if (need(n)) pos_ += n;
  }

 private:
  bool need(std::size_t n) {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Big-endian writer over a buffer already checked to be large enough.
class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { *p_++ = v; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u24(std::uint32_t v) {
    u8(static_cast<std::uint8_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void zeros(std::size_t n) {
    std::memset(p_, 0, n);
    p_ += n;
  }
  void bytes(std::span<const std::uint8_t> b) {
    if (!b.empty()) std::memcpy(p_, b.data(), b.size());
    p_ += b.size();
  }
  void mac(NodeId node) {
    bytes(kMacPrefix);
    u24(node & kNodeIdMask);
  }

 private:
  std::uint8_t* p_;
};

constexpr std::size_t kFeaturesValueBytes = 1 + 2 + 2 + 4 + 4;  // 13

void decode_ttp(Reader& r, TtpHeader& h, std::uint8_t& raw_opcode, std::uint8_t& raw_vc) {
  raw_opcode = r.u8();
  raw_vc = r.u8();
  h.opcode = static_cast<Opcode>(raw_opcode);
  h.vc = raw_vc;
  h.entropy = r.u16();
  h.epoch = r.u16();
  h.congestion = r.u8();
  std::uint8_t b7 = r.u8();
  h.version = b7 >> 4;
  h.flags = b7 & 0x0F;
  std::uint8_t b8 = r.u8();
  h.cr = (b8 & kCrBit) != 0;
  h.ce = (b8 & kCeBit) != 0;
  h.extension = r.u8();
  h.tx_id = r.u32();
  h.rx_id = r.u32();
}

DecodeError decode_extensions(Reader& r, std::uint8_t first_type, Extensions& ext) {
  std::size_t start = r.pos();
  std::uint8_t version = r.u8();
  std::uint8_t reserved = r.u8();
  std::uint16_t length = r.u16();
  if (!r.ok()) return DecodeError::kTruncated;
  if (version != kExtBlockVersion || reserved != 0 || length < kExtBlockHeaderBytes + 2)
    return DecodeError::kBadExtension;
  if (length - kExtBlockHeaderBytes > r.remaining()) return DecodeError::kTruncated;
  std::size_t end = start + length;
  bool first = true;
  while (r.pos() < end) {
    if (end - r.pos() < 2) return DecodeError::kBadExtension;
    std::uint8_t type = r.u8();
    std::uint8_t len = r.u8();
    if (len > end - r.pos()) return DecodeError::kBadExtension;
    if (first && type != first_type) return DecodeError::kBadExtension;
    first = false;
    if (type == kExtFeatures) {
      if (len != kFeaturesValueBytes || ext.has_features) return DecodeError::kBadExtension;
      ext.has_features = true;
      ext.features.protocol_version = r.u8();
      ext.features.epoch = r.u16();
      ext.features.max_frame_bytes = r.u16();
      ext.features.recv_window_bytes = r.u32();
      ext.features.feature_bits = r.u32();
    } else if (type == kExtHello) {
      if (len != kHelloValueBytes || ext.has_hello) return DecodeError::kBadExtension;
      ext.has_hello = true;
      Hello& h = ext.hello;
      h.suites = r.u8();
      h.auth = r.u8();
      if (r.u16() != 0) return DecodeError::kBadExtension;  // reserved
      h.issued = r.u64();
      h.echo_issued = r.u64();
      r.bytes(h.ephemeral);
      r.bytes(h.identity);
      r.bytes(h.echo_ephemeral);
      r.bytes(h.signature);
      r.bytes(h.mac);
      // Hello is the block's last TLV: its signature and MAC sit at fixed offsets from the end.
      if (r.ok() && r.pos() != end) return DecodeError::kBadExtension;
    } else if (type == kExtSack) {
      if (len == 0 || len % 8 != 0 || len / 8 > kMaxSackRanges || ext.sack_count != 0)
        return DecodeError::kBadExtension;
      ext.sack_count = static_cast<std::uint8_t>(len / 8);
      for (std::size_t i = 0; i < ext.sack_count; ++i) {
        ext.sack[i].first = r.u32();
        ext.sack[i].last = r.u32();
        // first <= last in serial arithmetic, so a range spans less than 2^31 ids.
        if (ext.sack[i].last - ext.sack[i].first >= 0x80000000u) return DecodeError::kBadExtension;
      }
    } else {
      return DecodeError::kBadExtension;  // weft v1 knows no other TLV; never skip silently
    }
  }
  if (!r.ok()) return DecodeError::kTruncated;
  return DecodeError::kNone;
}

}  // namespace

std::string_view encapsulation_name(Encapsulation e) {
  return e == Encapsulation::kEthernet ? "ethernet" : "udp";
}

std::string_view opcode_name(Opcode op) {
  switch (op) {
    case Opcode::kOpen: return "OPEN";
    case Opcode::kOpenAck: return "OPEN_ACK";
    case Opcode::kOpenNack: return "OPEN_NACK";
    case Opcode::kClose: return "CLOSE";
    case Opcode::kCloseAck: return "CLOSE_ACK";
    case Opcode::kCloseNack: return "CLOSE_NACK";
    case Opcode::kPayload: return "PAYLOAD";
    case Opcode::kAck: return "ACK";
    case Opcode::kNack: return "NACK";
    case Opcode::kNackFull: return "NACK_FULL";
    case Opcode::kNackNolink: return "NACK_NOLINK";
  }
  return "OPCODE?";
}

std::string_view decode_error_name(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kTruncated: return "truncated";
    case DecodeError::kBadEtherType: return "bad-ethertype";
    case DecodeError::kBadTth: return "bad-tth";
    case DecodeError::kBadLength: return "bad-length";
    case DecodeError::kBadOpcode: return "bad-opcode";
    case DecodeError::kBadVc: return "bad-vc";
    case DecodeError::kBadExtension: return "bad-extension";
    case DecodeError::kOversize: return "oversize";
    case DecodeError::kBadSecurity: return "bad-security-header";
  }
  return "?";
}

DecodeError decode(std::span<const std::uint8_t> bytes, const DecodeOptions& opt, Frame& out) {
  out = Frame{};
  if (bytes.size() > opt.max_frame_bytes) return DecodeError::kOversize;
  Reader r(bytes);
  std::size_t end = bytes.size();  // end of payload
  if (opt.encapsulation == Encapsulation::kEthernet) {
    if (bytes.size() < kMinRecvFrameBytes) return DecodeError::kTruncated;
    r.skip(12);  // MACs; node ids come from the TSH
    if (r.u16() != kEtherTypeTtp) return DecodeError::kBadEtherType;
    std::uint8_t b0 = r.u8();
    r.u8();  // gw flag and reserved bits: ignored on receive
    std::uint16_t total = r.u16();
    r.skip(16);
    if (b0 != 0x05) return DecodeError::kBadTth;
    out.src_node = r.u24();
    out.dst_node = r.u24();
    std::uint16_t tsh_len = r.u16();
    if (!r.ok()) return DecodeError::kTruncated;
    if (total < kTthToPayload || tsh_len + kTthBytes != total) return DecodeError::kBadLength;
    if (kEthHeaderBytes + std::size_t{total} > bytes.size()) return DecodeError::kTruncated;
    end = kEthHeaderBytes + total;  // anything after is Ethernet padding
  } else if (bytes.size() < kTtpBytes) {
    return DecodeError::kTruncated;
  }
  std::uint8_t raw_opcode = 0, raw_vc = 0;
  decode_ttp(r, out.ttp, raw_opcode, raw_vc);
  if (!r.ok()) return DecodeError::kTruncated;
  if (raw_opcode >= kOpcodeCount) return DecodeError::kBadOpcode;
  if (raw_vc >= kVcCount) return DecodeError::kBadVc;
  std::span<const std::uint8_t> rest = bytes.subspan(r.pos(), end - r.pos());
  if (opt.parse_extensions && (out.ttp.flags & kFlagProtected) != 0) {
    if (rest.size() < kProtectionOverhead) return DecodeError::kTruncated;
    Reader sr(rest);
    const std::uint8_t version = sr.u8();
    out.security.key_generation = sr.u8();
    const std::uint16_t reserved = sr.u16();
    out.security.counter = sr.u64();
    if (version != kSecurityVersion || reserved != 0) return DecodeError::kBadSecurity;
    out.is_protected = true;
    out.aad_bytes = r.pos() + kSecurityHeaderBytes;
    out.sealed = rest.subspan(kSecurityHeaderBytes, rest.size() - kProtectionOverhead);
    out.tag = rest.subspan(rest.size() - kTagBytes);
    return DecodeError::kNone;
  }
  if (!opt.parse_extensions) {
    out.payload = rest;
    return DecodeError::kNone;
  }
  return decode_body(rest, out);
}

DecodeError decode_body(std::span<const std::uint8_t> plaintext, Frame& out) {
  std::span<const std::uint8_t> rest = plaintext;
  if (out.ttp.extension != kExtNone) {
    Reader er(rest);
    DecodeError e = decode_extensions(er, out.ttp.extension, out.ext);
    if (e != DecodeError::kNone) return e;
    rest = rest.subspan(er.pos());
  }
  out.payload = rest;
  return DecodeError::kNone;
}

std::size_t extension_bytes(const Extensions& ext) {
  if (ext.empty()) return 0;
  std::size_t n = kExtBlockHeaderBytes;
  if (ext.has_features) n += 2 + kFeaturesValueBytes;
  if (ext.has_hello) n += 2 + kHelloValueBytes;
  if (ext.sack_count > 0) n += 2 + 8 * std::size_t{ext.sack_count};
  return n;
}

std::size_t header_bytes(Encapsulation enc, const Extensions& ext) {
  return (enc == Encapsulation::kEthernet ? kL2HeaderBytes : kTtpBytes) + extension_bytes(ext);
}

namespace {

// Writes every header of a frame whose payload is `payload_len` bytes; returns the writer
// positioned where the payload goes.
// `sec`, when given, is written after the TTP header (a protected frame), and the lengths count
// the security header and the tag.
Writer write_headers(Writer w, Encapsulation enc, NodeId src_node, NodeId dst_node, const TtpHeader& ttp,
                     const Extensions& ext, std::size_t ext_len, std::size_t payload_len,
                     const SecurityHeader* sec = nullptr) {
  const std::size_t body = kTtpBytes + ext_len + payload_len + (sec ? kProtectionOverhead : 0);
  if (enc == Encapsulation::kEthernet) {
    w.mac(dst_node);
    w.mac(src_node);
    w.u16(kEtherTypeTtp);
    w.u8(0x05);  // styp 0, vers 0, tthl 5
    w.u8(0x00);  // gw 0, reserved
    w.u16(static_cast<std::uint16_t>(kTthBytes + kTshBytes + body));
    w.zeros(16);
    w.u24(src_node & kNodeIdMask);
    w.u24(dst_node & kNodeIdMask);
    w.u16(static_cast<std::uint16_t>(kTshBytes + body));
  }
  std::uint8_t first_type = ext.has_features   ? kExtFeatures
                           : ext.sack_count > 0 ? kExtSack
                           : ext.has_hello      ? kExtHello
                                                : kExtNone;
  w.u8(static_cast<std::uint8_t>(ttp.opcode));
  w.u8(ttp.vc);
  w.u16(ttp.entropy);
  w.u16(ttp.epoch);
  w.u8(ttp.congestion);
  w.u8(static_cast<std::uint8_t>((ttp.version << 4) | (ttp.flags & 0x0F)));
  w.u8(static_cast<std::uint8_t>((ttp.cr ? kCrBit : 0) | (ttp.ce ? kCeBit : 0)));
  w.u8(first_type);
  w.u32(ttp.tx_id);
  w.u32(ttp.rx_id);
  if (sec != nullptr) {
    w.u8(kSecurityVersion);
    w.u8(sec->key_generation);
    w.u16(0);
    w.u64(sec->counter);
  }
  if (ext_len > 0) {
    w.u8(kExtBlockVersion);
    w.u8(0);
    w.u16(static_cast<std::uint16_t>(ext_len));
    if (ext.has_features) {
      w.u8(kExtFeatures);
      w.u8(static_cast<std::uint8_t>(kFeaturesValueBytes));
      w.u8(ext.features.protocol_version);
      w.u16(ext.features.epoch);
      w.u16(ext.features.max_frame_bytes);
      w.u32(ext.features.recv_window_bytes);
      w.u32(ext.features.feature_bits);
    }
    if (ext.sack_count > 0) {
      w.u8(kExtSack);
      w.u8(static_cast<std::uint8_t>(8 * ext.sack_count));
      for (std::size_t i = 0; i < ext.sack_count; ++i) {
        w.u32(ext.sack[i].first);
        w.u32(ext.sack[i].last);
      }
    }
    if (ext.has_hello) {  // last: its signature and MAC sit at fixed offsets from the block's end
      const Hello& h = ext.hello;
      w.u8(kExtHello);
      w.u8(static_cast<std::uint8_t>(kHelloValueBytes));
      w.u8(h.suites);
      w.u8(h.auth);
      w.u16(0);
      w.u64(h.issued);
      w.u64(h.echo_issued);
      w.bytes(h.ephemeral);
      w.bytes(h.identity);
      w.bytes(h.echo_ephemeral);
      w.bytes(h.signature);
      w.bytes(h.mac);
    }
  }
  return w;
}

}  // namespace

std::size_t encode(Encapsulation enc, NodeId src_node, NodeId dst_node, const TtpHeader& ttp,
                   const Extensions& ext, std::span<const std::uint8_t> payload,
                   std::span<std::uint8_t> out) {
  const std::size_t ext_len = extension_bytes(ext);
  const std::size_t len = header_bytes(enc, ext) + payload.size();
  const std::size_t padded = enc == Encapsulation::kEthernet && len < kMinSendFrameBytes ? kMinSendFrameBytes : len;
  if (padded > out.size() || len > 0xFFFF) return 0;
  Writer w = write_headers(Writer(out.data()), enc, src_node, dst_node, ttp, ext, ext_len, payload.size());
  w.bytes(payload);
  if (padded > len) w.zeros(padded - len);
  return padded;
}

std::size_t encode_headers(Encapsulation enc, NodeId src_node, NodeId dst_node, const TtpHeader& ttp,
                           const Extensions& ext, std::size_t payload_len, std::span<std::uint8_t> out) {
  const std::size_t ext_len = extension_bytes(ext);
  const std::size_t head = header_bytes(enc, ext);
  const bool needs_padding = enc == Encapsulation::kEthernet && head + payload_len < kMinSendFrameBytes;
  if (head > out.size() || head + payload_len > 0xFFFF || needs_padding) return 0;
  (void)write_headers(Writer(out.data()), enc, src_node, dst_node, ttp, ext, ext_len, payload_len);
  return head;
}

std::size_t encode_protected(Encapsulation enc, NodeId src_node, NodeId dst_node, const TtpHeader& ttp,
                             const Extensions& ext, const SecurityHeader& sec, std::size_t payload_len,
                             std::span<std::uint8_t> out, ProtectedLayout& layout) {
  const std::size_t ext_len = extension_bytes(ext);
  layout.security_offset = ttp_offset(enc) + kTtpBytes;
  layout.body_offset = layout.security_offset + kSecurityHeaderBytes;
  layout.payload_offset = layout.body_offset + ext_len;
  layout.tag_offset = layout.payload_offset + payload_len;
  layout.total = layout.tag_offset + kTagBytes;
  if (layout.total > out.size() || layout.total > 0xFFFF) return 0;
  TtpHeader h = ttp;
  h.flags |= kFlagProtected;
  (void)write_headers(Writer(out.data()), enc, src_node, dst_node, h, ext, ext_len, payload_len, &sec);
  return layout.total;
}

}  // namespace weft::transport::wire
