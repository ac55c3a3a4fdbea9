#include "crypto/handshake.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace weft::crypto {
namespace wire = transport::wire;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

constexpr std::string_view kHelloContext = "weft hello v1";
constexpr std::string_view kLinkLabel = "weft v1 link";
constexpr std::string_view kMacLabel = "weft hello mac";
constexpr std::size_t kMaxSigned = 512;

}  // namespace

std::size_t Handshake::KeyHash::operator()(const PublicKey& k) const {
  std::size_t h;
  std::memcpy(&h, k.data(), sizeof h);  // public keys are uniformly random
  return h;
}

Handshake::Handshake(std::shared_ptr<const Credentials> creds, std::uint64_t seed, transport::NodeId node)
    : creds_(std::move(creds)), eph_secret_(crypto_scalarmult_SCALARBYTES), prks_(256) {
  ensure_sodium();
  if (creds_->deterministic_ephemeral) {
    std::uint8_t in[8 + 4];
    for (int i = 0; i < 8; ++i) in[i] = static_cast<std::uint8_t>(seed >> (8 * i));
    for (int i = 0; i < 4; ++i) in[8 + i] = static_cast<std::uint8_t>(node >> (8 * i));
    const Hash h = hmac_sha256(bytes_of("weft deterministic ephemeral (tests only)"), in);
    std::memcpy(eph_secret_.data(), h.data(), eph_secret_.size());
  } else {
    randombytes_buf(eph_secret_.data(), eph_secret_.size());
  }
  crypto_scalarmult_base(eph_public_.data(), eph_secret_.data());
  if (creds_->has_cluster_key()) {
    mac_key_ = SecretBytes(kHashBytes);
    Hash prk = hkdf_extract(bytes_of(kHelloContext), creds_->cluster_key());
    hkdf_expand(prk, bytes_of(kMacLabel), {mac_key_.data(), kHashBytes});
    sodium_memzero(prk.data(), prk.size());
  }
}

Handshake::~Handshake() = default;  // SecretBytes and the slab wipe themselves

std::uint8_t Handshake::suites() const {
  std::uint8_t m = 0;
  if (creds_->aes256gcm != nullptr) m |= static_cast<std::uint8_t>(Suite::kAes256Gcm);
  if (creds_->chacha20poly1305 != nullptr) m |= static_cast<std::uint8_t>(Suite::kChaCha20Poly1305);
  return m;
}

std::optional<Suite> Handshake::negotiate(std::uint8_t peer_suites) const {
  const std::uint8_t common = suites() & peer_suites;
  if (common & static_cast<std::uint8_t>(Suite::kAes256Gcm)) return Suite::kAes256Gcm;
  if (common & static_cast<std::uint8_t>(Suite::kChaCha20Poly1305)) return Suite::kChaCha20Poly1305;
  return std::nullopt;
}

std::uint64_t Handshake::stamp(transport::TimeNs now, std::int64_t offset) {
  const std::int64_t t = now + offset;
  std::uint64_t v = t > 0 ? static_cast<std::uint64_t>(t) : 0;
  if (v <= last_stamp_) v = last_stamp_ + 1;
  last_stamp_ = v;
  return v;
}

void Handshake::fill(wire::Hello& h, std::uint64_t issued, const PublicKey& my_ephemeral,
                     const wire::Hello* answering) const {
  h = wire::Hello{};
  h.suites = suites();
  h.auth = static_cast<std::uint8_t>((creds_->has_identity() ? wire::kAuthSignature : 0) |
                                     (creds_->has_cluster_key() ? wire::kAuthClusterMac : 0));
  h.issued = issued;
  h.ephemeral = my_ephemeral;
  if (creds_->has_identity()) h.identity = creds_->identity_public();
  if (answering != nullptr) {
    h.echo_issued = answering->issued;
    h.echo_ephemeral = answering->ephemeral;
  }
}

