// `weft decode FILE.pcap [--json] [--udp-port N] [--compat]`: prints the TTP frames of a classic
// pcap capture, one per line (or as a JSON array), with wire::decode — the codec the endpoints
// use — so what it prints is what a weft endpoint would see.
//
// Which packets are TTP:
//  - Ethernet frames with EtherType 0x9AC6, also behind 802.1Q / 802.1ad tags (the tags are
//    removed before decoding, as a NIC would). Every such frame is TTP; one that does not decode
//    is printed as MALFORMED with the decode error's name.
//  - UDP datagrams over IPv4 or IPv6 (also tagged) whose payload is a TTP header (the UDP
//    encapsulation: TTP directly after UDP). With --udp-port N only datagrams from or to port N
//    are considered, and every one of them is TTP (MALFORMED when it does not decode). Without
//    it, a datagram on any port is TTP when its first 18 B look like a TTP header — the same test
//    tools/wireshark/ttp.lua applies:
//      payload >= 18 B, opcode <= 0x0A, vc <= 2, version nibble (byte 7 high) 0, reserved bits
//      of byte 8 (above cr|ce) 0, and (unless --compat) extension byte 0x00, 0x10, 0x11 or 0x20.
//  - Everything else is counted by kind and summarized at the end.
//
// Protected frames (weft, TTP flag 0x04; docs/security.md) are shown as wire::decode leaves them:
// the security header (key generation, transmission counter), the size of the sealed bytes (the
// encrypted extension block and payload) and the tag. Nothing here holds keys, so nothing is
// decrypted: the payload length and the sealed TLVs of a protected frame are unknown.
//
// Exit status: 0 the file was read (malformed frames included), 1 the file is missing or not a
// classic Ethernet pcap, 2 usage.

#include "tools/weft/decode.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "weft/transport/pcap.h"
#include "weft/transport/wire.h"

namespace weft::tools {
namespace {

namespace wire = transport::wire;
using Json = nlohmann::ordered_json;
using transport::TimeNs;

struct Options {
  std::string file;
  bool json = false;
  int udp_port = 0;  // 0: any port, with the TTP header heuristic
  bool compat = false;
};

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::string hex(std::uint64_t v, int width) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

std::string mac_text(std::span<const std::uint8_t> m) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

// "nID" for a weft MAC (02:57:46 + node id), else the MAC.
std::string mac_node(std::span<const std::uint8_t> m) {
  if (m[0] == wire::kMacPrefix[0] && m[1] == wire::kMacPrefix[1] && m[2] == wire::kMacPrefix[2]) {
    return "n" + std::to_string((std::uint32_t{m[3]} << 16) | (std::uint32_t{m[4]} << 8) | m[5]);
  }
  return mac_text(m);
}

std::string ipv4_text(std::span<const std::uint8_t> b) {
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}

// IPv6 text: groups without leading zeros, "::" for the longest run of two or more zero groups.
std::string ipv6_text(std::span<const std::uint8_t> b) {
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && b[2 * j] == 0 && b[2 * j + 1] == 0) ++j;
    if (j - i > best_len && j - i > 1) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      s += "::";
      i += best_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ":";
    char g[8];
    std::snprintf(g, sizeof g, "%x", static_cast<unsigned>(be16(b, 2 * static_cast<std::size_t>(i))));
    s += g;
  }
  return s;
}

// The TTP-header test for UDP payloads on any port (kept identical to ttp.lua's heuristic).
bool looks_like_ttp(std::span<const std::uint8_t> p, bool compat) {
  if (p.size() < wire::kTtpBytes) return false;
  if (p[0] >= wire::kOpcodeCount || p[1] >= transport::kVcCount) return false;
  if ((p[7] & 0xF0) != 0 || (p[8] & 0xFC) != 0) return false;
  if (!compat && p[9] != wire::kExtNone && p[9] != wire::kExtFeatures && p[9] != wire::kExtHello &&
      p[9] != wire::kExtSack) {
    return false;
  }
  return true;
}

