// Test support: every rank's whole input (verify.h's verifiable values) and the expected result of
// each collective computed from all of them at once: an oracle independent of verify.h's
// per-rank, chunked count_wrong_elements (which the tests check against it).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "weft/collectives/engine.h"
#include "weft/collectives/reduce.h"
#include "weft/collectives/verify.h"

namespace weft::test {

inline std::vector<std::uint8_t> make_input(collectives::DataType dt, collectives::ReduceOp op, std::size_t count,
                                            int r, std::uint32_t salt) {
  const std::size_t es = collectives::dtype_size(dt);
  std::vector<std::uint8_t> v(count * es);
  for (std::size_t i = 0; i < count; ++i) {
    collectives::store_small_int(dt, collectives::verifiable_value(op, dt, i, r, salt), v.data() + i * es);
  }
  return v;
}

// Expected output of `coll` at rank `r` given every rank's input (count = OpArgs::count).
inline std::vector<std::uint8_t> expected_output(collectives::Collective coll, collectives::DataType dt,
                                                 collectives::ReduceOp op, std::size_t count, int root, int r,
                                                 const std::vector<std::vector<std::uint8_t>>& in) {
  using collectives::Collective;
  const std::size_t es = collectives::dtype_size(dt);
  const int p = static_cast<int>(in.size());
  const auto up = static_cast<std::size_t>(p);
  const collectives::ReduceOp rop = op == collectives::ReduceOp::kAvg ? collectives::ReduceOp::kSum : op;
  auto reduce_block = [&](std::size_t first, std::size_t n) {
    std::vector<std::uint8_t> acc(in[0].begin() + static_cast<std::ptrdiff_t>(first * es),
                                  in[0].begin() + static_cast<std::ptrdiff_t>((first + n) * es));
    for (int q = 1; q < p; ++q) {
      collectives::reduce_into(acc.data(), in[static_cast<std::size_t>(q)].data() + first * es, n, dt, rop);
    }
    if (op == collectives::ReduceOp::kAvg) collectives::finish_avg(acc.data(), n, dt, up);
    return acc;
  };
  switch (coll) {
    case Collective::kAllReduce: return reduce_block(0, count);
    case Collective::kReduce: return r == root ? reduce_block(0, count) : std::vector<std::uint8_t>{};
    case Collective::kReduceScatter: return reduce_block(static_cast<std::size_t>(r) * count, count);
    case Collective::kBroadcast: return in[static_cast<std::size_t>(root)];
    case Collective::kAllGather: {
      std::vector<std::uint8_t> out;
      for (int q = 0; q < p; ++q) out.insert(out.end(), in[static_cast<std::size_t>(q)].begin(), in[static_cast<std::size_t>(q)].end());
      return out;
    }
    case Collective::kAllToAll: {
      std::vector<std::uint8_t> out(count * up * es);
      if (count == 0) return out;  // memcpy of null pointers, even of 0 bytes, is undefined
      for (std::size_t j = 0; j < up; ++j) {
        std::memcpy(out.data() + j * count * es, in[j].data() + static_cast<std::size_t>(r) * count * es, count * es);
      }
      return out;
    }
    default: return {};
  }
}

// Elements of the send buffer each rank needs, and of the receive buffer.
inline std::size_t send_elems(collectives::Collective c, std::size_t count, int p) {
  using collectives::Collective;
  return c == Collective::kReduceScatter || c == Collective::kAllToAll ? count * static_cast<std::size_t>(p)
         : c == Collective::kBarrier                                   ? 0
                                                                       : count;
}
inline std::size_t recv_elems(collectives::Collective c, std::size_t count, int p) {
  using collectives::Collective;
  return c == Collective::kAllGather || c == Collective::kAllToAll ? count * static_cast<std::size_t>(p)
         : c == Collective::kBarrier                               ? 0
                                                                   : count;
}

// Number of elements of `got` that differ from `want` (byte comparison per element).
inline std::size_t count_wrong(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want,
                               std::size_t es) {
  if (got.size() != want.size()) return std::max(got.size(), want.size()) / es;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < got.size(); i += es) wrong += std::memcmp(&got[i], &want[i], es) != 0 ? 1 : 0;
  return wrong;
}

}  // namespace weft::test
