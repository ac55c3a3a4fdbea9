// Faults of the collective engine over the in-memory simulator, in virtual time: 5 % loss on every
// link, a rank killed mid-operation, a rank that never posts (the timeout fires), abort() during an
// operation, ranks that disagree about the arguments, and invalid arguments. In every case every
// live rank's operation must end (done, or failed with an error naming the cause, the rank and the
// peer) within its timeout, and nothing may be left pending. CI runs this under ASan, so it also
// shows that failed, aborted and released operations leak nothing.
//
// Times printed are virtual: failure time minus post time, per rank.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/collective_check.h"
#include "tests/support/collective_cluster.h"

namespace weft::collectives {
namespace {

using test::CollectiveCluster;
using transport::TimeNs;

constexpr std::uint64_t kSeed = 20261201;
constexpr TimeNs kMs = 1'000'000;

test::ClusterOptions options(int ranks, double loss, std::uint64_t seed = kSeed) {
  test::ClusterOptions o;
  o.ranks = ranks;
  o.seed = seed + static_cast<std::uint64_t>(ranks);
  o.loss = loss;
  o.engine.segment_bytes = 64 << 10;
  o.engine.default_timeout_ns = 2'000 * kMs;  // virtual
  o.endpoint.retry_budget_us = 500'000;       // a dead peer is declared after 0.5 s without progress
  return o;
}

// How one rank's operation ended, and when (virtual).
struct Outcome {
  OpState state = OpState::kPending;
  OpError error = OpError::kNone;
  std::string detail;
  TimeNs at = -1;  // first virtual time the operation was seen not pending; -1: still pending
};

// Runs until every listed operation of every live rank is no longer pending (ids[r] == 0: none),
// recording when each one ended.
std::vector<Outcome> run_recording(CollectiveCluster& cl, const std::vector<OpId>& ids, TimeNs deadline) {
  std::vector<Outcome> out(ids.size());
  auto check = [&] {
    bool all = true;
    for (int r = 0; r < cl.size(); ++r) {
      const auto i = static_cast<std::size_t>(r);
      if (cl.dead(r) || ids[i] == 0) continue;
      if (out[i].at < 0 && cl.engine(r).done(ids[i])) out[i].at = cl.loop().now();
      all = all && out[i].at >= 0;
    }
    return all;
  };
  cl.run_until(deadline, check);
  for (int r = 0; r < cl.size(); ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (cl.dead(r) || ids[i] == 0) continue;
    const OpStatus& st = cl.engine(r).status(ids[i]);
    out[i].state = st.state;
    out[i].error = st.error;
    out[i].detail = st.detail;
  }
  return out;
}

double ms(TimeNs ns) { return static_cast<double>(ns) / 1e6; }

// "rank 2" as a whole word (not "rank 21").
bool names_rank(const std::string& s, int rank) {
  const std::string w = "rank " + std::to_string(rank);
  for (std::size_t p = s.find(w); p != std::string::npos; p = s.find(w, p + 1)) {
    const std::size_t e = p + w.size();
    if (e == s.size() || std::isdigit(static_cast<unsigned char>(s[e])) == 0) return true;
  }
  return false;
}

void print_outcomes(const char* what, const std::vector<Outcome>& out, TimeNs posted) {
  for (std::size_t r = 0; r < out.size(); ++r) {
    if (out[r].at < 0 && out[r].state == OpState::kPending) continue;
    std::printf("  %s rank %zu: %s %s after %.3f ms (virtual): %s\n", what, r,
                out[r].state == OpState::kDone ? "done" : "failed", std::string(op_error_name(out[r].error)).c_str(),
                ms(out[r].at - posted), out[r].detail.c_str());
  }
}

struct Buffers {
  std::vector<std::vector<std::uint8_t>> in, out;
};

// Posts `args` (send/recv filled in per rank from verifiable inputs) on every live rank.
std::vector<OpId> post_all(CollectiveCluster& cl, OpArgs args, std::uint32_t salt, Buffers& b) {
  const int p = cl.size();
  b.in.assign(static_cast<std::size_t>(p), {});
  b.out.assign(static_cast<std::size_t>(p), {});
  std::vector<OpId> ids(static_cast<std::size_t>(p), 0);
  for (int r = 0; r < p; ++r) {
    const auto i = static_cast<std::size_t>(r);
    b.in[i] = test::make_input(args.dtype, args.op, test::send_elems(args.collective, args.count, p), r, salt);
    b.out[i].assign(test::recv_elems(args.collective, args.count, p) * dtype_size(args.dtype), 0xEE);
    if (cl.dead(r)) continue;
    OpArgs a = args;
    a.send = b.in[i].data();
    a.recv = b.out[i].data();
    ids[i] = cl.post(r, a);
  }
  return ids;
}

std::uint64_t retransmits(CollectiveCluster& cl) {
  std::uint64_t n = 0;
  for (int r = 0; r < cl.size(); ++r) {
    for (int q = 0; q < cl.size(); ++q) {
      if (q == r) continue;
      if (auto info = cl.endpoint(r).link_info(static_cast<transport::NodeId>(q + 1), transport::Vc::kData)) {
        n += info->stats.retransmits;
      }
    }
  }
  return n;
}

void release_all(CollectiveCluster& cl, const std::vector<OpId>& ids) {
  for (int r = 0; r < cl.size(); ++r) {
    if (ids[static_cast<std::size_t>(r)] != 0) cl.engine(r).release(ids[static_cast<std::size_t>(r)]);
  }
}

// (a) 5 % loss on every link direction: all-reduce, all-gather and broadcast from 1 element to
// 1 MiB on 4, 5 and 6 ranks are all correct; the retransmission count shows the loss happened.
TEST(CollectiveFaults, FivePercentLossStaysCorrect) {
  for (int p : {4, 5, 6}) {
    CollectiveCluster cl(options(p, 0.05));
    std::uint32_t salt = 0;
    std::size_t cases = 0;
    for (Collective coll : {Collective::kAllReduce, Collective::kAllGather, Collective::kBroadcast}) {
      for (DataType dt : {DataType::kF32, DataType::kBF16, DataType::kI64}) {
        const std::size_t es = dtype_size(dt);
        for (std::size_t bytes : {es, std::size_t{1000} * es + es, std::size_t{1} << 20}) {
          std::size_t count = bytes / es;
          if (coll == Collective::kAllGather) count = count / static_cast<std::size_t>(p) + 1;
          OpArgs a;
          a.collective = coll;
          a.dtype = dt;
          a.op = coll == Collective::kAllReduce ? ReduceOp::kAvg : ReduceOp::kSum;
          a.count = count;
          a.root = static_cast<int>(salt % static_cast<unsigned>(p));
          Buffers b;
          const TimeNs t0 = cl.loop().now();
          const auto ids = post_all(cl, a, ++salt, b);
          ASSERT_TRUE(cl.run_all(ids, t0 + 5'000 * kMs))
              << collective_name(coll) << " " << dtype_name(dt) << " count " << count << " on " << p << " ranks";
          for (int r = 0; r < p; ++r) {
            const auto i = static_cast<std::size_t>(r);
            const OpStatus& st = cl.engine(r).status(ids[i]);
            ASSERT_EQ(st.state, OpState::kDone) << st.detail;
            EXPECT_EQ(count_wrong_elements(coll, dt, a.op, count, a.root, r, p, salt, b.out[i].data()), 0u)
                << collective_name(coll) << " " << dtype_name(dt) << " count " << count << " rank " << r;
          }
          release_all(cl, ids);
          ++cases;
        }
      }
    }
    for (int r = 0; r < p; ++r) EXPECT_EQ(cl.engine(r).pending(), 0u);
    const std::uint64_t rtx = retransmits(cl);
    std::printf("%d ranks, 5%% loss, seed %llu: %zu cases correct, %llu retransmissions, virtual %.3f ms\n", p,
                static_cast<unsigned long long>(kSeed + static_cast<unsigned>(p)), cases,
                static_cast<unsigned long long>(rtx), ms(cl.loop().now()));
    EXPECT_GT(rtx, 0u) << "5% loss should have cost retransmissions";
  }
}

// (b) Rank 2 is killed in the middle of a 1 MiB all-reduce on 5 ranks. Every survivor's operation
// fails (the link to rank 2 fails after the retry budget, the others learn it from the abort
// notices) well within the timeout; some error names rank 2; new operations are refused at once.
TEST(CollectiveFaults, KilledRankFailsEveryoneWithinTimeout) {
  constexpr int p = 5;
  constexpr int kDead = 2;
  test::ClusterOptions o = options(p, 0.0);
  const TimeNs timeout = o.engine.default_timeout_ns;
  CollectiveCluster cl(o);
  OpArgs a;
  a.count = (1u << 20) / 4;
  a.algorithm = Algorithm::kRing;
  Buffers b;
  const TimeNs t0 = cl.loop().now();
  const auto ids = post_all(cl, a, 7, b);
  cl.run_until(t0 + 30'000, [] { return false; });  // 30 us: the ring is moving
  for (int r = 0; r < p; ++r) ASSERT_FALSE(cl.engine(r).done(ids[static_cast<std::size_t>(r)])) << "rank " << r;
  const TimeNs killed_at = cl.loop().now();
  cl.kill(kDead);
  const auto out = run_recording(cl, ids, t0 + timeout + 1'000 * kMs);
  std::printf("rank %d killed at %.3f ms (virtual); timeout %.0f ms, retry budget %.0f ms\n", kDead,
              ms(killed_at - t0), ms(timeout), static_cast<double>(o.endpoint.retry_budget_us) / 1e3);
  print_outcomes("killed", out, t0);
  bool named = false;
  for (int r = 0; r < p; ++r) {
    if (r == kDead) continue;
    const Outcome& x = out[static_cast<std::size_t>(r)];
    ASSERT_EQ(x.state, OpState::kFailed) << "rank " << r << " did not fail by the timeout";
    EXPECT_TRUE(x.error == OpError::kPeerFailed || x.error == OpError::kTimedOut || x.error == OpError::kAborted)
        << "rank " << r << ": " << op_error_name(x.error);
    EXPECT_LE(x.at - t0, timeout + 10 * kMs) << "rank " << r;
    named = named || names_rank(x.detail, kDead);
    EXPECT_TRUE(cl.engine(r).aborted());
  }
  EXPECT_TRUE(named) << "no survivor's error names rank " << kDead;
  // Every new operation fails at once, sending nothing.
  for (int r = 0; r < p; ++r) {
    if (r == kDead) continue;
    Engine& e = cl.engine(r);
    const std::uint64_t sent = e.stats().messages_sent;
    std::vector<float> x(16), y(16);
    OpArgs n;
    n.send = x.data();
    n.recv = y.data();
    n.count = x.size();
    const OpId id = cl.post(r, n);
    const OpStatus& st = e.status(id);
    EXPECT_EQ(st.state, OpState::kFailed);
    EXPECT_EQ(st.error, OpError::kAborted) << st.detail;
    EXPECT_NE(st.detail.find("aborted earlier"), std::string::npos) << st.detail;
    EXPECT_EQ(e.stats().messages_sent, sent);
    if (r == 0) std::printf("  a later post on rank 0: %s\n", st.detail.c_str());
    e.release(id);
    EXPECT_EQ(e.pending(), 0u);
  }
  release_all(cl, ids);
}

// (c) Rank 3 never posts. The others fail at their deadline (timed out, or aborted by the first
// rank that timed out), no earlier and not much later; a timed-out rank names the rank it waited
// for, and some rank names the staller.
TEST(CollectiveFaults, StalledRankTimesOut) {
  constexpr int p = 4;
  constexpr int kStalled = 3;
  test::ClusterOptions o = options(p, 0.0);
  const TimeNs timeout = 1'000 * kMs;
  o.engine.default_timeout_ns = timeout;
  CollectiveCluster cl(o);
  OpArgs a;
  a.count = 4096;
  a.algorithm = Algorithm::kRing;
  Buffers b;
  const int p_all = cl.size();
  std::vector<OpId> ids(static_cast<std::size_t>(p_all), 0);
  b.in.resize(static_cast<std::size_t>(p_all));
  b.out.resize(static_cast<std::size_t>(p_all));
  const TimeNs t0 = cl.loop().now();
  for (int r = 0; r < p; ++r) {
    if (r == kStalled) continue;
    const auto i = static_cast<std::size_t>(r);
    b.in[i] = test::make_input(a.dtype, a.op, a.count, r, 3);
    b.out[i].assign(a.count * 4, 0);
    OpArgs x = a;
    x.send = b.in[i].data();
    x.recv = b.out[i].data();
    ids[i] = cl.post(r, x);
  }
  const auto out = run_recording(cl, ids, t0 + timeout + 1'000 * kMs);
  std::printf("rank %d never posts; timeout %.0f ms\n", kStalled, ms(timeout));
  print_outcomes("stalled", out, t0);
  bool staller_named = false;
  int timed_out = 0;
  for (int r = 0; r < p; ++r) {
    if (r == kStalled) continue;
    const Outcome& x = out[static_cast<std::size_t>(r)];
    ASSERT_EQ(x.state, OpState::kFailed) << "rank " << r;
    EXPECT_TRUE(x.error == OpError::kTimedOut || x.error == OpError::kAborted) << op_error_name(x.error);
    EXPECT_GE(x.at - t0, timeout) << "rank " << r << " failed before its deadline";
    EXPECT_LE(x.at - t0, timeout + 5 * kMs) << "rank " << r;
    EXPECT_NE(x.detail.find("timed out"), std::string::npos) << x.detail;
    if (x.error == OpError::kTimedOut) {
      ++timed_out;
      EXPECT_NE(x.detail.find("waiting for rank"), std::string::npos) << x.detail;
    }
    staller_named = staller_named || x.detail.find("waiting for rank " + std::to_string(kStalled)) != std::string::npos;
  }
  EXPECT_GE(timed_out, 1);
  EXPECT_TRUE(staller_named) << "no error names the stalled rank " << kStalled;
  // The abort notices reach the staller within a message delay; when it finally posts the same
  // all-reduce, it is refused at once.
  cl.run_until(cl.loop().now() + 1 * kMs, [&] { return cl.engine(kStalled).aborted(); });
  EXPECT_TRUE(cl.engine(kStalled).aborted());
  const auto s = static_cast<std::size_t>(kStalled);
  b.in[s] = test::make_input(a.dtype, a.op, a.count, kStalled, 3);
  b.out[s].assign(a.count * 4, 0);
  OpArgs late = a;
  late.send = b.in[s].data();
  late.recv = b.out[s].data();
  const OpId id = cl.post(kStalled, late);
  EXPECT_EQ(cl.engine(kStalled).status(id).error, OpError::kAborted) << cl.engine(kStalled).status(id).detail;
  std::printf("  the staller's late post: %s\n", cl.engine(kStalled).status(id).detail.c_str());
  cl.engine(kStalled).release(id);
  release_all(cl, ids);
  for (int r = 0; r < p; ++r) EXPECT_EQ(cl.engine(r).pending(), 0u);
}

// (d) Rank 0 aborts during a 1 MiB all-reduce: every other rank fails with kAborted within a few
// virtual milliseconds, naming rank 0 and the reason.
TEST(CollectiveFaults, AbortDuringOperationReachesEveryRank) {
  constexpr int p = 6;
  CollectiveCluster cl(options(p, 0.0));
  OpArgs a;
  a.count = (1u << 20) / 4;
  Buffers b;
  const TimeNs t0 = cl.loop().now();
  const auto ids = post_all(cl, a, 11, b);
  cl.run_until(t0 + 20'000, [] { return false; });
  for (int r = 0; r < p; ++r) ASSERT_FALSE(cl.engine(r).done(ids[static_cast<std::size_t>(r)]));
  const TimeNs aborted_at = cl.loop().now();
  cl.abort(0, "operator pressed stop");
  const auto out = run_recording(cl, ids, aborted_at + 1'000 * kMs);
  std::printf("rank 0 aborts at %.3f ms (virtual)\n", ms(aborted_at - t0));
  print_outcomes("abort", out, aborted_at);
  for (int r = 0; r < p; ++r) {
    const Outcome& x = out[static_cast<std::size_t>(r)];
    ASSERT_EQ(x.state, OpState::kFailed) << "rank " << r;
    EXPECT_EQ(x.error, OpError::kAborted) << "rank " << r << ": " << x.detail;
    EXPECT_LE(x.at - aborted_at, 2 * kMs) << "rank " << r;
    EXPECT_NE(x.detail.find("operator pressed stop"), std::string::npos) << x.detail;
    if (r != 0) {
      EXPECT_NE(x.detail.find("aborted by rank 0"), std::string::npos) << x.detail;
    }
    EXPECT_EQ(cl.engine(r).pending(), 0u);
  }
  release_all(cl, ids);
}

// (e) Ranks disagree: rank 3 posts a different count, or rank 1 a different dtype. Every rank
// fails; the rank that sees the bad message says mismatch and names both sides' arguments.
TEST(CollectiveFaults, MismatchedArgumentsFailEveryRank) {
  struct Variant {
    const char* name;
    int odd_rank;
    std::size_t count, odd_count;
    DataType dtype, odd_dtype;
    const char* mine;    // what the ranks that posted the common arguments say they posted
    const char* theirs;  // what they say the odd rank sent
  };
  const Variant variants[] = {
      {"count", 3, 1000, 1001, DataType::kF32, DataType::kF32, "posted allreduce of 1000 float",
       "sent allreduce of 1001 float"},
      {"dtype", 1, 1000, 1000, DataType::kF32, DataType::kI32, "posted allreduce of 1000 float",
       "sent allreduce of 1000 int32"},
  };
  for (const Variant& v : variants) {
    constexpr int p = 4;
    CollectiveCluster cl(options(p, 0.0));
    std::vector<std::vector<std::uint8_t>> in(p), out(p);
    std::vector<OpId> ids(p);
    const TimeNs t0 = cl.loop().now();
    for (int r = 0; r < p; ++r) {
      const auto i = static_cast<std::size_t>(r);
      OpArgs a;
      a.algorithm = Algorithm::kRing;
      a.count = r == v.odd_rank ? v.odd_count : v.count;
      a.dtype = r == v.odd_rank ? v.odd_dtype : v.dtype;
      in[i].assign(a.count * dtype_size(a.dtype), 1);
      out[i].assign(a.count * dtype_size(a.dtype), 0);
      a.send = in[i].data();
      a.recv = out[i].data();
      ids[i] = cl.post(r, a);
    }
    const auto res = run_recording(cl, ids, t0 + 1'000 * kMs);
    std::printf("mismatched %s (rank %d differs)\n", v.name, v.odd_rank);
    print_outcomes("mismatch", res, t0);
    int mismatches = 0;
    bool both_sides = false;
    for (int r = 0; r < p; ++r) {
      const Outcome& x = res[static_cast<std::size_t>(r)];
      ASSERT_EQ(x.state, OpState::kFailed) << v.name << " rank " << r;
      EXPECT_TRUE(x.error == OpError::kMismatch || x.error == OpError::kAborted) << op_error_name(x.error);
      EXPECT_LE(x.at - t0, 5 * kMs) << "a mismatch must not wait for the timeout";
      EXPECT_NE(x.detail.find("ranks disagree"), std::string::npos) << x.detail;
      if (x.error == OpError::kMismatch) ++mismatches;
      both_sides = both_sides || (x.detail.find(v.mine) != std::string::npos &&
                                  x.detail.find(v.theirs) != std::string::npos);
    }
    EXPECT_GE(mismatches, 1) << v.name;
    EXPECT_TRUE(both_sides) << v.name << ": no error names both sides' arguments";
    release_all(cl, ids);
    for (int r = 0; r < p; ++r) EXPECT_EQ(cl.engine(r).pending(), 0u);
  }
}

// (f) Invalid arguments fail at once with kInvalidArgument naming the problem; nothing is sent and
// the engine is not aborted. A refused collective takes its sequence number (see below), so ranks
// stay paired: a following collective that every rank posts still works.
TEST(CollectiveFaults, InvalidArgumentsFailAtOnceWithoutSideEffects) {
  constexpr int p = 3;
  CollectiveCluster cl(options(p, 0.0));
  std::vector<float> x(12, 1.0f), y(12, 0.0f), big(48, 0.0f);
  struct Bad {
    const char* what;
    OpArgs args;
    const char* says;
  };
  auto args = [&](Collective c, std::size_t count) {
    OpArgs a;
    a.collective = c;
    a.send = x.data();
    a.recv = y.data();
    a.count = count;
    return a;
  };
  std::vector<Bad> bad;
  {
    OpArgs a = args(Collective::kAllReduce, 4);
    a.send = nullptr;
    bad.push_back({"null send buffer", a, "send buffer is null"});
    a = args(Collective::kAllReduce, 4);
    a.recv = nullptr;
    bad.push_back({"null recv buffer", a, "recv buffer is null"});
    a = args(Collective::kBroadcast, 4);
    a.root = 7;
    bad.push_back({"root beyond the ranks", a, "root 7 is not a rank (0..2)"});
    a = args(Collective::kReduce, 4);
    a.root = -1;
    bad.push_back({"negative root", a, "root -1 is not a rank"});
    a = args(Collective::kSend, 4);
    a.peer = 5;
    bad.push_back({"peer beyond the ranks", a, "peer 5 is not another rank"});
    a = args(Collective::kRecv, 4);
    a.peer = 0;  // rank 0 posts it: itself
    bad.push_back({"peer is this rank", a, "peer 0 is not another rank"});
    a = args(Collective::kAllGather, 4);
    a.recv = big.data();
    a.algorithm = Algorithm::kRecursiveDoubling;
    bad.push_back({"recursive doubling all-gather on 3 ranks", a, "needs a power of two"});
    a = args(Collective::kReduceScatter, 4);
    a.send = big.data();
    a.algorithm = Algorithm::kBruck;
    bad.push_back({"bruck reduce-scatter", a, "bruck cannot run reducescatter"});
    a = args(Collective::kAllReduce, 4);
    a.algorithm = Algorithm::kHierarchical;
    bad.push_back({"hierarchical all-reduce without pods", a, "hierarchical cannot run allreduce on 3 ranks"});
    a = args(Collective::kAllToAll, 4);
    a.send = big.data();
    a.recv = big.data();
    bad.push_back({"in-place all-to-all", a, "overlap"});
    a = args(Collective::kAllReduce, 4);
    a.dtype = static_cast<DataType>(99);
    bad.push_back({"unknown dtype", a, "unknown dtype"});
    a = args(Collective::kAllReduce, 4);
    a.op = static_cast<ReduceOp>(42);
    bad.push_back({"unknown reduction", a, "unknown reduction op"});
    a = args(Collective::kAllReduce, std::size_t{1} << 60);
    bad.push_back({"absurd count", a, "is too large"});
  }
  Engine& e = cl.engine(0);
  for (const Bad& b : bad) {
    const std::uint64_t sent = e.stats().messages_sent;
    const OpId id = cl.post(0, b.args);
    const OpStatus& st = e.status(id);
    EXPECT_EQ(st.state, OpState::kFailed) << b.what;
    EXPECT_EQ(st.error, OpError::kInvalidArgument) << b.what << ": " << st.detail;
    EXPECT_NE(st.detail.find(b.says), std::string::npos) << b.what << ": " << st.detail;
    EXPECT_NE(st.detail.find("rank 0"), std::string::npos) << st.detail;
    EXPECT_EQ(e.stats().messages_sent, sent) << b.what;
    EXPECT_FALSE(e.wants_to_send()) << b.what;
    EXPECT_FALSE(e.aborted()) << b.what;
    EXPECT_EQ(e.pending(), 0u);
    std::printf("  %-42s %s\n", b.what, st.detail.c_str());
    e.release(id);
  }
  EXPECT_EQ(cl.endpoint(0).link_count(), 0u) << "an invalid post opened a link";
  // A refused collective still takes its sequence number (the other ranks may have posted it
  // validly; this rank's later collectives must pair with theirs, and theirs then time out on the
  // refused one, loudly, instead of pairing with the wrong operation). Here the other ranks refuse
  // as many collectives of their own, so the next valid all-reduce lines up everywhere.
  std::size_t collectives_refused = 0;
  for (const Bad& b : bad) {
    collectives_refused += b.args.collective != Collective::kSend && b.args.collective != Collective::kRecv ? 1 : 0;
  }
  for (int r = 1; r < p; ++r) {
    for (std::size_t k = 0; k < collectives_refused; ++k) {
      OpArgs a = args(Collective::kAllReduce, 4);
      a.dtype = static_cast<DataType>(99);
      const OpId id = cl.post(r, a);
      EXPECT_EQ(cl.engine(r).status(id).error, OpError::kInvalidArgument);
      cl.engine(r).release(id);
    }
  }
  // Every rank now posts the same valid all-reduce.
  OpArgs good;
  good.count = 1001;
  good.op = ReduceOp::kMax;
  Buffers b;
  const auto ids = post_all(cl, good, 5, b);
  ASSERT_TRUE(cl.run_all(ids, cl.loop().now() + 1'000 * kMs));
  for (int r = 0; r < p; ++r) {
    const auto i = static_cast<std::size_t>(r);
    EXPECT_EQ(cl.engine(r).status(ids[i]).state, OpState::kDone) << cl.engine(r).status(ids[i]).detail;
    EXPECT_EQ(count_wrong_elements(Collective::kAllReduce, DataType::kF32, ReduceOp::kMax, good.count, 0, r, p, 5,
                                   b.out[i].data()),
              0u);
  }
  release_all(cl, ids);
}

// (g) Releasing: after failures nothing is pending and every id can be released (its status is
// then "unknown operation id"); a pending operation that is released (abandoned) leaves no timer
// behind, so it cannot time out and abort the engine later.
TEST(CollectiveFaults, ReleaseAndPendingAfterFailures) {
  constexpr int p = 4;
  CollectiveCluster cl(options(p, 0.0));
  // Three operations in flight on every rank, then rank 1 aborts.
  std::vector<Buffers> bufs(3);
  std::vector<std::vector<OpId>> ids;
  for (std::size_t k = 0; k < 3; ++k) {
    OpArgs a;
    a.collective = k == 1 ? Collective::kAllGather : Collective::kAllReduce;
    a.count = 50'000 + k * 1000;
    ids.push_back(post_all(cl, a, static_cast<std::uint32_t>(k), bufs[k]));
  }
  for (int r = 0; r < p; ++r) EXPECT_EQ(cl.engine(r).pending(), 3u) << "rank " << r;
  cl.run_until(cl.loop().now() + 5'000, [] { return false; });
  cl.abort(1, "test abort");
  ASSERT_TRUE(cl.run_until(cl.loop().now() + 100 * kMs, [&] {
    for (int r = 0; r < p; ++r) {
      if (cl.engine(r).pending() != 0) return false;
    }
    return true;
  }));
  for (int r = 0; r < p; ++r) {
    Engine& e = cl.engine(r);
    EXPECT_EQ(e.pending(), 0u);
    EXPECT_EQ(e.next_timer(), transport::kNever) << "rank " << r << ": a timer outlives its operations";
    EXPECT_EQ(e.stats().ops_posted, e.stats().ops_done + e.stats().ops_failed);
    for (const auto& round : ids) {
      const OpId id = round[static_cast<std::size_t>(r)];
      EXPECT_NE(e.status(id).state, OpState::kPending);
      e.release(id);
      EXPECT_EQ(e.status(id).detail, "unknown operation id");
      e.release(id);  // twice: harmless
    }
  }
  std::printf("rank 2 after the abort: %llu posted, %llu done, %llu failed\n",
              static_cast<unsigned long long>(cl.engine(2).stats().ops_posted),
              static_cast<unsigned long long>(cl.engine(2).stats().ops_done),
              static_cast<unsigned long long>(cl.engine(2).stats().ops_failed));

  // Abandoning: a second cluster; rank 0 posts a barrier nobody joins and releases it.
  CollectiveCluster c2(options(2, 0.0));
  const OpId lone = c2.post(0, OpArgs{Collective::kBarrier, nullptr, nullptr, 0, DataType::kU8, ReduceOp::kSum, 0,
                                      -1, 0, Algorithm::kAuto, 100 * kMs});
  EXPECT_EQ(c2.engine(0).pending(), 1u);
  c2.engine(0).release(lone);
  EXPECT_EQ(c2.engine(0).pending(), 0u);
  EXPECT_EQ(c2.engine(0).next_timer(), transport::kNever);
  c2.run_until(c2.loop().now() + 500 * kMs, [] { return false; });
  EXPECT_FALSE(c2.engine(0).aborted()) << c2.engine(0).abort_reason();
  EXPECT_FALSE(c2.engine(1).aborted()) << c2.engine(1).abort_reason();
}

}  // namespace
}  // namespace weft::collectives
