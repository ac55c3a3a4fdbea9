// The facade's implementation: C++20, the one place sim/ meets weft's headers.
#include "sim/facade/weft_ns3_facade.h"

#include <algorithm>
#include <span>

#include "weft/transport/endpoint.h"
#include "weft/transport/sim_loop.h"
#include "weft/transport/wire.h"

namespace weft::ns3sim {
namespace {

using transport::Endpoint;
using transport::EndpointConfig;
using transport::Event;
using transport::EventKind;
using transport::NodeId;
using transport::Vc;

class TransportHostImpl final : public TransportHost {
 public:
  explicit TransportHostImpl(const TransportHostOptions& o)
      : host_(config(o), [this](Endpoint&, Event& ev, transport::TimeNs) { on_event(ev); }) {}

  static EndpointConfig config(const TransportHostOptions& o) {
    EndpointConfig c;
    c.profile = o.compat ? transport::Profile::kTtpoeCompat : transport::Profile::kWeft;
    c.encapsulation = transport::wire::Encapsulation::kEthernet;
    c.node_id = o.node_id;
    c.rng_seed = o.seed;
    c.max_frame_bytes = o.max_frame_bytes;
    return c;
  }

  void on_frame(const std::uint8_t* frame, std::size_t len, TimeNs now) override {
    host_.on_frame({frame, len}, now);
  }
  std::size_t poll_transmit(std::uint8_t* buf, std::size_t capacity, TimeNs now) override {
    return host_.poll_transmit({buf, capacity}, now);
  }
  TimeNs next_timer() const override { return host_.next_timer(); }
  void on_timer(TimeNs now) override { host_.on_timer(now); }

  bool open(std::uint32_t peer, int vc, TimeNs now) override {
    return check(host_.endpoint().open(peer, static_cast<Vc>(vc), now));
  }
  bool send(std::uint32_t peer, int vc, std::size_t bytes, TimeNs now) override {
    std::vector<std::uint8_t> m(bytes);
    for (std::size_t i = 0; i < bytes; ++i) m[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return check(host_.endpoint().send(peer, static_cast<Vc>(vc), m, now));
  }
  bool close(std::uint32_t peer, int vc, TimeNs now) override {
    return check(host_.endpoint().close(peer, static_cast<Vc>(vc), now));
  }
  std::uint64_t messages_received() const override { return messages_; }
  std::uint64_t bytes_received() const override { return bytes_; }
  std::uint64_t retransmissions() override { return retransmits_closed_ + live_retransmits(); }
  std::uint64_t link_errors() const override { return link_errors_; }
  std::string last_error() const override { return error_; }

 private:
  bool check(const transport::Status& st) {
    if (st.ok()) return true;
    error_ = st.detail();
    return false;
  }
  void on_event(Event& ev) {
    if (ev.kind == EventKind::kOpened) {
      links_.emplace_back(ev.peer, ev.vc);
    } else if (ev.kind == EventKind::kMessage) {
      ++messages_;
      bytes_ += ev.message.size();
    } else if (ev.kind == EventKind::kClosed || ev.kind == EventKind::kError) {
      retransmits_closed_ += ev.stats.retransmits;
      if (ev.kind == EventKind::kError) {
        ++link_errors_;
        error_ = ev.detail;
      }
    }
  }
  std::uint64_t live_retransmits() {
    std::uint64_t n = 0;
    for (const auto& [peer, vc] : links_) {
      if (auto info = host_.endpoint().link_info(peer, vc)) n += info->stats.retransmits;
    }
    return n;
  }

  transport::sim::EndpointHost host_;
  std::uint64_t messages_ = 0, bytes_ = 0, retransmits_closed_ = 0, link_errors_ = 0;
  std::string error_;
  std::vector<std::pair<NodeId, Vc>> links_;  // opened, for their live counters
};

// The loop's Host over a TransportHost (so both simulators drive the very same class).
class LoopHost final : public transport::sim::Host {
 public:
  explicit LoopHost(TransportHost& core) : core_(core) {}
  void on_frame(std::span<const std::uint8_t> f, transport::TimeNs now) override { core_.on_frame(f.data(), f.size(), now); }
  std::size_t poll_transmit(std::span<std::uint8_t> buf, transport::TimeNs now) override {
    return core_.poll_transmit(buf.data(), buf.size(), now);
  }
  transport::TimeNs next_timer() const override { return core_.next_timer(); }
  void on_timer(transport::TimeNs now) override { core_.on_timer(now); }

