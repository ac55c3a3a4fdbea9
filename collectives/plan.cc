// Algorithm builders: each writes one rank's steps for one collective (see plan.h).
//
// Conventions. A "view" is `count` elements of a buffer at a byte offset; chunk(v, m, j) is part j
// of m near-equal parts of it. Rings run over a group of ranks (all ranks, a pod, or one rank per
// pod); rank i of a group of m sends to i+1 and receives from i-1. After the reduce-scatter half of
// a ring, group member i holds the fully reduced chunk i; the all-gather half starts from there.
// Non-power-of-two groups in the recursive algorithms use the standard fold: the first 2*rem
// members pair up, the even one hands its data to the odd one and sits out, and gets the result
// back at the end (MPICH; Thakur et al. 2005). Zero-byte transfers are left out on both sides.
#include "collectives/plan.h"

#include <algorithm>
#include <bit>

namespace weft::collectives::detail {
namespace {

struct View {
  Buf buf = Buf::kOutput;
  std::size_t offset = 0;  // bytes
  std::size_t count = 0;   // elements
};

class Builder {
 public:
  Builder(Plan& plan, std::size_t elem_bytes) : plan_(plan), es_(elem_bytes) {}

  std::size_t es() const { return es_; }
  Range range(const View& v, std::size_t first, std::size_t count) const {
    return {v.buf, v.offset + first * es_, count * es_};
  }
  Range whole(const View& v) const { return range(v, 0, v.count); }
  Range chunk(const View& v, std::size_t parts, std::size_t j) const {
    const Part p = part_of(v.count, parts, j);
    return range(v, p.first, p.count);
  }
  // Chunks [j, j + n) of `parts` as one contiguous range.
  Range chunks(const View& v, std::size_t parts, std::size_t j, std::size_t n) const {
    const Part a = part_of(v.count, parts, j);
    std::size_t c = 0;
    for (std::size_t k = j; k < j + n; ++k) c += part_of(v.count, parts, k).count;
    return range(v, a.first, c);
  }

  void send(int peer, Range r) {
    if (r.len > 0) add(StepKind::kSend, peer, r, {}, false);
  }
  void recv(int peer, Range r, bool reduce) {
    if (r.len > 0) add(reduce ? StepKind::kRecvReduce : StepKind::kRecvCopy, peer, {}, r, false);
  }
  // dst = src op (the message); src and dst are ranges of the same length.
  void recv_reduce_from(int peer, Range src, Range dst) {
    if (dst.len > 0) add(StepKind::kRecvReduceFrom, peer, src, dst, false);
  }
  void copy(Range src, Range dst) {
    if (src.len == 0 || (src.buf == dst.buf && src.offset == dst.offset)) return;
    add(StepKind::kCopy, -1, src, dst, false);
  }
  // Zero-byte ordering messages (barrier): each send waits for the previous receive, through the
  // one-byte kSync range they both touch.
  void sync_send(int peer) { add(StepKind::kSend, peer, {Buf::kSync, 0, 1}, {}, true); }
  void sync_recv(int peer) { add(StepKind::kRecvCopy, peer, {}, {Buf::kSync, 0, 1}, true); }

