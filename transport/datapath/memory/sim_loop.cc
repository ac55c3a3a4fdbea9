// SimLoop: a discrete-event simulator in virtual time.
//
// The loop keeps one binary min-heap of small tagged events ordered by (time, insertion
// sequence), so equal times run in the order they were scheduled and a run depends on nothing
// but the seed and the calls made. Four kinds of event exist: a frame arriving at a node, a port
// finishing serialization, a host timer, and a user callback. Only callbacks carry a
// std::function; frame events name a pooled buffer by index, so the steady state allocates
// nothing.
//
// Each link direction is a Port owned by the transmitting node. A port is busy while it
// serializes one frame (bytes * 8 / rate ns); the frame reaches the far node one propagation
// delay after its last bit leaves. The fault model acts when a frame is put on the wire, so a
// frame that is then lost still occupies the wire for its serialization time.
//
// A host's port has no queue: the loop asks the host for a frame only when the wire is free. A
// switch port is a drop-tail FIFO whose byte count excludes the frame on the wire. Switches
// forward by the destination MAC's low 24 bits, along shortest paths computed by BFS from every
// host (ties go to the lowest port), rebuilt lazily after the topology changes.
//
// Host timers: the loop remembers the one timer event it armed per host (its time and
// sequence). After any host activity it re-reads next_timer() and arms a new event only if the
// deadline moved earlier; an event that no longer matches the armed one is stale and ignored.
// When an armed event fires and the host's deadline has moved later, the loop just re-arms
// instead of calling on_timer early.

#include "weft/transport/sim_loop.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include "weft/transport/mix.h"
#include "weft/transport/wire.h"

namespace weft::transport::sim {
namespace {

// xoshiro256** (Blackman & Vigna), seeded through splitmix64. Written out here, rather than
// taken from <random>, so the stream of draws is the same with every standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (std::uint64_t& word : state_) word = splitmix64(x);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), n > 0 (modulo bias below 2^-40 for the n used here).
  std::uint64_t below(std::uint64_t n) { return next() % n; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    const std::uint64_t out = mix64(x);
    x += kMixIncrement;
    return out;
  }

  std::uint64_t state_[4];
};

enum class Action : std::uint8_t {
  kArrive,    // target: receiving node; buffer: the frame
  kTxDone,    // target: port
  kTimer,     // target: host node
  kCallback,  // target: callback slot
};

struct SimEvent {
  TimeNs time;
  std::uint64_t seq;
  std::uint32_t target;
  std::uint32_t buffer;
  Action action;
};

// Heap order: std::push_heap keeps the "largest" on top, so "larger" means later.
struct Later {
  bool operator()(const SimEvent& a, const SimEvent& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

// FIFO of buffer indices on a growable power-of-two ring; no allocation once grown.
class IndexRing {
 public:
  bool empty() const { return size_ == 0; }
  std::uint32_t front() const { return slots_[head_]; }
  void pop() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  void push(std::uint32_t v) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = v;
    ++size_;
  }

 private:
  void grow() {
    std::vector<std::uint32_t> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & (slots_.size() - 1)];
    slots_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<std::uint32_t> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

constexpr std::size_t kHostTxBufferBytes = 16384;
constexpr std::size_t kDstMacNodeOffset = 3;  // dst MAC bytes 3..5 carry the 24-bit node id
constexpr int kMaxTimerSpins = 1000;


// Throws std::invalid_argument naming the first field of `f` out of range.
void check_faults(const Faults& f, const char* direction) {
  auto probability = [&](double v, const char* field) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw std::invalid_argument(std::string("SimLoop::connect: ") + direction + "." + field +
                                  " = " + std::to_string(v) + " is not a probability in [0, 1]");
    }
  };
  probability(f.loss, "loss");
  probability(f.duplicate, "duplicate");
  probability(f.reorder, "reorder");
  probability(f.corrupt, "corrupt");
  if (!(f.reorder_delay_us >= 0.0)) {
    throw std::invalid_argument(std::string("SimLoop::connect: ") + direction +
                                ".reorder_delay_us must be >= 0");
  }
}

bool has_faults(const Faults& f) {
  return f.loss > 0 || !f.drop_frames.empty() || f.duplicate > 0 || f.reorder > 0 ||
         f.corrupt > 0;
}

}  // namespace

