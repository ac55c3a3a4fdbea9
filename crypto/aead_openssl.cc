// OpenSSL EVP AEAD providers (AES-256-GCM, ChaCha20-Poly1305), byte-for-byte equal to libsodium's.
//
// set_key() allocates two EVP_CIPHER_CTX in AeadState::handle, one keyed for sealing and one for
// opening, so the key schedule (AES round keys, GHASH table) runs once per key and a state used
// for both directions never has to switch a context between encrypt and decrypt. Per packet only
// the IV is set: EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, enc) leaves OpenSSL 3's key
// schedule alone (its GCM and ChaCha20-Poly1305 init functions rekey only when key != nullptr)
// and resets the per-message state. A context is mutated through a const AeadState, so one state
// may be sealed on by one thread and opened on by another at once, but not sealed on (or opened
// on) by two threads at once.
#include <openssl/evp.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "weft/crypto/aead.h"

namespace weft::crypto {
namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "weft crypto (openssl): %s\n", what);
  std::abort();
}

struct EvpContexts {
  const EVP_CIPHER* cipher;
  EVP_CIPHER_CTX* seal;
  EVP_CIPHER_CTX* open;
};

int int_length(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) die("AEAD input longer than INT_MAX bytes");
  return static_cast<int>(n);
}

class OpenSslAead final : public AeadProvider {
 public:
  // `cipher` is fetched once for the process; nullptr when this OpenSSL lacks it.
  OpenSslAead(Suite suite, const char* algorithm)
      : suite_(suite), cipher_(EVP_CIPHER_fetch(nullptr, algorithm, nullptr)) {
    if (cipher_ == nullptr) return;
    if (EVP_CIPHER_get_key_length(cipher_) != static_cast<int>(kKeyBytes) ||
        EVP_CIPHER_get_iv_length(cipher_) != static_cast<int>(kNonceBytes)) {
      die("fetched cipher has an unexpected key or IV length");
    }
  }
  ~OpenSslAead() override { EVP_CIPHER_free(cipher_); }
  OpenSslAead(const OpenSslAead&) = delete;
  OpenSslAead& operator=(const OpenSslAead&) = delete;

  bool available() const { return cipher_ != nullptr; }

  std::string_view name() const override { return "openssl"; }
  Suite suite() const override { return suite_; }

  void set_key(AeadState& st, std::span<const std::uint8_t, kKeyBytes> key) const override {
    auto* c = static_cast<EvpContexts*>(st.handle);
    if (c == nullptr) {
      c = new EvpContexts{nullptr, EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_new()};
      if (c->seal == nullptr || c->open == nullptr) die("EVP_CIPHER_CTX_new failed (out of memory)");
      st.handle = c;
    }
    // Pass the cipher only when the contexts are new or were keyed for another cipher; otherwise
    // rekey the existing contexts in place.
    const EVP_CIPHER* cipher = c->cipher == cipher_ ? nullptr : cipher_;
    if (EVP_CipherInit_ex(c->seal, cipher, nullptr, key.data(), nullptr, 1) != 1 ||
        EVP_CipherInit_ex(c->open, cipher, nullptr, key.data(), nullptr, 0) != 1) {
      die("EVP_CipherInit_ex failed to set the key");
    }
    c->cipher = cipher_;
  }

  void clear(AeadState& st) const override {
    if (auto* c = static_cast<EvpContexts*>(st.handle)) {
      EVP_CIPHER_CTX_free(c->seal);  // cleanses the key schedule
      EVP_CIPHER_CTX_free(c->open);
      delete c;
    }
    OPENSSL_cleanse(&st, sizeof st);
  }

  void seal(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::uint8_t* out,
            std::span<std::uint8_t, kTagBytes> tag) const override {
    EVP_CIPHER_CTX* ctx = contexts(st)->seal;
    int len = 0;
    int done = 0;
    std::uint8_t scratch[16];
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), 1) != 1) die("seal: setting the IV failed");
    if (!ad.empty() && EVP_CipherUpdate(ctx, nullptr, &len, ad.data(), int_length(ad.size())) != 1) {
      die("seal: AAD update failed");
    }
    if (!in.empty()) {
      if (EVP_CipherUpdate(ctx, out, &len, in.data(), int_length(in.size())) != 1) die("seal: update failed");
      done = len;
    }
    if (EVP_CipherFinal_ex(ctx, out != nullptr ? out + done : scratch, &len) != 1) die("seal: final failed");
    done += len;
    if (static_cast<std::size_t>(done) != in.size()) die("seal: output length differs from input length");
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1) {
      die("seal: reading the tag failed");
    }
  }

  bool open(const AeadState& st, std::span<const std::uint8_t, kNonceBytes> nonce, std::span<const std::uint8_t> ad,
            std::span<const std::uint8_t> in, std::span<const std::uint8_t, kTagBytes> tag,
            std::uint8_t* out) const override {
    EVP_CIPHER_CTX* ctx = contexts(st)->open;
    int len = 0;
    int done = 0;
    std::uint8_t scratch[16];
    std::uint8_t expected[kTagBytes];
    std::memcpy(expected, tag.data(), kTagBytes);  // SET_TAG takes a non-const pointer
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), 0) != 1) die("open: setting the IV failed");
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagBytes), expected) != 1) {
      die("open: setting the tag failed");
    }
    if (!ad.empty() && EVP_CipherUpdate(ctx, nullptr, &len, ad.data(), int_length(ad.size())) != 1) {
      die("open: AAD update failed");
    }
    if (!in.empty()) {
      if (EVP_CipherUpdate(ctx, out, &len, in.data(), int_length(in.size())) != 1) die("open: update failed");
      done = len;
    }
    const bool ok = EVP_CipherFinal_ex(ctx, out != nullptr ? out + done : scratch, &len) == 1;
    if (!ok) {
      if (!in.empty()) OPENSSL_cleanse(out, in.size());  // never hand out unauthenticated plaintext
      return false;
    }
    done += len;
    if (static_cast<std::size_t>(done) != in.size()) die("open: output length differs from input length");
    return true;
  }

 private:
  static const EvpContexts* contexts(const AeadState& st) {
    const auto* c = static_cast<const EvpContexts*>(st.handle);
    if (c == nullptr) die("seal/open on an AeadState without a key (call set_key first)");
    return c;
  }

  Suite suite_;
  EVP_CIPHER* cipher_;
};

}  // namespace

const AeadProvider* openssl_aes256gcm() {
  ensure_sodium();
  static const OpenSslAead provider(Suite::kAes256Gcm, "AES-256-GCM");
  return provider.available() ? &provider : nullptr;
}

const AeadProvider* openssl_chacha20poly1305() {
  ensure_sodium();
  static const OpenSslAead provider(Suite::kChaCha20Poly1305, "ChaCha20-Poly1305");
  return provider.available() ? &provider : nullptr;
}

}  // namespace weft::crypto