// One packet of the capture that is TTP (decoded or not).
struct TtpPacket {
  std::size_t number = 0;  // 1-based, as Wireshark numbers frames
  TimeNs time = 0;
  wire::Encapsulation encap = wire::Encapsulation::kEthernet;
  std::vector<std::uint16_t> vlans;  // VLAN ids of the tags, outermost first
  std::string src, dst;              // "nID" / MAC, or "IP:port"
  std::string src_ip, dst_ip;        // UDP only
  std::uint16_t src_port = 0, dst_port = 0;
  std::size_t bytes = 0;             // decoded bytes: Ethernet frame without tags, or UDP payload
  wire::DecodeError error = wire::DecodeError::kNone;
  wire::Frame frame;                 // valid when error == kNone (payload, sealed bytes not kept)
  std::size_t payload_bytes = 0;
  std::size_t sealed_bytes = 0;      // protected frames
  std::array<std::uint8_t, wire::kTagBytes> tag{};
  std::uint16_t tth_total_length = 0;  // Ethernet, decoded frames
  std::uint16_t tsh_length = 0;
};

struct Summary {
  std::size_t packets = 0;
  std::size_t ttp = 0;
  std::size_t malformed = 0;
  std::map<std::string, std::size_t> other;  // kind -> count
};

class Decoder {
 public:
  explicit Decoder(const Options& o) : o_(o) {}

  // Returns the TTP packet, or nullopt after counting the packet as "other".
  std::optional<TtpPacket> classify(std::size_t number, const transport::PcapPacket& pkt, Summary& sum) {
    std::span<const std::uint8_t> d(pkt.data);
    TtpPacket t;
    t.number = number;
    t.time = pkt.time_ns;
    auto other = [&](const std::string& kind) -> std::optional<TtpPacket> {
      ++sum.other[kind];
      return std::nullopt;
    };
    if (d.size() < wire::kEthHeaderBytes) return other("frame shorter than an Ethernet header");
    std::size_t type_at = 12;
    std::uint16_t type = be16(d, type_at);
    while ((type == 0x8100 || type == 0x88A8) && d.size() >= type_at + 6) {
      t.vlans.push_back(be16(d, type_at + 2) & 0x0FFF);
      type_at += 4;
      type = be16(d, type_at);
    }
    if (type == 0x8100 || type == 0x88A8) return other("truncated VLAN tag");
    const std::span<const std::uint8_t> l3 = d.subspan(type_at + 2);
    if (type == wire::kEtherTypeTtp) {
      t.encap = wire::Encapsulation::kEthernet;
      std::span<const std::uint8_t> frame = d;
      if (type_at != 12) {  // remove the tags: MACs, then the inner EtherType and what follows
        untagged_.assign(d.begin(), d.begin() + 12);
        untagged_.insert(untagged_.end(), d.begin() + static_cast<std::ptrdiff_t>(type_at), d.end());
        frame = untagged_;
      }
      t.dst = mac_node(d.subspan(0, 6));
      t.src = mac_node(d.subspan(6, 6));
      decode(frame, t);
      if (t.error == wire::DecodeError::kNone) {
        t.src = "n" + std::to_string(t.frame.src_node);
        t.dst = "n" + std::to_string(t.frame.dst_node);
        t.tth_total_length = be16(frame, wire::kEthHeaderBytes + 2);
        t.tsh_length = be16(frame, wire::kEthHeaderBytes + wire::kTthBytes + 6);
      }
      return t;
    }
    std::span<const std::uint8_t> udp;
    if (type == 0x0800) {
      if (l3.size() < 20 || (l3[0] >> 4) != 4) return other("IPv4, truncated or bad header");
      const std::size_t ihl = std::size_t{l3[0] & 0x0Fu} * 4;
      const std::size_t total = be16(l3, 2);
      if (ihl < 20 || total < ihl || l3.size() < ihl) return other("IPv4, truncated or bad header");
      if ((be16(l3, 6) & 0x3FFF) != 0) return other("IPv4 fragment");
      if (l3[9] != 17) return other("IPv4 protocol " + std::to_string(l3[9]));
      t.src_ip = ipv4_text(l3.subspan(12, 4));
      t.dst_ip = ipv4_text(l3.subspan(16, 4));
      udp = l3.subspan(ihl, std::min(total, l3.size()) - ihl);
    } else if (type == 0x86DD) {
      if (l3.size() < 40 || (l3[0] >> 4) != 6) return other("IPv6, truncated or bad header");
      if (l3[6] != 17) return other("IPv6 next header " + std::to_string(l3[6]));
      t.src_ip = "[" + ipv6_text(l3.subspan(8, 16)) + "]";
      t.dst_ip = "[" + ipv6_text(l3.subspan(24, 16)) + "]";
      udp = l3.subspan(40, std::min<std::size_t>(be16(l3, 4), l3.size() - 40));
    } else {
      return other("EtherType 0x" + hex(type, 4) + ethertype_name(type));
    }
    if (udp.size() < 8) return other("UDP, truncated");
    t.src_port = be16(udp, 0);
    t.dst_port = be16(udp, 2);
    const std::size_t udp_len = be16(udp, 4);
    if (udp_len < 8) return other("UDP, bad length");
    const std::span<const std::uint8_t> payload = udp.subspan(8, std::min(udp_len, udp.size()) - 8);
    if (payload.empty()) return other("UDP, empty");  // Wireshark hands these to no dissector
    if (o_.udp_port != 0) {
      if (t.src_port != o_.udp_port && t.dst_port != o_.udp_port) return other("UDP, other port");
    } else if (!looks_like_ttp(payload, o_.compat)) {
      return other("UDP, not TTP");
    }
    t.encap = wire::Encapsulation::kUdp;
    t.src = t.src_ip + ":" + std::to_string(t.src_port);
    t.dst = t.dst_ip + ":" + std::to_string(t.dst_port);
    decode(payload, t);
    return t;
  }

