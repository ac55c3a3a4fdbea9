#include "transport/core/congestion.h"

#include <algorithm>

namespace weft::transport {

CongestionController::CongestionController(const EndpointConfig& c)
    : cwnd_(c.congestion_control ? c.initial_window_bytes : c.window_bytes),
      max_(c.window_bytes),
      min_(std::max<std::uint64_t>(c.min_window_bytes, max_payload_bytes(c))),
      gain_(1.0 / static_cast<double>(1u << c.dctcp_gain_shift)),
      delay_target_(us_to_ns(c.delay_target_us)),
      enabled_(c.congestion_control),
      pacing_(c.pacing && c.congestion_control) {
  cwnd_ = std::clamp(cwnd_, min_, max_);
}

void CongestionController::decrease_to(std::uint64_t target) {
  cwnd_ = std::max(min_, std::min(cwnd_, target));
  ssthresh_ = cwnd_;
  ++decreases_;
}

void CongestionController::on_ack(std::uint64_t acked_bytes, std::uint32_t acked_packets,
                                  std::uint32_t ce_packets, bool window_done, std::uint32_t mss) {
  if (!enabled_) return;
  window_acked_packets_ += acked_packets;
  window_ce_packets_ += std::min(ce_packets, acked_packets);
  if (window_done && window_acked_packets_ > 0) {
    const double f =
        window_ce_packets_ == 0 ? 0.0 : static_cast<double>(window_ce_packets_) / static_cast<double>(window_acked_packets_);
    alpha_ = (1.0 - gain_) * alpha_ + gain_ * f;
    // Unmarked windows decay alpha geometrically; flush it to zero long before it turns
    // subnormal (arithmetic on subnormals costs ~100 cycles: it showed in small-message RTTs).
    if (alpha_ < 1e-9) alpha_ = 0.0;
    if (window_ce_packets_ > 0) {
      decrease_to(static_cast<std::uint64_t>(static_cast<double>(cwnd_) * (1.0 - alpha_ / 2.0)));
    }
    window_acked_packets_ = 0;
    window_ce_packets_ = 0;
  }
  if (ce_packets > 0 || cwnd_ >= max_) return;  // no growth on marks, nor beyond the cap
  if (cwnd_ < ssthresh_) {
    cwnd_ += acked_bytes;
  } else if (cwnd_ > 0) {
    cwnd_ += std::max<std::uint64_t>(1, std::uint64_t{mss} * acked_bytes / cwnd_);
  }
  cwnd_ = std::min(cwnd_, max_);
}

void CongestionController::on_rtt(TimeNs sample, TimeNs min_rtt, TimeNs srtt, TimeNs now) {
  if (!enabled_ || min_rtt <= 0) return;
  TimeNs excess = sample - min_rtt - delay_target_;
  if (excess <= 0) return;
  if (last_delay_cut_ >= 0 && now - last_delay_cut_ < srtt) return;
  last_delay_cut_ = now;
  double cut = std::min(0.5, 0.8 * static_cast<double>(excess) / static_cast<double>(sample));
  decrease_to(static_cast<std::uint64_t>(static_cast<double>(cwnd_) * (1.0 - cut)));
}

TimeNs CongestionController::pacing_gap(std::uint32_t bytes, TimeNs srtt) const {
  if (!pacing_ || srtt <= 0 || cwnd_ == 0) return 0;
  double gain = cwnd_ < ssthresh_ ? 2.0 : 1.25;
  // rate = gain * cwnd / srtt bytes per ns; gap = bytes / rate.
  double gap = static_cast<double>(bytes) * static_cast<double>(srtt) / (gain * static_cast<double>(cwnd_));
  return static_cast<TimeNs>(gap);
}

}  // namespace weft::transport