struct SimLoop::Impl {
  struct Port {
    int node = 0;
    int peer = 0;
    double rate_gbps = 0;
    TimeNs delay_ns = 0;
    TimeNs reorder_delay_ns = 0;
    std::uint64_t queue_limit_bytes = 0;
    std::uint64_t ecn_threshold_bytes = 0;
    bool faulty = false;
    Faults faults;
    std::vector<std::uint64_t> drop_mask;  // sorted, unique
    std::uint64_t next_frame_index = 0;
    bool busy = false;
    IndexRing queue;
    PortStats stats;
  };

  struct Node {
    std::unique_ptr<Host> host;  // null for a switch
    NodeId node_id = 0;
    std::vector<int> ports;
    // Host: the live timer event (time and sequence); kNever when none is armed.
    TimeNs armed_time = kNever;
    std::uint64_t armed_seq = 0;
    TimeNs last_fire_time = -1;
    int fire_spins = 0;
    // Switch: egress port per host ordinal, -1 when unreachable.
    std::vector<int> routes;
  };

  explicit Impl(std::uint64_t s) : seed(s), rng(s) { scratch.resize(kHostTxBufferBytes); }

  // ---- events ---------------------------------------------------------------------------
  std::uint64_t push(TimeNs time, Action action, std::uint32_t target, std::uint32_t buffer = 0) {
    const std::uint64_t seq = next_seq++;
    heap.push_back(SimEvent{time, seq, target, buffer, action});
    std::push_heap(heap.begin(), heap.end(), Later{});
    return seq;
  }

  // ---- buffers --------------------------------------------------------------------------
  std::uint32_t acquire(std::span<const std::uint8_t> bytes) {
    std::uint32_t index;
    if (free_buffers.empty()) {
      index = static_cast<std::uint32_t>(buffers.size());
      buffers.emplace_back();
    } else {
      index = free_buffers.back();
      free_buffers.pop_back();
    }
    buffers[index].assign(bytes.begin(), bytes.end());
    return index;
  }
  void release(std::uint32_t index) { free_buffers.push_back(index); }

  // ---- tracing --------------------------------------------------------------------------
  void trace_frame(int from, int to, std::uint32_t buffer, bool dropped) {
    if (trace) trace(TraceRecord{now, from, to, buffers[buffer], dropped});
  }

  // ---- the wire -------------------------------------------------------------------------
  // Puts the frame in `buffer` on the wire of port `pi` (idle) and applies its fault model.
  void transmit(int pi, std::uint32_t buffer) {
    Port& p = ports[static_cast<std::size_t>(pi)];
    const std::size_t len = buffers[buffer].size();
    const TimeNs done = now + serialization_ns(len, p.rate_gbps);
    p.busy = true;
    push(done, Action::kTxDone, static_cast<std::uint32_t>(pi));
    ++p.stats.frames_sent;
    p.stats.bytes_sent += len;
    const std::uint64_t index = p.next_frame_index++;
    TimeNs arrive = done + p.delay_ns;
    bool dropped = false;
    bool duplicate = false;
    if (p.faulty) {
      const Faults& f = p.faults;
      if (std::binary_search(p.drop_mask.begin(), p.drop_mask.end(), index) ||
          (f.loss > 0 && rng.uniform() < f.loss)) {
        ++p.stats.dropped_loss;
        dropped = true;
      } else {
        if (f.corrupt > 0 && rng.uniform() < f.corrupt) {
          std::vector<std::uint8_t>& bytes = buffers[buffer];
          const std::uint64_t bit = rng.below(std::uint64_t{len} * 8);
          bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
          if (f.deliver_corrupted) {
            ++p.stats.delivered_corrupt;
          } else {
            ++p.stats.dropped_corrupt;
            dropped = true;
          }
        }
        if (!dropped) {
          if (f.duplicate > 0 && rng.uniform() < f.duplicate) {
            ++p.stats.duplicated;
            duplicate = true;
          }
          if (f.reorder > 0 && rng.uniform() < f.reorder) {
            ++p.stats.reordered;
            arrive += p.reorder_delay_ns;
          }
        }
      }
    }
    trace_frame(p.node, p.peer, buffer, dropped);
    if (dropped) {
      release(buffer);
      return;
    }
    const auto peer = static_cast<std::uint32_t>(p.peer);
    push(arrive, Action::kArrive, peer, buffer);
    if (duplicate) {
      const std::uint32_t copy = acquire(buffers[buffer]);
      trace_frame(p.node, p.peer, copy, false);
      push(arrive, Action::kArrive, peer, copy);
    }
  }

