// The collective engine over the in-memory simulator with 1 % frame loss: every operation ×
// dtype × op × rank count 1-8 × size (0, 1, odd, unaligned, 1 MiB + odd), every algorithm on every
// rank count it supports, in place and out of place; results compared element by element with
// the expected values (exact: the inputs make every reduction order-independent).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/support/collective_check.h"
#include "tests/support/collective_cluster.h"

namespace weft::collectives {
namespace {

using test::CollectiveCluster;
using transport::TimeNs;

constexpr std::uint64_t kSeed = 20261126;

test::ClusterOptions options(int ranks, double loss) {
  test::ClusterOptions o;
  o.ranks = ranks;
  o.seed = kSeed + static_cast<std::uint64_t>(ranks);
  o.loss = loss;
  o.engine.segment_bytes = 64 << 10;
  o.engine.default_timeout_ns = 10'000'000'000;  // virtual; a hang fails fast instead
  o.engine.topology.ranks_per_pod = ranks % 2 == 0 && ranks >= 4 ? 2 : 0;
  return o;
}

struct Case {
  Collective coll = Collective::kAllReduce;
  DataType dtype = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  std::size_t count = 0;
  Algorithm algorithm = Algorithm::kAuto;
  int root = 0;
  bool in_place = false;
};

std::string text(const Case& c, int ranks) {
  return std::string(collective_name(c.coll)) + " " + std::string(dtype_name(c.dtype)) + " " +
         std::string(reduce_op_name(c.op)) + " count " + std::to_string(c.count) + " algorithm " +
         std::string(algorithm_name(c.algorithm)) + " root " + std::to_string(c.root) + (c.in_place ? " in place" : "") +
         " on " + std::to_string(ranks) + " ranks";
}

// Runs one case on every rank of `cl` and returns the number of wrong elements over all ranks.
std::size_t run_case(CollectiveCluster& cl, const Case& c, std::uint32_t salt) {
  const int p = cl.size();
  const std::size_t es = dtype_size(c.dtype);
  std::vector<std::vector<std::uint8_t>> in(static_cast<std::size_t>(p)), out(static_cast<std::size_t>(p));
  std::vector<OpId> ids(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    in[static_cast<std::size_t>(r)] = test::make_input(c.dtype, c.op, test::send_elems(c.coll, c.count, p), r, salt);
    out[static_cast<std::size_t>(r)].assign(test::recv_elems(c.coll, c.count, p) * es, 0xEE);
  }
  const auto inputs = in;  // in place overwrites `in`
  for (int r = 0; r < p; ++r) {
    OpArgs a;
    a.collective = c.coll;
    a.dtype = c.dtype;
    a.op = c.op;
    a.count = c.count;
    a.root = c.root;
    a.algorithm = c.algorithm;
    auto& ri = in[static_cast<std::size_t>(r)];
    auto& ro = out[static_cast<std::size_t>(r)];
    a.send = ri.data();
    a.recv = c.in_place ? ri.data() : ro.data();
    ids[static_cast<std::size_t>(r)] = cl.post(r, a);
  }
  const TimeNs deadline = cl.loop().now() + 20'000'000'000;
  EXPECT_TRUE(cl.run_all(ids, deadline)) << text(c, p) << ": did not finish by the virtual deadline";
  std::size_t wrong = 0;
  for (int r = 0; r < p; ++r) {
    const OpStatus& st = cl.engine(r).status(ids[static_cast<std::size_t>(r)]);
    EXPECT_EQ(st.state, OpState::kDone) << text(c, p) << " rank " << r << ": " << st.detail;
    if (c.algorithm != Algorithm::kAuto && p > 1) {
      EXPECT_EQ(st.algorithm, c.algorithm);
    }
    cl.engine(r).release(ids[static_cast<std::size_t>(r)]);
    if (c.coll == Collective::kBarrier || (c.coll == Collective::kReduce && r != c.root)) continue;
    const auto want = test::expected_output(c.coll, c.dtype, c.op, c.count, c.root, r, inputs);
    const auto& got = c.in_place ? in[static_cast<std::size_t>(r)] : out[static_cast<std::size_t>(r)];
    const std::size_t w = test::count_wrong(got, want, es);
    EXPECT_EQ(w, 0u) << text(c, p) << " rank " << r;
    // verify.h's per-rank check (what benchmarks use) agrees with the oracle.
    EXPECT_EQ(count_wrong_elements(c.coll, c.dtype, c.op, c.count, c.root, r, p, salt, got.data()), w)
        << text(c, p) << " rank " << r;
    wrong += w;
  }
  return wrong;
}

constexpr std::array<Collective, 7> kCollectives = {Collective::kAllReduce, Collective::kAllGather,
                                                    Collective::kReduceScatter, Collective::kBroadcast,
                                                    Collective::kReduce, Collective::kBarrier, Collective::kAllToAll};

bool reduces(Collective c) {
  return c == Collective::kAllReduce || c == Collective::kReduce || c == Collective::kReduceScatter;
}

class Matrix : public ::testing::TestWithParam<int> {};

// Every collective × dtype × op × size, the algorithm chosen by the cost model.
TEST_P(Matrix, EveryDtypeOpAndSize) {
  const int p = GetParam();
  CollectiveCluster cl(options(p, 0.01));
  std::printf("seed %llu, %d ranks, 1%% loss\n", static_cast<unsigned long long>(kSeed + static_cast<unsigned>(p)), p);
  std::uint32_t salt = 0;
  std::size_t cases = 0;
  for (Collective coll : kCollectives) {
    for (DataType dt : kAllDataTypes) {
      for (ReduceOp op : kAllReduceOps) {
        if (!reduces(coll) && op != ReduceOp::kSum) continue;
        if (coll == Collective::kBarrier && dt != DataType::kF32) continue;
        for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1001}}) {
          Case c{coll, dt, op, count, Algorithm::kAuto, static_cast<int>(salt % static_cast<unsigned>(p)), false};
          ASSERT_EQ(run_case(cl, c, ++salt), 0u);
          ++cases;
        }
      }
    }
  }
  // 1 MiB + odd: every collective and op once per size class of dtype.
  for (Collective coll : kCollectives) {
    for (DataType dt : {DataType::kF32, DataType::kBF16, DataType::kI8, DataType::kU64}) {
      const std::size_t count = ((1u << 20) + 24) / dtype_size(dt) + 3;
      const std::size_t per = coll == Collective::kAllGather || coll == Collective::kReduceScatter ||
                                      coll == Collective::kAllToAll
                                  ? count / static_cast<std::size_t>(p) + 1
                                  : count;
      Case c{coll, dt, reduces(coll) ? ReduceOp::kAvg : ReduceOp::kSum, per, Algorithm::kAuto, p - 1, false};
      ASSERT_EQ(run_case(cl, c, ++salt), 0u);
      ++cases;
    }
  }
  std::printf("%zu cases, %d ranks: all correct; virtual time %.3f ms\n", cases, p,
              static_cast<double>(cl.loop().now()) / 1e6);
}

