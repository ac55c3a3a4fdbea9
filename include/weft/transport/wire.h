// The TTP wire codec: Ethernet II + TTH + TSH + TTP (EtherType 0x9AC6), the UDP encapsulation
// (TTP header directly after UDP), and weft's extension block.
//
// Encoding and decoding are explicit, byte by byte, in network order, with a bounds check on
// every read; no host bitfields. docs/wire-format.md draws every header and records each
// decision taken where the TTPoE Rev 2.0 spec is ambiguous.
//
// Raw Ethernet frame (60 B of headers, then the extension block if any, then payload):
//   Ethernet  14 B  dst MAC, src MAC, EtherType 0x9AC6
//   TTH       20 B  0x05 (styp 0, vers 0, tthl 5), flags (gw), total-length, 16 B pad
//   TSH        8 B  src node (24 bit), dst node (24 bit), length
//   TTP       18 B  opcode, vc, entropy(16, weft), epoch, congestion, version|flags, cr|ce,
//                   extension, tx-id, rx-id
// UDP encapsulation: TTP (18 B), extension block, payload — the node ids are the datagram's
// addresses, so TTH and TSH are not sent.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "weft/transport/types.h"

namespace weft::transport::wire {

inline constexpr std::uint16_t kEtherTypeTtp = 0x9AC6;
inline constexpr std::size_t kEthHeaderBytes = 14;
inline constexpr std::size_t kTthBytes = 20;
inline constexpr std::size_t kTshBytes = 8;
inline constexpr std::size_t kTtpBytes = 18;
// Ethernet + TTH + TSH + TTP.
inline constexpr std::size_t kL2HeaderBytes = kEthHeaderBytes + kTthBytes + kTshBytes + kTtpBytes;
static_assert(kL2HeaderBytes == 60, "TTPoE header stack is 60 B (one 64 B beat with the FCS)");
// TTH.total-length and TSH.length count from their own start to the end of the payload.
inline constexpr std::size_t kTthToPayload = kTthBytes + kTshBytes + kTtpBytes;  // 46
inline constexpr std::size_t kTshToPayload = kTshBytes + kTtpBytes;              // 26
// Frames are padded to 64 B on send (the reference drops shorter ones); 60 B, Ethernet's minimum
// without FCS, is accepted on receive.
inline constexpr std::size_t kMinSendFrameBytes = 64;
inline constexpr std::size_t kMinRecvFrameBytes = 60;
inline constexpr std::size_t kCompatMaxFrameBytes = 1536;
inline constexpr std::size_t kCompatMaxPayloadBytes = 1024;
inline constexpr std::size_t kWeftMaxFrameBytes = 9000;
// Locally administered MAC prefix weft uses for node ids on raw Ethernet (02:57:46 = "WF").
inline constexpr std::array<std::uint8_t, 3> kMacPrefix = {0x02, 0x57, 0x46};

enum class Encapsulation : std::uint8_t { kEthernet, kUdp };
std::string_view encapsulation_name(Encapsulation e);

enum class Opcode : std::uint8_t {
  kOpen = 0x00,
  kOpenAck = 0x01,
  kOpenNack = 0x02,
  kClose = 0x03,
  kCloseAck = 0x04,
  kCloseNack = 0x05,
  kPayload = 0x06,
  kAck = 0x07,
  kNack = 0x08,
  kNackFull = 0x09,
  kNackNolink = 0x0A,
};
inline constexpr int kOpcodeCount = 11;
std::string_view opcode_name(Opcode op);

// TTP byte 7 low nibble in the weft profile (sent as zero and ignored in compat).
inline constexpr std::uint8_t kFlagEndOfMessage = 0x01;  // last segment of a message
// PAYLOAD only: rx_id and the congestion byte carry a cumulative ACK (the spec's PAYLOAD RxID is
// "N/A"; weft uses it so request/response traffic needs no separate ACK frames).
inline constexpr std::uint8_t kFlagAckPiggyback = 0x02;
// The frame is protected (weft, after the handshake): a security header follows the TTP header,
// then the encrypted extension block and payload, then a 16 B tag (docs/security.md).
inline constexpr std::uint8_t kFlagProtected = 0x04;

// Security header of a protected frame (12 B): version, key generation, reserved, and the
// direction's 64-bit transmission counter (the AEAD nonce's variable part; every transmission,
// retransmissions included, takes a new one).
inline constexpr std::uint8_t kSecurityVersion = 1;
inline constexpr std::size_t kSecurityHeaderBytes = 12;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kProtectionOverhead = kSecurityHeaderBytes + kTagBytes;  // 28
struct SecurityHeader {
  std::uint8_t key_generation = 0;  // which key of the direction sealed it (mod 256)
  std::uint64_t counter = 0;
};

// Extension type codes (TTPoE `ttp_extn_types_enum`). The TTP `extension` byte names the type of
// the first TLV in the extension block; 0 means no block.
inline constexpr std::uint8_t kExtNone = 0x00;
inline constexpr std::uint8_t kExtFeatures = 0x10;  // feature negotiation (OPEN / OPEN_ACK)
inline constexpr std::uint8_t kExtHello = 0x11;     // authenticated key exchange (OPEN / OPEN_ACK)
inline constexpr std::uint8_t kExtSack = 0x20;      // selective ACK ranges
inline constexpr std::uint8_t kExtBlockVersion = 1;
inline constexpr std::size_t kExtBlockHeaderBytes = 4;  // version, reserved, length (u16)
inline constexpr std::size_t kMaxSackRanges = 16;

// The TTP transport header (18 B), decoded.
struct TtpHeader {
  Opcode opcode = Opcode::kOpen;
  std::uint8_t vc = 0;
  std::uint16_t entropy = 0;     // bytes 2-3: weft multipath entropy; zero in compat
  std::uint16_t epoch = 0;       // weft: receiver's epoch (OPEN: sender's own); zero in compat
  std::uint8_t congestion = 0;   // weft ACKs: CE-marked packets since the previous ACK
  std::uint8_t version = 0;      // byte 7 high nibble
  std::uint8_t flags = 0;        // byte 7 low nibble (kFlagEndOfMessage)
  bool cr = false;               // byte 8 bit 1: congestion reduced
  bool ce = false;               // byte 8 bit 0: congestion experienced (set by a switch)
  std::uint8_t extension = 0;    // type of the first TLV of the extension block, 0 = none
  std::uint32_t tx_id = 0;
  std::uint32_t rx_id = 0;
};

// Feature negotiation TLV (0x10), carried by weft OPEN and OPEN_ACK.
struct Features {
  std::uint8_t protocol_version = 1;  // weft extension protocol version
  std::uint16_t epoch = 0;            // the sender's own epoch (its receive epoch)
  std::uint16_t max_frame_bytes = 0;  // largest frame the sender accepts
  std::uint32_t recv_window_bytes = 0;  // receive buffer per connection
  std::uint32_t feature_bits = 0;     // kFeature* bits
};
inline constexpr std::uint32_t kFeatureSack = 1u << 0;
inline constexpr std::uint32_t kFeatureEcn = 1u << 1;
inline constexpr std::uint32_t kFeatureEntropy = 1u << 2;
inline constexpr std::uint32_t kFeatureMessages = 1u << 3;

// Handshake TLV (0x11), carried by OPEN and OPEN_ACK of a secured weft endpoint
// (docs/security.md). The signature and MAC cover the frame's TTP header (ce masked) and its whole
// extension block with these two fields zeroed.
struct Hello {
  std::uint8_t suites = 0;        // AEAD suites offered: bit 0 AES-256-GCM, bit 1 ChaCha20-Poly1305
  std::uint8_t auth = 0;          // kAuth* bits: which of signature / mac are present
  std::uint64_t issued = 0;       // the sender's handshake clock when it first sent this OPEN (ns)
  std::uint64_t echo_issued = 0;  // OPEN_ACK: the answered OPEN's issued; OPEN: 0
  std::array<std::uint8_t, 32> ephemeral{};       // X25519 public key
  std::array<std::uint8_t, 32> identity{};        // Ed25519 public key (zero without identity)
  std::array<std::uint8_t, 32> echo_ephemeral{};  // OPEN_ACK: the answered OPEN's ephemeral key
  std::array<std::uint8_t, 64> signature{};       // Ed25519, or zero
  std::array<std::uint8_t, 32> mac{};             // HMAC-SHA256 under the cluster key, or zero
};
inline constexpr std::uint8_t kAuthSignature = 0x01;
inline constexpr std::uint8_t kAuthClusterMac = 0x02;
inline constexpr std::size_t kHelloValueBytes = 1 + 1 + 2 + 8 + 8 + 32 + 32 + 32 + 64 + 32;  // 212
// Offsets of the signature and MAC from the end of an extension block whose last TLV is Hello.
inline constexpr std::size_t kHelloSignatureFromEnd = 64 + 32;
inline constexpr std::size_t kHelloMacFromEnd = 32;

struct SackRange {
  std::uint32_t first = 0;  // inclusive
  std::uint32_t last = 0;   // inclusive
};

// The weft extension block, decoded.
struct Extensions {
  bool has_features = false;
  Features features;
  bool has_hello = false;  // encoded last, after features
  Hello hello;
  std::uint8_t sack_count = 0;
  std::array<SackRange, kMaxSackRanges> sack{};
  bool empty() const { return !has_features && !has_hello && sack_count == 0; }
};

// A decoded frame. `payload` points into the buffer given to decode().
struct Frame {
  NodeId src_node = 0;  // Ethernet: TSH src node; UDP: 0 (the driver knows the address)
  NodeId dst_node = 0;
  TtpHeader ttp;
  Extensions ext;
  std::span<const std::uint8_t> payload;
  // Protected frames (ttp.flags & kFlagProtected, weft): decode() stops after the security
  // header; `sealed` is the ciphertext (extension block and payload) and `tag` follows it.
  // `aad_bytes` counts the bytes from the frame's start through the security header (the
  // associated data, with the ce bit masked). decode_body() parses the decrypted bytes.
  bool is_protected = false;
  SecurityHeader security;
  std::size_t aad_bytes = 0;
  std::span<const std::uint8_t> sealed;
  std::span<const std::uint8_t> tag;
};

enum class DecodeError : std::uint8_t {
  kNone = 0,
  kTruncated,       // shorter than its headers or than its length fields say
  kBadEtherType,    // not 0x9AC6
  kBadTth,          // TTH byte 0 is not 0x05 (styp 0, vers 0, tthl 5)
  kBadLength,       // TTH total-length and TSH length disagree, or exceed the frame
  kBadOpcode,       // opcode > 0x0A
  kBadVc,           // vc > 2
  kBadExtension,    // malformed extension block (version, length, TLV overrun, unknown type)
  kOversize,        // larger than the profile allows
  kBadSecurity,     // protected frame with an unknown security header version or reserved bits
};
inline constexpr int kDecodeErrorCount = 10;
std::string_view decode_error_name(DecodeError e);

struct DecodeOptions {
  Encapsulation encapsulation = Encapsulation::kEthernet;
  // Parse the extension block (weft). Compat ignores the extension byte as it ignores every
  // reserved field, since the reference sender leaves it uninitialised.
  bool parse_extensions = true;
  std::size_t max_frame_bytes = kWeftMaxFrameBytes;
};

// Decodes `bytes`. On failure returns the reason and leaves `out` unspecified.
[[nodiscard]] DecodeError decode(std::span<const std::uint8_t> bytes, const DecodeOptions& opt,
                                 Frame& out);

// Parses the decrypted body of a protected frame (`out` from decode()): the extension block named
// by out.ttp.extension, then the payload, which points into `plaintext`.
[[nodiscard]] DecodeError decode_body(std::span<const std::uint8_t> plaintext, Frame& out);

// Bytes of the extension block `ext` encodes to (0 when empty).
std::size_t extension_bytes(const Extensions& ext);
// Header bytes before the payload for this encapsulation and extension block.
std::size_t header_bytes(Encapsulation enc, const Extensions& ext);

// Encodes a frame into `out`. Fills ttp.extension from `ext`. Pads Ethernet frames to 64 B.
// Returns the frame length, or 0 if `out` is too small.
[[nodiscard]] std::size_t encode(Encapsulation enc, NodeId src_node, NodeId dst_node,
                                 const TtpHeader& ttp, const Extensions& ext,
                                 std::span<const std::uint8_t> payload, std::span<std::uint8_t> out);

// Encodes only the headers of a frame whose `payload_len` payload bytes the caller sends from
// elsewhere (scatter-gather: the payload follows the returned bytes on the wire). Returns the
// header length, or 0 if `out` is too small, the frame too long, or it would need Ethernet
// padding (use encode() for short frames).
[[nodiscard]] std::size_t encode_headers(Encapsulation enc, NodeId src_node, NodeId dst_node,
                                         const TtpHeader& ttp, const Extensions& ext,
                                         std::size_t payload_len, std::span<std::uint8_t> out);

// Where encode_protected() put the parts of a protected frame.
struct ProtectedLayout {
  std::size_t security_offset = 0;  // the security header; the associated data is [0, body_offset)
  std::size_t body_offset = 0;      // the extension block, then the payload: sealed in place
  std::size_t payload_offset = 0;
  std::size_t tag_offset = 0;
  std::size_t total = 0;
};
// Encodes a protected frame's headers (kFlagProtected set), the security header `sec` and the
// plaintext extension block, leaving `payload_len` bytes at layout.payload_offset for the caller
// (who seals body and payload in place and writes the tag). Returns the frame length, or 0 if
// `out` is too small or the frame too long. Never padded (it is at least 64 B on Ethernet).
[[nodiscard]] std::size_t encode_protected(Encapsulation enc, NodeId src_node, NodeId dst_node,
                                           const TtpHeader& ttp, const Extensions& ext,
                                           const SecurityHeader& sec, std::size_t payload_len,
                                           std::span<std::uint8_t> out, ProtectedLayout& layout);

// Offset of the TTP header in a frame of this encapsulation.
inline constexpr std::size_t ttp_offset(Encapsulation enc) {
  return enc == Encapsulation::kEthernet ? kEthHeaderBytes + kTthBytes + kTshBytes : 0;
}

// 32-bit serial-number arithmetic (RFC 1982): a is younger (later) than b.
inline constexpr bool id_after(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) > 0;
}
inline constexpr bool id_before(std::uint32_t a, std::uint32_t b) { return id_after(b, a); }
inline constexpr bool id_at_or_before(std::uint32_t a, std::uint32_t b) { return !id_after(a, b); }

// Offsets of fields a switch may rewrite in an encoded frame (for the simulator's ECN marking).
// Returns the byte offset of TTP byte 8 (cr|ce) for the encapsulation.
inline constexpr std::size_t ce_byte_offset(Encapsulation enc) {
  return (enc == Encapsulation::kEthernet ? kEthHeaderBytes + kTthBytes + kTshBytes : 0) + 8;
}
inline constexpr std::uint8_t kCeBit = 0x01;
inline constexpr std::uint8_t kCrBit = 0x02;

}  // namespace weft::transport::wire
