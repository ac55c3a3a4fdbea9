// What the ns-3 model sees of weft. Debian's ns-3 3.37 headers do not compile as C++20 (g++ 12)
// and weft's own headers need C++20 (std::span), so sim/ is C++17 and reaches the transport core
// through this header alone: plain types, no weft header, implemented in weft_ns3_facade.cc
// (C++20). The ns-3 model never re-implements the protocol: every frame it carries was made by a
// real weft Endpoint behind HostCore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace weft::ns3sim {

using TimeNs = std::int64_t;
constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

// A simulated host's protocol side, as the ns-3 application drives it (the same contract as the
// in-memory simulator's transport::sim::Host): frames in, frames out when the wire is free, one
// timer.
class HostCore {
 public:
  virtual ~HostCore() = default;
  virtual void on_frame(const std::uint8_t* frame, std::size_t len, TimeNs now) = 0;
  // Writes the next frame into buf (capacity bytes); returns its length, 0 when there is none.
  virtual std::size_t poll_transmit(std::uint8_t* buf, std::size_t capacity, TimeNs now) = 0;
  virtual TimeNs next_timer() const = 0;
  virtual void on_timer(TimeNs now) = 0;
};

// Retransmissions of a host's links, by what triggered them (transport::LinkStats).
struct Retransmits {
  std::uint64_t total = 0;
  std::uint64_t rto = 0;        // the retransmission timer expired
  std::uint64_t fast = 0;       // weft: RACK / SACK loss detection
  std::uint64_t nack = 0;       // ttpoe-compat: go-back-N after a NACK
  std::uint64_t nack_full = 0;  // resent after NACK_FULL backpressure
  std::uint64_t spurious = 0;   // of all those, found needless (the original arrived after all)
  Retransmits& operator+=(const Retransmits& o) {
    spurious += o.spurious;
    total += o.total;
    rto += o.rto;
    fast += o.fast;
    nack += o.nack;
    nack_full += o.nack_full;
    return *this;
  }
};

// The transport's timers (EndpointConfig's defaults; a scenario may set them for its fabric).
struct TimerOptions {
  std::uint32_t rto_initial_us = 1000;  // RTO before the first RTT sample, and OPEN/CLOSE replay
  std::uint32_t rto_min_us = 100;       // floor of the RTO computed from the RTT
};

struct TransportHostOptions {
  std::uint32_t node_id = 1;     // TSH node id (24 bits); the Ethernet MAC carries it too
  std::uint64_t seed = 1;        // the endpoint's random choices (ids, epochs, entropy)
  bool compat = false;           // the ttpoe-compat profile (go-back-N) instead of weft's
  std::uint32_t max_frame_bytes = 9000;
  std::uint32_t recv_buffer_bytes = 4u << 20;  // per link; beyond it frames are refused
  bool nack_full = true;  // refuse with NACK_FULL (backpressure) or drop silently (the timer recovers)
  TimerOptions timers;
};

// One weft transport Endpoint (Ethernet encapsulation) as a HostCore, with the calls a workload
// needs. Received messages are counted, not kept.
class TransportHost : public HostCore {
 public:
  static std::unique_ptr<TransportHost> create(const TransportHostOptions& options);
  // Opens (peer, vc); false with last_error() set when the endpoint refuses.
  virtual bool open(std::uint32_t peer, int vc, TimeNs now) = 0;
  // Queues a message of `bytes` bytes (a fixed pattern) to (peer, vc).
  virtual bool send(std::uint32_t peer, int vc, std::size_t bytes, TimeNs now) = 0;
  virtual bool close(std::uint32_t peer, int vc, TimeNs now) = 0;
  // A flow: `bytes` to (peer, VC 2), opened if needed, cut into messages (weft: up to 1 MiB each;
  // compat: 1024 B, its largest) and queued as the send buffer allows. The receiving host must
  // expect_flow() it to know when it is complete.
  virtual bool start_flow(std::uint32_t peer, std::size_t bytes, TimeNs now) = 0;
  virtual void expect_flow(std::uint32_t from, std::size_t bytes) = 0;
  // When the expected bytes from `from` had all arrived (kNever: not yet).
  virtual TimeNs flow_finished_at(std::uint32_t from) const = 0;
  virtual std::uint64_t messages_received() const = 0;
  virtual std::uint64_t bytes_received() const = 0;
  virtual std::uint64_t retransmissions() = 0;  // over every link, open or closed
  virtual Retransmits retransmissions_by_cause() = 0;
  virtual std::uint64_t link_errors() const = 0;      // links that failed
  virtual std::string last_error() const = 0;
};

