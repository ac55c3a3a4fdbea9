// Reduction kernels: the elementwise arithmetic of all-reduce, reduce-scatter and reduce
// (DESIGN.md §5). The collective engine calls these on staging buffers; they know nothing of
// ranks, peers or transports.
//
// Semantics (identical on every instruction set; results are bit-for-bit the same whichever
// variant runs, so ranks on different CPUs agree exactly):
//
//   integers   sum and prod wrap modulo 2^bits (two's complement; computed in unsigned
//              arithmetic, never undefined). min and max compare as signed or unsigned per type.
//   f32, f64   sum and prod are one IEEE 754 addition or multiplication per element, in the
//              current rounding mode (round-to-nearest-even unless the caller changed MXCSR).
//   f16, bf16  each element is widened exactly to f32, combined with the f32 operation, and
//              rounded back to nearest, ties to even (always RNE, whatever the rounding mode).
//              f32's 24-bit significand is at least 2p+2 bits for f16 (p = 11) and bf16 (p = 8),
//              so under round-to-nearest sum and prod equal the correctly rounded results.
//   min, max   (floating types) if either element is NaN the result is NaN. -0.0 orders below
//              +0.0: min(-0.0, +0.0) = -0.0 and max(-0.0, +0.0) = +0.0, in either argument order.
//              Otherwise the smaller / larger value. Never rounds.
//   NaN        every NaN these functions write is the canonical quiet NaN, sign bit clear
//              (f32 0x7FC00000, f64 0x7FF8000000000000, f16 0x7E00, bf16 0x7FC0): payloads and
//              signs of NaN inputs are not propagated, since they would otherwise depend on
//              operand order inside the hardware.
//   avg        reduce_into / reduce_out treat kAvg as kSum; the caller divides once at the end
//              with finish_avg.
//
// Subnormals are computed exactly (no flush to zero) as long as the caller has not set MXCSR's
// FTZ/DAZ bits; with them set, f32/f64 results follow the hardware's flushing, and f16/bf16
// results are not guaranteed identical across instruction sets.
//
// Buffers: `count` elements of `dtype` each, in host byte order, with no alignment requirement
// (not even the element's). A buffer that is written may be the very same buffer as an input
// (the aliasing each function names) but must not otherwise overlap one. With count == 0 nothing
// is read or written and the pointers may be null. The reductions never allocate, block, or keep
// state between calls, and are safe to call concurrently on disjoint outputs.
//
// Contract violations (an out-of-range DataType or ReduceOp value, finish_avg with ranks == 0)
// print a message to stderr and abort: they are programming errors, not data-dependent failures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "weft/collectives/types.h"

namespace weft::collectives {

// acc[i] = op(acc[i], in[i]) for i < count. `in` may be `acc` itself.
void reduce_into(void* acc, const void* in, std::size_t count, DataType dtype, ReduceOp op);

// out[i] = op(a[i], b[i]) for i < count. `out` may be `a` or `b` (or both may be one buffer).
void reduce_out(void* out, const void* a, const void* b, std::size_t count, DataType dtype, ReduceOp op);

// Completes an average: buf[i] = buf[i] / ranks, in place, where buf holds the kAvg (= kSum)
// reduction of `ranks` contributions.
//   f32, f64   one IEEE division by the rank count converted to the element type.
//   f16, bf16  widened to f32, divided by float(ranks), rounded to nearest-even.
//   integers   truncating division (toward zero, as C++ `/`) of the wrapped sum: the exact
//              average when the sum did not wrap. -7 / 2 = -3.
// ranks must be >= 1. ranks == 1 still canonicalizes NaNs (see above).
void finish_avg(void* buf, std::size_t count, DataType dtype, std::size_t ranks);

// ---- Instruction-set variants ------------------------------------------------------------
//
// Every variant implements the semantics above exactly. The best one the CPU supports is chosen
// on first use (AVX-512 needs F, BW, DQ and VL; AVX2 needs AVX2 and F16C), unless the
// environment variable WEFT_REDUCE_ISA names another: `scalar`, `avx2` or `avx512`. A name the
// CPU cannot run, or an unknown name, is reported on stderr and the best variant is used.

enum class ReduceIsa : std::uint8_t {
  kScalar,  // portable C++, one element at a time; the reference
  kAvx2,    // 256-bit AVX2 with F16C for half
  kAvx512,  // 512-bit AVX-512 F/BW/DQ/VL, F16C-style half conversion; bf16 by integer rounding
};
inline constexpr std::size_t kReduceIsaCount = 3;

// scalar, avx2, avx512; "?" for an invalid value.
std::string_view reduce_isa_name(ReduceIsa isa);
// Inverse of reduce_isa_name; nullopt for anything else.
std::optional<ReduceIsa> parse_reduce_isa(std::string_view s);

// True if this build contains the variant (x86-64 builds with GCC or Clang have all three) and
// this CPU and OS can run it. kScalar is always supported.
bool reduce_isa_supported(ReduceIsa isa);
// The fastest supported variant.
ReduceIsa best_reduce_isa();
// The variant the functions above use now, and its name.
ReduceIsa active_reduce_isa();
std::string_view reduce_isa();

// Makes every later call in this process use `isa` (tests and benchmarks run each variant this
// way). Returns false, changing nothing, if `isa` is not supported. Safe while other threads are
// reducing: each call runs entirely on one variant, and all variants give the same results.
[[nodiscard]] bool set_reduce_isa(ReduceIsa isa);
// Undoes set_reduce_isa: back to the variant chosen from the CPU and WEFT_REDUCE_ISA.
void reset_reduce_isa();

}  // namespace weft::collectives
