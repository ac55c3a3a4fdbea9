// The facade's implementation: C++20, the one place sim/ meets weft's headers.
#include "sim/facade/weft_ns3_facade.h"

#include <algorithm>
#include <optional>
#include <span>
#include <stdexcept>
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

// What every simulated host's endpoint shares: Ethernet framing, its node id and seed, the
// scenario's timers.
transport::EndpointConfig sim_endpoint_config(transport::NodeId node, std::uint64_t rng_seed,
                                              const TimerOptions& timers) {
  transport::EndpointConfig c;
  c.encapsulation = transport::wire::Encapsulation::kEthernet;
  c.node_id = node;
  c.rng_seed = rng_seed;
  c.rto_initial_us = timers.rto_initial_us;
  c.rto_min_us = timers.rto_min_us;
  return c;
}

Retransmits retransmits_of(const transport::LinkStats& st) {
  return Retransmits{st.retransmits, st.retransmits_rto, st.retransmits_fast, st.retransmits_nack,
                     st.retransmits_nack_full, st.spurious_retransmits};
}

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
    EndpointConfig c = sim_endpoint_config(o.node_id, o.seed, o.timers);
    c.profile = o.compat ? transport::Profile::kTtpoeCompat : transport::Profile::kWeft;
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
  std::uint64_t retransmissions() override { return retransmissions_by_cause().total; }
  Retransmits retransmissions_by_cause() override {
    Retransmits n = retransmits_closed_;
    for (const auto& [peer, vc] : links_) {
      if (auto info = host_.endpoint().link_info(peer, vc)) n += retransmits_of(info->stats);
    }
    return n;
  }
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
      retransmits_closed_ += retransmits_of(ev.stats);
      if (ev.kind == EventKind::kError) {
        ++link_errors_;
        error_ = ev.detail;
      }
    }
  }

  transport::sim::EndpointHost host_;
  std::uint64_t messages_ = 0, bytes_ = 0, link_errors_ = 0;
  Retransmits retransmits_closed_;
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

// Hands each message to the binding of the communicator its peer belongs to (the communicators'
// peers are disjoint).
class SinkByPeer final : public transport::MessageSink {
 public:
  std::vector<collectives::EndpointBinding*> bindings;
  void on_message_data(NodeId peer, Vc vc, std::span<const std::uint8_t> bytes, bool first, bool last,
                       TimeNs now) override {
    for (auto* b : bindings) {
      if (b->rank_of(peer) >= 0) {
        b->on_message_data(peer, vc, bytes, first, last, now);
        return;
      }
    }
  }
};

class CollectiveHostImpl final : public CollectiveHost {
 public:
  explicit CollectiveHostImpl(const CollectiveHostOptions& o) : options_(o), endpoint_(endpoint_config(o)) {
    std::vector<CommunicatorOptions> comms = o.communicators;
    if (comms.empty()) {
      CommunicatorOptions world;
      for (int r = 0; r < o.size; ++r) world.ranks.push_back(r);
      world.ranks_per_pod = o.ranks_per_pod;
      world.alpha_us = o.alpha_us;
      world.beta_gbps = o.beta_gbps;
      world.inter_alpha_us = o.inter_alpha_us;
      world.inter_beta_gbps = o.inter_beta_gbps;
      comms.push_back(world);
    }
    std::unordered_map<int, std::size_t> owner;  // peer rank -> communicator
    for (std::size_t i = 0; i < comms.size(); ++i) {
      const CommunicatorOptions& co = comms[i];
      const auto me = std::find(co.ranks.begin(), co.ranks.end(), o.rank);
      if (me == co.ranks.end()) {
        throw std::invalid_argument("communicator " + std::to_string(i) + " does not list rank " +
                                    std::to_string(o.rank));
      }
      std::vector<NodeId> nodes;
      for (int r : co.ranks) {
        if (r < 0 || r >= o.size) {
          throw std::invalid_argument("communicator " + std::to_string(i) + " lists rank " + std::to_string(r) +
                                      " of a job of " + std::to_string(o.size));
        }
        if (r != o.rank) {
          const auto [it, fresh] = owner.emplace(r, i);
          if (!fresh) {
            throw std::invalid_argument("rank " + std::to_string(r) + " is a peer of rank " + std::to_string(o.rank) +
                                        " in communicators " + std::to_string(it->second) + " and " +
                                        std::to_string(i) + ": one endpoint carries one communicator per peer");
          }
        }
        nodes.push_back(static_cast<NodeId>(r + 1));
      }
      collectives::EngineConfig cc;
      cc.rank = static_cast<int>(me - co.ranks.begin());
      cc.size = static_cast<int>(co.ranks.size());
      cc.segment_bytes = o.segment_bytes;
      cc.topology.ranks_per_pod = co.ranks_per_pod;
      cc.link.alpha_us = co.alpha_us;
      cc.link.beta_us_per_byte = 1e-3 / co.beta_gbps;
      cc.link.inter_alpha_us = co.inter_alpha_us;
      cc.link.inter_beta_us_per_byte = 1e-3 / co.inter_beta_gbps;
      cc.default_timeout_ns = static_cast<TimeNs>(o.timeout_ns);
      auto c = std::make_unique<Comm>();
      c->engine = std::make_unique<collectives::Engine>(cc);
      c->binding = std::make_unique<collectives::EndpointBinding>(*c->engine, endpoint_, nodes);
      c->salt = kSalt + static_cast<std::uint32_t>(i);
      sink_.bindings.push_back(c->binding.get());
      comms_.push_back(std::move(c));
    }
    // Each binding installed itself as the endpoint's sink; with several, messages go by peer.
    if (comms_.size() > 1) endpoint_.set_message_sink(&sink_);
  }
  ~CollectiveHostImpl() override {
    endpoint_.set_message_sink(nullptr);
    sink_.bindings.clear();
  }

