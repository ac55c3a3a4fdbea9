// The checker of collective results (verify.h): with more than 18 ranks it reduces over one period
// of the verifiable inputs instead of rank by rank; it must agree with the rank-by-rank reduction
// byte for byte, and still find a single wrong element.
#include "weft/collectives/verify.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "weft/collectives/reduce.h"

namespace weft::collectives {
namespace {

// The all-reduce result rank by rank, as a reference.
std::vector<std::uint8_t> reference(DataType dt, ReduceOp op, std::size_t count, int size, std::uint32_t salt) {
  const std::size_t es = dtype_size(dt);
  const ReduceOp rop = op == ReduceOp::kAvg ? ReduceOp::kSum : op;
  std::vector<std::uint8_t> acc(count * es), in(count * es);
  fill_verifiable_input(Collective::kAllReduce, dt, op, count, 0, size, salt, acc.data());
  for (int r = 1; r < size; ++r) {
    fill_verifiable_input(Collective::kAllReduce, dt, op, count, r, size, salt, in.data());
    reduce_into(acc.data(), in.data(), count, dt, rop);
  }
  if (op == ReduceOp::kAvg) finish_avg(acc.data(), count, dt, static_cast<std::size_t>(size));
  return acc;
}

TEST(Verify, ManyRanksAgreeWithRankByRank) {
  const std::size_t count = 1000;
  int cases = 0;
  for (int size : {19, 20, 36, 37, 64, 100, 1024}) {
    for (const auto& info : kAllDataTypes) {
      const DataType dt = info;
      for (ReduceOp op : kAllReduceOps) {
        std::vector<std::uint8_t> want = reference(dt, op, count, size, 7);
        EXPECT_EQ(count_wrong_elements(Collective::kAllReduce, dt, op, count, 0, 0, size, 7, want.data()), 0u)
            << "size " << size << " " << dtype_name(dt) << " " << reduce_op_name(op);
        // One element off is found.
        want[dtype_size(dt) * 500] ^= 0x01;
        EXPECT_EQ(count_wrong_elements(Collective::kAllReduce, dt, op, count, 0, 0, size, 7, want.data()), 1u)
            << "size " << size << " " << dtype_name(dt) << " " << reduce_op_name(op);
        ++cases;
      }
    }
  }
  std::printf("%d (ranks, dtype, op) cases agree\n", cases);
}

// The checker computes one chunk of expected values and compares every chunk of the output with it
// (inputs repeat every 18 elements). Over buffers of several chunks, at offsets (reduce-scatter's
// block of rank 3, all-gather's blocks), it must agree with the straight reference and find wrong
// elements in any chunk, the last partial one included.
TEST(Verify, LongBuffersAcrossChunks) {
  const std::size_t count = 3 * 16380 + 77;
  for (DataType dt : {DataType::kF32, DataType::kI32, DataType::kF16}) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMax}) {
      for (int size : {4, 20}) {
        const std::size_t es = dtype_size(dt);
        std::vector<std::uint8_t> all = reference(dt, op, count * static_cast<std::size_t>(size), size, 9);
        std::vector<std::uint8_t> mine(all.begin() + static_cast<std::ptrdiff_t>(3 * count * es),
                                       all.begin() + static_cast<std::ptrdiff_t>(4 * count * es));
        const auto wrong = [&](Collective c, const std::vector<std::uint8_t>& got) {
          return count_wrong_elements(c, dt, op, count, 0, 3, size, 9, got.data());
        };
        EXPECT_EQ(wrong(Collective::kReduceScatter, mine), 0u) << dtype_name(dt) << " " << size;
        mine[es * 16383] ^= 0x01;           // second chunk
        mine[es * (count - 5)] ^= 0x01;     // last, partial chunk
        EXPECT_EQ(wrong(Collective::kReduceScatter, mine), 2u) << dtype_name(dt) << " " << size;
        std::vector<std::uint8_t> gathered(count * static_cast<std::size_t>(size) * es);
        for (int q = 0; q < size; ++q) {
          fill_verifiable_input(Collective::kAllGather, dt, op, count, q, size, 9,
                                gathered.data() + static_cast<std::size_t>(q) * count * es);
        }
        EXPECT_EQ(wrong(Collective::kAllGather, gathered), 0u);
        gathered[gathered.size() - es] ^= 0x01;
        EXPECT_EQ(wrong(Collective::kAllGather, gathered), 1u);
      }
    }
  }
}

}  // namespace
}  // namespace weft::collectives
