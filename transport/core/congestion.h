// CongestionController: the weft profile's sending window and pacing rate.
//
// Essay. weft runs on lossy Ethernet without PFC, where a dropped frame usually means a bad link
// or a collision of bursts, not a standing queue; so loss never shrinks the window here (loss is
// repaired by SACK/RACK and the RTO). Congestion is read from two signals that only queues make:
//  - ECN: switches set CE in the TTP header above a queue threshold; the receiver echoes the count
//    of CE-marked packets in each ACK's congestion byte. As in DCTCP, alpha is a moving average
//    (gain g = 1/2^shift) of the marked fraction over one window of data, and a window that saw
//    marks cuts cwnd by alpha/2 — gentle for a few marks, half for a full queue.
//  - Delay: an RTT sample more than delay_target above the minimum RTT cuts cwnd in proportion to
//    the excess (at most by half, at most once per SRTT), as Swift does, for fabrics that do not
//    mark.
// Between signals the window grows: doubling per RTT until the first signal (slow start), then
// one maximum segment per RTT. The window never exceeds window_bytes (the same cap the compat
// profile uses as its fixed window) nor drops below min_window_bytes. Pacing spreads a window over
// an SRTT (gain 2 in slow start, 1.25 after), so bursts from many senders do not all land at once.
#pragma once

#include <cstdint>

#include "weft/transport/config.h"
#include "weft/transport/types.h"

namespace weft::transport {

class CongestionController {
 public:
  explicit CongestionController(const EndpointConfig& c);

  // An ACK newly acknowledged `acked_bytes` in `acked_packets`, of which `ce_packets` were marked.
  // `window_done` is true when the observation window (about one RTT of data) ended.
  void on_ack(std::uint64_t acked_bytes, std::uint32_t acked_packets, std::uint32_t ce_packets,
              bool window_done, std::uint32_t mss);
  // An RTT sample, with the current estimator state.
  void on_rtt(TimeNs sample, TimeNs min_rtt, TimeNs srtt, TimeNs now);

  std::uint64_t cwnd() const { return cwnd_; }
  double alpha() const { return alpha_; }
  std::uint64_t decreases() const { return decreases_; }
  // Nanoseconds to pace `bytes` at the current rate (0 when not pacing or no RTT yet).
  TimeNs pacing_gap(std::uint32_t bytes, TimeNs srtt) const;

 private:
  void decrease_to(std::uint64_t target);
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = UINT64_MAX;
  std::uint64_t max_;
  std::uint64_t min_;
  double alpha_ = 1.0;
  double gain_;
  TimeNs delay_target_;
  TimeNs last_delay_cut_ = -1;
  std::uint64_t window_acked_packets_ = 0;
  std::uint64_t window_ce_packets_ = 0;
  std::uint64_t decreases_ = 0;
  bool enabled_;
  bool pacing_;
};

}  // namespace weft::transport
