// Measuring AEAD providers and choosing one per suite (programs only; the core never reads a clock).
//
// measure_provider() checks that the provider round-trips one frame, then times sealing and
// opening separately. Each timed loop reads the clock once per batch, not per call, so the clock's
// own cost (~20 ns) does not bias small frames: a warm-up of up to 50 ms sizes the batch to about
// 1 ms of work, then whole batches run until `seconds` have passed. Sealing advances the nonce on
// every call, as the transport does; opening re-opens one sealed frame, which costs the same as
// opening fresh ones. Rates count payload bytes only.
#include "weft/crypto/select.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace weft::crypto {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `op` for about `seconds` (after a warm-up) and returns calls per second.
template <typename Op>
double calls_per_second(Op&& op, double seconds) {
  const double warmup_s = std::clamp(seconds / 4, 0.001, 0.05);
  std::uint64_t warm_calls = 0;
  const auto warm_start = Clock::now();
  do {
    op();
    ++warm_calls;
  } while (seconds_since(warm_start) < warmup_s);
  const double per_call_s = seconds_since(warm_start) / static_cast<double>(warm_calls);
  const auto batch = static_cast<std::uint64_t>(std::max(1.0, 1e-3 / per_call_s));

  std::uint64_t calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    for (std::uint64_t i = 0; i < batch; ++i) op();
    calls += batch;
    elapsed = seconds_since(start);
  } while (elapsed < seconds);
  return static_cast<double>(calls) / elapsed;
}

[[noreturn]] void die(const AeadProvider& p, const char* what) {
  std::fprintf(stderr, "weft crypto: measure_provider(%.*s %.*s): %s\n", static_cast<int>(p.name().size()),
               p.name().data(), static_cast<int>(suite_name(p.suite()).size()), suite_name(p.suite()).data(), what);
  std::abort();
}

}  // namespace

AeadSpeed measure_provider(const AeadProvider& p, std::size_t frame_bytes, double seconds, std::size_t ad_bytes) {
  ensure_sodium();
  std::vector<std::uint8_t> payload(frame_bytes), sealed(frame_bytes), opened(frame_bytes), ad(ad_bytes);
  randombytes_buf(payload.data(), payload.size());
  randombytes_buf(ad.data(), ad.size());
  std::array<std::uint8_t, kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  std::array<std::uint8_t, kNonceBytes> nonce{};
  std::array<std::uint8_t, kTagBytes> tag{};

  AeadState st{};
  p.set_key(st, key);
  sodium_memzero(key.data(), key.size());

  // Check the result before timing it.
  p.seal(st, nonce, ad, payload, sealed.data(), tag);
  if (!p.open(st, nonce, ad, sealed, tag, opened.data())) die(p, "a frame it sealed does not open");
  if (payload != opened) die(p, "a frame it sealed opens to different bytes");

  AeadSpeed speed;
  speed.provider = &p;
  speed.frame_bytes = frame_bytes;
  const auto bytes = static_cast<double>(frame_bytes);

  std::uint64_t counter = 1;
  std::array<std::uint8_t, kTagBytes> seal_tag{};
  auto seal_next = [&] {
    std::memcpy(nonce.data(), &counter, sizeof counter);
    ++counter;
    p.seal(st, nonce, ad, payload, sealed.data(), seal_tag);
  };
  speed.seal_gbytes_s = bytes * calls_per_second(seal_next, seconds) / 1e9;

  // Re-seal one frame under a known nonce for the open loop (the seal loop overwrote `sealed`).
  nonce.fill(0);
  p.seal(st, nonce, ad, payload, sealed.data(), tag);
  bool all_opened = true;
  auto open_one = [&] { all_opened &= p.open(st, nonce, ad, sealed, tag, opened.data()); };
  speed.open_gbytes_s = bytes * calls_per_second(open_one, seconds) / 1e9;
  if (!all_opened) die(p, "a frame failed to open during the timed loop");

  p.clear(st);
  return speed;
}

const AeadProvider* choose_provider(Suite s, std::size_t frame_bytes, double seconds_each,
                                    std::vector<AeadSpeed>* measured, double min_speedup) {
  const AeadProvider* baseline = default_provider(s);
  const AeadProvider* others[1] = {s == Suite::kAes256Gcm ? openssl_aes256gcm() : openssl_chacha20poly1305()};

  AeadSpeed base_speed;
  if (baseline != nullptr) {
    base_speed = measure_provider(*baseline, frame_bytes, seconds_each);
    if (measured != nullptr) measured->push_back(base_speed);
  }
  const AeadProvider* chosen = baseline;
  double chosen_rate = base_speed.min_gbytes_s();
  for (const AeadProvider* other : others) {
    if (other == nullptr) continue;
    const AeadSpeed speed = measure_provider(*other, frame_bytes, seconds_each);
    if (measured != nullptr) measured->push_back(speed);
    // Without a libsodium baseline any working provider beats none; otherwise it must clear the bar.
    const bool clears_bar = baseline == nullptr || speed.min_gbytes_s() >= min_speedup * base_speed.min_gbytes_s();
    if (clears_bar && (chosen == baseline || speed.min_gbytes_s() > chosen_rate)) {
      chosen = other;
      chosen_rate = speed.min_gbytes_s();
    }
  }
  return chosen;
}

}  // namespace weft::crypto