 private:
  static std::string ethertype_name(std::uint16_t type) {
    switch (type) {
      case 0x0806: return " (ARP)";
      case 0x88CC: return " (LLDP)";
      case 0x8808: return " (Ethernet flow control)";
      default: return "";
    }
  }

  void decode(std::span<const std::uint8_t> bytes, TtpPacket& t) const {
    wire::DecodeOptions opt;
    opt.encapsulation = t.encap;
    opt.parse_extensions = !o_.compat;
    t.bytes = bytes.size();
    t.error = wire::decode(bytes, opt, t.frame);
    t.payload_bytes = t.error == wire::DecodeError::kNone ? t.frame.payload.size() : 0;
    if (t.error == wire::DecodeError::kNone && t.frame.is_protected) {
      t.sealed_bytes = t.frame.sealed.size();
      std::copy(t.frame.tag.begin(), t.frame.tag.end(), t.tag.begin());
    }
    t.frame.payload = {};
    t.frame.sealed = {};
    t.frame.tag = {};
  }

  const Options& o_;
  std::vector<std::uint8_t> untagged_;
};

std::string features_bits_text(std::uint32_t bits) {
  std::string s;
  auto add = [&](std::uint32_t bit, const char* name) {
    if ((bits & bit) == 0) return;
    if (!s.empty()) s += ",";
    s += name;
    bits &= ~bit;
  };
  add(wire::kFeatureSack, "sack");
  add(wire::kFeatureEcn, "ecn");
  add(wire::kFeatureEntropy, "entropy");
  add(wire::kFeatureMessages, "messages");
  if (bits != 0) s += (s.empty() ? "0x" : ",0x") + hex(bits, 1);
  return s.empty() ? "none" : s;
}

std::string bits_text(std::uint8_t bits, std::initializer_list<std::pair<std::uint8_t, const char*>> names) {
  std::string s;
  for (const auto& [bit, name] : names) {
    if ((bits & bit) == 0) continue;
    if (!s.empty()) s += ",";
    s += name;
    bits = static_cast<std::uint8_t>(bits & ~bit);
  }
  if (bits != 0) s += (s.empty() ? "0x" : ",0x") + hex(bits, 1);
  return s.empty() ? "none" : s;
}

std::string suites_text(std::uint8_t suites) { return bits_text(suites, {{0x01, "aes"}, {0x02, "chacha"}}); }
std::string auth_text(std::uint8_t auth) {
  return bits_text(auth, {{wire::kAuthSignature, "signature"}, {wire::kAuthClusterMac, "mac"}});
}

std::string hex_bytes(std::span<const std::uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * b.size());
  for (const std::uint8_t v : b) {
    s += kDigits[v >> 4];
    s += kDigits[v & 0x0F];
  }
  return s;
}

