// format_trace_line: the golden-trace line of one frame. The layout is documented with the
// declaration in sim_loop.h and must not drift: golden files are diffed against it.

#include <cinttypes>
#include <cstdio>
#include <string>

#include "weft/transport/sim_loop.h"
#include "weft/transport/wire.h"

namespace weft::transport::sim {

std::string format_trace_line(TimeNs time, int from, int to, std::span<const std::uint8_t> frame,
                              bool dropped) {
  // Integer arithmetic only, so the same nanosecond prints the same text everywhere.
  const std::uint64_t magnitude =
      time < 0 ? 0 - static_cast<std::uint64_t>(time) : static_cast<std::uint64_t>(time);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%s%" PRIu64 ".%03" PRIu64, time < 0 ? "-" : "",
                magnitude / 1000, magnitude % 1000);
  char direction[32];
  std::snprintf(direction, sizeof direction, "n%d->n%d", from, to);
  char text[160];
  std::snprintf(text, sizeof text, "%12s us  %-10s  ", stamp, direction);
  std::string line(text);

  wire::DecodeOptions options;
  options.encapsulation = wire::Encapsulation::kEthernet;
  options.parse_extensions = true;
  options.max_frame_bytes = wire::kWeftMaxFrameBytes;
  wire::Frame f;
  const wire::DecodeError error = wire::decode(frame, options, f);
  if (error != wire::DecodeError::kNone) {
    const std::string reason(wire::decode_error_name(error));
    std::snprintf(text, sizeof text, "MALFORMED(%s) len=%zu", reason.c_str(), frame.size());
    line += text;
  } else {
    const std::string opcode(wire::opcode_name(f.ttp.opcode));
    std::snprintf(text, sizeof text, "%-11s vc%u tx=%08" PRIx32 " rx=%08" PRIx32 " len=%zu",
                  opcode.c_str(), unsigned{f.ttp.vc}, f.ttp.tx_id, f.ttp.rx_id, f.payload.size());
    line += text;
    if ((f.ttp.flags & wire::kFlagEndOfMessage) != 0) line += " eom";
    if (f.ttp.ce) line += " ce";
    if (f.ttp.cr) line += " cr";
    if (f.ttp.congestion != 0) line += " cong=" + std::to_string(unsigned{f.ttp.congestion});
    if (f.ext.has_features) line += " feat";
    if (f.ext.sack_count != 0) line += " sack=" + std::to_string(unsigned{f.ext.sack_count});
  }
  if (dropped) line += " DROP";
  return line;
}

}  // namespace weft::transport::sim