  // ---- hosts ----------------------------------------------------------------------------
  void host_try_transmit(int node) {
    Node& n = nodes[static_cast<std::size_t>(node)];
    if (n.ports.empty()) return;
    const int pi = n.ports.front();
    if (ports[static_cast<std::size_t>(pi)].busy) return;
    const std::size_t len = n.host->poll_transmit(scratch, now);
    if (len == 0) return;
    if (len > scratch.size()) {
      throw std::logic_error("SimLoop: host at node " + std::to_string(node) +
                             " returned a frame length larger than the poll buffer");
    }
    transmit(pi, acquire(std::span<const std::uint8_t>(scratch).first(len)));
  }

  void host_rearm(int node) {
    Node& n = nodes[static_cast<std::size_t>(node)];
    TimeNs t = n.host->next_timer();
    if (t < now) t = now;
    if (t >= n.armed_time) return;
    n.armed_time = t;
    n.armed_seq = push(t, Action::kTimer, static_cast<std::uint32_t>(node));
  }

  void after_host_activity(int node) {
    host_try_transmit(node);
    host_rearm(node);
  }

  void on_timer_event(const SimEvent& ev) {
    const int node = static_cast<int>(ev.target);
    Node& n = nodes[ev.target];
    if (n.armed_seq != ev.seq || n.armed_time != ev.time) return;  // stale
    n.armed_time = kNever;
    if (n.host->next_timer() <= now) {
      if (n.last_fire_time == now) {
        if (++n.fire_spins > kMaxTimerSpins) {
          throw std::logic_error("SimLoop: host at node " + std::to_string(node) +
                                 " keeps next_timer() at or before now after on_timer(" +
                                 std::to_string(now) + "); its timer never clears");
        }
      } else {
        n.last_fire_time = now;
        n.fire_spins = 0;
      }
      n.host->on_timer(now);
    }
    after_host_activity(node);
  }

  // ---- switches -------------------------------------------------------------------------
  void build_routes() {
    const std::size_t node_count = nodes.size();
    for (Node& n : nodes) {
      if (!n.host) n.routes.assign(host_nodes.size(), -1);
    }
    std::vector<int> dist(node_count);
    std::vector<int> frontier;
    frontier.reserve(node_count);
    for (std::size_t ord = 0; ord < host_nodes.size(); ++ord) {
      const int target = host_nodes[ord];
      std::fill(dist.begin(), dist.end(), -1);
      dist[static_cast<std::size_t>(target)] = 0;
      frontier.assign(1, target);
      for (std::size_t head = 0; head < frontier.size(); ++head) {
        const int u = frontier[head];
        // Hosts do not forward.
        if (u != target && nodes[static_cast<std::size_t>(u)].host) continue;
        for (int pi : nodes[static_cast<std::size_t>(u)].ports) {
          const int v = ports[static_cast<std::size_t>(pi)].peer;
          if (dist[static_cast<std::size_t>(v)] < 0) {
            dist[static_cast<std::size_t>(v)] = dist[static_cast<std::size_t>(u)] + 1;
            frontier.push_back(v);
          }
        }
      }
      for (std::size_t s = 0; s < node_count; ++s) {
        Node& sw = nodes[s];
        if (sw.host || dist[s] <= 0) continue;
        for (int pi : sw.ports) {  // ports in connect() order: the lowest index wins a tie
          const int v = ports[static_cast<std::size_t>(pi)].peer;
          const bool transit = v == target || !nodes[static_cast<std::size_t>(v)].host;
          if (transit && dist[static_cast<std::size_t>(v)] == dist[s] - 1) {
            sw.routes[ord] = pi;
            break;
          }
        }
      }
    }
    routes_dirty = false;
  }