  static EndpointConfig endpoint_config(const CollectiveHostOptions& o) {
    return sim_endpoint_config(static_cast<NodeId>(o.rank + 1),
                               transport::mix64(o.seed * 131 + static_cast<std::uint64_t>(o.rank)), o.timers);
  }

  // HostCore: the transport, with the engines fed after every frame and timer.
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
  TimeNs next_timer() const override {
    TimeNs t = endpoint_.next_timer();
    for (const auto& c : comms_) t = std::min(t, c->engine->next_timer());
    return t;
  }
  void on_timer(TimeNs now) override {
    if (endpoint_.next_timer() <= now) endpoint_.on_timer(now);
    for (const auto& c : comms_) {
      if (c->engine->next_timer() <= now) c->engine->on_timer(now);
    }
    after(now);
  }

  int communicators() const override { return static_cast<int>(comms_.size()); }

  bool prepare(const CollectiveSpec& spec, int comm) override {
    Comm& m = at(comm);
    const auto c = collectives::parse_collective(spec.collective);
    const auto dt = collectives::parse_dtype(spec.dtype);
    const auto op = collectives::parse_reduce_op(spec.op);
    const auto alg = collectives::parse_algorithm(spec.algorithm);
    if (!c || !dt || !op || !alg) {
      m.error = "unknown " + std::string(!c ? "collective '" + spec.collective : !dt ? "dtype '" + spec.dtype
                                                                  : !op ? "op '" + spec.op
                                                                        : "algorithm '" + spec.algorithm) + "'";
      return false;
    }
    const int size = m.engine->size();
    const std::size_t es = collectives::dtype_size(*dt);
    const bool whole = *c == collectives::Collective::kAllGather || *c == collectives::Collective::kReduceScatter ||
                       *c == collectives::Collective::kAllToAll;
    m.count = whole ? spec.bytes / es / static_cast<std::size_t>(size) : spec.bytes / es;
    if (m.count == 0) {
      m.error = std::to_string(spec.bytes) + " B leaves no element per rank";
      return false;
    }
    const std::size_t p = static_cast<std::size_t>(size);
    const bool whole_in = *c == collectives::Collective::kReduceScatter || *c == collectives::Collective::kAllToAll;
    const bool whole_out = *c == collectives::Collective::kAllGather || *c == collectives::Collective::kAllToAll;
    m.send.assign((whole_in ? m.count * p : m.count) * es, 0);
    m.recv.assign((whole_out ? m.count * p : m.count) * es, 0);
    m.collective = *c;
    m.dtype = *dt;
    m.op = *op;
    m.algorithm = *alg;
    m.root = spec.root;
    collectives::fill_verifiable_input(*c, *dt, *op, m.count, m.engine->rank(), size, m.salt, m.send.data());
    m.prepared = spec;
    return true;
  }
  bool start(const CollectiveSpec& spec, TimeNs now, int comm) override {
    Comm& m = at(comm);
    if (!m.prepared || !same(*m.prepared, spec)) {
      if (!prepare(spec, comm)) return false;
    }
    m.prepared.reset();
    collectives::OpArgs a;
    a.collective = m.collective;
    a.send = m.send.data();
    a.recv = m.recv.data();
    a.count = m.count;
    a.dtype = m.dtype;
    a.op = m.op;
    a.root = m.root;
    a.algorithm = m.algorithm;
    m.id = m.engine->post(a, now);
    m.bytes = collectives::collective_bytes(m.collective, m.count, m.dtype, m.engine->size());
    after(now);
    return true;
  }
  bool done(int comm) const override {
    const Comm& m = at(comm);
    return m.id != 0 && m.engine->done(m.id);
  }
  bool failed(int comm) const override {
    return done(comm) && at(comm).engine->status(at(comm).id).state == collectives::OpState::kFailed;
  }
  std::string error(int comm) const override {
    const Comm& m = at(comm);
    if (!m.error.empty()) return m.error;
    return m.id != 0 ? m.engine->status(m.id).detail : std::string();
  }
  std::string algorithm(int comm) const override {
    const Comm& m = at(comm);
    return m.id != 0 ? std::string(collectives::algorithm_name(m.engine->status(m.id).algorithm)) : std::string("-");
  }
  TimeNs finished_at(int comm) const override { return at(comm).finished_at; }
  std::uint64_t wrong_elements(int comm) override {
    Comm& m = at(comm);
    if (!done(comm) || failed(comm)) return m.count;
    return collectives::count_wrong_elements(m.collective, m.dtype, m.op, m.count, m.root, m.engine->rank(),
                                             m.engine->size(), m.salt, m.recv.data());
  }
  std::size_t bytes(int comm) const override { return at(comm).bytes; }
  std::uint64_t retransmissions() override { return retransmissions_by_cause().total; }
  Retransmits retransmissions_by_cause() override {
    Retransmits n = retransmits_closed_;
    for (int r = 0; r < options_.size; ++r) {
      if (r == options_.rank) continue;
      if (auto info = endpoint_.link_info(static_cast<NodeId>(r + 1), Vc::kData)) n += retransmits_of(info->stats);
    }
    return n;
  }

