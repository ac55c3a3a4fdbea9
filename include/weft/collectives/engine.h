// collectives::Engine — the sans-I/O collective engine (DESIGN.md §5).
//
// The engine runs collectives and point-to-point transfers for one rank of a group of `size`
// ranks. Like the transport core it never reads a clock, sleeps, or does I/O: a driver hands it
// whole transport messages from peers and the current time, takes the messages it wants sent,
// and calls it back when its timer expires:
//
//   OpId id = engine.post(args, now);             // start an operation (returns at once)
//   engine.on_message_data(from, bytes, first, last, now);  // message bytes from a peer, in order
//   while (engine.poll_send(out)) transport.send(out.peer, out.bytes);
//   engine.on_timer(now);                         // at or after engine.next_timer()
//   engine.status(id) / engine.release(id)        // completion, error detail
//
// The same engine runs unchanged over the in-memory simulator, UDP, DPDK and ns-3: algorithms see
// buffers and ranks, never frames. Each operation is compiled into a plan — a list of sends,
// receives (copy or reduce) and local copies of byte ranges of the operation's buffers — and an
// executor runs plans: a step starts as soon as the steps it depends on (by overlapping byte
// ranges) are done, segment by segment, so rings, chains and trees pipeline by themselves.
//
// Messages: each carries a 24-byte header (kind, operation sequence number, a signature of the
// operation's arguments, message and segment index). Every rank must post the same collectives in
// the same order with the same arguments (as with MPI and NCCL); a rank whose arguments differ is
// caught by the signature and the operation fails on both sides naming the mismatch, rather than
// producing garbage or hanging.
//
// Failure: every operation has a deadline (timeout). When it passes, or a peer's link fails, or
// abort() is called, the engine fails every pending operation with a message naming the operation,
// the peer and the cause, and sends an abort message to every peer so that they fail theirs too
// (within one message delay, not their own timeouts). After that the engine is aborted: every new
// operation fails at once. No call blocks, so abort cannot hang.
//
// Memory: send staging buffers, scratch space and plans are pooled and reused; a steady stream of
// operations of the same shapes allocates nothing for data (the transport's received messages are
// the transport's own vectors, consumed in place).
//
// Threading: not thread-safe; one driver thread owns an engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/collectives/types.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/types.h"

