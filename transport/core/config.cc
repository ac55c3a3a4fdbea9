#include "weft/transport/config.h"

#include <algorithm>

namespace weft::transport {

std::uint32_t max_payload_bytes(const EndpointConfig& c) {
  const std::uint32_t headers = static_cast<std::uint32_t>(wire::header_bytes(c.encapsulation, {}));
  if (c.profile == Profile::kTtpoeCompat) {
    std::uint32_t frame = std::min<std::uint32_t>(c.max_frame_bytes, wire::kCompatMaxFrameBytes);
    return std::min<std::uint32_t>(frame - headers, wire::kCompatMaxPayloadBytes);
  }
  std::uint32_t frame = std::clamp<std::uint32_t>(c.max_frame_bytes, 256, wire::kWeftMaxFrameBytes);
  const std::uint32_t protection = c.credentials ? static_cast<std::uint32_t>(wire::kProtectionOverhead) : 0;
  return frame - headers - protection;
}

EndpointConfig with_host_timers(EndpointConfig c) {
  c.rto_min_us = 2000;
  c.delay_target_us = 1000;
  return c;
}

}  // namespace weft::transport
