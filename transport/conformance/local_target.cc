#include <algorithm>
#include <stdexcept>
#include <string>

#include "weft/conformance/conformance.h"

namespace weft::conformance {

using transport::EndpointConfig;
using transport::EventKind;
using transport::us_to_ns;

// ---- Target defaults: an outside implementation may support none of the host actions ---------

void Target::inject_burst(const std::vector<Bytes>& frames) {
  for (const Bytes& f : frames) inject(f);
}

HostStatus Target::host_open(NodeId, Vc) { return {HostStatus::kUnsupported, "host_open"}; }
HostStatus Target::host_send(NodeId, Vc, std::span<const std::uint8_t>) {
  return {HostStatus::kUnsupported, "host_send"};
}
HostStatus Target::host_close(NodeId, Vc) { return {HostStatus::kUnsupported, "host_close"}; }
HostStatus Target::host_hold_delivery(bool) { return {HostStatus::kUnsupported, "host_hold_delivery"}; }
std::optional<std::vector<Bytes>> Target::host_received(NodeId, Vc) { return std::nullopt; }
std::optional<LinkState> Target::state(NodeId, Vc) const { return std::nullopt; }

// ---- LocalTarget ------------------------------------------------------------------------------

namespace {

constexpr TimeNs kStartTime = 1'000'000;  // 1 ms: a non-zero origin, so "time 0" bugs show
// A timer that stays due after on_timer() would make advance() spin; give up after this many
// consecutive firings at one instant.
constexpr int kMaxFiringsAtOneInstant = 10'000;

EndpointConfig pinned(EndpointConfig c) {
  c.node_id = kImplementationNode;
  c.encapsulation = wire::Encapsulation::kEthernet;
  return c;
}

}  // namespace

LocalTarget::LocalTarget(const EndpointConfig& config)
    : endpoint_(pinned(config)), now_(kStartTime), buf_(wire::kWeftMaxFrameBytes) {}

EndpointConfig LocalTarget::config_for(Profile profile, const TargetHints& hints) {
  EndpointConfig c;
  c.profile = profile;
  if (hints.initial_tx_id) c.fixed_initial_tx_id = *hints.initial_tx_id;
  if (hints.recv_buffer_bytes) c.recv_buffer_bytes = *hints.recv_buffer_bytes;
  if (hints.link_limit) c.max_connections = *hints.link_limit;
  return c;
}

Profile LocalTarget::profile() const { return endpoint_.config().profile; }

TargetInfo LocalTarget::info() const {
  const EndpointConfig& c = endpoint_.config();
  TargetInfo i;
  i.profile = c.profile;
  i.encapsulation = c.encapsulation;
  i.implementation_node = c.node_id;
  i.tester_node = kTesterNode;
  // The weft ACK delay is the longest a reply waits; two microseconds of slack on top.
  i.reply_window_ns = us_to_ns(c.ack_delay_us) + us_to_ns(2);
  // The first OPEN/CLOSE/PAYLOAD replay comes one RTO after the send; before any RTT sample the
  // RTO is rto_initial_us. Three of them leave room for one backoff.
  i.replay_deadline_ns = 3 * us_to_ns(std::max(c.rto_initial_us, c.rto_min_us));
  i.host_control = true;
  i.atomic_bursts = true;
  i.reports_state = true;
  if (c.fixed_initial_tx_id != 0) i.initial_tx_id = c.fixed_initial_tx_id;
  i.recv_buffer_bytes = c.recv_buffer_bytes;
  i.link_limit = c.max_connections;
  return i;
}

void LocalTarget::run() {
  transport::Transmit tx;
  while (endpoint_.poll_transmit(buf_, now_, tx)) {
    outbox_.emplace_back(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(tx.bytes));
  }
  if (hold_) return;
  while (auto ev = endpoint_.poll_event()) {
    if (ev->kind != EventKind::kMessage) continue;
    auto it = std::find_if(received_.begin(), received_.end(),
                           [&](const Inbox& b) { return b.peer == ev->peer && b.vc == ev->vc; });
    if (it == received_.end()) {
      received_.push_back(Inbox{ev->peer, ev->vc, {}});
      it = received_.end() - 1;
    }
    it->messages.push_back(std::move(ev->message));
  }
}

void LocalTarget::inject(std::span<const std::uint8_t> frame) {
  endpoint_.on_frame(frame, now_);
  run();
}

void LocalTarget::inject_burst(const std::vector<Bytes>& frames) {
  for (const Bytes& f : frames) endpoint_.on_frame(f, now_);
  run();
}

std::vector<Bytes> LocalTarget::collect() {
  run();
  std::vector<Bytes> out;
  out.swap(outbox_);
  return out;
}

void LocalTarget::advance(TimeNs dt_ns) {
  const TimeNs until = now_ + std::max<TimeNs>(dt_ns, 0);
  int firings = 0;
  TimeNs last = -1;
  for (TimeNs t = endpoint_.next_timer(); t <= until; t = endpoint_.next_timer()) {
    now_ = std::max(now_, t);
    firings = t == last ? firings + 1 : 0;
    last = t;
    if (firings > kMaxFiringsAtOneInstant) {
      throw std::runtime_error("the implementation's timer stays due at " + std::to_string(t) +
                               " ns after on_timer(): next_timer() never moves forward");
    }
    endpoint_.on_timer(now_);
    run();
  }
  now_ = until;
  run();
}

HostStatus LocalTarget::status(const transport::Status& s) const {
  if (s.ok()) return {};
  return {HostStatus::kRejected, std::string(transport::error_name(s.error())) + ": " + s.detail()};
}

HostStatus LocalTarget::host_open(NodeId peer, Vc vc) {
  HostStatus s = status(endpoint_.open(peer, vc, now_));
  run();
  return s;
}

HostStatus LocalTarget::host_send(NodeId peer, Vc vc, std::span<const std::uint8_t> message) {
  HostStatus s = status(endpoint_.send(peer, vc, message, now_));
  run();
  return s;
}

HostStatus LocalTarget::host_close(NodeId peer, Vc vc) {
  HostStatus s = status(endpoint_.close(peer, vc, now_));
  run();
  return s;
}

HostStatus LocalTarget::host_hold_delivery(bool hold) {
  hold_ = hold;
  run();
  return {};
}

std::optional<std::vector<Bytes>> LocalTarget::host_received(NodeId peer, Vc vc) {
  run();
  for (Inbox& b : received_) {
    if (b.peer == peer && b.vc == vc) {
      std::vector<Bytes> out;
      out.swap(b.messages);
      return out;
    }
  }
  return std::vector<Bytes>{};
}

std::optional<LinkState> LocalTarget::state(NodeId peer, Vc vc) const { return endpoint_.state(peer, vc); }

}  // namespace weft::conformance
