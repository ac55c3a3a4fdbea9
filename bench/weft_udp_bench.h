// Two-process measurements of weft over the UDP datapath on loopback, for
// `weft bench transport --datapath udp`. Each call forks one child (the peer); like the raw
// baselines in bench/baselines, nothing is pinned, so the figures compare.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "weft/transport/types.h"

namespace weft::crypto {
class Credentials;
}

namespace weft::bench {

struct GoodputResult {
  bool ok = false;
  std::string error;         // what failed, when !ok
  double gbps = 0;           // message bytes * 8 / (first send .. CLOSE acknowledged)
  double seconds = 0;
  std::uint64_t retransmits = 0;
  std::uint64_t frames_sent = 0;
};

struct GoodputSpec {
  transport::Profile profile = transport::Profile::kWeft;
  std::uint64_t total_bytes = 256ull << 20;
  std::uint32_t message_bytes = 1u << 20;
  std::uint32_t frame_bytes = 9000;  // max TTP frame (UDP payload)
  bool busy_poll = false;
  bool congestion_control = true;  // false: the fixed window of window_bytes (as compat)
  double timeout_s = 60;
  // Both processes seal every frame with these (the child inherits them by fork); null: plaintext.
  std::shared_ptr<const crypto::Credentials> credentials;
};
GoodputResult weft_udp_goodput(const GoodputSpec& spec);

struct RttResult {
  bool ok = false;
  std::string error;
  double p50_us = 0;
  double p99_us = 0;
  int samples = 0;
};
// Round trips of `bytes`-byte messages echoed by the child (after `warmup` unmeasured ones).
RttResult weft_udp_rtt(int iterations, std::uint32_t bytes, bool busy_poll, int warmup = 1000,
                       std::shared_ptr<const crypto::Credentials> credentials = nullptr);

}  // namespace weft::bench
