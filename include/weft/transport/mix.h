// mix64: the SplitMix64 step (Steele, Lea & Flood), a fast, well-mixing 64-bit hash of a counter.
// weft uses it wherever a deterministic stream is drawn from a seed: initial TxIDs, epochs and
// entropy in the endpoint, fault decisions in FaultShim and SimLoop, message bytes in scenarios
// and tools. Same input, same output on every platform and standard library.
#pragma once

#include <cstdint>

namespace weft::transport {

inline constexpr std::uint64_t kMixIncrement = 0x9E3779B97F4A7C15ull;

// The SplitMix64 output for state `x` (the state then advances by kMixIncrement).
inline constexpr std::uint64_t mix64(std::uint64_t x) {
  x += kMixIncrement;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace weft::transport
