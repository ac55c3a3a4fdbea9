#include "crypto/replay_window.h"

namespace weft::crypto {

ReplayWindow::Verdict ReplayWindow::check(std::uint64_t counter) const {
  if (!any_ || counter > highest_) return Verdict::kFresh;
  if (highest_ - counter >= kWidth) return Verdict::kTooOld;
  return test(counter) ? Verdict::kDuplicate : Verdict::kFresh;
}

void ReplayWindow::commit(std::uint64_t counter) {
  if (any_ && counter <= highest_) {
    if (highest_ - counter < kWidth) set(counter);
    return;
  }
  // Slide: clear the bits of the counters skipped between the old highest and this one. Whole
  // words at once; the window is a ring of kWords words indexed by counter / 64.
  const std::uint64_t from = any_ ? highest_ + 1 : counter;
  if (!any_ || counter - from >= kWidth) {
    for (auto& w : bits_) w = 0;
  } else {
    std::uint64_t c = from;
    while (c <= counter) {
      if (c % 64 == 0 && counter - c >= 63) {
        bits_[(c / 64) % kWords] = 0;
        c += 64;
      } else {
        bits_[(c / 64) % kWords] &= ~(std::uint64_t{1} << (c % 64));
        ++c;
      }
    }
  }
  highest_ = counter;
  any_ = true;
  set(counter);
}

}  // namespace weft::crypto
