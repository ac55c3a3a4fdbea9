// Credentials: what an endpoint authenticates with, and key files for users.
//
// A node authenticates its handshakes with an Ed25519 identity key (peers accept it when its
// public key is on their allowlist), with a cluster pre-shared key (every member holds the same
// 32 B key), or with both. Secrets live in guarded memory (sodium_malloc: guard pages, mlock,
// wiped on free) from the moment they are read until the Credentials object is destroyed.
//
// Files (text, written by `weft keygen`; docs/security.md shows each):
//   identity secret   "weft-identity-secret-v1 <hex of the 32 B Ed25519 seed>"  (mode 0600)
//   identity public   "weft-identity-public-v1 <hex of the 32 B public key> [name]"
//   allowlist         one public line per peer, '#' comments; the name is for logs
//   cluster key       "weft-cluster-key-v1 <hex of 32 B>"                       (mode 0600)
// Loading refuses secret files that other users can read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/crypto/aead.h"

namespace weft::crypto {

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kSeedBytes = 32;        // Ed25519 seed
inline constexpr std::size_t kSigningKeyBytes = 64;  // libsodium's Ed25519 secret key (seed || public)
inline constexpr std::size_t kSignatureBytes = 64;
inline constexpr std::size_t kClusterKeyBytes = 32;

using PublicKey = std::array<std::uint8_t, kPublicKeyBytes>;

// Hex of a public key (64 lowercase digits).
std::string to_hex(std::span<const std::uint8_t> bytes);

struct AllowedPeer {
  std::string name;
  PublicKey key{};
};

// A block of guarded memory (sodium_malloc), wiped and freed on destruction. Move-only.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n);
  ~SecretBytes();
  SecretBytes(SecretBytes&& o) noexcept;
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  std::uint8_t* data() { return p_; }
  const std::uint8_t* data() const { return p_; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  std::span<const std::uint8_t> span() const { return {p_, n_}; }

 private:
  std::uint8_t* p_ = nullptr;
  std::size_t n_ = 0;
};

class Credentials {
 public:
  Credentials();

  // --- identity (Ed25519) ---
  // Sets the identity from a 32 B seed (the identity secret file's content).
  void set_identity_seed(std::span<const std::uint8_t, kSeedBytes> seed);
  bool has_identity() const { return !signing_key_.empty(); }
  const PublicKey& identity_public() const { return identity_public_; }
  // libsodium's 64 B Ed25519 secret key; empty span without an identity.
  std::span<const std::uint8_t> signing_key() const { return signing_key_.span(); }

  // --- allowlist: peers whose identity keys are accepted ---
  void allow(AllowedPeer peer);
  const std::vector<AllowedPeer>& allowlist() const { return allowlist_; }
  // The allowlisted peer with this key, or nullptr.
  const AllowedPeer* find_allowed(const PublicKey& key) const;

  // --- cluster pre-shared key ---
  void set_cluster_key(std::span<const std::uint8_t, kClusterKeyBytes> key);
  bool has_cluster_key() const { return !cluster_key_.empty(); }
  std::span<const std::uint8_t> cluster_key() const { return cluster_key_.span(); }

  // --- AEAD providers by suite; nullptr: this node does not offer the suite. Defaults:
  //     libsodium's, where the CPU runs it (AES-256-GCM needs AES-NI). ---
  const AeadProvider* aes256gcm = nullptr;
  const AeadProvider* chacha20poly1305 = nullptr;
  const AeadProvider* provider(Suite s) const {
    return s == Suite::kAes256Gcm ? aes256gcm : chacha20poly1305;
  }

  // Tests and simulations only: derive the endpoint's ephemeral X25519 key from its rng_seed
  // instead of the system CSPRNG, so a seeded run reproduces byte for byte. Never set in programs.
  bool deterministic_ephemeral = false;

  // Empty when these credentials can authenticate a handshake; otherwise what is missing
  // ("no identity key and no cluster key", "an identity key but an empty allowlist", ...).
  std::string problem() const;

 private:
  SecretBytes signing_key_;
  PublicKey identity_public_{};
  std::vector<AllowedPeer> allowlist_;
  SecretBytes cluster_key_;
};

// ---- key files ---------------------------------------------------------------------------
// Each loader throws std::runtime_error with a message naming the file and what is wrong.

// Writes a new identity: the secret file (0600, refuses to overwrite) and the public line, which
// it returns (append it to peers' allowlists). `name` goes into the public line.
std::string write_identity(const std::string& secret_path, const std::string& public_path,
                           const std::string& name);
// Writes a new cluster key file (0600, refuses to overwrite).
void write_cluster_key(const std::string& path);

void load_identity_secret(const std::string& path, Credentials& into);
void load_allowlist(const std::string& path, Credentials& into);
void load_cluster_key(const std::string& path, Credentials& into);
// Reads a cluster key from an inherited file descriptor (the format of the file), then closes it.
void load_cluster_key_fd(int fd, Credentials& into);
// A fresh random cluster key (for processes a launcher spawns and hands the key to).
void generate_cluster_key(Credentials& into);
// The cluster key file content for `c` (to write into a pipe for a child process).
std::string cluster_key_text(const Credentials& c);

}  // namespace weft::crypto