std::size_t Handshake::signed_message(std::span<const std::uint8_t> frame, wire::Encapsulation enc,
                                      std::size_t ext_end, std::uint8_t* out, std::size_t cap) const {
  const std::size_t ttp = wire::ttp_offset(enc);
  if (ext_end < ttp + wire::kTtpBytes + wire::kHelloSignatureFromEnd || ext_end > frame.size()) return 0;
  // On Ethernet the TSH node ids (source, destination) are signed too, so an OPEN cannot be
  // redirected to another node or claimed for another source. (UDP addresses are not in the
  // frame: over UDP the handshake authenticates identities, not addresses.)
  const std::size_t nodes = enc == wire::Encapsulation::kEthernet ? 6 : 0;
  const std::size_t n = kHelloContext.size() + nodes + (ext_end - ttp);
  if (n > cap) return 0;
  std::memcpy(out, kHelloContext.data(), kHelloContext.size());
  if (nodes != 0) std::memcpy(out + kHelloContext.size(), frame.data() + wire::kEthHeaderBytes + wire::kTthBytes, nodes);
  std::uint8_t* body = out + kHelloContext.size() + nodes;
  std::memcpy(body, frame.data() + ttp, ext_end - ttp);
  body[8] &= static_cast<std::uint8_t>(~wire::kCeBit);  // TTP byte 8: ce may be set in flight
  std::memset(out + n - wire::kHelloSignatureFromEnd, 0, wire::kHelloSignatureFromEnd);  // signature, MAC
  return n;
}

void Handshake::authenticate(std::span<std::uint8_t> frame, wire::Encapsulation enc, std::size_t ext_end) const {
  std::uint8_t msg[kMaxSigned];
  const std::size_t n = signed_message(frame, enc, ext_end, msg, sizeof msg);
  if (n == 0) throw std::logic_error("Handshake::authenticate: the frame has no Hello at its block's end");
  if (creds_->has_identity()) {
    crypto_sign_detached(frame.data() + ext_end - wire::kHelloSignatureFromEnd, nullptr, msg, n,
                         creds_->signing_key().data());
  }
  if (!mac_key_.empty()) {
    const Hash mac = hmac_sha256(mac_key_.span(), {msg, n});
    std::memcpy(frame.data() + ext_end - wire::kHelloMacFromEnd, mac.data(), mac.size());
  }
}

std::string_view Handshake::verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kMissingAuth: return "missing-auth";
    case Verdict::kNotAllowed: return "not-allowed";
    case Verdict::kBadSignature: return "bad-signature";
    case Verdict::kBadMac: return "bad-mac";
    case Verdict::kNoCommonSuite: return "no-common-suite";
  }
  return "?";
}

Handshake::Verdict Handshake::verify(std::span<const std::uint8_t> frame, wire::Encapsulation enc,
                                     std::size_t ext_end, const wire::Hello& h) const {
  const bool need_signature = !creds_->allowlist().empty();
  const bool need_mac = creds_->has_cluster_key();
  if ((need_signature && !(h.auth & wire::kAuthSignature)) || (need_mac && !(h.auth & wire::kAuthClusterMac))) {
    return Verdict::kMissingAuth;
  }
  std::uint8_t msg[kMaxSigned];
  const std::size_t n = signed_message(frame, enc, ext_end, msg, sizeof msg);
  if (n == 0) return Verdict::kMissingAuth;
  if (need_mac) {
    const Hash mac = hmac_sha256(mac_key_.span(), {msg, n});
    if (crypto_verify_32(mac.data(), h.mac.data()) != 0) return Verdict::kBadMac;
  }
  if (need_signature) {
    if (creds_->find_allowed(h.identity) == nullptr) return Verdict::kNotAllowed;
    if (crypto_sign_verify_detached(h.signature.data(), msg, n, h.identity.data()) != 0) {
      return Verdict::kBadSignature;
    }
  }
  if (!negotiate(h.suites)) return Verdict::kNoCommonSuite;
  return Verdict::kOk;
}

std::string Handshake::peer_key(const wire::Hello& h, transport::NodeId node) {
  std::string k;
  if (h.auth & wire::kAuthSignature) {
    k.assign(1, 'i');
    k.append(reinterpret_cast<const char*>(h.identity.data()), h.identity.size());
  } else {
    k = "n" + std::to_string(node);
  }
  return k;
}