  void switch_forward(int node, std::uint32_t buffer) {
    if (routes_dirty) build_routes();
    const std::vector<std::uint8_t>& bytes = buffers[buffer];
    int pi = -1;
    if (bytes.size() >= kDstMacNodeOffset + 3) {
      const NodeId dst = (NodeId{bytes[kDstMacNodeOffset]} << 16) |
                         (NodeId{bytes[kDstMacNodeOffset + 1]} << 8) |
                         NodeId{bytes[kDstMacNodeOffset + 2]};
      const auto it = host_ordinal.find(dst);
      if (it != host_ordinal.end()) pi = nodes[static_cast<std::size_t>(node)].routes[it->second];
    }
    if (pi < 0) {
      ++stats.dropped_no_route;
      release(buffer);
      return;
    }
    Port& p = ports[static_cast<std::size_t>(pi)];
    if (!p.busy) {
      transmit(pi, buffer);
      return;
    }
    std::vector<std::uint8_t>& frame = buffers[buffer];
    const std::uint64_t len = frame.size();
    if (p.stats.queue_bytes + len > p.queue_limit_bytes) {
      ++p.stats.dropped_queue;
      trace_frame(p.node, p.peer, buffer, true);
      release(buffer);
      return;
    }
    constexpr std::size_t kCeOffset = wire::ce_byte_offset(wire::Encapsulation::kEthernet);
    if (p.ecn_threshold_bytes > 0 && p.stats.queue_bytes >= p.ecn_threshold_bytes &&
        frame.size() > kCeOffset) {
      frame[kCeOffset] |= wire::kCeBit;
      ++p.stats.ecn_marked;
    }
    p.queue.push(buffer);
    p.stats.queue_bytes += len;
    p.stats.max_queue_bytes = std::max(p.stats.max_queue_bytes, p.stats.queue_bytes);
  }

  void on_tx_done(int pi) {
    Port& p = ports[static_cast<std::size_t>(pi)];
    p.busy = false;
    if (nodes[static_cast<std::size_t>(p.node)].host) {
      after_host_activity(p.node);
      return;
    }
    if (p.queue.empty()) return;
    const std::uint32_t buffer = p.queue.front();
    p.queue.pop();
    p.stats.queue_bytes -= buffers[buffer].size();
    transmit(pi, buffer);
  }

  void on_arrive(int node, std::uint32_t buffer) {
    Node& n = nodes[static_cast<std::size_t>(node)];
    if (!n.host) {
      switch_forward(node, buffer);
      return;
    }
    ++stats.frames_delivered;
    n.host->on_frame(buffers[buffer], now);
    release(buffer);
    after_host_activity(node);
  }

  void on_callback(std::uint32_t slot) {
    std::function<void()> fn = std::move(callbacks[slot]);
    callbacks[slot] = nullptr;
    free_callbacks.push_back(slot);
    fn();
    // The callback may have touched any host (send, open, close): give each a chance to act.
    for (int node : host_nodes) after_host_activity(node);
  }

  void dispatch(const SimEvent& ev) {
    switch (ev.action) {
      case Action::kArrive: on_arrive(static_cast<int>(ev.target), ev.buffer); return;
      case Action::kTxDone: on_tx_done(static_cast<int>(ev.target)); return;
      case Action::kTimer: on_timer_event(ev); return;
      case Action::kCallback: on_callback(ev.target); return;
    }
  }

  // ---- validation -----------------------------------------------------------------------
  void check_node(int node, const char* what) const {
    if (node < 0 || static_cast<std::size_t>(node) >= nodes.size()) {
      throw std::out_of_range(std::string("SimLoop::") + what + ": no node " +
                              std::to_string(node) + " (" + std::to_string(nodes.size()) +
                              " nodes exist)");
    }
  }
  void check_host(int node, const char* what) const {
    check_node(node, what);
    if (!nodes[static_cast<std::size_t>(node)].host) {
      throw std::invalid_argument(std::string("SimLoop::") + what + ": node " +
                                  std::to_string(node) + " is a switch, not a host");
    }
  }

