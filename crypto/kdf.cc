// SHA-256, HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869) on libsodium.
//
// libsodium 1.0.18 has no HKDF, so it is written here on HMAC: extract is one HMAC keyed with the
// salt; expand chains T(i) = HMAC(PRK, T(i-1) | info | i) for i = 1..N and keeps the first L bytes.
// An empty salt is the RFC's "HashLen zeros": HMAC pads its key with zeros to the block size, so
// both give the same PRK. Intermediate blocks and HMAC states are wiped before returning.
#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "weft/crypto/aead.h"

namespace weft::crypto {

static_assert(crypto_hash_sha256_BYTES == kHashBytes && crypto_auth_hmacsha256_BYTES == kHashBytes);

namespace {
// libsodium declares the HMAC key pointer nonnull even for an empty key, and an empty span may
// hold nullptr.
const std::uint8_t* nonnull(std::span<const std::uint8_t> s) {
  static const std::uint8_t kNoBytes[1] = {0};
  return s.data() != nullptr ? s.data() : kNoBytes;
}
}  // namespace

Hash sha256(std::span<const std::uint8_t> data) {
  ensure_sodium();
  Hash h{};
  crypto_hash_sha256(h.data(), data.data(), data.size());
  return h;
}

Hash hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data) {
  ensure_sodium();
  crypto_auth_hmacsha256_state st;
  Hash mac{};
  crypto_auth_hmacsha256_init(&st, nonnull(key), key.size());  // any key length; > 64 B is hashed first
  crypto_auth_hmacsha256_update(&st, data.data(), data.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  sodium_memzero(&st, sizeof st);
  return mac;
}

Hash hkdf_extract(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm) {
  return hmac_sha256(salt, ikm);
}

void hkdf_expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info, std::span<std::uint8_t> out) {
  constexpr std::size_t kMaxBytes = 255 * kHashBytes;
  if (out.size() > kMaxBytes) {
    throw std::length_error("hkdf_expand: " + std::to_string(out.size()) +
                            " B requested; RFC 5869 allows at most 255 * 32 = 8160 B of output");
  }
  ensure_sodium();
  crypto_auth_hmacsha256_state st;
  Hash block{};
  std::size_t done = 0;
  for (unsigned counter = 1; done < out.size(); ++counter) {
    const auto byte = static_cast<std::uint8_t>(counter);
    crypto_auth_hmacsha256_init(&st, nonnull(prk), prk.size());
    if (counter > 1) crypto_auth_hmacsha256_update(&st, block.data(), block.size());
    crypto_auth_hmacsha256_update(&st, info.data(), info.size());
    crypto_auth_hmacsha256_update(&st, &byte, 1);
    crypto_auth_hmacsha256_final(&st, block.data());
    const std::size_t n = std::min(kHashBytes, out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
  }
  sodium_memzero(&st, sizeof st);
  sodium_memzero(block.data(), block.size());
}

}  // namespace weft::crypto
