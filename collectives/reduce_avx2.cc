// The AVX2 variant of the reduction kernels: 256-bit lanes; f16 through F16C (VCVTPH2PS /
// VCVTPS2PH with an immediate round-to-nearest-even, so MXCSR's rounding mode does not apply).
// Compiled for AVX2 by function attributes only; reduce.cc calls it only on CPUs that have
// AVX2 and F16C.
#include "collectives/reduce_kernels.h"

#if WEFT_REDUCE_X86

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#define WEFT_REDUCE_TARGET [[gnu::target("avx2,f16c")]]

namespace weft::collectives::detail {
namespace {

struct Isa {
  static constexpr std::size_t kVectorBytes = 32;
  [[gnu::always_inline]] WEFT_REDUCE_TARGET static inline __m256 widen_f16(const unsigned char* p) {
    __m128i h;
    std::memcpy(&h, p, sizeof h);
    return _mm256_cvtph_ps(h);
  }
  [[gnu::always_inline]] WEFT_REDUCE_TARGET static inline void narrow_f16(unsigned char* p, __m256 v) {
    const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    std::memcpy(p, &h, sizeof h);
  }
};

#include "collectives/reduce_kernels.inc"

}  // namespace

constinit const ReduceKernels kAvx2Kernels = make_kernels();

}  // namespace weft::collectives::detail

#endif  // WEFT_REDUCE_X86