 private:
  void add(StepKind kind, int peer, Range src, Range dst, bool sync) {
    Step s;
    s.kind = kind;
    s.peer = peer;
    s.src = src;
    s.dst = dst;
    s.sync = sync;
    plan_.steps.push_back(std::move(s));
  }
  Plan& plan_;
  std::size_t es_;
};

std::size_t mod(long long a, long long m) { return static_cast<std::size_t>(((a % m) + m) % m); }
int floor_pow2(int n) { return n <= 0 ? 0 : 1 << (std::bit_width(static_cast<unsigned>(n)) - 1); }

// A group of ranks and this rank's index in it.
struct Group {
  std::vector<int> ranks;
  int me = 0;
  int size() const { return static_cast<int>(ranks.size()); }
  int at(long long i) const { return ranks[mod(i, size())]; }
};

Group all_ranks(int size, int rank) {
  Group g;
  g.ranks.resize(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) g.ranks[static_cast<std::size_t>(i)] = i;
  g.me = rank;
  return g;
}

// ---- rings -------------------------------------------------------------------------------------

// Reduce-scatter along the ring: member i ends up holding chunk i reduced over the group. With
// `in` (the same shape as v, holding this rank's contribution while v does not yet), the first
// send of each chunk reads `in` and its one reduction writes v = in op message: no copy of the
// input into v is needed. Each chunk of v is reduced into exactly once per rank, so this holds.
void ring_reduce_scatter(Builder& b, const Group& g, const View& v, const View* in = nullptr) {
  const int m = g.size();
  const long long i = g.me;
  const auto parts = static_cast<std::size_t>(m);
  for (long long k = 0; k + 1 < m; ++k) {
    const std::size_t out_chunk = mod(i - k - 1, m), in_chunk = mod(i - k - 2, m);
    b.send(g.at(i + 1), b.chunk(k == 0 && in != nullptr ? *in : v, parts, out_chunk));
    if (in != nullptr) {
      b.recv_reduce_from(g.at(i - 1), b.chunk(*in, parts, in_chunk), b.chunk(v, parts, in_chunk));
    } else {
      b.recv(g.at(i - 1), b.chunk(v, parts, in_chunk), /*reduce=*/true);
    }
  }
}

// All-gather along the ring, member i starting with chunk i.
void ring_all_gather(Builder& b, const Group& g, const View& v) {
  const int m = g.size();
  const long long i = g.me;
  for (long long k = 0; k + 1 < m; ++k) {
    b.send(g.at(i + 1), b.chunk(v, static_cast<std::size_t>(m), mod(i - k, m)));
    b.recv(g.at(i - 1), b.chunk(v, static_cast<std::size_t>(m), mod(i - k - 1, m)), /*reduce=*/false);
  }
}

void ring_all_reduce(Builder& b, const Group& g, const View& v, const View* in = nullptr) {
  if (g.size() < 2) return;
  ring_reduce_scatter(b, g, v, in);
  ring_all_gather(b, g, v);
}

// ---- recursive doubling / halving ------------------------------------------------------------

// The fold of a non-power-of-two group: returns this member's index among the 2^k active ones,
// or -1 when it sits out. `peer_of(j)` maps an active index back to a group member.
struct Fold {
  int pof2 = 1;
  int rem = 0;
  int active = 0;
  int member(int j) const { return j < rem ? 2 * j + 1 : j + rem; }
};

Fold fold_in(Builder& b, const Group& g, Range whole) {
  Fold f;
  f.pof2 = floor_pow2(g.size());
  f.rem = g.size() - f.pof2;
  const int i = g.me;
  if (i < 2 * f.rem) {
    if (i % 2 == 0) {
      b.send(g.ranks[static_cast<std::size_t>(i + 1)], whole);
      f.active = -1;
    } else {
      b.recv(g.ranks[static_cast<std::size_t>(i - 1)], whole, /*reduce=*/true);
      f.active = i / 2;
    }
  } else {
    f.active = i - f.rem;
  }
  return f;
}

void fold_out(Builder& b, const Group& g, const Fold& f, Range whole) {
  const int i = g.me;
  if (i >= 2 * f.rem) return;
  if (i % 2 == 0) {
    b.recv(g.ranks[static_cast<std::size_t>(i + 1)], whole, /*reduce=*/false);
  } else {
    b.send(g.ranks[static_cast<std::size_t>(i - 1)], whole);
  }
}

void recursive_doubling_all_reduce(Builder& b, const Group& g, const View& v) {
  if (g.size() < 2) return;
  const Range whole = b.whole(v);
  const Fold f = fold_in(b, g, whole);
  if (f.active >= 0) {
    for (int mask = 1; mask < f.pof2; mask <<= 1) {
      const int peer = g.ranks[static_cast<std::size_t>(f.member(f.active ^ mask))];
      b.send(peer, whole);
      b.recv(peer, whole, /*reduce=*/true);
    }
  }
  fold_out(b, g, f, whole);
}

// Recursive halving over `pof2` blocks of v among the active members: active member j ends up with
// block j reduced. Then (all_gather) recursive doubling brings every block back.
void halving_reduce_scatter(Builder& b, const Group& g, const Fold& f, const View& v) {
  const auto blocks = static_cast<std::size_t>(f.pof2);
  std::size_t lo = 0, hi = blocks;
  for (int mask = f.pof2 / 2; mask >= 1; mask >>= 1) {
    const int partner = f.active ^ mask;
    const int peer = g.ranks[static_cast<std::size_t>(f.member(partner))];
    const std::size_t mid = lo + (hi - lo) / 2;
    if ((f.active & mask) == 0) {
      b.send(peer, b.chunks(v, blocks, mid, hi - mid));
      b.recv(peer, b.chunks(v, blocks, lo, mid - lo), /*reduce=*/true);
      hi = mid;
    } else {
      b.send(peer, b.chunks(v, blocks, lo, mid - lo));
      b.recv(peer, b.chunks(v, blocks, mid, hi - mid), /*reduce=*/true);
      lo = mid;
    }
  }
}

void doubling_all_gather(Builder& b, const Group& g, const Fold& f, const View& v) {
  const auto blocks = static_cast<std::size_t>(f.pof2);
  for (int mask = 1; mask < f.pof2; mask <<= 1) {
    const int partner = f.active ^ mask;
    const int peer = g.ranks[static_cast<std::size_t>(f.member(partner))];
    const auto mine = static_cast<std::size_t>(f.active & ~(mask - 1));
    const auto theirs = static_cast<std::size_t>(partner & ~(mask - 1));
    b.send(peer, b.chunks(v, blocks, mine, static_cast<std::size_t>(mask)));
    b.recv(peer, b.chunks(v, blocks, theirs, static_cast<std::size_t>(mask)), /*reduce=*/false);
  }
}

void rabenseifner_all_reduce(Builder& b, const Group& g, const View& v) {
  if (g.size() < 2) return;
  const Range whole = b.whole(v);
  const Fold f = fold_in(b, g, whole);
  if (f.active >= 0) {
    halving_reduce_scatter(b, g, f, v);
    doubling_all_gather(b, g, f, v);
  }
  fold_out(b, g, f, whole);
}

// ---- double binary tree ------------------------------------------------------------------------

// In-order binary tree over positions [lo, hi): the middle is the root of each sub-range.
void build_tree(int lo, int hi, int parent, std::vector<int>& parents) {
  if (lo >= hi) return;
  const int mid = lo + (hi - lo) / 2;
  parents[static_cast<std::size_t>(mid)] = parent;
  build_tree(lo, mid, mid, parents);
  build_tree(mid + 1, hi, mid, parents);
}

// Two trees, each reducing and broadcasting half of the buffer. Tree 1 mirrors tree 0 (even
// size) or shifts it by one (odd size), so most interior ranks of one tree are leaves of the other
// (NCCL's double binary tree).
void double_binary_tree_all_reduce(Builder& b, int rank, int size, const View& v) {
  std::vector<int> parents(static_cast<std::size_t>(size), -1);
  build_tree(0, size, -1, parents);
  for (int t = 0; t < 2; ++t) {
    auto pos_of = [&](int r) { return t == 0 ? r : (size % 2 == 0 ? size - 1 - r : (r + size - 1) % size); };
    auto rank_of = [&](int pos) { return t == 0 ? pos : (size % 2 == 0 ? size - 1 - pos : (pos + 1) % size); };
    const Range half = b.chunk(v, 2, static_cast<std::size_t>(t));
    const int me = pos_of(rank);
    std::vector<int> children;
    for (int p = 0; p < size; ++p) {
      if (parents[static_cast<std::size_t>(p)] == me) children.push_back(p);
    }
    for (int c : children) b.recv(rank_of(c), half, /*reduce=*/true);
    const int parent = parents[static_cast<std::size_t>(me)];
    if (parent >= 0) {
      b.send(rank_of(parent), half);
      b.recv(rank_of(parent), half, /*reduce=*/false);
    }
    for (int c : children) b.send(rank_of(c), half);
  }
}

// ---- hierarchical 2-D --------------------------------------------------------------------------

// Ring reduce-scatter inside the pod, an all-reduce of this rank's chunk among the ranks with the
// same place in every pod, ring all-gather inside the pod. Each rank's scale-out traffic is 1/a of
// the flat ring's (a = ranks per pod); the total per rank stays 2(p-1)/p of the buffer.
void hierarchical_all_reduce(Builder& b, int rank, int size, int per_pod, const View& v,
                             std::size_t segment_bytes) {
  const int pods = size / per_pod;
  const int pod = rank / per_pod, local = rank % per_pod;
  Group in_pod;
  for (int i = 0; i < per_pod; ++i) in_pod.ranks.push_back(pod * per_pod + i);
  in_pod.me = local;
  Group across;
  for (int q = 0; q < pods; ++q) across.ranks.push_back(q * per_pod + local);
  across.me = pod;

  ring_reduce_scatter(b, in_pod, v);
  const Part mine = part_of(v.count, static_cast<std::size_t>(per_pod), static_cast<std::size_t>(local));
  const View sub{v.buf, v.offset + mine.first * b.es(), mine.count};
  // Small chunks: latency rules, so log-step; large: the bandwidth-optimal ring.
  if (mine.count * b.es() < segment_bytes) {
    recursive_doubling_all_reduce(b, across, sub);
  } else {
    ring_all_reduce(b, across, sub);
  }
  ring_all_gather(b, in_pod, v);
}

// ---- all-gather -------------------------------------------------------------------------------

void recursive_doubling_all_gather(Builder& b, int rank, int size, const View& out) {
  const auto blocks = static_cast<std::size_t>(size);
  for (int mask = 1; mask < size; mask <<= 1) {
    const int partner = rank ^ mask;
    b.send(partner, b.chunks(out, blocks, static_cast<std::size_t>(rank & ~(mask - 1)), static_cast<std::size_t>(mask)));
    b.recv(partner, b.chunks(out, blocks, static_cast<std::size_t>(partner & ~(mask - 1)), static_cast<std::size_t>(mask)),
           /*reduce=*/false);
  }
}

// Bruck: blocks gathered in rotated order in scratch (block i = rank r+i's), then rotated into place.
void bruck_all_gather(Builder& b, int rank, int size, std::size_t count, Plan& plan) {
  const std::size_t es = b.es();
  const View scratch{Buf::kScratch, 0, count * static_cast<std::size_t>(size)};
  plan.scratch_bytes = scratch.count * es;
  const auto p = static_cast<std::size_t>(size);
  b.copy({Buf::kInput, 0, count * es}, b.chunk(scratch, p, 0));
  for (std::size_t k = 1; k < p; k <<= 1) {
    const std::size_t n = std::min(k, p - k);
    b.send(static_cast<int>(mod(static_cast<long long>(rank) - static_cast<long long>(k), size)),
           b.chunks(scratch, p, 0, n));
    b.recv(static_cast<int>((static_cast<std::size_t>(rank) + k) % p), b.chunks(scratch, p, k, n), /*reduce=*/false);
  }
  const View out{Buf::kOutput, 0, scratch.count};
  for (std::size_t i = 0; i < p; ++i) b.copy(b.chunk(scratch, p, i), b.chunk(out, p, (static_cast<std::size_t>(rank) + i) % p));
}

// ---- broadcast and reduce (relative to the root) ------------------------------------------------

void binomial_broadcast(Builder& b, int rank, int size, int root, Range whole) {
  const int vr = (rank - root + size) % size;
  auto real = [&](int v) { return (v + root) % size; };
  int mask = 1;
  while (mask < size) {
    if ((vr & mask) != 0) {
      b.recv(real(vr - mask), whole, /*reduce=*/false);
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vr + mask < size) b.send(real(vr + mask), whole);
  }
}

void chain_broadcast(Builder& b, int rank, int size, int root, Range whole) {
  const int vr = (rank - root + size) % size;
  if (vr > 0) b.recv((rank - 1 + size) % size, whole, /*reduce=*/false);
  if (vr + 1 < size) b.send((rank + 1) % size, whole);
}

void binomial_reduce(Builder& b, int rank, int size, int root, Range whole) {
  const int vr = (rank - root + size) % size;
  auto real = [&](int v) { return (v + root) % size; };
  for (int mask = 1; mask < size; mask <<= 1) {
    if ((vr & mask) != 0) {
      b.send(real(vr - mask), whole);
      break;
    }
    if (vr + mask < size) b.recv(real(vr + mask), whole, /*reduce=*/true);
  }
}

void chain_reduce(Builder& b, int rank, int size, int root, Range whole) {
  const int vr = (rank - root + size) % size;
  if (vr + 1 < size) b.recv((rank + 1) % size, whole, /*reduce=*/true);
  if (vr > 0) b.send((rank - 1 + size) % size, whole);
}

// ---- all-to-all ---------------------------------------------------------------------------------

void pairwise_all_to_all(Builder& b, int rank, int size, std::size_t count) {
  const auto p = static_cast<std::size_t>(size);
  const View in{Buf::kInput, 0, count * p}, out{Buf::kOutput, 0, count * p};
  b.copy(b.chunk(in, p, static_cast<std::size_t>(rank)), b.chunk(out, p, static_cast<std::size_t>(rank)));
  for (int k = 1; k < size; ++k) {
    const int to = (rank + k) % size, from = (rank - k + size) % size;
    b.send(to, b.chunk(in, p, static_cast<std::size_t>(to)));
    b.recv(from, b.chunk(out, p, static_cast<std::size_t>(from)), /*reduce=*/false);
  }
}

// Bruck: rotate so block i goes i ranks ahead; in round k every block whose index has bit k set
// moves k ranks ahead (packed into one message); rotate back.
void bruck_all_to_all(Builder& b, int rank, int size, std::size_t count, Plan& plan) {
  const auto p = static_cast<std::size_t>(size);
  const std::size_t half = (p + 1) / 2;
  const View s{Buf::kScratch, 0, count * p};
  const View t{Buf::kScratch, count * p * b.es(), count * half};
  const View u{Buf::kScratch, count * (p + half) * b.es(), count * half};
  plan.scratch_bytes = count * (p + 2 * half) * b.es();
  const View in{Buf::kInput, 0, count * p}, out{Buf::kOutput, 0, count * p};
  auto block = [&](const View& v, std::size_t i) { return b.range(v, i * count, count); };
  for (std::size_t i = 0; i < p; ++i) b.copy(block(in, (static_cast<std::size_t>(rank) + i) % p), block(s, i));
  for (std::size_t k = 1; k < p; k <<= 1) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < p; ++i) {
      if ((i & k) != 0) b.copy(block(s, i), block(t, n++));
    }
    b.send(static_cast<int>((static_cast<std::size_t>(rank) + k) % p), b.range(t, 0, n * count));
    b.recv(static_cast<int>(mod(static_cast<long long>(rank) - static_cast<long long>(k), size)), b.range(u, 0, n * count),
           /*reduce=*/false);
    n = 0;
    for (std::size_t i = 0; i < p; ++i) {
      if ((i & k) != 0) b.copy(block(u, n++), block(s, i));
    }
  }
  for (std::size_t i = 0; i < p; ++i) b.copy(block(s, i), block(out, mod(static_cast<long long>(rank) - static_cast<long long>(i), size)));
}

}  // namespace

