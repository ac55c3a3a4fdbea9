// collectives::Communicator — one rank of a job, over UDP (or a datapath given in CommOptions,
// such as a DPDK memif mesh): bootstrap, links, and the collective
// Engine, driven from the calling thread (DESIGN.md §5).
//
//   auto comm = Communicator::create(CommOptions::from_environment());   // mpirun, torchrun, Slurm, weft
//   Request r = comm->all_reduce(send, recv, count, DataType::kF32, ReduceOp::kSum);
//   comm->wait(r);            // throws CollectiveError naming the operation, the peer and the cause
//
// Bootstrap: every rank binds a UDP socket, publishes its address in the rendezvous store
// (WEFT_STORE: TCP served by rank 0, or a shared directory; store.h), reads everyone else's, opens
// a link to every other rank (authenticated and encrypted when credentials are given) and meets
// the others at a store barrier. The store carries addresses only, never keys: every rank must
// be given the same cluster key (or identities with allowlists) out of band.
//
// Link parameters: after the links are up, ranks measure one-way latency (α) and bandwidth (β)
// to their neighbour and the reduction speed (γ), then take the maximum over all ranks with a
// ring all-reduce, so every rank's cost model is fed the same numbers and picks the same
// algorithm.
//
// Progress: there is no background thread. wait(), test() and progress() advance the transport
// and the engine; operations posted and not waited on make progress only inside those calls (as
// in MPI). Every operation has a timeout; a timeout, a failed link, or abort() on any rank aborts
// the communicator everywhere within one message delay, and every pending operation fails with the
// cause. A Communicator must stay on one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "weft/collectives/engine.h"
#include "weft/collectives/launch.h"
#include "weft/transport/config.h"
#include "weft/transport/datapath.h"

namespace weft::collectives {

// An operation failed; what() names it, the rank, the peer involved and the cause.
class CollectiveError : public std::runtime_error {
 public:
  CollectiveError(OpError error, const std::string& what) : std::runtime_error(what), error_(error) {}
  OpError error() const { return error_; }

 private:
  OpError error_;
};

class Store;

// A datapath the Communicator runs over instead of its own UDP socket (CommOptions::datapath):
// one object per rank that reaches every other rank, e.g. a DPDK memif per peer (memif_mesh.h).
class CommDatapath {
 public:
  virtual ~CommDatapath() = default;
  virtual transport::Datapath& datapath() = 0;
  // The node id that names rank r in frames (Ethernet: the TSH node id); node_of(own rank) is
  // this rank's own.
  virtual transport::NodeId node_of(int rank) const = 0;
  // For describe(): "memif mesh: 3 ports, socket /tmp/weft-memif-...".
  virtual std::string describe() const = 0;
};

// What a CommDatapathFactory is told when the Communicator makes its datapath.
struct CommDatapathContext {
  int rank = 0;
  int size = 1;
  Store* store = nullptr;  // the job's rendezvous store; null when size == 1
  std::string job;         // a token unique to this job (rank 0 draws it, the store hands it on)
  std::chrono::milliseconds timeout{60000};  // for the store and the links to come up
};

struct CommDatapathFactory {
  // Compared across ranks at start-up (every rank must use the same datapath): "memif".
  std::string name;
  // Throws std::runtime_error naming what failed. Called once per Communicator, after the ranks
  // agreed on their settings and before any link opens.
  std::function<std::unique_ptr<CommDatapath>(const CommDatapathContext&)> make;
};

struct CommOptions {
  LaunchInfo launch;                        // rank, size, store (detect_launch())
  // The datapath; `make` empty (the default): a UDP socket bound to bind_host. A datapath with no
  // descriptor to sleep on (DPDK) is polled while waiting, yielding the core between polls.
  CommDatapathFactory datapath;
  std::string bind_host = "127.0.0.1";      // address the UDP socket binds and publishes
  // Transport settings; credentials == nullptr means plaintext (programs must ask for it).
  transport::EndpointConfig endpoint;
  std::size_t segment_bytes = 256u << 10;   // pipelining unit of large transfers (measured best here)
  std::chrono::milliseconds timeout{60000}; // per operation, unless the call gives one
  std::chrono::milliseconds bootstrap_timeout{60000};  // store, links, barrier
  Topology topology;                        // ranks_per_pod 0: launcher's local size when known
  bool measure_links = true;                // measure α, β, γ at start-up (else `link` is used)
  LinkParams link;
  bool busy_poll = false;                   // spin instead of sleeping in poll(2) while waiting
  // While waiting: poll without sleeping for this long after the last frame arrived (yielding the
  // core between polls), then sleep in poll(2). 0: sleep at once (least CPU, most latency).
  std::uint32_t spin_us = 50;
  // Fault injection for tests: every frame this rank sends is dropped with this probability.
  double send_loss = 0.0;
  std::uint64_t fault_seed = 1;

