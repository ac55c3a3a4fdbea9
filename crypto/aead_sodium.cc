// libsodium AEAD providers, and the suite names and defaults shared by every provider.
//
// AES-256-GCM uses libsodium's precomputed interface: set_key() runs the key schedule and the
// GHASH table set-up once (crypto_aead_aes256gcm_beforenm) into AeadState::bytes, and every
// packet then costs only the CTR and GHASH passes. libsodium 1.0.18 implements it with AES-NI and
// PCLMUL only, so the provider does not exist on CPUs without them. ChaCha20-Poly1305 (IETF,
// 96-bit nonce) has no expanded key: the 32 B key itself is the state.
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "weft/crypto/aead.h"

namespace weft::crypto {
namespace {

static_assert(sizeof(crypto_aead_aes256gcm_state) <= sizeof(AeadState::bytes),
              "libsodium's AES-256-GCM state must fit AeadState::bytes");
static_assert(alignof(crypto_aead_aes256gcm_state) <= alignof(AeadState),
              "AeadState must be aligned for libsodium's AES-256-GCM state");
static_assert(crypto_aead_aes256gcm_KEYBYTES == kKeyBytes && crypto_aead_aes256gcm_NPUBBYTES == kNonceBytes &&
              crypto_aead_aes256gcm_ABYTES == kTagBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kKeyBytes &&
              crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kNonceBytes &&
              crypto_aead_chacha20poly1305_ietf_ABYTES == kTagBytes);

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "weft crypto (libsodium): %s\n", what);
  std::abort();
}

crypto_aead_aes256gcm_state* gcm_state(AeadState& st) {
  return reinterpret_cast<crypto_aead_aes256gcm_state*>(st.bytes);
}
const crypto_aead_aes256gcm_state* gcm_state(const AeadState& st) {
  return reinterpret_cast<const crypto_aead_aes256gcm_state*>(st.bytes);
}

// libsodium declares the message pointers nonnull even when the length is 0, and an empty span
// may hold nullptr; point those at a byte that is never read or written instead.
std::uint8_t g_no_bytes[1];
std::uint8_t* nonnull(std::uint8_t* p) { return p != nullptr ? p : g_no_bytes; }
const std::uint8_t* nonnull(const std::uint8_t* p) { return p != nullptr ? p : g_no_bytes; }

class SodiumAes256Gcm final : public AeadProvider {
 public:
  std::string_view name() const override { return "libsodium"; }
  Suite suite() const override { return Suite::kAes256Gcm; }

  void set_key(AeadState& st, std::span<const std::uint8_t, kKeyBytes> key) const override {
    sodium_memzero(&st, sizeof st);
    if (crypto_aead_aes256gcm_beforenm(gcm_state(st), key.data()) != 0) die("aes256gcm_beforenm failed");
  }

  void clear(AeadState& st) const override { sodium_memzero(&st, sizeof st); }

  void seal(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::uint8_t* out,
            std::span<std::uint8_t, kTagBytes> tag) const override {
    unsigned long long tag_len = 0;
    if (crypto_aead_aes256gcm_encrypt_detached_afternm(nonnull(out), tag.data(), &tag_len, in.data(), in.size(),
                                                       ad.data(), ad.size(), nullptr, nonce.data(),
                                                       gcm_state(st)) != 0) {
      die("aes256gcm_encrypt_detached_afternm failed (message too long?)");
    }
  }

  bool open(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::span<const std::uint8_t, kTagBytes> tag,
            std::uint8_t* out) const override {
    return crypto_aead_aes256gcm_decrypt_detached_afternm(out, nullptr, nonnull(in.data()), in.size(), tag.data(),
                                                          ad.data(), ad.size(), nonce.data(), gcm_state(st)) == 0;
  }
};

class SodiumChaCha20Poly1305 final : public AeadProvider {
 public:
  std::string_view name() const override { return "libsodium"; }
  Suite suite() const override { return Suite::kChaCha20Poly1305; }

  void set_key(AeadState& st, std::span<const std::uint8_t, kKeyBytes> key) const override {
    sodium_memzero(&st, sizeof st);
    std::copy(key.begin(), key.end(), st.bytes);
  }

  void clear(AeadState& st) const override { sodium_memzero(&st, sizeof st); }

  void seal(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::uint8_t* out,
            std::span<std::uint8_t, kTagBytes> tag) const override {
    unsigned long long tag_len = 0;
    if (crypto_aead_chacha20poly1305_ietf_encrypt_detached(nonnull(out), tag.data(), &tag_len, in.data(), in.size(),
                                                           ad.data(), ad.size(), nullptr, nonce.data(),
                                                           st.bytes) != 0) {
      die("chacha20poly1305_ietf_encrypt_detached failed (message too long?)");
    }
  }

  bool open(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::span<const std::uint8_t, kTagBytes> tag,
            std::uint8_t* out) const override {
    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, nullptr, nonnull(in.data()), in.size(), tag.data(),
                                                              ad.data(), ad.size(), nonce.data(), st.bytes) == 0;
  }
};

}  // namespace

void ensure_sodium() {
  static const bool initialised = [] {
    if (sodium_init() < 0) {
      std::fprintf(stderr,
                   "weft crypto: sodium_init() failed; libsodium cannot run in this process "
                   "(check that /dev/urandom or getrandom() is available)\n");
      std::abort();
    }
    return true;
  }();
  (void)initialised;
}

const AeadProvider* libsodium_aes256gcm() {
  ensure_sodium();
  static const SodiumAes256Gcm provider;
  return crypto_aead_aes256gcm_is_available() != 0 ? &provider : nullptr;
}

const AeadProvider* libsodium_chacha20poly1305() {
  ensure_sodium();
  static const SodiumChaCha20Poly1305 provider;
  return &provider;
}

const AeadProvider* default_provider(Suite s) {
  switch (s) {
    case Suite::kAes256Gcm:
      return libsodium_aes256gcm();
    case Suite::kChaCha20Poly1305:
      return libsodium_chacha20poly1305();
  }
  return nullptr;
}

std::string_view suite_name(Suite s) {
  switch (s) {
    case Suite::kAes256Gcm:
      return "aes-256-gcm";
    case Suite::kChaCha20Poly1305:
      return "chacha20-poly1305";
  }
  return "unknown-suite";
}

}  // namespace weft::crypto