 private:
  TransportHost& core_;
};

}  // namespace

std::unique_ptr<TransportHost> TransportHost::create(const TransportHostOptions& options) {
  return std::make_unique<TransportHostImpl>(options);
}

FrameInfo peek_frame(const std::uint8_t* f, std::size_t len) {
  namespace wire = transport::wire;
  constexpr std::size_t ttp = wire::ttp_offset(wire::Encapsulation::kEthernet);
  FrameInfo i;
  if (len < ttp + 4) return i;
  auto node_at = [f](std::size_t at) {
    return (std::uint32_t{f[at]} << 16) | (std::uint32_t{f[at + 1]} << 8) | std::uint32_t{f[at + 2]};
  };
  i.ok = true;
  i.dst_node = node_at(3);
  i.src_node = node_at(9);
  i.vc = f[ttp + 1];
  i.entropy = static_cast<std::uint16_t>((f[ttp + 2] << 8) | f[ttp + 3]);
  return i;
}

bool mark_ce(std::uint8_t* f, std::size_t len) {
  constexpr std::size_t at = transport::wire::ce_byte_offset(transport::wire::Encapsulation::kEthernet);
  if (len <= at) return false;
  f[at] |= transport::wire::kCeBit;
  return true;
}

TimeNs serialization_ns(std::size_t bytes, double rate_gbps) { return transport::sim::serialization_ns(bytes, rate_gbps); }
TimeNs us_to_ns_rounded(double us) { return transport::sim::us_to_ns_rounded(us); }

std::string format_trace_line(TimeNs time, int from, int to, const std::uint8_t* frame, std::size_t len,
                              bool dropped) {
  return transport::sim::format_trace_line(time, from, to, {frame, len}, dropped);
}

ScenarioResult run_two_hosts_in_memory(const TwoHostScenario& s) {
  ScenarioResult r;
  TransportHostOptions oa, ob;
  oa.node_id = 1;
  oa.seed = s.seed;
  oa.compat = s.compat;
  ob = oa;
  ob.node_id = 2;
  ob.seed = s.seed + 1;
  auto a = TransportHost::create(oa);
  auto b = TransportHost::create(ob);
  transport::sim::SimLoop loop(s.seed);
  const int na = loop.add_host(std::make_unique<LoopHost>(*a), 1);
  const int nb = loop.add_host(std::make_unique<LoopHost>(*b), 2);
  transport::sim::LinkConfig link;
  link.rate_gbps = s.rate_gbps;
  link.delay_us = s.delay_us;
  link.a_to_b.drop_frames = s.drop_a_to_b;
  if (s.through_switch) {
    const int sw = loop.add_switch();
    link.queue_limit_bytes = s.switch_queue_bytes;
    loop.connect(na, sw, link);
    transport::sim::LinkConfig second = link;
    second.a_to_b = {};
    second.b_to_a.drop_frames = s.drop_b_to_a;
    second.rate_gbps = s.switch_out_rate_gbps;
    loop.connect(sw, nb, second);
  } else {
    link.b_to_a.drop_frames = s.drop_b_to_a;
    loop.connect(na, nb, link);
  }
  loop.set_trace([&](const transport::sim::TraceRecord& t) {
    r.trace.push_back(transport::sim::format_trace_line(t.time, t.from, t.to, t.frame, t.dropped));
  });
  loop.schedule(0, [&] {
    a->open(2, static_cast<int>(Vc::kData), loop.now());
    for (std::size_t m : s.messages) a->send(2, static_cast<int>(Vc::kData), m, loop.now());
  });
  const std::uint64_t want = s.messages.size();
  r.complete = loop.run(s.deadline, [&] { return b->messages_received() >= want; });
  r.messages_received = b->messages_received();
  r.end = loop.now();
  return r;
}

}  // namespace weft::ns3sim
