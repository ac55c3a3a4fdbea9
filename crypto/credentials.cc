// Credentials and SecretBytes (weft/crypto/credentials.h). The key files are in keyfile.cc.
#include "weft/crypto/credentials.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

namespace weft::crypto {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

// ---- SecretBytes ---------------------------------------------------------------------------

SecretBytes::SecretBytes(std::size_t n) {
  if (n == 0) return;
  ensure_sodium();  // sodium_malloc's canary comes from sodium_init
  void* p = sodium_malloc(n);
  if (p == nullptr) throw std::bad_alloc();  // out of memory, or over RLIMIT_MEMLOCK
  p_ = static_cast<std::uint8_t*>(p);
  n_ = n;
}

SecretBytes::~SecretBytes() {
  if (p_ != nullptr) sodium_free(p_);  // wipes, then unmaps with its guard pages
}

SecretBytes::SecretBytes(SecretBytes&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    if (p_ != nullptr) sodium_free(p_);
    p_ = std::exchange(o.p_, nullptr);
    n_ = std::exchange(o.n_, 0);
  }
  return *this;
}

// ---- Credentials ---------------------------------------------------------------------------

Credentials::Credentials()
    : aes256gcm(default_provider(Suite::kAes256Gcm)),
      chacha20poly1305(default_provider(Suite::kChaCha20Poly1305)) {}

void Credentials::set_identity_seed(std::span<const std::uint8_t, kSeedBytes> seed) {
  SecretBytes sk(kSigningKeyBytes);
  PublicKey pk{};
  if (crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data()) != 0) {
    throw std::runtime_error("crypto_sign_seed_keypair failed");
  }
  signing_key_ = std::move(sk);
  identity_public_ = pk;
}

void Credentials::allow(AllowedPeer peer) {
  if (const AllowedPeer* dup = find_allowed(peer.key)) {
    auto quoted = [](const std::string& n) { return n.empty() ? std::string("(unnamed)") : "'" + n + "'"; };
    throw std::invalid_argument("allowlist: peer " + quoted(peer.name) + " has the same key as peer " +
                                quoted(dup->name) + " (" + to_hex(peer.key) + "); each key may appear once");
  }
  allowlist_.push_back(std::move(peer));
}

const AllowedPeer* Credentials::find_allowed(const PublicKey& key) const {
  auto it = std::find_if(allowlist_.begin(), allowlist_.end(), [&](const AllowedPeer& p) { return p.key == key; });
  return it == allowlist_.end() ? nullptr : &*it;
}

void Credentials::set_cluster_key(std::span<const std::uint8_t, kClusterKeyBytes> key) {
  SecretBytes k(kClusterKeyBytes);
  std::memcpy(k.data(), key.data(), kClusterKeyBytes);
  cluster_key_ = std::move(k);
}

std::string Credentials::problem() const {
  if (aes256gcm == nullptr && chacha20poly1305 == nullptr) {
    return "no AEAD provider: neither AES-256-GCM nor ChaCha20-Poly1305 is available";
  }
  if (!has_identity() && !has_cluster_key()) {
    return "no identity key and no cluster key (a node needs an identity key with an allowlist, a cluster "
           "key, or both; `weft keygen` writes them)";
  }
  if (has_identity() && allowlist_.empty() && !has_cluster_key()) {
    return "an identity key but an empty allowlist and no cluster key (no peer could be accepted: add the "
           "peers' public keys to the allowlist, or use a cluster key)";
  }
  return {};
}

}  // namespace weft::crypto