// Every algorithm each collective offers, on every rank count it supports, sizes 1, odd and
// 1 MiB + odd, in place where the collective allows it.
TEST_P(Matrix, EveryAlgorithm) {
  const int p = GetParam();
  CollectiveCluster cl(options(p, 0.01));
  const Topology topo = cl.engine(0).config().topology;
  std::uint32_t salt = 1000;
  std::size_t cases = 0;
  for (Collective coll : kCollectives) {
    for (std::size_t a = 1; a < kAlgorithmCount; ++a) {
      const auto alg = static_cast<Algorithm>(a);
      if (alg == Algorithm::kDirect || !algorithm_supports(alg, coll, p, topo)) continue;
      for (std::size_t count : {std::size_t{1}, std::size_t{13}, std::size_t{(1u << 18) + 5}}) {
        for (bool in_place : {false, true}) {
          if (in_place && coll != Collective::kAllReduce && coll != Collective::kBroadcast && coll != Collective::kReduce) continue;
          Case c{coll, DataType::kI32, ReduceOp::kSum, count, alg, static_cast<int>(salt % static_cast<unsigned>(p)), in_place};
          ASSERT_EQ(run_case(cl, c, ++salt), 0u);
          ++cases;
        }
      }
    }
  }
  std::printf("%zu algorithm cases on %d ranks (ranks per pod %d): all correct\n", cases, p, topo.ranks_per_pod);
}