// A communicator this rank belongs to: the job's ranks (0..size-1) that form it, and what its cost
// model is told about the fabric between them. Ranks within it are numbered in the order listed.
struct CommunicatorOptions {
  std::vector<int> ranks;             // must list this host's rank
  int ranks_per_pod = 0;              // topology for the hierarchical algorithm (0: flat)
  double alpha_us = 5.0, beta_gbps = 100.0;            // within a pod (or everywhere, when flat)
  double inter_alpha_us = 10.0, inter_beta_gbps = 100.0;  // between pods
};

struct CollectiveHostOptions {
  int rank = 0;
  int size = 1;                       // rank r is TSH node id r + 1
  std::uint64_t seed = 1;
  std::uint32_t segment_bytes = 256u << 10;
  int ranks_per_pod = 0;              // topology for the hierarchical algorithm (0: flat)
  // What the cost model is told about the fabric (it picks algorithms from these): one-way latency
  // and link bandwidth within a pod and between pods.
  double alpha_us = 5.0, beta_gbps = 100.0;
  double inter_alpha_us = 10.0, inter_beta_gbps = 100.0;
  std::uint64_t timeout_ns = 10'000'000'000;  // per operation, virtual time
  TimerOptions timers;
  // Sub-communicators (e.g. this rank's pod and its rail), each an Engine of its own on the one
  // Endpoint, so their collectives run at once. Empty: one communicator of all `size` ranks with
  // the fields above. Their peers must not overlap (the endpoint's links are per peer, so a peer's
  // messages must belong to one communicator); create() throws std::invalid_argument otherwise.
  std::vector<CommunicatorOptions> communicators;
};

// One call: which collective, how many bytes (nccl-tests' S), dtype, op, algorithm, root.
struct CollectiveSpec {
  std::string collective = "allreduce";  // allreduce allgather reducescatter broadcast reduce alltoall
  std::size_t bytes = 1u << 20;
  std::string dtype = "float";
  std::string op = "sum";
  std::string algorithm = "auto";
  int root = 0;
};

// One rank of a job: a weft Endpoint and weft's collective Engine (the code real ranks run), as a
// HostCore — one Engine per communicator. Inputs are verifiable (every element of the result is
// known), so wrong_elements() checks the whole output. `comm` indexes
// CollectiveHostOptions::communicators (0: the only one when none are listed).
class CollectiveHost : public HostCore {
 public:
  static std::unique_ptr<CollectiveHost> create(const CollectiveHostOptions& options);
  virtual int communicators() const = 0;
  // Checks the spec and fills the inputs (the data a rank holds before it calls the collective);
  // false with error() set when the spec is bad.
  virtual bool prepare(const CollectiveSpec& spec, int comm = 0) = 0;
  // Posts the operation, preparing it first unless prepare() was called with this spec.
  virtual bool start(const CollectiveSpec& spec, TimeNs now, int comm = 0) = 0;
  virtual bool done(int comm = 0) const = 0;     // no longer pending (finished or failed)
  virtual bool failed(int comm = 0) const = 0;
  virtual std::string error(int comm = 0) const = 0;
  virtual std::string algorithm(int comm = 0) const = 0;  // the algorithm that ran (or was chosen)
  virtual TimeNs finished_at(int comm = 0) const = 0;     // when done() became true, kNever before
  virtual std::uint64_t wrong_elements(int comm = 0) = 0;  // after done(): elements of the result that differ
  virtual std::size_t bytes(int comm = 0) const = 0;       // nccl-tests' S of the posted operation
  virtual std::uint64_t retransmissions() = 0;             // over every link of this host
  virtual Retransmits retransmissions_by_cause() = 0;
};