namespace weft::collectives {

using transport::TimeNs;

enum class Collective : std::uint8_t {
  kAllReduce,      // every rank gets op over all ranks' `count` elements
  kAllGather,      // recv = concatenation of every rank's `count` elements (count * size)
  kReduceScatter,  // send holds count * size elements; rank r gets block r of the reduction
  kBroadcast,      // root's `count` elements to every rank
  kReduce,         // op over all ranks' `count` elements, at root only
  kBarrier,        // returns when every rank has entered
  kAllToAll,       // block j (count elements) of rank i's send goes to block i of rank j's recv
  kSend,           // point-to-point: `count` elements to `peer`
  kRecv,           // point-to-point: `count` elements from `peer`
};
inline constexpr std::size_t kCollectiveCount = 9;
// "allreduce", "allgather", "reducescatter", "broadcast", "reduce", "barrier", "alltoall",
// "send", "recv" (nccl-tests' benchmark names).
std::string_view collective_name(Collective c);
std::optional<Collective> parse_collective(std::string_view s);

enum class Algorithm : std::uint8_t {
  kAuto,               // the cost model picks (see cost_model.h)
  kRing,               // pipelined ring: all-reduce (RS + AG), all-gather, reduce-scatter
  kRabenseifner,       // recursive halving + doubling: all-reduce, reduce-scatter (2^k ranks)
  kRecursiveDoubling,  // all-reduce (whole buffer each step), all-gather (2^k ranks)
  kBruck,              // all-gather, all-to-all, barrier (dissemination): ceil(lg p) steps
  kDoubleBinaryTree,   // all-reduce: two complementary binary trees, half the data each
  kHierarchical,       // all-reduce 2-D: ring RS in the pod, all-reduce across pods, ring AG
  kBinomialTree,       // broadcast, reduce
  kChain,              // broadcast, reduce: a pipelined chain from/to the root
  kPairwise,           // all-to-all: p-1 exchange steps
  kDirect,             // point-to-point, and any operation on one rank
};
inline constexpr std::size_t kAlgorithmCount = 11;
// "auto", "ring", "rabenseifner", "recursive-doubling", "bruck", "double-binary-tree",
// "hierarchical", "binomial-tree", "chain", "pairwise", "direct".
std::string_view algorithm_name(Algorithm a);
std::optional<Algorithm> parse_algorithm(std::string_view s);

// Where ranks sit. Ranks [k * ranks_per_pod, (k + 1) * ranks_per_pod) share scale-up pod k
// (a host, or one switch tier). 0 = unknown: one flat group.
struct Topology {
  int ranks_per_pod = 0;
};

// The α-β-γ parameters the cost model uses (Hockney; Thakur, Rabenseifner & Gropp 2005), per
// path class. Drivers measure them at start-up (Communicator) or derive them from the fabric
// (simulator); every rank of a group must use identical values, so drivers agree on them first.
struct LinkParams {
  double alpha_us = 10.0;          // per-message latency, same pod (one way, software included)
  double beta_us_per_byte = 1e-3;  // per-byte transfer time, same pod (1 / bandwidth)
  double inter_alpha_us = 10.0;    // ... between pods
  double inter_beta_us_per_byte = 1e-3;
  double gamma_us_per_byte = 1e-4; // per-byte reduction time (the reduction kernels)
};

struct EngineConfig {
  int rank = 0;
  int size = 1;
  Topology topology;
  LinkParams link;
  // Large transfers are cut into messages of this many bytes (a multiple of 8): the unit of
  // pipelining along rings, chains and trees.
  std::size_t segment_bytes = 256u << 10;
  // Send staging held by the transport (sent, not yet acknowledged) at most; beyond it sends wait
  // (backpressure on a rank that runs ahead, e.g. a broadcast root). At least one segment.
  std::size_t max_staging_bytes = 64u << 20;
  // Send segments of at least this many bytes go to the transport by reference (their header as a
  // message of its own, right before): no copy into staging. The operation then completes only
  // when the transport has let go of every such segment (acknowledged), and a step that writes a
  // range waits until the sends that read it are acknowledged. 0: always copy.
  std::size_t zero_copy_min_bytes = 64u << 10;
  TimeNs default_timeout_ns = 60'000'000'000;  // per operation, when OpArgs::timeout_ns is 0
};

enum class OpState : std::uint8_t { kPending, kDone, kFailed };

// Why an operation failed.
enum class OpError : std::uint8_t {
  kNone,
  kInvalidArgument,  // bad arguments (detail names which); nothing was sent
  kTimedOut,         // the operation's deadline passed (detail: what it was waiting for)
  kPeerFailed,       // the transport link to a peer failed (detail: the transport's error)
  kAborted,          // abort() here, or an abort from another rank (detail: who and why)
  kMismatch,         // ranks posted different operations or arguments (detail: both sides)
};
std::string_view op_error_name(OpError e);

struct OpStatus {
  OpState state = OpState::kPending;
  OpError error = OpError::kNone;
  std::string detail;          // kFailed: what failed, on which rank, involving which peer
  Algorithm algorithm = Algorithm::kAuto;  // the algorithm that ran (chosen or forced)
};

// One operation. Buffers belong to the caller and must stay valid (and, for `recv`, untouched)
// until the operation is no longer pending. `count` is in elements of `dtype`:
//   all-reduce, broadcast, reduce: elements of send and recv (send may equal recv: in place)
//   all-gather: elements each rank contributes (recv holds count * size)
//   reduce-scatter: elements each rank receives (send holds count * size)
//   all-to-all: elements per peer block (send and recv hold count * size; must not overlap)
//   send / recv: elements sent to / received from `peer`
struct OpArgs {
  Collective collective = Collective::kAllReduce;
  const void* send = nullptr;
  void* recv = nullptr;
  std::size_t count = 0;
  DataType dtype = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  int root = 0;                 // broadcast, reduce
  int peer = -1;                // send, recv
  std::uint32_t tag = 0;        // send, recv: must match on both sides
  Algorithm algorithm = Algorithm::kAuto;
  TimeNs timeout_ns = 0;        // 0: EngineConfig::default_timeout_ns
};

using OpId = std::uint64_t;

// A message for the driver to hand to the transport, to rank `peer`. `bytes` owns a pooled
// buffer: the transport keeps it until the message is acknowledged (Endpoint::send_shared).
struct Outgoing {
  int peer = 0;
  transport::SharedBytes bytes;
  bool urgent = false;  // an abort notice: must not wait behind data (EndpointBinding: VC 1)
};

struct EngineStats {
  std::uint64_t ops_posted = 0;
  std::uint64_t ops_done = 0;
  std::uint64_t ops_failed = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_sent = 0;          // payload bytes, headers excluded
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_parked = 0;     // arrived before their step could consume them
  std::uint64_t staging_allocations = 0; // send buffers created (reused afterwards)
  std::uint64_t scratch_allocations = 0; // scratch buffers created or grown
  std::uint64_t plans_built = 0;         // plans compiled (cached by shape afterwards)
  std::uint64_t zero_copy_sends = 0;     // segments handed to the transport by reference
};

class Engine {
 public:
  explicit Engine(const EngineConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineConfig& config() const;
  int rank() const;
  int size() const;

  // Starts an operation. Never blocks and never throws for bad arguments: the operation then
  // fails at once with kInvalidArgument (or kAborted when the engine has been aborted), sending
  // nothing; a refused collective still takes its place in the sequence, so this rank's later
  // collectives pair with the other ranks' (which time out on the refused one if they posted it
  // validly). The id stays valid until release().
  OpId post(const OpArgs& args, TimeNs now);

  // Bytes of a transport message from rank `from` (a peer, never this rank), in order, as the
  // transport receives them (transport::MessageSink): `first` marks a message's first bytes,
  // `last` its end. Bytes are used during the call only: a message that may be consumed at once is
  // copied or reduced into place from them, others are gathered. A malformed message, or one for
  // an operation this rank never posts, is an error that aborts the engine naming it.
  void on_message_data(int from, std::span<const std::uint8_t> bytes, bool first, bool last, TimeNs now);
  // A whole message from the abort channel (Outgoing::urgent; EndpointBinding: VC 1), which is
  // not ordered with the data link's messages.
  void on_urgent_message(int from, std::vector<std::uint8_t>&& message, TimeNs now);
  // The transport link to `peer` failed: every pending operation fails (kPeerFailed) and the
  // engine aborts, telling the other peers.
  void on_peer_failed(int peer, std::string_view cause, TimeNs now);
  // Earliest operation deadline, or transport::kNever.
  TimeNs next_timer() const;
  void on_timer(TimeNs now);

  // The next message to send, if any.
  bool poll_send(Outgoing& out);
  bool wants_to_send() const;

  // Fails every pending operation (kAborted, with `reason`), tells every peer, and refuses new
  // operations. Idempotent; never blocks.
  void abort(std::string_view reason, TimeNs now);
  bool aborted() const;
  // The first cause of the abort (empty while not aborted).
  const std::string& abort_reason() const;

  const OpStatus& status(OpId id) const;  // id must be live (posted and not released)
  bool done(OpId id) const { return status(id).state != OpState::kPending; }
  // Forgets a finished operation (a pending one is abandoned: its late messages are dropped).
  void release(OpId id);
  std::size_t pending() const;  // operations still running

  // The algorithm post() would run for these arguments: a forced one as given (post() fails
  // naming why when it cannot run them), kAuto resolved by the cost model. For benchmarks and logs.
  Algorithm choose(const OpArgs& args) const;

  const EngineStats& stats() const;

  // Replaces the cost model's link parameters (every rank must hold the same values, or their
  // choices differ and the next automatic choice fails as a mismatch). Affects later posts only.
  void set_link_params(const LinkParams& link);

  // Segments the transport still reads from operations' buffers (zero-copy sends not yet
  // acknowledged). After a failure, a driver must not let the application reuse those buffers
  // while this is non-zero: it waits, or drops the transport (the Communicator does).
  std::size_t references_held() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Can `algorithm` run `collective` on `size` ranks with this topology? When not, `why` says so.
bool algorithm_supports(Algorithm algorithm, Collective collective, int size, const Topology& topology,
                        std::string* why = nullptr);

// nccl-tests' bus-bandwidth factor for `collective` on `size` ranks (doc/PERFORMANCE.md):
// all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n; broadcast, reduce 1.
double busbw_factor(Collective collective, int size);
// The S of nccl-tests' tables in bytes: the per-rank buffer for all-reduce, broadcast, reduce;
// the whole gathered / scattered array (count * size elements) for the others.
std::size_t collective_bytes(Collective collective, std::size_t count, DataType dtype, int size);

}  // namespace weft::collectives
