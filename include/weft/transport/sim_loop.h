// SimLoop — the in-memory datapath: a deterministic discrete-event simulator in virtual time.
//
// It drives N hosts (each usually an Endpoint) over full-duplex links and simple output-queued
// Ethernet switches. Links have a rate, a propagation delay and a fault model applied
// independently to every frame in each direction (ACKs included): seeded random loss, an explicit
// loss mask, duplication, reordering and corruption. Switch egress ports are drop-tail queues with
// a byte limit and an ECN marking threshold (the CE bit of the TTP header). A host NIC never drops:
// it asks its host for the next frame only when the wire is free, which is how a real NIC's
// transmit ring pushes back on its driver.
//
// Determinism: one seed drives every random choice; the same seed and the same calls give the
// same run, byte for byte. Ties in time are broken by insertion order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/transport/endpoint.h"
#include "weft/transport/types.h"

namespace weft::transport::sim {

// What a simulated host is to the loop. EndpointHost adapts an Endpoint; tests may supply doubles.
class Host {
 public:
  virtual ~Host() = default;
  virtual void on_frame(std::span<const std::uint8_t> frame, TimeNs now) = 0;
  // Writes the next frame into buf; returns its length, or 0 when there is nothing to send now.
  virtual std::size_t poll_transmit(std::span<std::uint8_t> buf, TimeNs now) = 0;
  virtual TimeNs next_timer() const = 0;
  virtual void on_timer(TimeNs now) = 0;
};

// Fault model of one link direction. Every field applies to every frame independently.
struct Faults {
  double loss = 0.0;         // probability a frame is dropped
  // Explicit loss mask: 0-based indices of frames (in this direction, in transmit order) to drop.
  std::vector<std::uint64_t> drop_frames;
  double duplicate = 0.0;    // probability a frame is delivered twice
  double reorder = 0.0;      // probability a frame is held back by reorder_delay_us
  double reorder_delay_us = 5.0;
  double corrupt = 0.0;      // probability one random bit of a frame is flipped
  // By default a corrupted frame is dropped and counted, as the Ethernet FCS would. When true it
  // is delivered (undetected corruption; for the encryption layer to catch).
  bool deliver_corrupted = false;
};

struct LinkConfig {
  double rate_gbps = 100.0;            // serialization rate, both directions
  double delay_us = 2.0;               // propagation delay, both directions
  // Switch egress queue (ignored at a host NIC, which never drops).
  std::uint64_t queue_limit_bytes = 1u << 20;
  std::uint64_t ecn_threshold_bytes = 0;  // mark CE when the queue holds at least this; 0 = off
  Faults a_to_b;                       // faults on frames from the first node to the second
  Faults b_to_a;
};

// Counters of one direction of one link (indexed by the transmitting node's port).
struct PortStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t dropped_loss = 0;        // random loss or mask
  std::uint64_t dropped_queue = 0;       // switch egress queue full
  std::uint64_t dropped_corrupt = 0;     // corrupted, dropped as by the FCS
  std::uint64_t delivered_corrupt = 0;   // corrupted and delivered (deliver_corrupted)
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t ecn_marked = 0;
  std::uint64_t max_queue_bytes = 0;     // largest egress queue seen
  std::uint64_t queue_bytes = 0;         // egress queue now
};

// One frame as the trace hook sees it: put on a wire by `from`, towards `to`.
struct TraceRecord {
  TimeNs time = 0;
  int from = 0;  // node index
  int to = 0;
  std::span<const std::uint8_t> frame;
  bool dropped = false;  // by the fault model or a full queue
};

struct SimStats {
  std::uint64_t events = 0;            // events processed, stale timer events included
  std::uint64_t frames_delivered = 0;  // frames handed to a host's on_frame
  std::uint64_t dropped_no_route = 0;  // frames a switch had no route for (unknown dst MAC)
};

class SimLoop {
 public:
  explicit SimLoop(std::uint64_t seed);
  ~SimLoop();
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  std::uint64_t seed() const;
  TimeNs now() const;

  // Nodes. Returns the node index. Host node ids for switching come from frames' Ethernet
  // destination MAC (low 24 bits), so `node_id` must match what the host puts on the wire.
  int add_host(std::unique_ptr<Host> host, NodeId node_id);
  int add_switch();
  // Full-duplex link between two nodes. A host has exactly one link; a switch any number.
  void connect(int a, int b, const LinkConfig& link);
  Host& host(int node);

  // Schedules `fn` at virtual time `at` (>= now; an earlier `at` runs at now). After `fn` returns
  // every host is given the chance to transmit and its timer is re-read, so a callback may call
  // an endpoint's send/open/close directly.
  void schedule(TimeNs at, std::function<void()> fn);
  // Tells the loop host `node` may have new work (after an application send/open/close made
  // outside a loop callback, or from one host's handler on another host's endpoint).
  void kick(int node);

  // Runs until no event is left, `stop` returns true (checked after each event), or virtual time
  // would pass `deadline`. Returns true if stopped by `stop` (or by running out of events when
  // stop is empty). Events at exactly `deadline` run. now() stays at the last event processed (it
  // does not jump to `deadline`); a later run() continues from there. Not reentrant.
  bool run(TimeNs deadline, const std::function<bool()>& stop = {});

  void set_trace(std::function<void(const TraceRecord&)> hook);
  // Stats of the port of `node` that leads to `peer`.
  const PortStats& port_stats(int node, int peer) const;
  const SimStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Adapts an Endpoint to the loop and hands its events to `on_event` as they appear.
class EndpointHost final : public Host {
 public:
  using EventHandler = std::function<void(Endpoint&, Event&, TimeNs)>;
  explicit EndpointHost(const EndpointConfig& config, EventHandler on_event = {});
  Endpoint& endpoint() { return endpoint_; }
  void set_handler(EventHandler on_event) { on_event_ = std::move(on_event); }

  void on_frame(std::span<const std::uint8_t> frame, TimeNs now) override;
  std::size_t poll_transmit(std::span<std::uint8_t> buf, TimeNs now) override;
  TimeNs next_timer() const override;
  void on_timer(TimeNs now) override;

 private:
  void drain_events(TimeNs now);
  Endpoint endpoint_;
  EventHandler on_event_;
};

// Time on the wire of `bytes` at `rate_gbps`, in whole nanoseconds rounded up (the ns-3 model
// uses the same function, so both simulators put a frame on the wire for the same time).
TimeNs serialization_ns(std::size_t bytes, double rate_gbps);
// Microseconds to the nearest nanosecond (link delays).
TimeNs us_to_ns_rounded(double us);

// One golden-trace line for a frame: time, direction, opcode, vc, ids, length, flags.
// `dropped` marks frames the link or switch discarded. The format is fixed (golden files are
// diffed against it); decoded as Ethernet with extensions, up to 9000 B:
//   "       2.080 us  n0->n1      PAYLOAD     vc2 tx=00000005 rx=00000000 len=1024 eom ce DROP"
// time in microseconds with ns precision (right-aligned, 12 wide), node indices (left-aligned,
// 10 wide), opcode (11 wide), tx/rx ids in 8-digit hex, len = payload bytes, then the flags that
// are set, in this order: eom, ce, cr, cong=N (congestion byte), feat (feature block),
// sack=N (SACK ranges), DROP. An undecodable frame prints
//   "       2.080 us  n0->n1      MALFORMED(bad-opcode) len=64"  with len = frame bytes.
std::string format_trace_line(TimeNs time, int from, int to, std::span<const std::uint8_t> frame,
                              bool dropped);

}  // namespace weft::transport::sim
