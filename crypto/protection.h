// Packet protection for one endpoint: per-link keys, sealing and opening frames, key rotation,
// anti-replay (docs/security.md).
//
// Essay. A secured link has two directions; each has a 32 B traffic secret per key generation,
// from which the AEAD key and a 12 B IV are expanded (HKDF-Expand with labels "weft key",
// "weft iv"); the next generation's secret is HKDF-Expand(secret, "weft next"), and the old one is
// wiped, so a key stolen later does not open earlier traffic. The nonce is the IV XOR the
// direction's 64-bit transmission counter, carried in the security header: every transmission,
// retransmissions included, takes the next counter value, and a counter value is never used twice
// under one key. The sender moves to the next generation after rotate_packets frames (never more
// than usage_limit_packets) or rotate_interval_us; the receiver holds the previous, current and
// next generation's keys, so rotation needs no handshake and loses nothing in flight.
//
// Receiving runs in this order: the replay window (cheap, before the AEAD), the key generation,
// the AEAD, and only then is the counter committed to the window. Each failure is a distinct
// Verdict the endpoint counts per link.
//
// Key records live in the endpoint's guarded slab. Expanded AEAD states (libsodium's AES-GCM
// state is 512 B) are not kept per link: a small direct-mapped cache, also in guarded memory,
// holds them for the keys in use, so idle links cost only their raw keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/key_slab.h"
#include "crypto/replay_window.h"
#include "weft/crypto/aead.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::crypto {

struct KeyIv {
  std::uint8_t key[kKeyBytes];
  std::uint8_t iv[kNonceBytes];
  std::uint64_t key_id;  // endpoint-unique; 0 = no key
};

// One secured link's key material and handshake record (an entry of the guarded slab).
struct LinkKeys {
  // Handshake.
  std::uint8_t my_ephemeral[32];
  std::uint8_t peer_ephemeral[32];
  std::uint8_t peer_identity[32];
  std::uint64_t my_issued;         // our OPEN's or OPEN_ACK's stamp (kept so repeats are identical)
  std::uint64_t peer_issued;       // the newest stamp of the peer's Hellos on this link
  std::uint64_t peer_open_issued;  // the stamp of the peer's OPEN our OPEN_ACK answers (0: none)
  bool ready;                 // traffic keys derived
  Suite suite;
  // Sending.
  std::uint8_t tx_secret[kHashBytes];  // of generation tx_generation
  KeyIv tx;
  std::uint8_t tx_generation;
  std::uint64_t tx_counter;     // next counter value
  std::uint64_t tx_in_generation;
  transport::TimeNs tx_generation_started;
  // Receiving.
  std::uint8_t rx_secret[kHashBytes];  // of generation rx_generation + 1 (rx_next's)
  KeyIv rx_prev, rx_cur, rx_next;
  std::uint8_t rx_generation;
  ReplayWindow window;
};

struct ProtectionLimits {
  std::uint64_t rotate_packets = 1ull << 22;
  std::uint64_t rotate_interval_ns = 0;  // 0: never
  std::uint64_t usage_limit_packets = 1ull << 23;
};

class Protection {
 public:
  Protection(const AeadProvider* aes, const AeadProvider* chacha, std::size_t cache_entries,
             ProtectionLimits limits);
  ~Protection();
  Protection(const Protection&) = delete;
  Protection& operator=(const Protection&) = delete;

  // Link records.
  std::uint32_t acquire() { return links_.acquire(); }
  void release(std::uint32_t i) { links_.release(i); }
  LinkKeys& link(std::uint32_t i) const { return links_[i]; }
  const KeySlab& slab() const { return links_.raw(); }
  // Guarded bytes held: link records and the expanded-key cache.
  std::size_t guarded_bytes() const { return links_.raw().guarded_bytes() + cache_.raw().guarded_bytes(); }

  // Installs the traffic secrets of generation 0 (from the handshake) and marks `k` ready.
  void install(LinkKeys& k, Suite suite, std::span<const std::uint8_t, kHashBytes> tx_secret,
               std::span<const std::uint8_t, kHashBytes> rx_secret, transport::TimeNs now,
               std::uint64_t initial_counter);

  // The security header of the next frame sent on `k`: rotates first when due. Returns false
  // when the transmission counter is exhausted (the link must fail; it never wraps).
  // `rotated` is set when this call moved to a new key generation.
  [[nodiscard]] bool next_header(LinkKeys& k, transport::TimeNs now, transport::wire::SecurityHeader& out,
                                 bool& rotated);
  // Seals a frame encode_protected() laid out with security header `sec` (from next_header):
  // frame[0, body_offset) is the associated data;
  // the extension block is at body_offset and the payload is `payload` (copied into the frame
  // while encrypting, unless it already sits at payload_offset); the tag goes at tag_offset.
  void seal(const LinkKeys& k, const transport::wire::SecurityHeader& sec, std::span<std::uint8_t> frame,
            const transport::wire::ProtectedLayout& layout, std::span<const std::uint8_t> payload);

  enum class Verdict : std::uint8_t { kOk, kReplay, kUnknownKey, kBadTag };
  // Opens protected frame `f` (decoded from `frame`) into `out` (at least f.sealed.size() bytes);
  // on kOk the counter is committed to the window and the key generation may advance
  // (`rotated` is then set).
  Verdict open(LinkKeys& k, std::span<const std::uint8_t> frame, const transport::wire::Frame& f,
               std::uint8_t* out, bool& rotated);

  // The associated data of a frame: its bytes up to the end of the security header, with the
  // fields a switch or gateway may rewrite (ce bit, TTH byte 1) zeroed.
  static std::size_t associated_data(std::span<const std::uint8_t> frame, std::size_t aad_bytes,
                                     transport::wire::Encapsulation enc, std::uint8_t* out);

  const AeadProvider* provider(Suite s) const { return s == Suite::kAes256Gcm ? aes_ : chacha_; }

 private:
  struct CacheEntry {
    AeadState state;
    std::uint64_t key_id;
    const AeadProvider* provider;
  };
  const AeadState& state_for(Suite suite, const KeyIv& k) const;
  void derive(std::span<const std::uint8_t, kHashBytes> secret, KeyIv& out);
  static void next_secret(std::uint8_t* secret);

  const AeadProvider* aes_;
  const AeadProvider* chacha_;
  ProtectionLimits limits_;
  TypedSlab<LinkKeys> links_;
  TypedSlab<CacheEntry> cache_;
  std::uint32_t cache_size_;
  std::uint64_t next_key_id_ = 1;
  transport::wire::Encapsulation enc_ = transport::wire::Encapsulation::kEthernet;

 public:
  void set_encapsulation(transport::wire::Encapsulation e) { enc_ = e; }
};

}  // namespace weft::crypto
