// A null AEAD for the fuzz target only (never built into the library or the programs): "seals"
// by copying and writes an all-zero tag; "opens" any frame whose tag is all zero. With it, fuzzed
// bytes get past packet authentication and reach what only authenticated frames reach (the
// decrypted body's parser, the state machine after the handshake), as a real attacker cannot.
#pragma once

#include <algorithm>
#include <cstring>

#include "weft/crypto/aead.h"

namespace weft::fuzz {

class NullAead final : public crypto::AeadProvider {
 public:
  explicit NullAead(crypto::Suite s) : suite_(s) {}
  std::string_view name() const override { return "null (fuzzing only)"; }
  crypto::Suite suite() const override { return suite_; }
  void set_key(crypto::AeadState&, std::span<const std::uint8_t, crypto::kKeyBytes>) const override {}
  void clear(crypto::AeadState& st) const override { std::memset(&st, 0, sizeof st); }
  void seal(const crypto::AeadState&, std::span<const std::uint8_t, crypto::kNonceBytes>,
            std::span<const std::uint8_t>, std::span<const std::uint8_t> in, std::uint8_t* out,
            std::span<std::uint8_t, crypto::kTagBytes> tag) const override {
    if (!in.empty() && out != in.data()) std::memmove(out, in.data(), in.size());
    std::fill(tag.begin(), tag.end(), 0);
  }
  bool open(const crypto::AeadState&, std::span<const std::uint8_t, crypto::kNonceBytes>,
            std::span<const std::uint8_t>, std::span<const std::uint8_t> in,
            std::span<const std::uint8_t, crypto::kTagBytes> tag, std::uint8_t* out) const override {
    if (std::any_of(tag.begin(), tag.end(), [](std::uint8_t b) { return b != 0; })) return false;
    if (!in.empty() && out != in.data()) std::memmove(out, in.data(), in.size());
    return true;
  }

 private:
  crypto::Suite suite_;
};

}  // namespace weft::fuzz
