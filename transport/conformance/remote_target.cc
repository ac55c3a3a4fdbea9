// RemoteTarget: the conformance tester's view of an implementation in another process or on
// another host, through a real datapath and real time. It is a thin adapter: inject() is one
// tx_burst, collect() drains rx_burst, advance() sleeps on the datapath's descriptor (ppoll, so
// sub-millisecond waits stay sub-millisecond) while keeping what arrives.
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "weft/conformance/conformance.h"

namespace weft::conformance {

using transport::monotonic_now_ns;

namespace {

constexpr std::size_t kRxBurst = 32;
constexpr TimeNs kRefusedRetryNs = 100'000;  // pause before offering a refused datagram again
constexpr TimeNs kBusyPollNs = 20'000;        // poll interval of a datapath without a descriptor

// Waits up to `ns` for `fd` to become readable (fd < 0: just sleeps).
void wait_readable(int fd, TimeNs ns) {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  if (fd < 0) {
    ::nanosleep(&ts, nullptr);
    return;
  }
  pollfd p{fd, POLLIN, 0};
  (void)::ppoll(&p, 1, &ts, nullptr);
}

}  // namespace

RemoteTarget::RemoteTarget(transport::Datapath& datapath, NodeId implementation, const Options& options)
    : datapath_(datapath), implementation_(implementation), options_(options), rx_(kRxBurst) {}

Profile RemoteTarget::profile() const { return options_.profile; }

TargetInfo RemoteTarget::info() const {
  TargetInfo i;
  i.profile = options_.profile;
  i.encapsulation = datapath_.encapsulation();
  i.implementation_node = options_.implementation_node;
  i.tester_node = options_.tester_node;
  i.reply_window_ns = options_.reply_window_ns;
  i.replay_deadline_ns = options_.replay_deadline_ns;
  i.host_control = false;
  i.atomic_bursts = false;
  i.reports_state = false;
  return i;
}

transport::TxFrame RemoteTarget::tx_frame(std::span<const std::uint8_t> frame) const {
  // The VC picks the DSCP / 802.1p class; a frame with a bad VC (a malformed-frame clause) goes
  // out in the data class.
  const std::size_t vc_at = wire::ce_byte_offset(datapath_.encapsulation()) - 8 + 1;
  Vc vc = Vc::kData;
  if (frame.size() > vc_at && frame[vc_at] < transport::kVcCount) vc = static_cast<Vc>(frame[vc_at]);
  return transport::TxFrame{frame, implementation_, vc, 0};
}

void RemoteTarget::send(std::span<const transport::TxFrame> frames) {
  const TimeNs give_up = monotonic_now_ns() + options_.send_retry_ns;
  while (!frames.empty()) {
    const std::size_t sent = datapath_.tx_burst(frames);
    frames = frames.subspan(sent);
    if (frames.empty()) return;
    if (monotonic_now_ns() >= give_up) {
      throw std::runtime_error("the datapath (" + datapath_.describe() + ") refused a " +
                               std::to_string(frames.front().bytes.size()) + " B frame for " +
                               std::to_string(options_.send_retry_ns / 1'000'000) + " ms");
    }
    receive();  // keep draining while waiting, so nothing the implementation sends is lost
    wait_readable(-1, kRefusedRetryNs);
  }
}

void RemoteTarget::inject(std::span<const std::uint8_t> frame) {
  const transport::TxFrame tx = tx_frame(frame);
  send({&tx, 1});
}

void RemoteTarget::inject_burst(const std::vector<Bytes>& frames) {
  std::vector<transport::TxFrame> tx;
  tx.reserve(frames.size());
  for (const Bytes& f : frames) tx.push_back(tx_frame(f));
  send(tx);
}

void RemoteTarget::receive() {
  while (true) {
    const std::size_t n = datapath_.rx_burst(rx_);
    for (std::size_t i = 0; i < n; ++i) {
      if (rx_[i].peer != implementation_) {
        ++foreign_frames_;
        continue;
      }
      inbox_.emplace_back(rx_[i].bytes.begin(), rx_[i].bytes.end());
    }
    if (n < rx_.size()) return;
  }
}

std::vector<Bytes> RemoteTarget::collect() {
  receive();
  std::vector<Bytes> out;
  out.swap(inbox_);
  return out;
}

void RemoteTarget::advance(TimeNs dt_ns) {
  const TimeNs until = monotonic_now_ns() + std::max<TimeNs>(dt_ns, 0);
  while (true) {
    receive();
    const TimeNs now = monotonic_now_ns();
    if (now >= until) return;
    // A busy-poll datapath (no descriptor) is polled every few microseconds.
    const int fd = datapath_.wait_fd();
    wait_readable(fd, fd < 0 ? std::min<TimeNs>(until - now, kBusyPollNs) : until - now);
  }
}

}  // namespace weft::conformance
