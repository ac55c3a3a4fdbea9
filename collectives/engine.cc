// The collective engine's executor: runs plans (plan.h) step by step as messages arrive.
//
// Each live operation keeps, per step, how many of its segments are done. A step's next segment
// may run when every dependency is satisfied (the same segment of a per-segment dependency, all
// segments otherwise). Sends and local copies run as soon as they may; a receive's segment runs
// when its message is there, in order. A message that arrives before its segment may run is
// parked in the operation, and one for an operation not posted yet is parked in the engine.
// Completing a segment of step i wakes the steps that depend on i (a work list), so the cost per
// message does not grow with the plan.
#include "weft/collectives/engine.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <queue>
#include <unordered_map>

#include "collectives/plan.h"
#include "weft/collectives/cost_model.h"
#include "weft/collectives/reduce.h"

namespace weft::collectives {

namespace {

constexpr std::array<std::string_view, kCollectiveCount> kCollectiveNames = {
    "allreduce", "allgather", "reducescatter", "broadcast", "reduce", "barrier", "alltoall", "send", "recv"};
constexpr std::array<std::string_view, kAlgorithmCount> kAlgorithmNames = {
    "auto",   "ring",          "rabenseifner", "recursive-doubling", "bruck", "double-binary-tree",
    "hierarchical", "binomial-tree", "chain", "pairwise", "direct"};

}  // namespace

std::string_view collective_name(Collective c) {
  const auto i = static_cast<std::size_t>(c);
  return i < kCollectiveCount ? kCollectiveNames[i] : "?";
}
std::optional<Collective> parse_collective(std::string_view s) {
  for (std::size_t i = 0; i < kCollectiveCount; ++i) {
    if (s == kCollectiveNames[i]) return static_cast<Collective>(i);
  }
  return std::nullopt;
}
std::string_view algorithm_name(Algorithm a) {
  const auto i = static_cast<std::size_t>(a);
  return i < kAlgorithmCount ? kAlgorithmNames[i] : "?";
}
std::optional<Algorithm> parse_algorithm(std::string_view s) {
  for (std::size_t i = 0; i < kAlgorithmCount; ++i) {
    if (s == kAlgorithmNames[i]) return static_cast<Algorithm>(i);
  }
  return std::nullopt;
}
std::string_view op_error_name(OpError e) {
  switch (e) {
    case OpError::kNone: return "none";
    case OpError::kInvalidArgument: return "invalid-argument";
    case OpError::kTimedOut: return "timed-out";
    case OpError::kPeerFailed: return "peer-failed";
    case OpError::kAborted: return "aborted";
    case OpError::kMismatch: return "mismatch";
  }
  return "?";
}

bool algorithm_supports(Algorithm algorithm, Collective collective, int size, const Topology& topology,
                        std::string* why) {
  // The reason is only spelled out when asked for (the cost model asks every algorithm on
  // every call, and needs only yes or no).
  const auto what = [&] {
    return std::string(algorithm_name(algorithm)) + " cannot run " + std::string(collective_name(collective));
  };
  auto no = [&](auto&& make_text) {
    if (why != nullptr) *why = make_text();
    return false;
  };
  const bool pow2 = size > 0 && (size & (size - 1)) == 0;
  if (algorithm == Algorithm::kAuto) return true;
  if (collective == Collective::kSend || collective == Collective::kRecv) {
    return algorithm == Algorithm::kDirect ? true : no([&] { return what() + ": point-to-point transfers are direct"; });
  }
  if (size == 1) return true;  // everything degenerates to a local copy
  switch (collective) {
    case Collective::kAllReduce:
      if (algorithm == Algorithm::kHierarchical) {
        const int a = topology.ranks_per_pod;
        if (a <= 1 || a >= size || size % a != 0) {
          return no([&] { return what() + " on " + std::to_string(size) + " ranks with " + std::to_string(a) +
                    " ranks per pod: it needs at least two pods of at least two ranks, and the rank count a "
                    "multiple of the pod size (set the topology, e.g. WEFT_RANKS_PER_POD)"; });
        }
        return true;
      }
      if (algorithm == Algorithm::kRing || algorithm == Algorithm::kRabenseifner ||
          algorithm == Algorithm::kRecursiveDoubling || algorithm == Algorithm::kDoubleBinaryTree) {
        return true;
      }
      return no([&] { return what() + " (available: ring, rabenseifner, recursive-doubling, double-binary-tree, hierarchical)"; });
    case Collective::kAllGather:
      if (algorithm == Algorithm::kRecursiveDoubling && !pow2) {
        return no([&] { return what() + " on " + std::to_string(size) + " ranks: it needs a power of two (use ring or bruck)"; });
      }
      if (algorithm == Algorithm::kRing || algorithm == Algorithm::kBruck ||
          algorithm == Algorithm::kRecursiveDoubling) {
        return true;
      }
      return no([&] { return what() + " (available: ring, recursive-doubling, bruck)"; });
    case Collective::kReduceScatter:
      if (algorithm == Algorithm::kRabenseifner && !pow2) {
        return no([&] { return what() + " on " + std::to_string(size) + " ranks: recursive halving needs a power of two (use ring)"; });
      }
      if (algorithm == Algorithm::kRing || algorithm == Algorithm::kRabenseifner) return true;
      return no([&] { return what() + " (available: ring, rabenseifner)"; });
    case Collective::kBroadcast:
    case Collective::kReduce:
      if (algorithm == Algorithm::kBinomialTree || algorithm == Algorithm::kChain) return true;
      return no([&] { return what() + " (available: binomial-tree, chain)"; });
    case Collective::kBarrier:
      if (algorithm == Algorithm::kBruck) return true;
      return no([&] { return what() + " (available: bruck, the dissemination barrier)"; });
    case Collective::kAllToAll:
      if (algorithm == Algorithm::kPairwise || algorithm == Algorithm::kBruck) return true;
      return no([&] { return what() + " (available: pairwise, bruck)"; });
    case Collective::kSend:
    case Collective::kRecv: break;
  }
  return no([&] { return what(); });
}

double busbw_factor(Collective collective, int size) {
  const double n = size;
  switch (collective) {
    case Collective::kAllReduce: return size > 0 ? 2.0 * (n - 1) / n : 0;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll: return size > 0 ? (n - 1) / n : 0;
    default: return 1.0;
  }
}

std::size_t collective_bytes(Collective collective, std::size_t count, DataType dtype, int size) {
  const std::size_t b = count * dtype_size(dtype);
  switch (collective) {
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll: return b * static_cast<std::size_t>(size);
    default: return b;
  }
}

namespace {

using detail::Buf;
using detail::Plan;
using detail::Step;
using detail::StepKind;

// ---- message header ------------------------------------------------------------------------------
//
//  0 version (1)   1 kind   2 collective   3 algorithm   4 dtype   5 op   6..7 reserved (0)
//  8 root or tag (u32)     12 reserved (0)     16 count (u64)     24 sequence (u64)
// 32 message (u32)        36 segment (u32)     40 payload
// Little-endian. The descriptor (collective .. count) lets a receiver name both sides' arguments
// when they differ.
constexpr std::size_t kHeaderBytes = 40;
constexpr std::uint8_t kVersion = 1;
// kHeader: a data message's header alone; its payload is the next message on the link (a
// zero-copy send: the transport reads the payload from the operation's buffer).
enum class Kind : std::uint8_t { kData = 1, kAbort = 2, kHeader = 3 };

struct Header {
  Kind kind = Kind::kData;
  Collective collective = Collective::kAllReduce;
  Algorithm algorithm = Algorithm::kAuto;
  DataType dtype = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  std::uint32_t root = 0;
  std::uint64_t count = 0;
  std::uint64_t seq = 0;
  std::uint32_t message = 0;
  std::uint32_t segment = 0;
};

template <typename T>
void put(std::uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T get(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void encode(const Header& h, std::uint8_t* p) {
  p[0] = kVersion;
  p[1] = static_cast<std::uint8_t>(h.kind);
  p[2] = static_cast<std::uint8_t>(h.collective);
  p[3] = static_cast<std::uint8_t>(h.algorithm);
  p[4] = static_cast<std::uint8_t>(h.dtype);
  p[5] = static_cast<std::uint8_t>(h.op);
  p[6] = p[7] = 0;
  put<std::uint32_t>(p + 8, h.root);
  put<std::uint32_t>(p + 12, 0);
  put<std::uint64_t>(p + 16, h.count);
  put<std::uint64_t>(p + 24, h.seq);
  put<std::uint32_t>(p + 32, h.message);
  put<std::uint32_t>(p + 36, h.segment);
}

// "" or what is wrong.
std::string decode(std::span<const std::uint8_t> m, Header& h) {
  if (m.size() < kHeaderBytes) return "message of " + std::to_string(m.size()) + " B is shorter than the 40 B header";
  if (m[0] != kVersion) return "unknown collective message version " + std::to_string(m[0]);
  if (m[1] != static_cast<std::uint8_t>(Kind::kData) && m[1] != static_cast<std::uint8_t>(Kind::kAbort) &&
      m[1] != static_cast<std::uint8_t>(Kind::kHeader)) {
    return "unknown collective message kind " + std::to_string(m[1]);
  }
  h.kind = static_cast<Kind>(m[1]);
  if (h.kind == Kind::kAbort) return "";
  if (m[2] >= kCollectiveCount || m[3] >= kAlgorithmCount || m[4] >= kDataTypeCount || m[5] >= kReduceOpCount) {
    return "collective message with an out-of-range descriptor";
  }
  h.collective = static_cast<Collective>(m[2]);
  h.algorithm = static_cast<Algorithm>(m[3]);
  h.dtype = static_cast<DataType>(m[4]);
  h.op = static_cast<ReduceOp>(m[5]);
  h.root = get<std::uint32_t>(m.data() + 8);
  h.count = get<std::uint64_t>(m.data() + 16);
  h.seq = get<std::uint64_t>(m.data() + 24);
  h.message = get<std::uint32_t>(m.data() + 32);
  h.segment = get<std::uint32_t>(m.data() + 36);
  return "";
}

// ---- pooled buffers -------------------------------------------------------------------------------

// Send staging buffers, in two size classes. A buffer handed to the transport comes back when the
// transport drops its last reference (the message was acknowledged, or the link failed).
struct StagingPool {
  std::vector<std::unique_ptr<std::vector<std::uint8_t>>> small, large;
  std::size_t large_bytes = 0;
  std::size_t outstanding_bytes = 0;  // capacity of the buffers the transport holds now
};
constexpr std::size_t kSmallStaging = 4096;

struct StagingReturn {
  std::shared_ptr<StagingPool> pool;
  void operator()(std::vector<std::uint8_t>* v) const {
    pool->outstanding_bytes -= v->capacity();
    auto& list = v->capacity() <= kSmallStaging ? pool->small : pool->large;
    list.emplace_back(v);
  }
};

// The op's identity on the wire: (point-to-point peer or -1, sequence).
struct Key {
  int peer = -1;
  std::uint64_t seq = 0;
  bool operator<(const Key& o) const { return peer != o.peer ? peer < o.peer : seq < o.seq; }
};

struct ParkedMessage {
  int from = 0;
  Header header;
  std::vector<std::uint8_t> bytes;
};

// A message arriving in pieces from one peer (streaming receive).
struct Incoming {
  enum class Mode : std::uint8_t { kIdle, kHeader, kDirect, kBuffer };
  Mode mode = Mode::kIdle;
  std::vector<std::uint8_t> buf;  // the header, or (kBuffer) the whole message so far
  OpId op = 0;
  std::uint32_t step = 0, seg = 0;
  std::size_t expect = 0, got = 0;  // payload bytes expected / received (kDirect)
  std::uint8_t carry[8] = {};       // part of an element split across frames
  std::size_t carry_len = 0;
};

struct StepState {
  std::uint32_t done = 0;      // segments completed, in order
  std::uint32_t released = 0;  // sends: segments the transport no longer reads (acknowledged)
  bool queued = false;         // on the work list
};

// A zero-copy segment the transport let go of (its reference dropped: acknowledged, or the link
// went away). Recorded by the buffer's deleter, applied by the engine at its next call.
struct ReleaseNote {
  OpId op = 0;
  std::uint32_t step = 0;
};
struct ReleaseQueue {
  std::vector<ReleaseNote> notes;
};

struct Op {
  OpId id = 0;
  OpArgs args;
  OpStatus status;
  Key key;
  Algorithm algorithm = Algorithm::kDirect;
  std::shared_ptr<const Plan> plan;
  std::vector<StepState> steps;
  std::vector<std::vector<std::uint32_t>> dependents;  // per step: steps that depend on it
  std::size_t steps_done = 0;
  std::vector<ParkedMessage> parked;
  std::unique_ptr<std::vector<std::uint8_t>> scratch;
  std::uint8_t* bufs[4] = {};
  TimeNs started = 0;
  TimeNs deadline = 0;
  bool blocked = false;  // a send waits for staging space
  std::size_t unreleased = 0;  // zero-copy segments the transport still reads
  std::uint64_t seq_display = 0;  // collective number (1-based) for messages
};

struct PlanKey {
  Collective collective;
  Algorithm algorithm;
  std::size_t count, elem_bytes;
  int root, peer;
  bool avg, in_place;
  bool operator==(const PlanKey&) const = default;
};

std::string bytes_text(std::size_t b) {
  if (b >= (1u << 20) && b % (1u << 20) == 0) return std::to_string(b >> 20) + " MiB";
  if (b >= 1024 && b % 1024 == 0) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

std::string seconds_text(TimeNs ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  return buf;
}

}  // namespace

struct Engine::Impl {
  EngineConfig config;
  EngineStats stats;
  std::shared_ptr<StagingPool> staging = std::make_shared<StagingPool>();
  std::deque<Outgoing> outbox;
  std::unordered_map<OpId, std::unique_ptr<Op>> ops;
  std::map<Key, Op*> live;  // pending operations by wire identity
  std::vector<std::unique_ptr<Op>> free_ops;
  std::vector<std::unique_ptr<std::vector<std::uint8_t>>> free_scratch;
  std::map<Key, std::vector<ParkedMessage>> early;  // messages for operations not posted yet
  std::vector<std::pair<PlanKey, std::shared_ptr<Plan>>> plans;  // small cache, round-robin
  std::size_t plan_victim = 0;
  OpId next_id = 1;
  std::uint64_t next_coll_seq = 0;
  std::vector<std::uint64_t> next_send_seq, next_recv_seq;  // point-to-point, per peer
  std::vector<OpId> blocked;  // operations with a send waiting for staging space
  std::vector<Incoming> incoming;  // per peer rank
  struct Choice {
    Collective collective = Collective::kSend;  // kSend: an empty slot (never chosen for)
    std::size_t count = 0, elem_bytes = 0;
    Algorithm algorithm = Algorithm::kDirect;
  };
  mutable std::array<Choice, 16> choices{};  // the cost model's recent answers (resolve())
  mutable std::size_t choice_victim = 0;
  std::shared_ptr<ReleaseQueue> releases = std::make_shared<ReleaseQueue>();
  std::size_t references_held = 0;  // zero-copy segments the transport still reads, all ops
  std::vector<std::optional<Header>> body_next;  // per peer: a kHeader came; its payload is next
  bool aborted = false;
  std::string abort_reason;
  // Steps to look at, lowest first (program order: sends leave in the order the plan lists them).
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> work;
  OpStatus missing_status{OpState::kFailed, OpError::kInvalidArgument, "unknown operation id", Algorithm::kAuto};

  explicit Impl(const EngineConfig& c) : config(c) {
    if (config.segment_bytes < 8) config.segment_bytes = 8;
    config.segment_bytes -= config.segment_bytes % 8;
    staging->large_bytes = kHeaderBytes + config.segment_bytes;
    next_send_seq.assign(static_cast<std::size_t>(std::max(config.size, 1)), 0);
    next_recv_seq.assign(static_cast<std::size_t>(std::max(config.size, 1)), 0);
    incoming.resize(static_cast<std::size_t>(std::max(config.size, 1)));
    body_next.resize(static_cast<std::size_t>(std::max(config.size, 1)));
  }

  std::string where() const { return "rank " + std::to_string(config.rank); }

  std::string describe(const Op& op) const {
    const OpArgs& a = op.args;
    std::string s = std::string(collective_name(a.collective));
    if (a.collective == Collective::kSend || a.collective == Collective::kRecv) {
      s += (a.collective == Collective::kSend ? " to rank " : " from rank ") + std::to_string(a.peer) + " (" +
           bytes_text(a.count * dtype_size(a.dtype)) + ", tag " + std::to_string(a.tag) + ")";
      return s;
    }
    s += " #" + std::to_string(op.seq_display) + " (" + std::string(algorithm_name(op.algorithm));
    if (a.collective != Collective::kBarrier) {
      s += ", " + bytes_text(collective_bytes(a.collective, a.count, a.dtype, config.size)) + " " +
           std::string(dtype_name(a.dtype));
      if (a.collective == Collective::kAllReduce || a.collective == Collective::kReduce ||
          a.collective == Collective::kReduceScatter) {
        s += " " + std::string(reduce_op_name(a.op));
      }
      if (a.collective == Collective::kBroadcast || a.collective == Collective::kReduce) {
        s += ", root " + std::to_string(a.root);
      }
    }
    s += ", " + std::to_string(config.size) + " ranks)";
    return s;
  }

  // ---- posting ---------------------------------------------------------------------------------

  std::string validate(const OpArgs& a) const {
    const int p = config.size;
    if (static_cast<std::size_t>(a.collective) >= kCollectiveCount) return "unknown collective";
    if (!dtype_valid(a.dtype)) return "unknown dtype";
    if (!reduce_op_valid(a.op)) return "unknown reduction op";
    if (static_cast<std::size_t>(a.algorithm) >= kAlgorithmCount) return "unknown algorithm";
    const std::size_t es = dtype_size(a.dtype);
    if (a.count > (std::size_t{1} << 40) / es / static_cast<std::size_t>(p)) {
      return "count " + std::to_string(a.count) + " is too large";
    }
    const bool root_side = config.rank == a.root;
    bool need_send = false, need_recv = false;
    switch (a.collective) {
      case Collective::kAllReduce:
      case Collective::kAllGather:
      case Collective::kReduceScatter:
      case Collective::kAllToAll: need_send = need_recv = true; break;
      case Collective::kBroadcast: need_send = root_side; need_recv = true; break;
      case Collective::kReduce: need_send = true; need_recv = root_side; break;
      case Collective::kSend: need_send = true; break;
      case Collective::kRecv: need_recv = true; break;
      case Collective::kBarrier: break;
    }
    if (a.collective == Collective::kBroadcast || a.collective == Collective::kReduce) {
      if (a.root < 0 || a.root >= p) {
        return "root " + std::to_string(a.root) + " is not a rank (0.." + std::to_string(p - 1) + ")";
      }
    }
    if (a.collective == Collective::kSend || a.collective == Collective::kRecv) {
      if (a.peer < 0 || a.peer >= p || a.peer == config.rank) {
        return "peer " + std::to_string(a.peer) + " is not another rank (0.." + std::to_string(p - 1) + ", not " +
               std::to_string(config.rank) + ")";
      }
    }
    if (a.count > 0 && a.collective != Collective::kBarrier) {
      if (need_send && a.send == nullptr) return "send buffer is null";
      if (need_recv && a.recv == nullptr) return "recv buffer is null";
    }
    if (a.collective == Collective::kAllToAll && a.count > 0) {
      const auto* s = static_cast<const std::uint8_t*>(a.send);
      const auto* r = static_cast<const std::uint8_t*>(a.recv);
      const std::size_t n = a.count * es * static_cast<std::size_t>(p);
      if (s < r + n && r < s + n) return "all-to-all send and recv buffers overlap (in place is not supported)";
    }
    std::string why;
    if (!algorithm_supports(a.algorithm, a.collective, p, config.topology, &why)) return why;
    return "";
  }

  Algorithm resolve(const OpArgs& a) const {
    if (a.collective == Collective::kSend || a.collective == Collective::kRecv || config.size == 1) {
      return Algorithm::kDirect;
    }
    if (a.algorithm != Algorithm::kAuto) return a.algorithm;
    // The cost model's answer for a shape does not change until the link parameters do: the
    // last few answers are kept (a training loop posts the same shapes over and over).
    const std::size_t es = dtype_size(a.dtype);
    for (const Choice& c : choices) {
      if (c.collective == a.collective && c.count == a.count && c.elem_bytes == es) return c.algorithm;
    }
    const Algorithm alg = choose_algorithm(a.collective, a.count, es, config.size, config.topology, config.link,
                                           config.segment_bytes);
    choices[choice_victim] = Choice{a.collective, a.count, es, alg};
    choice_victim = (choice_victim + 1) % choices.size();
    return alg;
  }

  std::shared_ptr<const Plan> plan_for(const OpArgs& a, Algorithm algorithm, std::string& error) {
    const bool in_place = a.send == a.recv && (a.collective == Collective::kAllReduce ||
                                               a.collective == Collective::kBroadcast ||
                                               a.collective == Collective::kReduce);
    const PlanKey key{a.collective, algorithm, a.count, dtype_size(a.dtype), a.root, a.peer,
                      a.op == ReduceOp::kAvg, in_place};
    for (auto& [k, p] : plans) {
      if (k == key) return p;
    }
    detail::PlanArgs pa;
    pa.collective = a.collective;
    pa.algorithm = algorithm;
    pa.rank = config.rank;
    pa.size = config.size;
    pa.root = a.root;
    pa.peer = a.peer;
    pa.count = a.count;
    pa.elem_bytes = dtype_size(a.dtype);
    pa.avg = a.op == ReduceOp::kAvg;
    pa.in_place = in_place;
    pa.topology = config.topology;
    auto plan = std::make_shared<Plan>();
    error = detail::build_plan(pa, config.segment_bytes, *plan);
    if (!error.empty()) return nullptr;
    ++stats.plans_built;
    constexpr std::size_t kPlanCache = 32;
    if (plans.size() < kPlanCache) {
      plans.emplace_back(key, plan);
    } else {
      plans[plan_victim] = {key, plan};
      plan_victim = (plan_victim + 1) % kPlanCache;
    }
    return plan;
  }

  std::unique_ptr<Op> new_op() {
    if (free_ops.empty()) return std::make_unique<Op>();
    auto op = std::move(free_ops.back());
    free_ops.pop_back();
    return op;
  }

  std::unique_ptr<std::vector<std::uint8_t>> take_scratch(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    // The smallest free buffer that is large enough, else grow the largest.
    std::size_t best = free_scratch.size();
    for (std::size_t i = 0; i < free_scratch.size(); ++i) {
      if (free_scratch[i]->size() >= bytes &&
          (best == free_scratch.size() || free_scratch[i]->size() < free_scratch[best]->size())) {
        best = i;
      }
    }
    std::unique_ptr<std::vector<std::uint8_t>> s;
    if (best < free_scratch.size()) {
      s = std::move(free_scratch[best]);
      free_scratch.erase(free_scratch.begin() + static_cast<std::ptrdiff_t>(best));
      return s;
    }
    if (!free_scratch.empty()) {
      s = std::move(free_scratch.back());
      free_scratch.pop_back();
    } else {
      s = std::make_unique<std::vector<std::uint8_t>>();
    }
    s->resize(bytes);
    ++stats.scratch_allocations;
    return s;
  }

  OpId post(const OpArgs& a, TimeNs now) {
    auto owned = new_op();
    Op& op = *owned;
    op.id = next_id++;
    op.args = a;
    op.status = OpStatus{};
    op.parked.clear();
    op.steps_done = 0;
    op.blocked = false;
    op.unreleased = 0;
    op.started = now;
    op.deadline = now + (a.timeout_ns > 0 ? a.timeout_ns : config.default_timeout_ns);
    ++stats.ops_posted;
    const OpId id = op.id;
    ops.emplace(id, std::move(owned));

    std::string error = validate(a);
    if (error.empty() && aborted) {
      op.status.algorithm = Algorithm::kAuto;
      fail(op, OpError::kAborted, where() + ": " + std::string(collective_name(a.collective)) +
                                      " refused: the communicator was aborted earlier (" + abort_reason + ")");
      return id;
    }
    if (!error.empty()) {
      // A collective that fails here still takes its sequence number: the other ranks may have
      // posted it validly (a null buffer is this rank's mistake alone), and this rank's next
      // collectives must still pair with theirs. Those ranks then time out on it, loudly, rather
      // than pairing with the wrong operation.
      if (a.collective != Collective::kSend && a.collective != Collective::kRecv) {
        ++next_coll_seq;
      } else if (a.peer >= 0 && a.peer < config.size && a.peer != config.rank) {
        ++(a.collective == Collective::kSend ? next_send_seq : next_recv_seq)[static_cast<std::size_t>(a.peer)];
      }
      fail(op, OpError::kInvalidArgument,
           where() + ": " + std::string(collective_name(a.collective)) + ": invalid argument: " + error);
      return id;
    }
    op.algorithm = resolve(a);
    op.status.algorithm = op.algorithm;
    op.plan = plan_for(a, op.algorithm, error);
    if (op.plan == nullptr) {
      fail(op, OpError::kInvalidArgument, where() + ": " + std::string(collective_name(a.collective)) + ": " + error);
      return id;
    }
    if (a.collective == Collective::kSend) {
      op.key = {a.peer, next_send_seq[static_cast<std::size_t>(a.peer)]++};
    } else if (a.collective == Collective::kRecv) {
      op.key = {a.peer, next_recv_seq[static_cast<std::size_t>(a.peer)]++};
    } else {
      op.key = {-1, next_coll_seq++};
      op.seq_display = op.key.seq + 1;
    }
    const Plan& plan = *op.plan;
    op.scratch = take_scratch(plan.scratch_bytes);
    op.bufs[static_cast<int>(Buf::kInput)] = const_cast<std::uint8_t*>(static_cast<const std::uint8_t*>(a.send));
    op.bufs[static_cast<int>(Buf::kOutput)] = static_cast<std::uint8_t*>(a.recv);
    op.bufs[static_cast<int>(Buf::kScratch)] = op.scratch ? op.scratch->data() : nullptr;
    op.bufs[static_cast<int>(Buf::kSync)] = nullptr;
    op.steps.assign(plan.steps.size(), StepState{});
    op.dependents.resize(plan.steps.size());
    for (auto& d : op.dependents) d.clear();
    for (std::size_t j = 0; j < plan.steps.size(); ++j) {
      for (const detail::Dep& d : plan.steps[j].deps) op.dependents[d.step].push_back(static_cast<std::uint32_t>(j));
    }
    // Only point-to-point receives are keyed by the peer they come from; sends are never looked up.
    if (a.collective != Collective::kSend) live[op.key] = &op;
    // Start every step that can run, then hand over messages that arrived early.
    clear_work();
    for (std::uint32_t j = 0; j < plan.steps.size(); ++j) enqueue(op, j);
    run(op);
    if (auto it = a.collective == Collective::kSend ? early.end() : early.find(op.key); it != early.end()) {
      std::vector<ParkedMessage> msgs = std::move(it->second);
      early.erase(it);
      for (ParkedMessage& m : msgs) {
        if (op.status.state != OpState::kPending) break;
        deliver(op, m.from, m.header, std::move(m.bytes), now);
      }
    }
    maybe_finish(op);
    return id;
  }

  // ---- execution -------------------------------------------------------------------------------

  void enqueue(Op& op, std::uint32_t j) {
    if (op.steps[j].queued) return;
    op.steps[j].queued = true;
    work.push(j);
  }

  bool ready(const Op& op, std::uint32_t j, std::uint32_t seg) const {
    for (const detail::Dep& d : op.plan->steps[j].deps) {
      const std::uint32_t need = d.per_segment ? seg + 1 : op.plan->steps[d.step].segments;
      const StepState& st = op.steps[d.step];
      if ((d.after_release ? st.released : st.done) < need) return false;
    }
    return true;
  }

  // Applies the releases the transport reported since the last call.
  void drain_releases() {
    if (releases->notes.empty()) return;
    std::vector<ReleaseNote> notes;
    notes.swap(releases->notes);
    for (const ReleaseNote& n : notes) {
      --references_held;
      auto it = ops.find(n.op);
      if (it == ops.end()) continue;  // released by the application meanwhile
      Op& op = *it->second;
      ++op.steps[n.step].released;
      --op.unreleased;
      if (op.status.state != OpState::kPending) continue;
      clear_work();
      for (std::uint32_t d : op.dependents[n.step]) enqueue(op, d);
      run(op);
      maybe_finish(op);
    }
  }

  std::pair<std::size_t, std::size_t> segment_span(const Step& s, std::uint32_t seg) const {
    const std::size_t len = s.kind == StepKind::kSend ? s.src.len : s.dst.len;
    if (s.sync) return {0, 0};
    const std::size_t off = static_cast<std::size_t>(seg) * config.segment_bytes;
    return {off, std::min(config.segment_bytes, len - off)};
  }

  std::uint8_t* at(Op& op, const detail::Range& r, std::size_t off) {
    return op.bufs[static_cast<int>(r.buf)] + r.offset + off;
  }

  void complete_segment(Op& op, std::uint32_t j) {
    StepState& st = op.steps[j];
    ++st.done;
    if (st.done == op.plan->steps[j].segments) ++op.steps_done;
    for (std::uint32_t d : op.dependents[j]) enqueue(op, d);
    enqueue(op, j);
  }

  // Copies one segment into a staging buffer and queues it. False when the transport already
  // holds max_staging_bytes of this engine's messages (a rank that runs ahead of its peers, such
  // as a broadcast root, waits here instead of buffering without bound).
  bool stage_send(Op& op, const Step& s, std::uint32_t seg) {
    const auto [off, len] = segment_span(s, seg);
    // Decided per step, not per segment: a step's segments are released in order only if they all
    // go the same way (its short last segment included).
    const bool by_reference = config.zero_copy_min_bytes > 0 && !s.sync &&
                              std::min(config.segment_bytes, s.src.len) >= config.zero_copy_min_bytes;
    const std::size_t total = kHeaderBytes + (by_reference ? 0 : len);
    const std::size_t cap = total <= kSmallStaging ? kSmallStaging : staging->large_bytes;
    if (staging->outstanding_bytes > 0 && staging->outstanding_bytes + cap > config.max_staging_bytes) {
      if (!op.blocked) {
        op.blocked = true;
        blocked.push_back(op.id);
      }
      return false;
    }
    auto& list = total <= kSmallStaging ? staging->small : staging->large;
    std::vector<std::uint8_t>* buf;
    if (!list.empty()) {
      buf = list.back().release();
      list.pop_back();
    } else {
      buf = new std::vector<std::uint8_t>();
      buf->reserve(total <= kSmallStaging ? kSmallStaging : staging->large_bytes);
      ++stats.staging_allocations;
    }
    buf->resize(total);
    staging->outstanding_bytes += buf->capacity();
    Header h;
    h.kind = by_reference ? Kind::kHeader : Kind::kData;
    h.collective = op.args.collective == Collective::kRecv ? Collective::kSend : op.args.collective;
    h.algorithm = op.algorithm;
    h.dtype = op.args.dtype;
    h.op = op.args.op;
    h.root = op.args.collective == Collective::kSend ? op.args.tag : static_cast<std::uint32_t>(op.args.root);
    h.count = op.args.count;
    h.seq = op.key.seq;
    h.message = s.message;
    h.segment = seg;
    encode(h, buf->data());
    if (len > 0 && !by_reference) std::memcpy(buf->data() + kHeaderBytes, at(op, s.src, off), len);
    std::shared_ptr<std::vector<std::uint8_t>> owner(buf, StagingReturn{staging});
    Outgoing out;
    out.peer = s.peer;
    out.bytes.bytes = std::span<const std::uint8_t>(buf->data(), total);
    out.bytes.owner = std::move(owner);
    outbox.push_back(std::move(out));
    ++stats.messages_sent;
    stats.bytes_sent += len;
    const auto j = static_cast<std::uint32_t>(&s - op.plan->steps.data());
    if (!by_reference) {
      ++op.steps[j].released;
      return true;
    }
    // The payload goes by reference, right behind its header on the same link.
    auto queue = releases;
    auto* note = new ReleaseNote{op.id, j};
    Outgoing body;
    body.peer = s.peer;
    body.bytes.bytes = std::span<const std::uint8_t>(at(op, s.src, off), len);
    body.bytes.owner = std::shared_ptr<ReleaseNote>(note, [queue](ReleaseNote* n) {
      queue->notes.push_back(*n);
      delete n;
    });
    outbox.push_back(std::move(body));
    ++op.unreleased;
    ++references_held;
    ++stats.zero_copy_sends;
    return true;
  }

  // Operations that stopped for staging space try again (called whenever the driver is here).
  void resume_blocked() {
    if (blocked.empty()) return;
    if (staging->outstanding_bytes > 0 && staging->outstanding_bytes + staging->large_bytes > config.max_staging_bytes) {
      return;
    }
    std::vector<OpId> ids;
    ids.swap(blocked);
    for (OpId id : ids) {
      auto it = ops.find(id);
      if (it == ops.end()) continue;
      Op& op = *it->second;
      op.blocked = false;
      if (op.status.state != OpState::kPending) continue;
      clear_work();
      for (std::uint32_t j = 0; j < op.plan->steps.size(); ++j) {
        if (op.plan->steps[j].kind == StepKind::kSend && op.steps[j].done < op.plan->steps[j].segments) enqueue(op, j);
      }
      run(op);
      maybe_finish(op);
    }
  }

  // Reduces `n` received elements at `src` into the step's destination at byte offset `off`.
  void reduce_run(Op& op, const Step& s, std::size_t off, const std::uint8_t* src, std::size_t n) {
    const ReduceOp rop = op.args.op == ReduceOp::kAvg ? ReduceOp::kSum : op.args.op;
    if (s.kind == StepKind::kRecvReduce) {
      reduce_into(at(op, s.dst, off), src, n, op.args.dtype, rop);
    } else {
      reduce_out(at(op, s.dst, off), at(op, s.src, off), src, n, op.args.dtype, rop);
    }
  }

  // A whole (parked) message into its step.
  void consume(Op& op, const Step& s, std::uint32_t seg, const std::vector<std::uint8_t>& bytes) {
    const auto [off, len] = segment_span(s, seg);
    const std::uint8_t* payload = bytes.data() + kHeaderBytes;
    if (len > 0) {
      if (s.kind == StepKind::kRecvCopy) {
        std::memcpy(at(op, s.dst, off), payload, len);
      } else {
        reduce_run(op, s, off, payload, len / dtype_size(op.args.dtype));
      }
    }
    ++stats.messages_received;
    stats.bytes_received += len;
  }

  // ---- streaming receive ---------------------------------------------------------------------
  //
  // The binding hands over message bytes as frames arrive in order. Once the header is in, a data
  // message whose step may take it now streams straight into place: copied, or reduced element
  // by element (an element split across frames waits in `carry`). Anything else — a message that
  // must wait, one for an operation not posted yet, an abort notice, a malformed one — is
  // gathered whole and goes through on_message().
  void on_message_data(int from, std::span<const std::uint8_t> bytes, bool first, bool last, TimeNs now) {
    if (from < 0 || from >= config.size || from == config.rank) return;
    Incoming& in = incoming[static_cast<std::size_t>(from)];
    if (first) {
      in.mode = Incoming::Mode::kHeader;
      in.buf.clear();
      in.got = 0;
      in.carry_len = 0;
      if (auto& next = body_next[static_cast<std::size_t>(from)]; next) {
        // The payload of a zero-copy send: its header came in the message before (a message of
      // its own, so the payload streams into place like any other).
        Header h = *next;
        next.reset();
        h.kind = Kind::kData;
        in.buf.resize(kHeaderBytes);
        encode(h, in.buf.data());
      }
    }
    if (in.mode == Incoming::Mode::kIdle) return;  // the rest of a message that no longer matters
    if (in.mode == Incoming::Mode::kHeader) {
      const std::size_t take = std::min(kHeaderBytes - in.buf.size(), bytes.size());
      in.buf.insert(in.buf.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
      bytes = bytes.subspan(take);
      in.mode = Incoming::Mode::kBuffer;
      if (in.buf.size() < kHeaderBytes && !last) {
        in.mode = Incoming::Mode::kHeader;
        return;
      }
      resume_blocked();
      drain_releases();
      Header h;
      Op* op = nullptr;
      std::uint32_t j = 0;
      const bool decoded = in.buf.size() == kHeaderBytes && decode(in.buf, h).empty();
      if (decoded && h.kind == Kind::kHeader && last && bytes.empty()) {
        body_next[static_cast<std::size_t>(from)] = h;
        in.mode = Incoming::Mode::kIdle;
        return;
      }
      if (decoded && direct_target(from, h, op, j)) {
        in.mode = Incoming::Mode::kDirect;
        in.op = op->id;
        in.step = j;
        in.seg = h.segment;
        in.expect = segment_span(op->plan->steps[j], h.segment).second;
      }
    }
    if (in.mode == Incoming::Mode::kBuffer) {
      in.buf.insert(in.buf.end(), bytes.begin(), bytes.end());
      if (last) {
        in.mode = Incoming::Mode::kIdle;
        std::vector<std::uint8_t> whole;
        whole.swap(in.buf);
        on_message(from, std::move(whole), now);
      }
      return;
    }
    auto it = ops.find(in.op);
    if (it == ops.end() || it->second->status.state != OpState::kPending) {
      in.mode = Incoming::Mode::kIdle;  // the operation failed or was released meanwhile
      return;
    }
    Op& op = *it->second;
    const Step& s = op.plan->steps[in.step];
    if (in.got + bytes.size() > in.expect || (last && in.got + bytes.size() != in.expect)) {
      in.mode = Incoming::Mode::kIdle;
      mismatch(op, from,
               "rank " + std::to_string(from) + " sent " +
                   (last ? std::to_string(in.got + bytes.size()) : "more than " + std::to_string(in.expect)) +
                   " B as segment " + std::to_string(in.seg) + " of " + describe(op) + "; expected " +
                   std::to_string(in.expect) + " B",
               now);
      return;
    }
    stream_into(op, s, in, bytes);
    if (!last) return;
    in.mode = Incoming::Mode::kIdle;
    ++stats.messages_received;
    stats.bytes_received += in.got;
    clear_work();
    complete_segment(op, in.step);
    run(op);
    maybe_finish(op);
  }

  void stream_into(Op& op, const Step& s, Incoming& in, std::span<const std::uint8_t> data) {
    const std::size_t base = static_cast<std::size_t>(in.seg) * config.segment_bytes;
    if (s.kind == StepKind::kRecvCopy) {
      if (!data.empty()) std::memcpy(at(op, s.dst, base + in.got), data.data(), data.size());
      in.got += data.size();
      return;
    }
    const std::size_t es = dtype_size(op.args.dtype);
    std::size_t pos = in.got - in.carry_len;  // the first byte not reduced yet
    if (in.carry_len > 0) {
      const std::size_t take = std::min(es - in.carry_len, data.size());
      std::memcpy(in.carry + in.carry_len, data.data(), take);
      in.carry_len += take;
      in.got += take;
      data = data.subspan(take);
      if (in.carry_len < es) return;
      reduce_run(op, s, base + pos, in.carry, 1);
      pos += es;
      in.carry_len = 0;
    }
    const std::size_t n = data.size() / es;
    if (n > 0) reduce_run(op, s, base + pos, data.data(), n);
    in.carry_len = data.size() - n * es;
    if (in.carry_len > 0) std::memcpy(in.carry, data.data() + n * es, in.carry_len);
    in.got += data.size();
  }

  // The operation and step a data message with header `h` from `from` fills, when it may be
  // consumed right now (its arguments match, and its segment is the step's next and ready).
  bool direct_target(int from, const Header& h, Op*& op, std::uint32_t& j) {
    if (h.kind != Kind::kData || aborted) return false;
    const bool p2p = h.collective == Collective::kSend;
    auto it = live.find(Key{p2p ? from : -1, h.seq});
    if (it == live.end()) return false;
    op = it->second;
    if (!descriptor_matches(*op, h)) return false;
    const auto& list = op->plan->recvs_from[static_cast<std::size_t>(from)];
    if (h.message >= list.size()) return false;
    j = list[h.message];
    if (h.segment >= op->plan->steps[j].segments) return false;
    return op->steps[j].done == h.segment && ready(*op, j, h.segment);
  }

  bool descriptor_matches(const Op& op, const Header& h) const {
    const OpArgs& a = op.args;
    const Collective mine = a.collective == Collective::kRecv ? Collective::kSend : a.collective;
    const std::uint32_t root = a.collective == Collective::kRecv ? a.tag : static_cast<std::uint32_t>(a.root);
    const bool reduces = a.collective == Collective::kAllReduce || a.collective == Collective::kReduce ||
                         a.collective == Collective::kReduceScatter;
    const bool rooted = a.collective == Collective::kBroadcast || a.collective == Collective::kReduce ||
                        mine == Collective::kSend;
    return h.collective == mine && h.algorithm == op.algorithm && h.dtype == a.dtype && h.count == a.count &&
           (!reduces || h.op == a.op) && (!rooted || h.root == root);
  }

  // Runs everything on the work list that can run.
  void run(Op& op) {
    const Plan& plan = *op.plan;
    while (!work.empty() && op.status.state == OpState::kPending) {
      const std::uint32_t j = work.top();
      work.pop();
      op.steps[j].queued = false;
      const Step& s = plan.steps[j];
      while (op.steps[j].done < s.segments && ready(op, j, op.steps[j].done)) {
        const std::uint32_t seg = op.steps[j].done;
        if (s.kind == StepKind::kSend) {
          if (!stage_send(op, s, seg)) break;
        } else if (s.kind == StepKind::kCopy) {
          const auto [off, len] = segment_span(s, seg);
          std::memmove(at(op, s.dst, off), at(op, s.src, off), len);
        } else {
          auto it = std::find_if(op.parked.begin(), op.parked.end(), [&](const ParkedMessage& m) {
            return m.from == s.peer && m.header.message == s.message && m.header.segment == seg;
          });
          if (it == op.parked.end()) break;
          consume(op, s, seg, it->bytes);
          op.parked.erase(it);
        }
        complete_segment(op, j);
      }
    }
    clear_work();
  }

  void clear_work() {
    while (!work.empty()) work.pop();
  }

  void maybe_finish(Op& op) {
    if (op.status.state != OpState::kPending || op.steps_done < op.plan->steps.size()) return;
    if (op.unreleased > 0) return;  // the transport still reads the operation's buffers
    for (const detail::Range& r : op.plan->avg_ranges) {
      finish_avg(at(op, r, 0), r.len / dtype_size(op.args.dtype), op.args.dtype, static_cast<std::size_t>(config.size));
    }
    op.status.state = OpState::kDone;
    ++stats.ops_done;
    retire(op);
  }

  // The op no longer takes messages.
  void retire(Op& op) {
    if (auto it = live.find(op.key); it != live.end() && it->second == &op) live.erase(it);
    op.parked.clear();
  }

  void fail(Op& op, OpError error, std::string detail) {
    if (op.status.state != OpState::kPending) return;
    op.status.state = OpState::kFailed;
    op.status.error = error;
    op.status.detail = std::move(detail);
    ++stats.ops_failed;
    retire(op);
  }

  // ---- receiving -------------------------------------------------------------------------------

  std::string args_text(Collective c, Algorithm alg, DataType dt, ReduceOp rop, std::uint64_t root,
                        std::uint64_t count) const {
    std::string s = std::string(collective_name(c)) + " of " + std::to_string(count) + " " +
                    std::string(dtype_name(dt));
    if (c == Collective::kSend) return s + ", tag " + std::to_string(root);
    s += " " + std::string(reduce_op_name(rop)) + " with " + std::string(algorithm_name(alg));
    if (c == Collective::kBroadcast || c == Collective::kReduce) s += ", root " + std::to_string(root);
    return s;
  }

  void deliver(Op& op, int from, const Header& h, std::vector<std::uint8_t>&& bytes, TimeNs now) {
    const OpArgs& a = op.args;
    const Collective mine = a.collective == Collective::kRecv ? Collective::kSend : a.collective;
    const std::uint32_t root = a.collective == Collective::kRecv ? a.tag : static_cast<std::uint32_t>(a.root);
    if (!descriptor_matches(op, h)) {
      mismatch(op, from,
               "rank " + std::to_string(from) + " sent " +
                   args_text(h.collective, h.algorithm, h.dtype, h.op, h.root, h.count) + " where rank " +
                   std::to_string(config.rank) + " posted " +
                   args_text(mine, op.algorithm, a.dtype, a.op, root, a.count),
               now);
      return;
    }
    const auto& list = op.plan->recvs_from[static_cast<std::size_t>(from)];
    if (h.message >= list.size()) {
      mismatch(op, from, "rank " + std::to_string(from) + " sent message " + std::to_string(h.message + 1) + " of " +
                             describe(op) + " but rank " + std::to_string(config.rank) + " expects " +
                             std::to_string(list.size()) + " from it",
               now);
      return;
    }
    const std::uint32_t j = list[h.message];
    const Step& s = op.plan->steps[j];
    if (h.segment >= s.segments || bytes.size() - kHeaderBytes != segment_span(s, h.segment).second) {
      mismatch(op, from, "rank " + std::to_string(from) + " sent " + std::to_string(bytes.size() - kHeaderBytes) +
                             " B as segment " + std::to_string(h.segment) + " of message " +
                             std::to_string(h.message) + " of " + describe(op) + "; expected " +
                             std::to_string(segment_span(s, std::min(h.segment, s.segments - 1)).second) + " B",
               now);
      return;
    }
    if (op.steps[j].done == h.segment && ready(op, j, h.segment)) {
      consume(op, s, h.segment, bytes);
      clear_work();
      complete_segment(op, j);
      run(op);
    } else {
      ++stats.messages_parked;
      op.parked.push_back({from, h, std::move(bytes)});
    }
    maybe_finish(op);
  }

  void mismatch(Op& op, int from, std::string detail, TimeNs now) {
    const std::string text = where() + ": " + describe(op) + ": ranks disagree: " + detail +
                             ". Every rank must post the same collectives in the same order with the same "
                             "arguments.";
    (void)from;
    fail(op, OpError::kMismatch, text);
    abort_all(OpError::kAborted, text, now);
  }

  // A whole message: gathered from the data link's stream (its header in front) or from the abort
  // channel.
  void on_message(int from, std::vector<std::uint8_t>&& bytes, TimeNs now) {
    if (from < 0 || from >= config.size || from == config.rank) return;
    resume_blocked();
    drain_releases();
    Header h;
    if (std::string e = decode(bytes, h); !e.empty()) {
      abort_all(OpError::kAborted, where() + ": malformed collective message from rank " + std::to_string(from) + ": " + e,
                now);
      return;
    }
    if (h.kind == Kind::kAbort) {
      const std::string reason(reinterpret_cast<const char*>(bytes.data()) + kHeaderBytes, bytes.size() - kHeaderBytes);
      // Passed on to every other rank (once: an aborted engine sends nothing more), so a notice
      // that cannot reach a rank directly still gets there through the others.
      abort_all(OpError::kAborted, "aborted by rank " + std::to_string(from) + ": " + reason, now);
      return;
    }
    if (aborted) return;
    const bool p2p = h.collective == Collective::kSend;
    const Key key{p2p ? from : -1, h.seq};
    if (auto it = live.find(key); it != live.end()) {
      deliver(*it->second, from, h, std::move(bytes), now);
      return;
    }
    const std::uint64_t next = p2p ? next_recv_seq[static_cast<std::size_t>(from)] : next_coll_seq;
    if (h.seq >= next) {
      ++stats.messages_parked;
      early[key].push_back({from, h, std::move(bytes)});
    }
    // Otherwise: for an operation that already finished, failed or was released: dropped.
  }

  // ---- failure -----------------------------------------------------------------------------------

  void abort_all(OpError error, const std::string& reason, TimeNs now) {
    (void)now;
    if (aborted) return;
    aborted = true;
    abort_reason = reason;
    for (auto& [id, op] : ops) {
      if (op->status.state == OpState::kPending) {
        fail(*op, error, reason + " [" + describe(*op) + " on rank " + std::to_string(config.rank) + "]");
      }
    }
    early.clear();
    outbox.clear();  // data no one will use; the abort notices go first
    for (int r = 0; r < config.size; ++r) {
      if (r == config.rank) continue;
      auto buf = std::make_shared<std::vector<std::uint8_t>>(kHeaderBytes + reason.size());
      Header h;
      h.kind = Kind::kAbort;
      encode(h, buf->data());
      std::memcpy(buf->data() + kHeaderBytes, reason.data(), reason.size());
      Outgoing out;
      out.peer = r;
      out.bytes.bytes = std::span<const std::uint8_t>(buf->data(), buf->size());
      out.bytes.owner = std::move(buf);
      out.urgent = true;
      outbox.push_back(std::move(out));
    }
  }

  // What a stuck operation waits for: the first unfinished receive.
  std::string waiting_for(const Op& op) const {
    const Plan& plan = *op.plan;
    for (std::size_t j = 0; j < plan.steps.size(); ++j) {
      const Step& s = plan.steps[j];
      if (s.kind == StepKind::kSend || s.kind == StepKind::kCopy) continue;
      if (op.steps[j].done >= s.segments) continue;
      return "waiting for rank " + std::to_string(s.peer) + " (step " + std::to_string(j + 1) + " of " +
             std::to_string(plan.steps.size()) + ", " + std::to_string(op.steps[j].done) + " of " +
             std::to_string(s.segments) + " segments received; rank " + std::to_string(s.peer) +
             " may be stalled, dead, or not calling this collective)";
    }
    if (op.unreleased > 0) {
      int peer = -1;
      for (std::size_t j = 0; j < plan.steps.size() && peer < 0; ++j) {
        const Step& s = plan.steps[j];
        if (s.kind == StepKind::kSend && op.steps[j].released < op.steps[j].done) peer = s.peer;
      }
      return "all data received; " + std::to_string(op.unreleased) + " segment(s) sent to rank " +
             std::to_string(peer) + " not acknowledged (rank " + std::to_string(peer) +
             " may be stalled or dead)";
    }
    return "all receives done; waiting to send";
  }

  void on_timer(TimeNs now) {
    drain_releases();
    for (auto& [id, op] : ops) {
      if (op->status.state != OpState::kPending || now < op->deadline) continue;
      const std::string text = where() + ": " + describe(*op) + " timed out after " +
                               seconds_text(now - op->started) + ": " + waiting_for(*op);
      fail(*op, OpError::kTimedOut, text);
      abort_all(OpError::kAborted, text, now);
      return;
    }
  }

  TimeNs next_timer() const {
    TimeNs t = transport::kNever;
    for (const auto& [id, op] : ops) {
      if (op->status.state == OpState::kPending) t = std::min(t, op->deadline);
    }
    return t;
  }

  void release(OpId id) {
    auto it = ops.find(id);
    if (it == ops.end()) return;
    Op& op = *it->second;
    retire(op);
    if (op.scratch) free_scratch.push_back(std::move(op.scratch));
    op.plan.reset();
    free_ops.push_back(std::move(it->second));
    ops.erase(it);
  }
};

Engine::Engine(const EngineConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Engine::~Engine() = default;
const EngineConfig& Engine::config() const { return impl_->config; }
int Engine::rank() const { return impl_->config.rank; }
int Engine::size() const { return impl_->config.size; }
OpId Engine::post(const OpArgs& args, TimeNs now) { return impl_->post(args, now); }
void Engine::on_urgent_message(int from, std::vector<std::uint8_t>&& message, TimeNs now) {
  impl_->on_message(from, std::move(message), now);
}
void Engine::on_message_data(int from, std::span<const std::uint8_t> bytes, bool first, bool last, TimeNs now) {
  impl_->on_message_data(from, bytes, first, last, now);
}
void Engine::on_peer_failed(int peer, std::string_view cause, TimeNs now) {
  if (peer >= 0 && peer < impl_->config.size) {
    impl_->incoming[static_cast<std::size_t>(peer)].mode = Incoming::Mode::kIdle;
    impl_->body_next[static_cast<std::size_t>(peer)].reset();
  }
  impl_->abort_all(OpError::kPeerFailed,
                   impl_->where() + ": link to rank " + std::to_string(peer) + " failed: " + std::string(cause), now);
}
TimeNs Engine::next_timer() const { return impl_->next_timer(); }
void Engine::on_timer(TimeNs now) { impl_->on_timer(now); }
bool Engine::poll_send(Outgoing& out) {
  impl_->drain_releases();
  if (impl_->outbox.empty()) impl_->resume_blocked();
  if (impl_->outbox.empty()) return false;
  out = std::move(impl_->outbox.front());
  impl_->outbox.pop_front();
  return true;
}
bool Engine::wants_to_send() const { return !impl_->outbox.empty(); }
void Engine::abort(std::string_view reason, TimeNs now) {
  impl_->abort_all(OpError::kAborted, impl_->where() + " aborted: " + std::string(reason), now);
}
bool Engine::aborted() const { return impl_->aborted; }
const std::string& Engine::abort_reason() const { return impl_->abort_reason; }
const OpStatus& Engine::status(OpId id) const {
  auto it = impl_->ops.find(id);
  return it == impl_->ops.end() ? impl_->missing_status : it->second->status;
}
void Engine::release(OpId id) { impl_->release(id); }
std::size_t Engine::pending() const {
  std::size_t n = 0;
  for (const auto& [id, op] : impl_->ops) n += op->status.state == OpState::kPending ? 1 : 0;
  return n;
}
Algorithm Engine::choose(const OpArgs& args) const { return impl_->resolve(args); }
const EngineStats& Engine::stats() const { return impl_->stats; }
void Engine::set_link_params(const LinkParams& link) {
  impl_->config.link = link;
  impl_->choices.fill({});  // answers under the old parameters
}
std::size_t Engine::references_held() const { return impl_->references_held - impl_->releases->notes.size(); }

}  // namespace weft::collectives