INSTANTIATE_TEST_SUITE_P(Ranks, Matrix, ::testing::Range(1, 9), [](const auto& param_info) {
  return std::to_string(param_info.param) + "ranks";
});

// Many operations in flight at once, finished in any order.
TEST(Collectives, ManyInFlight) {
  const int p = 5;
  CollectiveCluster cl(options(p, 0.01));
  constexpr int kOps = 16;
  std::vector<std::vector<std::vector<std::uint8_t>>> in(kOps), out(kOps);
  std::vector<std::vector<OpId>> ids(kOps, std::vector<OpId>(static_cast<std::size_t>(p)));
  for (int k = 0; k < kOps; ++k) {
    const std::size_t count = 1000 + static_cast<std::size_t>(k) * 997;
    for (int r = 0; r < p; ++r) {
      in[k].push_back(test::make_input(DataType::kF32, ReduceOp::kSum, count, r, static_cast<std::uint32_t>(k)));
      out[k].emplace_back(count * 4, 0);
    }
    for (int r = 0; r < p; ++r) {
      OpArgs a;
      a.count = count;
      a.send = in[k][static_cast<std::size_t>(r)].data();
      a.recv = out[k][static_cast<std::size_t>(r)].data();
      a.algorithm = k % 2 == 0 ? Algorithm::kRing : Algorithm::kDoubleBinaryTree;
      ids[k][static_cast<std::size_t>(r)] = cl.post(r, a);
    }
  }
  ASSERT_TRUE(cl.run_until(cl.loop().now() + 10'000'000'000, [&] {
    for (int k = 0; k < kOps; ++k) {
      for (int r = 0; r < p; ++r) {
        if (!cl.engine(r).done(ids[k][static_cast<std::size_t>(r)])) return false;
      }
    }
    return true;
  }));
  for (int k = 0; k < kOps; ++k) {
    const auto want = test::expected_output(Collective::kAllReduce, DataType::kF32, ReduceOp::kSum,
                                            in[k][0].size() / 4, 0, 0, in[k]);
    for (int r = 0; r < p; ++r) {
      EXPECT_EQ(cl.engine(r).status(ids[k][static_cast<std::size_t>(r)]).state, OpState::kDone);
      EXPECT_EQ(test::count_wrong(out[k][static_cast<std::size_t>(r)], want, 4), 0u) << "op " << k << " rank " << r;
    }
  }
  EXPECT_EQ(cl.engine(0).pending(), 0u);
}