  // Options from the launcher's environment (detect_launch), plus WEFT_BIND_HOST and
  // WEFT_RANKS_PER_POD when set. Throws std::runtime_error naming a bad variable.
  static CommOptions from_environment();
};

class Communicator;

// A posted operation. Move-only. Buffers must stay valid until it is no longer pending. Destroying
// a pending request aborts the communicator (the other ranks still expect the operation, and the
// transport may still be reading its buffers): wait() for every request.
class Request {
 public:
  Request() = default;
  Request(Request&& o) noexcept : comm_(o.comm_), id_(o.id_) { o.comm_ = nullptr; }
  Request& operator=(Request&& o) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();
  bool valid() const { return comm_ != nullptr; }
  OpId id() const { return id_; }

 private:
  friend class Communicator;
  Request(Communicator* c, OpId id) : comm_(c), id_(id) {}
  Communicator* comm_ = nullptr;
  OpId id_ = 0;
};

struct CommStats {
  EngineStats engine;
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t retransmits = 0;  // over every link
  std::uint64_t frames_dropped_by_fault_injection = 0;
};

class Communicator {
 public:
  // Bootstraps (see above). Throws std::runtime_error naming the step that failed (the store,
  // a link to which rank at which address, the barrier) and what to check.
  static std::unique_ptr<Communicator> create(const CommOptions& options);
  ~Communicator();  // finish(), swallowing its errors
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int size() const;
  const LinkParams& link_params() const;  // as measured and agreed (or given)
  const Topology& topology() const;
  bool encrypted() const;
  std::string describe() const;  // "rank 2 of 4, udp 127.0.0.1:40112, encrypted aes-256-gcm (openssl)"

  // Collectives (OpArgs::count semantics, engine.h). `algorithm` kAuto lets the cost model pick;
  // `timeout` 0 uses CommOptions::timeout.
  Request all_reduce(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op,
                     Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request all_gather(const void* send, void* recv, std::size_t count, DataType dtype,
                     Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request reduce_scatter(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op,
                         Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request broadcast(const void* send, void* recv, std::size_t count, DataType dtype, int root,
                    Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request reduce(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op, int root,
                 Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request all_to_all(const void* send, void* recv, std::size_t count, DataType dtype,
                     Algorithm algorithm = Algorithm::kAuto, std::chrono::milliseconds timeout = {});
  Request barrier(std::chrono::milliseconds timeout = {});
  Request send(const void* buf, std::size_t count, DataType dtype, int peer, std::uint32_t tag = 0,
               std::chrono::milliseconds timeout = {});
  Request recv(void* buf, std::size_t count, DataType dtype, int peer, std::uint32_t tag = 0,
               std::chrono::milliseconds timeout = {});
  // Any operation, fully described.
  Request post(const OpArgs& args);

  // Waits until the operation is no longer pending; throws CollectiveError if it failed. The
  // request is spent afterwards. Returns the algorithm that ran.
  Algorithm wait(Request& request);
  // True when the operation is no longer pending (then wait() returns at once).
  bool test(Request& request);
  // The operation's state and error detail, without throwing.
  const OpStatus& status(const Request& request) const;
  // Advances the transport and the engine once, waiting at most `max_wait` for input.
  void progress(std::chrono::microseconds max_wait = std::chrono::microseconds{0});

  // Fails every pending operation here and on every other rank (naming `reason` and this rank),
  // and refuses new ones. Returns within about 100 ms whatever the peers do.
  void abort(const std::string& reason);
  bool aborted() const;

  // Waits until every message this rank sent is acknowledged, then closes the links (bounded by
  // the bootstrap timeout). Called by the destructor; call it yourself to see its errors.
  void finish();

  CommStats stats() const;
  Engine& engine();

 private:
  friend class Request;
  struct Impl;
  explicit Communicator(std::unique_ptr<Impl> impl);
  void release(OpId id);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::collectives