  std::uint64_t seed;
  Rng rng;
  TimeNs now = 0;
  std::uint64_t next_seq = 0;
  bool running = false;
  bool routes_dirty = true;
  std::vector<SimEvent> heap;
  std::vector<Node> nodes;
  std::vector<Port> ports;
  std::vector<int> host_nodes;  // node index by host ordinal
  std::unordered_map<NodeId, std::size_t> host_ordinal;
  std::vector<std::vector<std::uint8_t>> buffers;
  std::vector<std::uint32_t> free_buffers;
  std::vector<std::function<void()>> callbacks;
  std::vector<std::uint32_t> free_callbacks;
  std::vector<std::uint8_t> scratch;  // hosts write their next frame here
  std::function<void(const TraceRecord&)> trace;
  SimStats stats;
};

SimLoop::SimLoop(std::uint64_t seed) : impl_(std::make_unique<Impl>(seed)) {}
SimLoop::~SimLoop() = default;

std::uint64_t SimLoop::seed() const { return impl_->seed; }
TimeNs SimLoop::now() const { return impl_->now; }

int SimLoop::add_host(std::unique_ptr<Host> host, NodeId node_id) {
  if (!host) throw std::invalid_argument("SimLoop::add_host: host is null");
  if (node_id > kNodeIdMask) {
    throw std::invalid_argument("SimLoop::add_host: node id " + std::to_string(node_id) +
                                " does not fit the 24 bits a MAC carries");
  }
  if (impl_->host_ordinal.count(node_id) != 0) {
    throw std::invalid_argument("SimLoop::add_host: node id " + std::to_string(node_id) +
                                " is already used by another host");
  }
  const int index = static_cast<int>(impl_->nodes.size());
  Impl::Node& n = impl_->nodes.emplace_back();
  n.host = std::move(host);
  n.node_id = node_id;
  impl_->host_ordinal.emplace(node_id, impl_->host_nodes.size());
  impl_->host_nodes.push_back(index);
  impl_->routes_dirty = true;
  return index;
}

int SimLoop::add_switch() {
  const int index = static_cast<int>(impl_->nodes.size());
  impl_->nodes.emplace_back();
  impl_->routes_dirty = true;
  return index;
}

void SimLoop::connect(int a, int b, const LinkConfig& link) {
  impl_->check_node(a, "connect");
  impl_->check_node(b, "connect");
  if (a == b) throw std::invalid_argument("SimLoop::connect: a node cannot link to itself");
  if (!(link.rate_gbps > 0) || !(link.delay_us >= 0)) {
    throw std::invalid_argument("SimLoop::connect: rate_gbps must be > 0 and delay_us >= 0");
  }
  check_faults(link.a_to_b, "a_to_b");
  check_faults(link.b_to_a, "b_to_a");
  for (int node : {a, b}) {
    const Impl::Node& n = impl_->nodes[static_cast<std::size_t>(node)];
    if (n.host && !n.ports.empty()) {
      throw std::invalid_argument("SimLoop::connect: host node " + std::to_string(node) +
                                  " already has its one link");
    }
  }
  auto add_port = [&](int from, int to, const Faults& faults) {
    Impl::Port& p = impl_->ports.emplace_back();
    p.node = from;
    p.peer = to;
    p.rate_gbps = link.rate_gbps;
    p.delay_ns = us_to_ns_rounded(link.delay_us);
    p.reorder_delay_ns = us_to_ns_rounded(faults.reorder_delay_us);
    p.queue_limit_bytes = link.queue_limit_bytes;
    p.ecn_threshold_bytes = link.ecn_threshold_bytes;
    p.faults = faults;
    p.faulty = has_faults(faults);
    p.drop_mask = faults.drop_frames;
    std::sort(p.drop_mask.begin(), p.drop_mask.end());
    p.drop_mask.erase(std::unique(p.drop_mask.begin(), p.drop_mask.end()), p.drop_mask.end());
    impl_->nodes[static_cast<std::size_t>(from)].ports.push_back(
        static_cast<int>(impl_->ports.size() - 1));
  };
  add_port(a, b, link.a_to_b);
  add_port(b, a, link.b_to_a);
  impl_->routes_dirty = true;
}