// nccl-tests' bus-bandwidth factor (all-reduce 2(n-1)/n, ...); 0 for an unknown collective.
double busbw_factor(const std::string& collective, int ranks);

// What a switch reads of a TTP-over-Ethernet frame: the node ids in the MAC addresses (weft puts
// the 24-bit node id in the low three bytes of each), the VC and the multipath entropy of the TTP
// header. ok is false for a frame too short to hold them.
struct FrameInfo {
  bool ok = false;
  std::uint32_t dst_node = 0, src_node = 0;
  int vc = 0;
  std::uint16_t entropy = 0;
};
FrameInfo peek_frame(const std::uint8_t* frame, std::size_t len);
// Sets the CE (congestion experienced) bit of the TTP header, as an ECN-marking switch does.
// Returns false (and changes nothing) for a frame too short to carry it.
bool mark_ce(std::uint8_t* frame, std::size_t len);

// A pcap file of Ethernet frames (weft's PcapWriter), for captures of simulated fabrics that
// `weft decode` and the Wireshark dissector read. Throws std::runtime_error naming the path.
class PcapSink {
 public:
  explicit PcapSink(const std::string& path);
  ~PcapSink();
  PcapSink(const PcapSink&) = delete;
  PcapSink& operator=(const PcapSink&) = delete;
  void write(TimeNs time, const std::uint8_t* frame, std::size_t len);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The in-memory simulator's wire timing, shared so both simulators agree to the nanosecond.
TimeNs serialization_ns(std::size_t bytes, double rate_gbps);
TimeNs us_to_ns_rounded(double us);
// The golden-trace line of a frame (transport::sim::format_trace_line).
std::string format_trace_line(TimeNs time, int from, int to, const std::uint8_t* frame, std::size_t len,
                              bool dropped);

// The validation scenario, run on weft's in-memory simulator: host 0 (node 1) and host 1 (node 2)
// on one full-duplex link, or each on its own link to a switch (node index 2); at time 0 host 0
// opens VC 2 to host 1 and queues `messages`; the run stops after the event in which host 1 has
// received them all (or at `deadline`). Frames whose transmit index (from 0) out of host 0's
// (drop_a_to_b) or host 1's (drop_b_to_a) port is listed are lost on the wire.
struct TwoHostScenario {
  double rate_gbps = 100.0;
  double delay_us = 2.0;
  bool through_switch = false;
  double switch_out_rate_gbps = 100.0;            // the switch's port towards host 1
  std::uint64_t switch_queue_bytes = 1u << 20;    // per egress port, drop-tail
  std::vector<std::size_t> messages = {1000, 100000, 1u << 20};
  std::vector<std::uint64_t> drop_a_to_b, drop_b_to_a;
  std::uint64_t seed = 1;
  bool compat = false;
  TimeNs deadline = 1'000'000'000;
};

struct ScenarioResult {
  std::vector<std::string> trace;  // one golden-trace line per frame put on a wire
  std::uint64_t messages_received = 0;
  TimeNs end = 0;                  // virtual time of the last event run
  bool complete = false;           // every message arrived
};

ScenarioResult run_two_hosts_in_memory(const TwoHostScenario& scenario);
// The options of host 0 (node 1) or host 1 (node 2) of the scenario, as both simulators use them.
TransportHostOptions scenario_host(const TwoHostScenario& scenario, int host);

}  // namespace weft::ns3sim