 private:
  static constexpr std::uint32_t kSalt = 20261126;
  struct Comm {
    std::unique_ptr<collectives::Engine> engine;
    std::unique_ptr<collectives::EndpointBinding> binding;
    std::uint32_t salt = kSalt;
    std::vector<std::uint8_t> send, recv;
    collectives::OpId id = 0;
    collectives::Collective collective = collectives::Collective::kAllReduce;
    collectives::DataType dtype = collectives::DataType::kF32;
    collectives::ReduceOp op = collectives::ReduceOp::kSum;
    collectives::Algorithm algorithm = collectives::Algorithm::kAuto;
    int root = 0;
    std::optional<CollectiveSpec> prepared;  // inputs filled for this spec, not yet posted
    std::size_t count = 0, bytes = 0;
    TimeNs finished_at = kNever;
    std::string error;
  };
  static bool same(const CollectiveSpec& a, const CollectiveSpec& b) {
    return a.collective == b.collective && a.bytes == b.bytes && a.dtype == b.dtype && a.op == b.op &&
           a.algorithm == b.algorithm && a.root == b.root;
  }
  Comm& at(int comm) { return *comms_.at(static_cast<std::size_t>(comm)); }
  const Comm& at(int comm) const { return *comms_.at(static_cast<std::size_t>(comm)); }

  void drain(TimeNs now) {
    while (std::optional<Event> ev = endpoint_.poll_event()) {
      if (ev->kind == EventKind::kClosed || ev->kind == EventKind::kError) retransmits_closed_ += retransmits_of(ev->stats);
      for (const auto& c : comms_) {
        if (c->binding->on_event(*ev, now)) break;
      }
    }
  }
  void after(TimeNs now) {
    drain(now);
    for (const auto& c : comms_) {
      c->binding->pump(now);
      if (c->finished_at == kNever && c->id != 0 && c->engine->done(c->id)) c->finished_at = now;
    }
  }

  CollectiveHostOptions options_;
  Endpoint endpoint_;
  SinkByPeer sink_;
  std::vector<std::unique_ptr<Comm>> comms_;
  Retransmits retransmits_closed_;
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