Host& SimLoop::host(int node) {
  impl_->check_host(node, "host");
  return *impl_->nodes[static_cast<std::size_t>(node)].host;
}

void SimLoop::schedule(TimeNs at, std::function<void()> fn) {
  std::uint32_t slot;
  if (impl_->free_callbacks.empty()) {
    slot = static_cast<std::uint32_t>(impl_->callbacks.size());
    impl_->callbacks.push_back(std::move(fn));
  } else {
    slot = impl_->free_callbacks.back();
    impl_->free_callbacks.pop_back();
    impl_->callbacks[slot] = std::move(fn);
  }
  impl_->push(std::max(at, impl_->now), Action::kCallback, slot);
}

void SimLoop::kick(int node) {
  impl_->check_host(node, "kick");
  impl_->after_host_activity(node);
}

bool SimLoop::run(TimeNs deadline, const std::function<bool()>& stop) {
  Impl& s = *impl_;
  if (s.running) throw std::logic_error("SimLoop::run: called from inside a running loop");
  s.running = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{s.running};
  while (!s.heap.empty()) {
    if (s.heap.front().time > deadline) return false;
    std::pop_heap(s.heap.begin(), s.heap.end(), Later{});
    const SimEvent ev = s.heap.back();
    s.heap.pop_back();
    s.now = ev.time;
    ++s.stats.events;
    s.dispatch(ev);
    if (stop && stop()) return true;
  }
  return !stop;
}

void SimLoop::set_trace(std::function<void(const TraceRecord&)> hook) {
  impl_->trace = std::move(hook);
}

const PortStats& SimLoop::port_stats(int node, int peer) const {
  impl_->check_node(node, "port_stats");
  for (int pi : impl_->nodes[static_cast<std::size_t>(node)].ports) {
    const Impl::Port& p = impl_->ports[static_cast<std::size_t>(pi)];
    if (p.peer == peer) return p.stats;
  }
  throw std::out_of_range("SimLoop::port_stats: node " + std::to_string(node) +
                          " has no link to node " + std::to_string(peer));
}

const SimStats& SimLoop::stats() const { return impl_->stats; }

TimeNs serialization_ns(std::size_t bytes, double rate_gbps) {
  const double ns = static_cast<double>(bytes) * 8.0 / rate_gbps;
  // The relative slack keeps an exact quotient (80.000...01 from rounding) from becoming 81.
  return static_cast<TimeNs>(std::ceil(ns - ns * 1e-12));
}

TimeNs us_to_ns_rounded(double us) { return static_cast<TimeNs>(std::llround(us * 1000.0)); }

// ---- EndpointHost -------------------------------------------------------------------------

EndpointHost::EndpointHost(const EndpointConfig& config, EventHandler on_event)
    : endpoint_(config), on_event_(std::move(on_event)) {}

void EndpointHost::on_frame(std::span<const std::uint8_t> frame, TimeNs now) {
  endpoint_.on_frame(frame, now);
  drain_events(now);
}

std::size_t EndpointHost::poll_transmit(std::span<std::uint8_t> buf, TimeNs now) {
  for (;;) {
    drain_events(now);
    Transmit tx;
    if (endpoint_.poll_transmit(buf, now, tx)) {
      drain_events(now);
      return tx.bytes;
    }
    // Nothing to send; but if polling raised events, their handler may queue more.
    if (!on_event_ || !endpoint_.has_events()) return 0;
  }
}

TimeNs EndpointHost::next_timer() const { return endpoint_.next_timer(); }

void EndpointHost::on_timer(TimeNs now) {
  endpoint_.on_timer(now);
  drain_events(now);
}

void EndpointHost::drain_events(TimeNs now) {
  if (!on_event_) return;  // without a handler the events stay queued for poll_event()
  while (std::optional<Event> ev = endpoint_.poll_event()) on_event_(endpoint_, *ev, now);
}

}  // namespace weft::transport::sim