std::string build_plan(const PlanArgs& a, std::size_t segment_bytes, Plan& plan) {
  plan.steps.clear();
  plan.avg_ranges.clear();
  plan.scratch_bytes = 0;
  plan.elem_bytes = a.elem_bytes;
  Builder b(plan, a.elem_bytes);
  const std::size_t es = a.elem_bytes;
  const std::size_t n = a.count;
  const auto p = static_cast<std::size_t>(a.size);
  const View out{Buf::kOutput, 0, n};
  const Range in_whole{Buf::kInput, 0, n * es};
  std::string why;
  if (!algorithm_supports(a.algorithm, a.collective, a.size, a.topology, &why)) return why;

  switch (a.collective) {
    case Collective::kAllReduce: {
      const View in{Buf::kInput, 0, n};
      // The ring reads the input directly (its first reduction of each chunk is out = in op
      // message); every other algorithm starts from a copy in the output.
      const bool ring_from_input = a.algorithm == Algorithm::kRing && !a.in_place && a.size > 1;
      if (!a.in_place && !ring_from_input) b.copy(in_whole, b.whole(out));
      const Group g = all_ranks(a.size, a.rank);
      switch (a.algorithm) {
        case Algorithm::kRing: ring_all_reduce(b, g, out, ring_from_input ? &in : nullptr); break;
        case Algorithm::kRecursiveDoubling: recursive_doubling_all_reduce(b, g, out); break;
        case Algorithm::kRabenseifner: rabenseifner_all_reduce(b, g, out); break;
        case Algorithm::kDoubleBinaryTree: double_binary_tree_all_reduce(b, a.rank, a.size, out); break;
        case Algorithm::kHierarchical:
          hierarchical_all_reduce(b, a.rank, a.size, a.topology.ranks_per_pod, out, segment_bytes);
          break;
        default: break;  // kDirect: one rank
      }
      if (a.avg) plan.avg_ranges.push_back(b.whole(out));
      break;
    }
    case Collective::kAllGather: {
      const View all{Buf::kOutput, 0, n * p};
      if (a.algorithm == Algorithm::kBruck) {
        bruck_all_gather(b, a.rank, a.size, n, plan);
        break;
      }
      b.copy(in_whole, b.chunk(all, p, static_cast<std::size_t>(a.rank)));
      if (a.algorithm == Algorithm::kRing) ring_all_gather(b, all_ranks(a.size, a.rank), all);
      if (a.algorithm == Algorithm::kRecursiveDoubling) recursive_doubling_all_gather(b, a.rank, a.size, all);
      break;
    }
    case Collective::kReduceScatter: {
      const View work{Buf::kScratch, 0, n * p};
      const View in{Buf::kInput, 0, n * p};
      plan.scratch_bytes = n * p * es;
      const bool ring = a.algorithm == Algorithm::kRing && a.size > 1;
      if (!ring) b.copy({Buf::kInput, 0, n * p * es}, b.whole(work));  // the ring reads the input directly
      const Group g = all_ranks(a.size, a.rank);
      if (ring) ring_reduce_scatter(b, g, work, &in);
      if (a.algorithm == Algorithm::kRabenseifner) {
        Fold f;
        f.pof2 = a.size;
        f.active = a.rank;
        halving_reduce_scatter(b, g, f, work);
      }
      b.copy(b.chunk(work, p, static_cast<std::size_t>(a.rank)), b.whole(out));
      if (a.avg) plan.avg_ranges.push_back(b.whole(out));
      break;
    }
    case Collective::kBroadcast: {
      if (a.rank == a.root && !a.in_place) b.copy(in_whole, b.whole(out));
      if (a.algorithm == Algorithm::kBinomialTree) binomial_broadcast(b, a.rank, a.size, a.root, b.whole(out));
      if (a.algorithm == Algorithm::kChain) chain_broadcast(b, a.rank, a.size, a.root, b.whole(out));
      break;
    }
    case Collective::kReduce: {
      // Non-root ranks reduce in scratch: their recv buffer is not theirs to write.
      const View work = a.rank == a.root ? out : View{Buf::kScratch, 0, n};
      if (a.rank != a.root) plan.scratch_bytes = n * es;
      if (!(a.rank == a.root && a.in_place)) b.copy(in_whole, b.whole(work));
      if (a.algorithm == Algorithm::kBinomialTree) binomial_reduce(b, a.rank, a.size, a.root, b.whole(work));
      if (a.algorithm == Algorithm::kChain) chain_reduce(b, a.rank, a.size, a.root, b.whole(work));
      if (a.avg && a.rank == a.root) plan.avg_ranges.push_back(b.whole(out));
      break;
    }
    case Collective::kBarrier:
      for (int k = 1; k < a.size; k <<= 1) {
        b.sync_send((a.rank + k) % a.size);
        b.sync_recv((a.rank - k + a.size) % a.size);
      }
      break;
    case Collective::kAllToAll:
      if (a.algorithm == Algorithm::kBruck) {
        bruck_all_to_all(b, a.rank, a.size, n, plan);
      } else {
        pairwise_all_to_all(b, a.rank, a.size, n);
      }
      break;
    case Collective::kSend: b.send(a.peer, in_whole); break;
    case Collective::kRecv: b.recv(a.peer, b.whole(out), /*reduce=*/false); break;
  }
  finalize(plan, a.size, segment_bytes);
  return "";
}

