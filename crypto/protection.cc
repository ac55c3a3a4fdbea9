#include "crypto/protection.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace weft::crypto {
namespace wire = transport::wire;

namespace {

constexpr std::string_view kLabelKey = "weft key";
constexpr std::string_view kLabelIv = "weft iv";
constexpr std::string_view kLabelNext = "weft next";

std::span<const std::uint8_t> label(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void nonce_for(const KeyIv& k, std::uint64_t counter, std::uint8_t* nonce) {
  std::memcpy(nonce, k.iv, kNonceBytes);
  for (int i = 0; i < 8; ++i) nonce[kNonceBytes - 1 - i] ^= static_cast<std::uint8_t>(counter >> (8 * i));
}

}  // namespace

Protection::Protection(const AeadProvider* aes, const AeadProvider* chacha, std::size_t cache_entries,
                       ProtectionLimits limits)
    : aes_(aes), chacha_(chacha), limits_(limits), links_(1024),
      cache_(cache_entries == 0 ? 1 : cache_entries),
      cache_size_(static_cast<std::uint32_t>(cache_entries == 0 ? 1 : cache_entries)) {
  if (limits_.usage_limit_packets == 0) limits_.usage_limit_packets = 1;
  for (std::uint32_t i = 0; i < cache_size_; ++i) (void)cache_.acquire();  // indices 0..n-1
}

Protection::~Protection() {
  for (std::uint32_t i = 0; i < cache_size_; ++i) {
    CacheEntry& e = cache_[i];
    if (e.provider != nullptr) e.provider->clear(e.state);  // frees provider contexts (OpenSSL)
  }
}

void Protection::derive(std::span<const std::uint8_t, kHashBytes> secret, KeyIv& out) {
  hkdf_expand(secret, label(kLabelKey), {out.key, kKeyBytes});
  hkdf_expand(secret, label(kLabelIv), {out.iv, kNonceBytes});
  out.key_id = next_key_id_++;
}

void Protection::next_secret(std::uint8_t* secret) {
  std::uint8_t next[kHashBytes];
  hkdf_expand({secret, kHashBytes}, label(kLabelNext), next);
  std::memcpy(secret, next, kHashBytes);
  sodium_memzero(next, sizeof next);
}

void Protection::install(LinkKeys& k, Suite suite, std::span<const std::uint8_t, kHashBytes> tx_secret,
                         std::span<const std::uint8_t, kHashBytes> rx_secret, transport::TimeNs now,
                         std::uint64_t initial_counter) {
  k.suite = suite;
  std::memcpy(k.tx_secret, tx_secret.data(), kHashBytes);
  derive(std::span<const std::uint8_t, kHashBytes>(k.tx_secret, kHashBytes), k.tx);
  k.tx_generation = 0;
  k.tx_counter = initial_counter;
  k.tx_in_generation = 0;
  k.tx_generation_started = now;
  // Receive: generation 0 is current; its successor is ready for the sender's first rotation.
  std::uint8_t s[kHashBytes];
  std::memcpy(s, rx_secret.data(), kHashBytes);
  derive(std::span<const std::uint8_t, kHashBytes>(s, kHashBytes), k.rx_cur);
  next_secret(s);
  derive(std::span<const std::uint8_t, kHashBytes>(s, kHashBytes), k.rx_next);
  std::memcpy(k.rx_secret, s, kHashBytes);
  sodium_memzero(s, sizeof s);
  std::memset(&k.rx_prev, 0, sizeof k.rx_prev);
  k.rx_generation = 0;
  k.window = ReplayWindow{};
  k.ready = true;
}

bool Protection::next_header(LinkKeys& k, transport::TimeNs now, wire::SecurityHeader& out, bool& rotated) {
  rotated = false;
  if (k.tx_counter == UINT64_MAX) return false;
  const std::uint64_t limit = std::min(limits_.rotate_packets, limits_.usage_limit_packets);
  const bool by_time = limits_.rotate_interval_ns != 0 && k.tx_in_generation > 0 &&
                       static_cast<std::uint64_t>(now - k.tx_generation_started) >= limits_.rotate_interval_ns;
  if (k.tx_in_generation >= limit || by_time) {
    next_secret(k.tx_secret);
    derive(std::span<const std::uint8_t, kHashBytes>(k.tx_secret, kHashBytes), k.tx);
    ++k.tx_generation;
    k.tx_in_generation = 0;
    k.tx_generation_started = now;
    rotated = true;
  }
  out.key_generation = k.tx_generation;
  out.counter = k.tx_counter++;
  ++k.tx_in_generation;
  return true;
}

const AeadState& Protection::state_for(Suite suite, const KeyIv& k) const {
  CacheEntry& e = cache_[static_cast<std::uint32_t>(k.key_id % cache_size_)];
  if (e.key_id != k.key_id) {
    const AeadProvider* p = provider(suite);
    if (e.provider != nullptr && e.provider != p) e.provider->clear(e.state);
    p->set_key(e.state, std::span<const std::uint8_t, kKeyBytes>(k.key, kKeyBytes));
    e.provider = p;
    e.key_id = k.key_id;
  }
  return e.state;
}

std::size_t Protection::associated_data(std::span<const std::uint8_t> frame, std::size_t aad_bytes,
                                        wire::Encapsulation enc, std::uint8_t* out) {
  std::memcpy(out, frame.data(), aad_bytes);
  out[wire::ce_byte_offset(enc)] &= static_cast<std::uint8_t>(~wire::kCeBit);
  if (enc == wire::Encapsulation::kEthernet) out[wire::kEthHeaderBytes + 1] = 0;  // TTH gw/reserved
  return aad_bytes;
}

void Protection::seal(const LinkKeys& k, const wire::SecurityHeader& sec, std::span<std::uint8_t> frame,
                      const wire::ProtectedLayout& layout, std::span<const std::uint8_t> payload) {
  std::uint8_t nonce[kNonceBytes];
  nonce_for(k.tx, sec.counter, nonce);
  const AeadState& st = state_for(k.suite, k.tx);
  const AeadProvider* p = provider(k.suite);
  const std::span<const std::uint8_t> ad = frame.first(layout.body_offset);
  std::uint8_t* body = frame.data() + layout.body_offset;
  const std::size_t ext_len = layout.payload_offset - layout.body_offset;
  const std::span<std::uint8_t, kTagBytes> tag(frame.data() + layout.tag_offset, kTagBytes);
  const bool payload_in_place = payload.empty() || payload.data() == frame.data() + layout.payload_offset;
  if (ext_len == 0 && !payload_in_place) {
    p->seal(st, nonce, ad, payload, body, tag);  // encrypt while copying the payload in
    return;
  }
  if (!payload_in_place) std::memcpy(frame.data() + layout.payload_offset, payload.data(), payload.size());
  p->seal(st, nonce, ad, {body, layout.tag_offset - layout.body_offset}, body, tag);
}

Protection::Verdict Protection::open(LinkKeys& k, std::span<const std::uint8_t> frame, const wire::Frame& f,
                                     std::uint8_t* out, bool& rotated) {
  rotated = false;
  const std::uint64_t counter = f.security.counter;
  if (k.window.check(counter) != ReplayWindow::Verdict::kFresh) return Verdict::kReplay;
  const std::uint8_t d = static_cast<std::uint8_t>(f.security.key_generation - k.rx_generation);
  const KeyIv* key = nullptr;
  KeyIv skipped{};  // d == 2: the sender rotated twice and every frame of the middle key was lost
  std::uint8_t skipped_secret[kHashBytes];
  if (d == 0) {
    key = &k.rx_cur;
  } else if (d == 1) {
    key = &k.rx_next;
  } else if (d == 255 && k.rx_prev.key_id != 0) {
    key = &k.rx_prev;
  } else if (d == 2) {
    std::memcpy(skipped_secret, k.rx_secret, kHashBytes);
    next_secret(skipped_secret);
    derive(std::span<const std::uint8_t, kHashBytes>(skipped_secret, kHashBytes), skipped);
    key = &skipped;
  }
  if (key == nullptr) return Verdict::kUnknownKey;
  std::uint8_t ad[wire::kL2HeaderBytes + wire::kSecurityHeaderBytes];
  if (f.aad_bytes > sizeof ad) return Verdict::kBadTag;
  associated_data(frame, f.aad_bytes, enc_, ad);
  std::uint8_t nonce[kNonceBytes];
  nonce_for(*key, counter, nonce);
  const AeadState& st = state_for(k.suite, *key);
  if (!provider(k.suite)->open(st, nonce, {ad, f.aad_bytes}, f.sealed,
                               std::span<const std::uint8_t, kTagBytes>(f.tag.data(), kTagBytes), out)) {
    if (d == 2) {
      sodium_memzero(&skipped, sizeof skipped);
      sodium_memzero(skipped_secret, sizeof skipped_secret);
    }
    return Verdict::kBadTag;
  }
  k.window.commit(counter);
  if (d == 1) {  // the sender rotated: next becomes current, and the one after is derived
    k.rx_prev = k.rx_cur;
    k.rx_cur = k.rx_next;
    next_secret(k.rx_secret);
    derive(std::span<const std::uint8_t, kHashBytes>(k.rx_secret, kHashBytes), k.rx_next);
    ++k.rx_generation;
    rotated = true;
  } else if (d == 2) {
    k.rx_prev = k.rx_next;
    k.rx_cur = skipped;
    std::memcpy(k.rx_secret, skipped_secret, kHashBytes);
    next_secret(k.rx_secret);
    derive(std::span<const std::uint8_t, kHashBytes>(k.rx_secret, kHashBytes), k.rx_next);
    k.rx_generation = static_cast<std::uint8_t>(k.rx_generation + 2);
    sodium_memzero(skipped_secret, sizeof skipped_secret);
    sodium_memzero(&skipped, sizeof skipped);
    rotated = true;
  }
  return Verdict::kOk;
}

}  // namespace weft::crypto
