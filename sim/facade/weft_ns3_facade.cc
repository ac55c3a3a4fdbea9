// The facade's implementation: C++20, the one place sim/ meets weft's headers.
#include "sim/facade/weft_ns3_facade.h"

#include <algorithm>
#include <span>
#include <unordered_map>

#include "weft/collectives/binding.h"
#include "weft/collectives/engine.h"
#include "weft/collectives/verify.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/mix.h"
#include "weft/transport/pcap.h"
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
      : host_(config(o), [this](Endpoint&, Event& ev, transport::TimeNs now) { on_event(ev, now); }) {}

  static EndpointConfig config(const TransportHostOptions& o) {
    EndpointConfig c;
    c.profile = o.compat ? transport::Profile::kTtpoeCompat : transport::Profile::kWeft;
    c.encapsulation = transport::wire::Encapsulation::kEthernet;
    c.node_id = o.node_id;
    c.rng_seed = o.seed;
    c.max_frame_bytes = o.max_frame_bytes;
    c.recv_buffer_bytes = o.recv_buffer_bytes;
    c.nack_full = o.nack_full;
    return c;
  }

  void on_frame(const std::uint8_t* frame, std::size_t len, TimeNs now) override {
    host_.on_frame({frame, len}, now);
    feed_flows(now);
  }
  std::size_t poll_transmit(std::uint8_t* buf, std::size_t capacity, TimeNs now) override {
    return host_.poll_transmit({buf, capacity}, now);
  }
  TimeNs next_timer() const override { return host_.next_timer(); }
  void on_timer(TimeNs now) override {
    host_.on_timer(now);
    feed_flows(now);
  }

  bool start_flow(std::uint32_t peer, std::size_t bytes, TimeNs now) override {
    if (host_.endpoint().state(peer, Vc::kData) == transport::LinkState::kClosed &&
        !check(host_.endpoint().open(peer, Vc::kData, now))) {
      return false;
    }
    outgoing_.push_back(Flow{peer, bytes});
    feed_flows(now);
    return true;
  }
  void expect_flow(std::uint32_t from, std::size_t bytes) override { expected_[from] = bytes; }
  TimeNs flow_finished_at(std::uint32_t from) const override {
    const auto it = finished_.find(from);
    return it == finished_.end() ? kNever : it->second;
  }

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
  // Queues what the send buffers take of every flow still to send.
  void feed_flows(TimeNs now) {
    const std::size_t chunk = host_.endpoint().config().profile == transport::Profile::kTtpoeCompat
                                  ? std::size_t{1024}
                                  : std::size_t{1} << 20;
    for (Flow& f : outgoing_) {
      while (f.left > 0) {
        const std::size_t n = std::min(chunk, f.left);
        chunk_.resize(n, 0x5A);
        if (!host_.endpoint().send(f.peer, Vc::kData, {chunk_.data(), n}, now).ok()) break;  // full: later
        f.left -= n;
      }
    }
    outgoing_.erase(std::remove_if(outgoing_.begin(), outgoing_.end(), [](const Flow& f) { return f.left == 0; }),
                    outgoing_.end());
  }
  void on_event(Event& ev, TimeNs now) {
    if (ev.kind == EventKind::kOpened) {
      links_.emplace_back(ev.peer, ev.vc);
    } else if (ev.kind == EventKind::kMessage) {
      ++messages_;
      bytes_ += ev.message.size();
      std::size_t& got = received_from_[ev.peer];
      got += ev.message.size();
      const auto want = expected_.find(ev.peer);
      if (want != expected_.end() && got >= want->second && finished_.count(ev.peer) == 0) finished_[ev.peer] = now;
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
  struct Flow {
    NodeId peer;
    std::size_t left;  // bytes not yet queued
  };
  std::vector<Flow> outgoing_;
  std::vector<std::uint8_t> chunk_;
  std::unordered_map<NodeId, std::size_t> expected_, received_from_;
  std::unordered_map<NodeId, TimeNs> finished_;
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

class CollectiveHostImpl final : public CollectiveHost {
 public:
  explicit CollectiveHostImpl(const CollectiveHostOptions& o) : options_(o), endpoint_(endpoint_config(o)) {
    collectives::EngineConfig cc;
    cc.rank = o.rank;
    cc.size = o.size;
    cc.segment_bytes = o.segment_bytes;
    cc.topology.ranks_per_pod = o.ranks_per_pod;
    cc.link.alpha_us = o.alpha_us;
    cc.link.beta_us_per_byte = 1e-3 / o.beta_gbps;
    cc.link.inter_alpha_us = o.inter_alpha_us;
    cc.link.inter_beta_us_per_byte = 1e-3 / o.inter_beta_gbps;
    cc.default_timeout_ns = static_cast<TimeNs>(o.timeout_ns);
    engine_ = std::make_unique<collectives::Engine>(cc);
    std::vector<NodeId> nodes;
    for (int r = 0; r < o.size; ++r) nodes.push_back(static_cast<NodeId>(r + 1));
    binding_ = std::make_unique<collectives::EndpointBinding>(*engine_, endpoint_, nodes);
  }

  static EndpointConfig endpoint_config(const CollectiveHostOptions& o) {
    EndpointConfig c;
    c.encapsulation = transport::wire::Encapsulation::kEthernet;
    c.node_id = static_cast<NodeId>(o.rank + 1);
    c.rng_seed = transport::mix64(o.seed * 131 + static_cast<std::uint64_t>(o.rank));
    return c;
  }

  // HostCore: the transport, with the engine fed after every frame and timer.
  void on_frame(const std::uint8_t* frame, std::size_t len, TimeNs now) override {
    endpoint_.on_frame({frame, len}, now);
    after(now);
  }
  std::size_t poll_transmit(std::uint8_t* buf, std::size_t capacity, TimeNs now) override {
    drain(now);
    transport::Transmit tx;
    if (!endpoint_.poll_transmit({buf, capacity}, now, tx)) return 0;
    return tx.bytes;
  }
  TimeNs next_timer() const override { return std::min(endpoint_.next_timer(), engine_->next_timer()); }
  void on_timer(TimeNs now) override {
    if (endpoint_.next_timer() <= now) endpoint_.on_timer(now);
    if (engine_->next_timer() <= now) engine_->on_timer(now);
    after(now);
  }

  bool start(const CollectiveSpec& spec, TimeNs now) override {
    const auto c = collectives::parse_collective(spec.collective);
    const auto dt = collectives::parse_dtype(spec.dtype);
    const auto op = collectives::parse_reduce_op(spec.op);
    const auto alg = collectives::parse_algorithm(spec.algorithm);
    if (!c || !dt || !op || !alg) {
      error_ = "unknown " + std::string(!c ? "collective '" + spec.collective : !dt ? "dtype '" + spec.dtype
                                                                  : !op ? "op '" + spec.op
                                                                        : "algorithm '" + spec.algorithm) + "'";
      return false;
    }
    const std::size_t es = collectives::dtype_size(*dt);
    const bool whole = *c == collectives::Collective::kAllGather || *c == collectives::Collective::kReduceScatter ||
                       *c == collectives::Collective::kAllToAll;
    count_ = whole ? spec.bytes / es / static_cast<std::size_t>(options_.size) : spec.bytes / es;
    if (count_ == 0) {
      error_ = std::to_string(spec.bytes) + " B leaves no element per rank";
      return false;
    }
    const std::size_t p = static_cast<std::size_t>(options_.size);
    const bool whole_in = *c == collectives::Collective::kReduceScatter || *c == collectives::Collective::kAllToAll;
    const bool whole_out = *c == collectives::Collective::kAllGather || *c == collectives::Collective::kAllToAll;
    send_.assign((whole_in ? count_ * p : count_) * es, 0);
    recv_.assign((whole_out ? count_ * p : count_) * es, 0);
    collective_ = *c;
    dtype_ = *dt;
    op_ = *op;
    root_ = spec.root;
    collectives::fill_verifiable_input(*c, *dt, *op, count_, options_.rank, options_.size, kSalt, send_.data());
    collectives::OpArgs a;
    a.collective = *c;
    a.send = send_.data();
    a.recv = recv_.data();
    a.count = count_;
    a.dtype = *dt;
    a.op = *op;
    a.root = spec.root;
    a.algorithm = *alg;
    id_ = engine_->post(a, now);
    bytes_ = collectives::collective_bytes(*c, count_, *dt, options_.size);
    after(now);
    return true;
  }
  bool done() const override { return id_ != 0 && engine_->done(id_); }
  bool failed() const override { return done() && engine_->status(id_).state == collectives::OpState::kFailed; }
  std::string error() const override {
    if (!error_.empty()) return error_;
    return id_ != 0 ? engine_->status(id_).detail : std::string();
  }
  std::string algorithm() const override {
    return id_ != 0 ? std::string(collectives::algorithm_name(engine_->status(id_).algorithm)) : std::string("-");
  }
  TimeNs finished_at() const override { return finished_at_; }
  std::uint64_t wrong_elements() override {
    if (!done() || failed()) return count_;
    return collectives::count_wrong_elements(collective_, dtype_, op_, count_, root_, options_.rank, options_.size,
                                             kSalt, recv_.data());
  }
  std::size_t bytes() const override { return bytes_; }
  std::uint64_t retransmissions() override {
    std::uint64_t n = retransmits_closed_;
    for (int r = 0; r < options_.size; ++r) {
      if (r == options_.rank) continue;
      if (auto info = endpoint_.link_info(static_cast<NodeId>(r + 1), Vc::kData)) n += info->stats.retransmits;
    }
    return n;
  }

 private:
  static constexpr std::uint32_t kSalt = 20261126;

  void drain(TimeNs now) {
    while (std::optional<Event> ev = endpoint_.poll_event()) {
      if (ev->kind == EventKind::kClosed || ev->kind == EventKind::kError) retransmits_closed_ += ev->stats.retransmits;
      binding_->on_event(*ev, now);
    }
  }
  void after(TimeNs now) {
    drain(now);
    binding_->pump(now);
    if (finished_at_ == kNever && done()) finished_at_ = now;
  }

  CollectiveHostOptions options_;
  Endpoint endpoint_;
  std::unique_ptr<collectives::Engine> engine_;
  std::unique_ptr<collectives::EndpointBinding> binding_;
  std::vector<std::uint8_t> send_, recv_;
  collectives::OpId id_ = 0;
  collectives::Collective collective_ = collectives::Collective::kAllReduce;
  collectives::DataType dtype_ = collectives::DataType::kF32;
  collectives::ReduceOp op_ = collectives::ReduceOp::kSum;
  int root_ = 0;
  std::size_t count_ = 0, bytes_ = 0;
  TimeNs finished_at_ = kNever;
  std::uint64_t retransmits_closed_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<CollectiveHost> CollectiveHost::create(const CollectiveHostOptions& options) {
  return std::make_unique<CollectiveHostImpl>(options);
}

double busbw_factor(const std::string& collective, int ranks) {
  const auto c = collectives::parse_collective(collective);
  return c ? collectives::busbw_factor(*c, ranks) : 0.0;
}

std::unique_ptr<TransportHost> TransportHost::create(const TransportHostOptions& options) {
  return std::make_unique<TransportHostImpl>(options);
}

struct PcapSink::Impl {
  explicit Impl(const std::string& path) : writer(path) {}
  transport::PcapWriter writer;
};
PcapSink::PcapSink(const std::string& path) : impl_(std::make_unique<Impl>(path)) {}
PcapSink::~PcapSink() = default;
void PcapSink::write(TimeNs time, const std::uint8_t* frame, std::size_t len) {
  impl_->writer.write_ethernet(time, {frame, len});
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

TransportHostOptions scenario_host(const TwoHostScenario& s, int host) {
  TransportHostOptions o;
  o.node_id = static_cast<std::uint32_t>(host + 1);
  o.seed = s.seed + static_cast<std::uint64_t>(host);
  o.compat = s.compat;
  return o;
}

ScenarioResult run_two_hosts_in_memory(const TwoHostScenario& s) {
  ScenarioResult r;
  auto a = TransportHost::create(scenario_host(s, 0));
  auto b = TransportHost::create(scenario_host(s, 1));
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