std::string time_text(TimeNs t, bool nanos) {
  char buf[40];
  const long long sec = static_cast<long long>(t / 1'000'000'000);
  const long long frac = static_cast<long long>(t % 1'000'000'000);
  if (nanos) {
    std::snprintf(buf, sizeof buf, "%lld.%09lld", sec, frac);
  } else {
    std::snprintf(buf, sizeof buf, "%lld.%06lld", sec, frac / 1000);
  }
  return buf;
}

std::string text_line(const TtpPacket& t, bool nanos) {
  std::string s = std::to_string(t.number);
  s.insert(0, s.size() < 5 ? 5 - s.size() : 0, ' ');
  s += "  " + time_text(t.time, nanos) + "  " + t.src + " -> " + t.dst + "  ";
  if (t.error != wire::DecodeError::kNone) {
    s += "MALFORMED(" + std::string(wire::decode_error_name(t.error)) + ") frame=" + std::to_string(t.bytes) + "B";
  } else {
    const wire::TtpHeader& h = t.frame.ttp;
    std::string op(wire::opcode_name(h.opcode));
    op.resize(std::max<std::size_t>(op.size(), 11), ' ');
    s += op + " vc" + std::to_string(h.vc) + " tx=" + hex(h.tx_id, 8) + " rx=" + hex(h.rx_id, 8) +
         " epoch=" + hex(h.epoch, 4);
    if (h.entropy != 0) s += " entropy=" + hex(h.entropy, 4);
    if (h.congestion != 0) s += " cong=" + std::to_string(h.congestion);
    if (h.version != 0) s += " ver=" + std::to_string(h.version);
    if ((h.flags & wire::kFlagEndOfMessage) != 0) s += " eom";
    // Bits other than end-of-message (and protected, when shown as such below) in hex.
    const std::uint8_t shown = wire::kFlagEndOfMessage | (t.frame.is_protected ? wire::kFlagProtected : 0);
    if ((h.flags & ~shown) != 0) s += " flags=0x" + hex(h.flags, 1);
    if (h.ce) s += " ce";
    if (h.cr) s += " cr";
    // compat: ignored; protected: names the first TLV of the sealed block
    if (h.extension != 0 && t.frame.ext.empty()) s += " ext=0x" + hex(h.extension, 2);
    const wire::Extensions& e = t.frame.ext;
    if (e.has_features) {
      const wire::Features& f = e.features;
      s += " features(v" + std::to_string(f.protocol_version) + " epoch=" + hex(f.epoch, 4) +
           " max_frame=" + std::to_string(f.max_frame_bytes) + " window=" + std::to_string(f.recv_window_bytes) +
           " bits=" + features_bits_text(f.feature_bits) + ")";
    }
    if (e.sack_count > 0) {
      s += " sack=";
      for (std::size_t i = 0; i < e.sack_count; ++i) {
        if (i > 0) s += ",";
        s += hex(e.sack[i].first, 8) + "-" + hex(e.sack[i].last, 8);
      }
    }
    if (e.has_hello) {
      const wire::Hello& hl = e.hello;
      s += " hello(suites=" + suites_text(hl.suites) + " auth=" + auth_text(hl.auth) +
           " issued=" + std::to_string(hl.issued);
      if (hl.echo_issued != 0) s += " echo_issued=" + std::to_string(hl.echo_issued);
      s += ")";
    }
    if (t.frame.is_protected) {
      s += " protected gen=" + std::to_string(t.frame.security.key_generation) +
           " ctr=" + std::to_string(t.frame.security.counter) + " sealed=" + std::to_string(t.sealed_bytes) + " B";
    } else {
      s += " len=" + std::to_string(t.payload_bytes);
    }
  }
  if (t.encap == wire::Encapsulation::kUdp) s += " udp";
  for (std::uint16_t v : t.vlans) s += " vlan=" + std::to_string(v);
  return s;
}

Json to_json(const TtpPacket& t) {
  Json j;
  j["packet"] = t.number;
  j["time_ns"] = t.time;
  j["encapsulation"] = std::string(wire::encapsulation_name(t.encap));
  j["vlan"] = t.vlans;
  j["src"] = t.src;
  j["dst"] = t.dst;
  if (t.encap == wire::Encapsulation::kUdp) {
    j["src_ip"] = t.src_ip;
    j["src_port"] = t.src_port;
    j["dst_ip"] = t.dst_ip;
    j["dst_port"] = t.dst_port;
  }
  j["frame_bytes"] = t.bytes;
  j["ok"] = t.error == wire::DecodeError::kNone;
  j["error"] = t.error == wire::DecodeError::kNone ? Json(nullptr) : Json(std::string(wire::decode_error_name(t.error)));
  if (t.error != wire::DecodeError::kNone) return j;
  if (t.encap == wire::Encapsulation::kEthernet) {
    j["src_node"] = t.frame.src_node;
    j["dst_node"] = t.frame.dst_node;
    j["tth_total_length"] = t.tth_total_length;
    j["tsh_length"] = t.tsh_length;
  }
  const wire::TtpHeader& h = t.frame.ttp;
  j["opcode"] = static_cast<int>(h.opcode);
  j["opcode_name"] = std::string(wire::opcode_name(h.opcode));
  j["vc"] = h.vc;
  j["entropy"] = h.entropy;
  j["epoch"] = h.epoch;
  j["congestion"] = h.congestion;
  j["version"] = h.version;
  j["flags"] = h.flags;
  j["eom"] = (h.flags & wire::kFlagEndOfMessage) != 0;
  j["ack_piggyback"] = (h.flags & wire::kFlagAckPiggyback) != 0;
  j["protected"] = (h.flags & wire::kFlagProtected) != 0;  // the bit (compat: shown, ignored)
  j["cr"] = h.cr;
  j["ce"] = h.ce;
  j["extension"] = h.extension;
  j["tx_id"] = h.tx_id;
  j["rx_id"] = h.rx_id;
  const wire::Extensions& e = t.frame.ext;
  Json types = Json::array();
  if (e.has_features) types.push_back(wire::kExtFeatures);
  if (e.sack_count > 0) types.push_back(wire::kExtSack);
  if (e.has_hello) types.push_back(wire::kExtHello);  // always the block's last TLV
  j["ext_types"] = types;
  if (e.has_features) {
    const wire::Features& f = e.features;
    j["features"] = Json{{"version", f.protocol_version},
                         {"epoch", f.epoch},
                         {"max_frame", f.max_frame_bytes},
                         {"window", f.recv_window_bytes},
                         {"bits", f.feature_bits},
                         {"bits_text", features_bits_text(f.feature_bits)}};
  } else {
    j["features"] = nullptr;
  }
  Json sack = Json::array();
  for (std::size_t i = 0; i < e.sack_count; ++i) sack.push_back(Json{{"first", e.sack[i].first}, {"last", e.sack[i].last}});
  j["sack"] = sack;
  if (e.has_hello) {
    const wire::Hello& hl = e.hello;
    j["hello"] = Json{{"suites", hl.suites},
                      {"suites_text", suites_text(hl.suites)},
                      {"auth", hl.auth},
                      {"auth_text", auth_text(hl.auth)},
                      {"issued", hl.issued},
                      {"echo_issued", hl.echo_issued},
                      {"ephemeral", hex_bytes(hl.ephemeral)},
                      {"identity", hex_bytes(hl.identity)},
                      {"echo_ephemeral", hex_bytes(hl.echo_ephemeral)},
                      {"signature", hex_bytes(hl.signature)},
                      {"mac", hex_bytes(hl.mac)}};
  } else {
    j["hello"] = nullptr;
  }
  if (t.frame.is_protected) {
    // Sealed: the extension block and payload are encrypted, so their sizes are unknown here.
    j["security"] = Json{{"version", wire::kSecurityVersion},
                         {"key_generation", t.frame.security.key_generation},
                         {"counter", t.frame.security.counter},
                         {"sealed_bytes", t.sealed_bytes},
                         {"tag", hex_bytes(t.tag)}};
    j["payload_bytes"] = nullptr;
  } else {
    j["security"] = nullptr;
    j["payload_bytes"] = t.payload_bytes;
  }
  return j;
}

std::string summary_text(const Summary& s) {
  std::string text = std::to_string(s.packets) + " packets, " + std::to_string(s.ttp) + " TTP frames, " +
                     std::to_string(s.packets - s.ttp) + " other";
  if (s.malformed > 0) text += "; " + std::to_string(s.malformed) + " malformed";
  if (!s.other.empty()) {
    text += "\nother:";
    bool first = true;
    for (const auto& [kind, n] : s.other) {
      text += (first ? " " : ", ") + std::to_string(n) + " " + kind;
      first = false;
    }
  }
  return text;
}

int run_decode(const Options& o) {
  std::vector<transport::PcapPacket> packets;
  if (std::filesystem::is_directory(o.file)) {
    std::cerr << "weft decode: '" << o.file << "' is a directory, not a pcap file\n";
    return kExitFailed;
  }
  try {
    packets = transport::read_pcap(o.file);
  } catch (const std::exception& e) {
    std::cerr << "weft decode: " << e.what() << "\n";
    return kExitFailed;
  }
  bool nanos = false;
  for (const auto& p : packets) nanos = nanos || p.time_ns % 1000 != 0;
  Decoder decoder(o);
  Summary sum;
  Json all = Json::array();
  for (std::size_t i = 0; i < packets.size(); ++i) {
    ++sum.packets;
    std::optional<TtpPacket> t = decoder.classify(i + 1, packets[i], sum);
    if (!t) continue;
    ++sum.ttp;
    if (t->error != wire::DecodeError::kNone) ++sum.malformed;
    if (o.json) {
      all.push_back(to_json(*t));
    } else {
      std::cout << text_line(*t, nanos) << "\n";
    }
  }
  if (o.json) {
    std::cout << all.dump(1) << "\n";
    std::cerr << summary_text(sum) << "\n";
  } else {
    std::cout << summary_text(sum) << "\n";
  }
  return kExitOk;
}

}  // namespace

void register_decode(CLI::App& app, Action& action) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("decode", "print the TTP frames of a pcap capture, one per line or as JSON");
  cmd->footer(
      "TTP frames are Ethernet frames with EtherType 0x9AC6 (also 802.1Q/802.1ad tagged) and UDP\n"
      "datagrams whose payload is a TTP header. Without --udp-port, UDP on any port counts when its\n"
      "first 18 B look like TTP (opcode <= 0x0A, vc <= 2, reserved bits zero, extension byte\n"
      "0x00/0x10/0x11/0x20); with --udp-port N every datagram from or to N is decoded. Frames that do\n"
      "not decode are printed as MALFORMED(<decode error>). Other packets are counted at the end.\n\n"
      "Line format:\n"
      "  NUM  TIME  SRC -> DST  OPCODE vcV tx=TXID rx=RXID epoch=E [entropy=H] [cong=N] [eom] [ce] [cr]\n"
      "       [features(...)] [sack=FIRST-LAST,...] [hello(...)] len=PAYLOAD_BYTES [udp] [vlan=ID]\n"
      "  protected frames (weft, flag 0x04) end in 'protected gen=G ctr=C sealed=N B' instead of len=.\n"
      "  SRC/DST: nNODE (TSH node id) on raw Ethernet, IP:PORT over UDP; ids in hex.\n\n"
      "Protected frames are not decrypted: weft decode holds no keys, so it shows their security\n"
      "header (key generation, transmission counter), the size of the sealed bytes (extension block\n"
      "and payload, encrypted) and the tag. The Hello TLV of secured OPEN/OPEN_ACK is plaintext and\n"
      "is shown in full with --json (keys, signature and MAC in hex; not verified).\n\n"
      "Examples:\n"
      "  weft decode run.pcap\n"
      "  weft decode run.pcap --udp-port 47100 --json | jq '.[] | select(.opcode_name == \"NACK\")'\n\n"
      "Wireshark: tools/wireshark/ttp.lua dissects the same fields (see tools/wireshark/README.md).\n"
      "Exit status: 0 the file was read, 1 it is missing or not a classic Ethernet pcap, 2 usage.");
  cmd->add_option("file", o->file, "classic pcap file (LINKTYPE_ETHERNET; pcapng: convert with editcap -F pcap)")
      ->required()
      ->type_name("FILE.pcap");
  cmd->add_flag("--json", o->json, "print a JSON array of frames (one object per TTP frame); the summary goes to stderr");
  cmd->add_option("--udp-port", o->udp_port, "decode UDP datagrams from or to this port only (default: any port that looks like TTP)")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");
  cmd->add_flag("--compat", o->compat,
                "TTPoE-compat capture: ignore the extension byte (the reference sender leaves it uninitialised)");
  cmd->callback([o, &action]() { action = [o]() { return run_decode(*o); }; });
}

}  // namespace weft::tools