Handshake::Freshness Handshake::check_open(const std::string& peer_key, std::uint8_t vc, std::uint64_t issued,
                                           std::uint64_t local_clock, std::uint64_t window_ns) const {
  auto it = opens_.find(peer_key);
  const std::uint64_t last = it == opens_.end() ? 0 : it->second[vc];
  if (last == 0) {  // no OPEN of this peer accepted on this VC yet: it must be recent
    const std::uint64_t age = issued > local_clock ? issued - local_clock : local_clock - issued;
    return age <= window_ns ? Freshness::kNew : Freshness::kStale;
  }
  if (issued > last) return Freshness::kNew;
  return issued == last ? Freshness::kRepeat : Freshness::kStale;
}

void Handshake::record_open(const std::string& peer_key, std::uint8_t vc, std::uint64_t issued) {
  auto& r = opens_[peer_key];
  r[vc] = std::max(r[vc], issued);
}

bool Handshake::link_secrets(const PublicKey& my_ephemeral, const PublicKey& peer_ephemeral,
                             const PublicKey& peer_identity, Suite suite, std::uint8_t vc, std::uint16_t epoch,
                             std::uint64_t issued, std::span<std::uint8_t, kHashBytes> tx,
                             std::span<std::uint8_t, kHashBytes> rx) {
  if (my_ephemeral != eph_public_) return false;  // (one ephemeral key per endpoint lifetime)
  std::uint32_t slot;
  auto it = prk_index_.find(peer_ephemeral);
  if (it != prk_index_.end()) {
    slot = it->second;
  } else {
    std::uint8_t dh[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(dh, eph_secret_.data(), peer_ephemeral.data()) != 0) return false;
    ++exchanges_;
    if (prk_index_.size() >= kMaxCachedPeers) {  // bound the cache: start afresh
      for (const auto& [pk, i] : prk_index_) prks_.release(i);
      prk_index_.clear();
    }
    slot = prks_.acquire();
    std::array<std::uint8_t, kClusterKeyBytes> zeros{};
    const std::span<const std::uint8_t> salt = creds_->has_cluster_key() ? creds_->cluster_key()
                                                                         : std::span<const std::uint8_t>(zeros);
    Hash prk = hkdf_extract(salt, dh);
    prks_[slot] = prk;
    sodium_memzero(prk.data(), prk.size());
    sodium_memzero(dh, sizeof dh);
    prk_index_.emplace(peer_ephemeral, slot);
  }
  const bool me_low = std::memcmp(my_ephemeral.data(), peer_ephemeral.data(), 32) < 0;
  const PublicKey& eph_lo = me_low ? my_ephemeral : peer_ephemeral;
  const PublicKey& eph_hi = me_low ? peer_ephemeral : my_ephemeral;
  const PublicKey& id_lo = me_low ? identity_public() : peer_identity;
  const PublicKey& id_hi = me_low ? peer_identity : identity_public();
  std::uint8_t info[64 + 4 * 32];
  std::size_t n = 0;
  std::memcpy(info, kLinkLabel.data(), kLinkLabel.size());
  n += kLinkLabel.size();
  info[n++] = static_cast<std::uint8_t>(suite);
  info[n++] = vc;
  info[n++] = static_cast<std::uint8_t>(epoch >> 8);
  info[n++] = static_cast<std::uint8_t>(epoch);
  for (int i = 7; i >= 0; --i) info[n++] = static_cast<std::uint8_t>(issued >> (8 * i));
  for (const PublicKey* k : {&eph_lo, &eph_hi, &id_lo, &id_hi}) {
    std::memcpy(info + n, k->data(), 32);
    n += 32;
  }
  std::uint8_t okm[2 * kHashBytes];
  hkdf_expand(prks_[slot], {info, n}, okm);
  // The first secret protects what the low-key side sends.
  std::memcpy(tx.data(), okm + (me_low ? 0 : kHashBytes), kHashBytes);
  std::memcpy(rx.data(), okm + (me_low ? kHashBytes : 0), kHashBytes);
  sodium_memzero(okm, sizeof okm);
  return true;
}

}  // namespace weft::crypto
