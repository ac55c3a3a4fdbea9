// The AVX-512 variant of the reduction kernels: 512-bit lanes (AVX-512 F, BW, DQ, VL); f16
// through VCVTPH2PS / VCVTPS2PH (AVX-512F) with an immediate round-to-nearest-even. bf16 does not
// use AVX512_BF16's VCVTNEPS2BF16, which flushes subnormals to zero; the shared integer rounding
// is exact. Compiled for AVX-512 by function attributes only; reduce.cc calls it only on CPUs
// that have all four subsets.
#include "collectives/reduce_kernels.h"

#if WEFT_REDUCE_X86

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#define WEFT_REDUCE_TARGET [[gnu::target("avx512f,avx512bw,avx512dq,avx512vl,avx2,f16c")]]

namespace weft::collectives::detail {
namespace {

struct Isa {
  static constexpr std::size_t kVectorBytes = 64;
  // The zero-masking forms with a full mask are the plain instructions; GCC 12's unmasked
  // intrinsics trip -Wmaybe-uninitialized on their internal undefined pass-through operand.
  [[gnu::always_inline]] WEFT_REDUCE_TARGET static inline __m512 widen_f16(const unsigned char* p) {
    __m256i h;
    std::memcpy(&h, p, sizeof h);
    return _mm512_maskz_cvtph_ps(0xFFFF, h);
  }
  [[gnu::always_inline]] WEFT_REDUCE_TARGET static inline void narrow_f16(unsigned char* p, __m512 v) {
    const __m256i h = _mm512_maskz_cvtps_ph(0xFFFF, v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    std::memcpy(p, &h, sizeof h);
  }
};

#include "collectives/reduce_kernels.inc"

}  // namespace

constinit const ReduceKernels kAvx512Kernels = make_kernels();

}  // namespace weft::collectives::detail

#endif  // WEFT_REDUCE_X86
