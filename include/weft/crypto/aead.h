// crypto: AEAD providers and the key schedule's primitives (HKDF-SHA256, SHA-256).
//
// A provider is one implementation of one AEAD. The transport seals every protected frame with
// the provider its credentials name for the negotiated suite; providers of the same suite are
// interchangeable byte for byte (tests/unit/crypto_aead_test.cc checks it). Key state lives in
// memory the caller owns (AeadState, kept in the endpoint's guarded slab): set_key() expands a
// 32 B key into it once, and seal()/open() reuse it for every packet.
//
// Like the transport core, nothing here reads a clock or does I/O; measure_provider() (which
// times a provider) lives in crypto/select.cc and is called by programs, never by the core.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace weft::crypto {

// AEAD suites, by their wire code (bit positions in the handshake's suite mask).
enum class Suite : std::uint8_t { kAes256Gcm = 1, kChaCha20Poly1305 = 2 };
std::string_view suite_name(Suite s);  // "aes-256-gcm", "chacha20-poly1305"

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;

// Expanded key state of one key. `bytes` holds what fits inline (libsodium's precomputed
// AES-256-GCM state is 512 B); `handle` is for providers that keep their own context (OpenSSL's
// EVP_CIPHER_CTX). Zero-initialised means "no key"; clear() wipes and releases it.
struct alignas(16) AeadState {
  alignas(16) unsigned char bytes[512];
  void* handle;
};

class AeadProvider {
 public:
  virtual ~AeadProvider() = default;
  virtual std::string_view name() const = 0;  // "libsodium", "openssl", ...
  virtual Suite suite() const = 0;
  // Expands `key` into `st` (which may hold an older key of this provider, or be zeroed).
  virtual void set_key(AeadState& st, std::span<const std::uint8_t, kKeyBytes> key) const = 0;
  // Wipes `st` and frees whatever set_key() allocated for it; `st` is zeroed afterwards.
  virtual void clear(AeadState& st) const = 0;
  // Encrypts `in` into `out` (same length; `out` may equal `in.data()`), authenticating `ad` too,
  // and writes the 16 B tag.
  virtual void seal(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce,
                    std::span<const std::uint8_t> ad, std::span<const std::uint8_t> in,
                    std::uint8_t* out, std::span<std::uint8_t, kTagBytes> tag) const = 0;
  // Verifies the tag and decrypts `in` into `out` (same length; may alias). Returns false, and
  // leaves `out` unspecified, when the tag does not verify.
  [[nodiscard]] virtual bool open(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce,
                                  std::span<const std::uint8_t> ad, std::span<const std::uint8_t> in,
                                  std::span<const std::uint8_t, kTagBytes> tag, std::uint8_t* out) const = 0;
};

// The built-in providers. Each returns a process-wide instance, or nullptr where it cannot run:
// libsodium's AES-256-GCM needs AES-NI and PCLMUL (crypto_aead_aes256gcm_is_available()).
// Every function initialises libsodium (sodium_init) as needed.
const AeadProvider* libsodium_aes256gcm();
const AeadProvider* libsodium_chacha20poly1305();
const AeadProvider* openssl_aes256gcm();
const AeadProvider* openssl_chacha20poly1305();

// The default provider of a suite (libsodium), or nullptr if the suite cannot run here.
const AeadProvider* default_provider(Suite s);

// Calls sodium_init() once; aborts with a message if libsodium cannot initialise.
void ensure_sodium();

// ---- key schedule primitives --------------------------------------------------------------

inline constexpr std::size_t kHashBytes = 32;
using Hash = std::array<std::uint8_t, kHashBytes>;

Hash sha256(std::span<const std::uint8_t> data);
Hash hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data);
// RFC 5869 HKDF with SHA-256.
Hash hkdf_extract(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm);
// Fills `out` (at most 255 * 32 B) from `prk` and `info`; throws std::length_error if `out` is longer.
void hkdf_expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                 std::span<std::uint8_t> out);

}  // namespace weft::crypto
