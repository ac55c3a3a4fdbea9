// The authenticated key exchange inside OPEN / OPEN_ACK (docs/security.md).
//
// Essay. Each endpoint holds one ephemeral X25519 key pair for its lifetime and offers its public
// half in the Hello TLV of every OPEN and OPEN_ACK, with the AEAD suites it runs, a stamp from its
// handshake clock, and its Ed25519 identity public key. The Hello is authenticated over the whole
// frame (TTP header and extension block) by an Ed25519 signature (checked against the allowlist)
// and/or an HMAC under a key derived from the cluster key, whichever the receiver requires. An
// OPEN_ACK echoes the OPEN's ephemeral key and stamp, so it cannot be replayed against another
// OPEN. An OPEN is stamped; the responder remembers the newest stamp per (peer, VC) and drops an
// OPEN at or below it (a replay), and an OPEN from a peer it has no record of must be stamped
// within handshake_window of its own clock. All of this happens before any link state exists.
//
// Both sides then compute one X25519 (cached per peer ephemeral key, so a pair of nodes does one
// exchange for all its links), PRK = HKDF-Extract(salt = cluster key or zeros, DH), and for each
// link HKDF-Expand(PRK, "weft v1 link" | suite | vc | epoch | stamp | both ephemeral keys | both
// identities) -> one 32 B traffic secret per direction. The link's identity (VC, epoch, and the
// stamp of the OPEN that created it) is in the info, so no two links share keys.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "crypto/key_slab.h"
#include "weft/crypto/credentials.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::crypto {

class Handshake {
 public:
  // `seed` and `node` derive the ephemeral key when creds.deterministic_ephemeral (tests only).
  Handshake(std::shared_ptr<const Credentials> creds, std::uint64_t seed, transport::NodeId node);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  const PublicKey& ephemeral_public() const { return eph_public_; }
  const PublicKey& identity_public() const { return creds_->identity_public(); }
  std::uint8_t suites() const;  // bit mask of Suite codes this node offers
  // The suite both offer (AES-256-GCM preferred), if any.
  std::optional<Suite> negotiate(std::uint8_t peer_suites) const;

  // A strictly increasing stamp from the handshake clock (now + offset, in ns).
  std::uint64_t stamp(transport::TimeNs now, std::int64_t offset);

  // Fills the Hello of an OPEN (answering == nullptr) or of the OPEN_ACK answering `answering`.
  void fill(transport::wire::Hello& h, std::uint64_t issued, const PublicKey& my_ephemeral,
            const transport::wire::Hello* answering) const;
  // Writes the signature and MAC into an encoded OPEN / OPEN_ACK whose extension block ends at
  // `ext_end` (Hello is its last TLV).
  void authenticate(std::span<std::uint8_t> frame, transport::wire::Encapsulation enc, std::size_t ext_end) const;

  enum class Verdict : std::uint8_t {
    kOk,
    kMissingAuth,    // the Hello lacks a method this node requires
    kNotAllowed,     // identity key not on the allowlist
    kBadSignature,
    kBadMac,
    kNoCommonSuite,
  };
  static std::string_view verdict_name(Verdict v);
  Verdict verify(std::span<const std::uint8_t> frame, transport::wire::Encapsulation enc, std::size_t ext_end,
                 const transport::wire::Hello& h) const;

  // Replay control of OPENs (per peer and VC). `peer_key` names the peer: its identity key when
  // the Hello is signed, else its node id.
  enum class Freshness : std::uint8_t { kNew, kRepeat, kStale };
  static std::string peer_key(const transport::wire::Hello& h, transport::NodeId node);
  Freshness check_open(const std::string& peer_key, std::uint8_t vc, std::uint64_t issued,
                       std::uint64_t local_clock, std::uint64_t window_ns) const;
  void record_open(const std::string& peer_key, std::uint8_t vc, std::uint64_t issued);

  // The generation-0 traffic secrets of a link. False when the DH result is degenerate (a
  // low-order peer key).
  bool link_secrets(const PublicKey& my_ephemeral, const PublicKey& peer_ephemeral,
                    const PublicKey& peer_identity, Suite suite, std::uint8_t vc, std::uint16_t epoch,
                    std::uint64_t issued, std::span<std::uint8_t, kHashBytes> tx,
                    std::span<std::uint8_t, kHashBytes> rx);

  std::size_t exchanges() const { return exchanges_; }  // X25519 computations so far
  std::size_t guarded_bytes() const { return prks_.raw().guarded_bytes() + eph_secret_.size() + mac_key_.size(); }

 private:
  std::size_t signed_message(std::span<const std::uint8_t> frame, transport::wire::Encapsulation enc,
                             std::size_t ext_end, std::uint8_t* out, std::size_t cap) const;
  struct KeyHash {
    std::size_t operator()(const PublicKey& k) const;
  };

  static constexpr std::size_t kMaxCachedPeers = 1u << 16;  // peer ephemeral keys whose PRK is kept
  std::shared_ptr<const Credentials> creds_;
  SecretBytes eph_secret_;
  PublicKey eph_public_{};
  SecretBytes mac_key_;
  std::uint64_t last_stamp_ = 0;
  std::unordered_map<PublicKey, std::uint32_t, KeyHash> prk_index_;  // peer ephemeral -> prk slot
  TypedSlab<Hash> prks_;
  std::unordered_map<std::string, std::array<std::uint64_t, transport::kVcCount>> opens_;
  std::size_t exchanges_ = 0;
};

}  // namespace weft::crypto