namespace {

bool overlaps(const Range& a, const Range& b) {
  return a.buf == b.buf && a.len > 0 && b.len > 0 && a.offset < b.offset + b.len && b.offset < a.offset + a.len;
}
bool same(const Range& a, const Range& b) { return a.buf == b.buf && a.offset == b.offset && a.len == b.len; }

// The ranges a step reads and writes (at most one each).
const Range* reads(const Step& s) {
  return s.kind == StepKind::kSend || s.kind == StepKind::kCopy || s.kind == StepKind::kRecvReduceFrom ? &s.src
         : s.kind == StepKind::kRecvReduce                      ? &s.dst
                                                                : nullptr;
}
const Range* writes(const Step& s) { return s.kind == StepKind::kSend ? nullptr : &s.dst; }

}  // namespace

void finalize(Plan& plan, int size, std::size_t segment_bytes) {
  plan.recvs_from.assign(static_cast<std::size_t>(size), {});
  std::vector<std::uint32_t> sent(static_cast<std::size_t>(size), 0);
  plan.sends = plan.recvs = 0;
  for (std::size_t j = 0; j < plan.steps.size(); ++j) {
    Step& s = plan.steps[j];
    const std::size_t len = s.kind == StepKind::kSend ? s.src.len : s.dst.len;
    s.segments = s.sync ? 1 : static_cast<std::uint32_t>(std::max<std::size_t>(1, (len + segment_bytes - 1) / segment_bytes));
    s.deps.clear();
    if (s.kind == StepKind::kSend) {
      s.message = sent[static_cast<std::size_t>(s.peer)]++;
      ++plan.sends;
    } else if (s.kind != StepKind::kCopy) {
      auto& list = plan.recvs_from[static_cast<std::size_t>(s.peer)];
      s.message = static_cast<std::uint32_t>(list.size());
      list.push_back(static_cast<std::uint32_t>(j));
      ++plan.recvs;
    }
    const Range* rj = reads(s);
    const Range* wj = writes(s);
    for (std::size_t i = 0; i < j; ++i) {
      const Step& e = plan.steps[i];
      const Range* ri = reads(e);
      const Range* wi = writes(e);
      bool conflict = false, identical = true;
      auto check = [&](const Range* x, const Range* y) {
        if (x == nullptr || y == nullptr || !overlaps(*x, *y)) return;
        conflict = true;
        identical = identical && same(*x, *y);
      };
      check(wi, rj);
      check(wi, wj);
      check(ri, wj);
      if (!conflict) continue;
      const bool war_on_send = e.kind == StepKind::kSend && wj != nullptr && overlaps(e.src, *wj);
      s.deps.push_back({static_cast<std::uint32_t>(i), identical && e.segments == s.segments, war_on_send});
    }
  }
}

}  // namespace weft::collectives::detail