// Point-to-point: a message around the ring, tags checked, posted receive before or after the send.
TEST(Collectives, SendRecvRing) {
  const int p = 4;
  CollectiveCluster cl(options(p, 0.01));
  std::vector<std::vector<std::uint8_t>> in, out;
  std::vector<OpId> sends, recvs;
  for (int r = 0; r < p; ++r) {
    in.push_back(test::make_input(DataType::kU8, ReduceOp::kSum, 100'003, r, 9));
    out.emplace_back(100'003, 0);
  }
  for (int r = 0; r < p; ++r) {
    OpArgs s;
    s.collective = Collective::kSend;
    s.dtype = DataType::kU8;
    s.count = 100'003;
    s.peer = (r + 1) % p;
    s.tag = 42;
    s.send = in[static_cast<std::size_t>(r)].data();
    OpArgs v = s;
    v.collective = Collective::kRecv;
    v.peer = (r + p - 1) % p;
    v.send = nullptr;
    v.recv = out[static_cast<std::size_t>(r)].data();
    if (r % 2 == 0) {
      sends.push_back(cl.post(r, s));
      recvs.push_back(cl.post(r, v));
    } else {
      recvs.push_back(cl.post(r, v));
      sends.push_back(cl.post(r, s));
    }
  }
  ASSERT_TRUE(cl.run_until(cl.loop().now() + 5'000'000'000, [&] {
    for (int r = 0; r < p; ++r) {
      if (!cl.engine(r).done(recvs[static_cast<std::size_t>(r)])) return false;
    }
    return true;
  }));
  for (int r = 0; r < p; ++r) {
    EXPECT_EQ(cl.engine(r).status(recvs[static_cast<std::size_t>(r)]).state, OpState::kDone);
    EXPECT_EQ(out[static_cast<std::size_t>(r)], in[static_cast<std::size_t>((r + p - 1) % p)]);
  }
}

// Plans, scratch and send buffers are reused: the second round of the same shapes builds no plan
// and allocates no scratch or staging buffer.
TEST(Collectives, SteadyStateAllocatesNothing) {
  const int p = 4;
  CollectiveCluster cl(options(p, 0.0));
  auto round = [&](std::uint32_t salt) {
    for (Collective coll : {Collective::kAllReduce, Collective::kReduceScatter, Collective::kAllToAll}) {
      Case c{coll, DataType::kF32, ReduceOp::kSum, 100'000, Algorithm::kAuto, 0, false};
      ASSERT_EQ(run_case(cl, c, salt), 0u);
    }
  };
  round(1);
  round(2);  // the staging pool reaches its size over the first rounds (acks release buffers)
  const EngineStats before = cl.engine(1).stats();
  round(3);
  const EngineStats after = cl.engine(1).stats();
  EXPECT_EQ(after.plans_built, before.plans_built);
  EXPECT_EQ(after.scratch_allocations, before.scratch_allocations);
  EXPECT_EQ(after.staging_allocations, before.staging_allocations);
  EXPECT_GT(after.messages_sent, before.messages_sent);
}

}  // namespace
}  // namespace weft::collectives

namespace weft::collectives {
namespace {

// Large segments go to the transport by reference (zero-copy) and their steps wait for the
// transport to let go before the range is written again; with zero_copy_min_bytes 0 every segment
// is copied. Both give the exact result under 5 % loss (retransmissions read the buffer again),
// for algorithms that send and then overwrite the same range (recursive doubling) and those that
// do not (ring).
TEST(Collectives, ZeroCopyAndCopiedSendsAgreeUnderLoss) {
  for (std::size_t zero_copy_min : {std::size_t{0}, std::size_t{64} << 10}) {
    test::ClusterOptions o = options(4, 0.05);
    o.engine.zero_copy_min_bytes = zero_copy_min;
    CollectiveCluster cl(o);
    std::uint32_t salt = 7000;
    for (Algorithm alg : {Algorithm::kRing, Algorithm::kRecursiveDoubling, Algorithm::kRabenseifner,
                          Algorithm::kDoubleBinaryTree}) {
      for (bool in_place : {false, true}) {
        Case c{Collective::kAllReduce, DataType::kF32, ReduceOp::kSum, (1u << 18) + 3, alg, 0, in_place};
        ASSERT_EQ(run_case(cl, c, ++salt), 0u) << "zero_copy_min_bytes " << zero_copy_min;
      }
    }
    std::uint64_t zero_copy = 0;
    for (int r = 0; r < cl.size(); ++r) {
      zero_copy += cl.engine(r).stats().zero_copy_sends;
      EXPECT_EQ(cl.engine(r).references_held(), 0u) << "rank " << r << ": every reference let go of";
    }
    if (zero_copy_min == 0) {
      EXPECT_EQ(zero_copy, 0u);
    } else {
      EXPECT_GT(zero_copy, 0u);
    }
    std::printf("zero_copy_min_bytes %zu: %llu segments sent by reference, all results exact\n", zero_copy_min,
                static_cast<unsigned long long>(zero_copy));
  }
}

}  // namespace
}  // namespace weft::collectives
