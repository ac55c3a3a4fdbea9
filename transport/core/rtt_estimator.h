// RttEstimator: smoothed RTT, RTT variance, minimum RTT and the retransmission timeout.
//
// RFC 6298 arithmetic (alpha 1/8, beta 1/4, RTO = SRTT + 4 * RTTVAR) in nanoseconds, clamped to
// [rto_min, rto_max], doubled by each backoff() and reset by reset_backoff() when an ACK
// acknowledges new data (Karn's rule alone would keep a go-back-N sender, whose every segment is a
// retransmission, backed off for good). Both profiles
// use it, so comparisons between them isolate the loss-recovery scheme.
#pragma once

#include "weft/transport/types.h"

namespace weft::transport {

class RttEstimator {
 public:
  RttEstimator(TimeNs rto_initial, TimeNs rto_min, TimeNs rto_max)
      : rto_(rto_initial), rto_min_(rto_min), rto_max_(rto_max) {}

  void on_sample(TimeNs rtt);
  void backoff();
  void reset_backoff() { backoff_ = 1; }
  bool has_sample() const { return srtt_ > 0; }
  TimeNs srtt() const { return srtt_; }
  TimeNs rttvar() const { return rttvar_; }
  TimeNs min_rtt() const { return min_rtt_; }
  TimeNs latest() const { return latest_; }
  TimeNs rto() const { return rto_ * backoff_ < rto_max_ ? rto_ * backoff_ : rto_max_; }

 private:
  TimeNs srtt_ = 0;
  TimeNs rttvar_ = 0;
  TimeNs min_rtt_ = 0;
  TimeNs latest_ = 0;
  TimeNs rto_;
  TimeNs rto_min_;
  TimeNs rto_max_;
  TimeNs backoff_ = 1;
};

}  // namespace weft::transport
