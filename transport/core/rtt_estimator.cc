#include "transport/core/rtt_estimator.h"

#include <algorithm>

namespace weft::transport {

void RttEstimator::on_sample(TimeNs rtt) {
  if (rtt <= 0) rtt = 1;
  latest_ = rtt;
  min_rtt_ = min_rtt_ == 0 ? rtt : std::min(min_rtt_, rtt);
  if (srtt_ == 0) {
    srtt_ = rtt;
    rttvar_ = rtt / 2;
  } else {
    TimeNs err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
    rttvar_ = (3 * rttvar_ + err) / 4;
    srtt_ = (7 * srtt_ + rtt) / 8;
  }
  rto_ = std::clamp(srtt_ + 4 * rttvar_, rto_min_, rto_max_);
  backoff_ = 1;
}

void RttEstimator::backoff() {
  if (rto_ * backoff_ < rto_max_) backoff_ *= 2;
}

}  // namespace weft::transport
