// Choosing an AEAD provider by measuring it (programs call this at start-up; the transport core
// never reads a clock).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "weft/crypto/aead.h"

namespace weft::crypto {

// Single-core throughput of one provider, sealing and opening `frame_bytes` payloads with
// `ad_bytes` of associated data, for about `seconds` each.
struct AeadSpeed {
  const AeadProvider* provider = nullptr;
  std::size_t frame_bytes = 0;
  double seal_gbytes_s = 0;  // GB/s = 1e9 bytes per second, payload bytes only
  double open_gbytes_s = 0;
  double min_gbytes_s() const { return seal_gbytes_s < open_gbytes_s ? seal_gbytes_s : open_gbytes_s; }
};
AeadSpeed measure_provider(const AeadProvider& p, std::size_t frame_bytes, double seconds,
                           std::size_t ad_bytes = 30);

// Picks the provider for suite `s`: libsodium unless another built-in provider of the same suite
// measures at least `min_speedup` times faster (min of seal and open) at `frame_bytes` in this
// run. `measured` receives every measurement taken (for the report). Returns nullptr if the
// suite cannot run here.
const AeadProvider* choose_provider(Suite s, std::size_t frame_bytes, double seconds_each,
                                    std::vector<AeadSpeed>* measured = nullptr,
                                    double min_speedup = 1.3);

}  // namespace weft::crypto
