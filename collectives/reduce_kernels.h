// Private to collectives/reduce*.cc: the table of kernels each instruction-set variant exports.
//
// One translation unit per variant (reduce_scalar.cc, reduce_avx2.cc, reduce_avx512.cc) includes
// reduce_kernels.inc, the one generic source of the kernels, inside its own namespace with its
// own target attribute, and exports a table; reduce.cc picks a table at run time.
#pragma once

#include <cstddef>
#include <string>

#include "weft/collectives/reduce.h"
#include "weft/collectives/types.h"

// The AVX2 and AVX-512 variants need x86-64 and GCC/Clang function attributes and vectors.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WEFT_REDUCE_X86 1
#else
#define WEFT_REDUCE_X86 0
#endif

namespace weft::collectives::detail {

// out[i] = op(a[i], b[i]); out may be a or b.
using CombineFn = void (*)(void* out, const void* a, const void* b, std::size_t count);
// buf[i] = buf[i] / ranks (finish_avg).
using DivideFn = void (*)(void* buf, std::size_t count, std::size_t ranks);

// kSum, kProd, kMin, kMax, indexed by the ReduceOp value (kAvg runs as kSum).
inline constexpr std::size_t kCombineOpCount = 4;

struct ReduceKernels {
  CombineFn combine[kDataTypeCount][kCombineOpCount];  // [DataType][ReduceOp]
  DivideFn divide[kDataTypeCount];                      // [DataType]
};

// The variant WEFT_REDUCE_ISA=`env` selects (null or empty: `best`), given which variants the CPU
// runs; `message` receives the warning to print when the name is unknown or unsupported (else
// it is cleared). Pure, so tests can pose as a CPU that lacks a variant.
ReduceIsa choose_isa(const char* env, ReduceIsa best, bool (*supported)(ReduceIsa), std::string& message);

extern const ReduceKernels kScalarKernels;
#if WEFT_REDUCE_X86
extern const ReduceKernels kAvx2Kernels;
extern const ReduceKernels kAvx512Kernels;
#endif

}  // namespace weft::collectives::detail
