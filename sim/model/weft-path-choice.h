// How a forwarding element picks among equal-cost ports — a switch (WeftSwitch) or an accelerator
// with several ports into one network (WeftHostApplication) — and the hash ECMP uses.
#pragma once

#include <cstdint>
#include <vector>

namespace ns3 {

// kFirst: the lowest port (as weft's in-memory simulator does); kEcmp: a hash of source,
// destination, VC and the TTP entropy (one path per flow); kSpray: per packet, round robin;
// kAdaptive: per packet, the port that drains soonest.
enum class WeftPathChoice : std::uint8_t { kFirst, kEcmp, kSpray, kAdaptive };

// splitmix64's finalizer over the flow's key: an even spread for ECMP.
inline std::uint64_t WeftEcmpHash(std::uint32_t src, std::uint32_t dst, int vc, std::uint16_t entropy) {
  std::uint64_t x = (std::uint64_t{src} << 40) ^ (std::uint64_t{dst} << 16) ^
                    (std::uint64_t(static_cast<unsigned>(vc)) << 56) ^ entropy;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Picks one of `ports` (not empty) by `choice`. `spray_counter` is the round-robin state;
// `drain_time(port)` is 0 for an idle port, else how long its backlog takes (any unit, the same
// for every port): adaptive takes the first idle port, else the one that drains soonest.
template <typename DrainTime>
int WeftChoosePort(WeftPathChoice choice, const std::vector<int>& ports, std::uint64_t& spray_counter,
                   std::uint32_t src, std::uint32_t dst, int vc, std::uint16_t entropy, DrainTime drain_time) {
  if (ports.size() == 1 || choice == WeftPathChoice::kFirst) return ports.front();
  if (choice == WeftPathChoice::kSpray) return ports[spray_counter++ % ports.size()];
  if (choice == WeftPathChoice::kEcmp) return ports[WeftEcmpHash(src, dst, vc, entropy) % ports.size()];
  int best = ports.front();
  double best_wait = -1;
  for (int p : ports) {
    const double wait = drain_time(p);
    if (wait <= 0) return p;
    if (best_wait < 0 || wait < best_wait) {
      best = p;
      best_wait = wait;
    }
  }
  return best;
}

}  // namespace ns3
