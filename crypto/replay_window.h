// Anti-replay: a sliding bitmap window over a direction's 64-bit transmission counter
// (RFC 4303 §3.4.3, 1024 wide instead of 32/64 so multipath reordering does not read as replay).
//
// check() before the AEAD, commit() only after the tag verified: a forged frame must never move
// the window.
#pragma once

#include <cstdint>

namespace weft::crypto {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kWidth = 1024;
  enum class Verdict : std::uint8_t { kFresh, kDuplicate, kTooOld };

  Verdict check(std::uint64_t counter) const;
  void commit(std::uint64_t counter);
  std::uint64_t highest() const { return highest_; }
  bool empty() const { return !any_; }

 private:
  bool test(std::uint64_t c) const { return (bits_[(c / 64) % kWords] >> (c % 64)) & 1u; }
  void set(std::uint64_t c) { bits_[(c / 64) % kWords] |= std::uint64_t{1} << (c % 64); }
  static constexpr std::uint64_t kWords = kWidth / 64;
  std::uint64_t bits_[kWords] = {};
  std::uint64_t highest_ = 0;
  bool any_ = false;
};

}  // namespace weft::crypto
