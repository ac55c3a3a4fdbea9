// Verifiable collective inputs and result checks, as nccl-tests does them (its "verifiable"
// inputs): element values are small integers, so every sum, product, min, max and average of up
// to 256 ranks is exact in every dtype (f16 and bf16 included) and does not depend on the order of
// reduction. A rank fills its own input and checks its own output without seeing anyone else's
// data: the expected value of each element is recomputed from the rank and element indices.
// Benchmarks (`weft bench`), examples and tests use these.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/collectives/engine.h"

namespace weft::collectives {

// The small integer element `index` of rank `rank`'s input holds (sum/avg 1..9; prod 1..2; min/max
// -4..4 for signed types). `salt` varies the pattern between calls.
int verifiable_value(ReduceOp op, DataType dtype, std::size_t index, int rank, std::uint32_t salt);
// Writes the small integer `v` (|v| <= 2048) as one element of `dtype` (exact).
void store_small_int(DataType dtype, int v, void* out);

// Fills rank `rank`'s send buffer for `collective` (OpArgs::count semantics; all-to-all and
// reduce-scatter inputs hold count * size elements).
void fill_verifiable_input(Collective collective, DataType dtype, ReduceOp op, std::size_t count, int rank, int size,
                           std::uint32_t salt, void* send);

// Elements of rank `rank`'s receive buffer that differ from the expected result (0 for ranks that
// receive nothing: reduce's non-roots, barrier). Works in chunks: no buffer the size of the output.
std::size_t count_wrong_elements(Collective collective, DataType dtype, ReduceOp op, std::size_t count, int root,
                                 int rank, int size, std::uint32_t salt, const void* recv);

}  // namespace weft::collectives
