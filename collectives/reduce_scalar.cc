// The scalar variant of the reduction kernels: portable C++, one element at a time, and the
// reference the vector variants must match bit for bit. f16 converts in software.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "collectives/reduce_kernels.h"

#define WEFT_REDUCE_TARGET

namespace weft::collectives::detail {
namespace {

// binary16 -> binary32, exact. NaNs keep their payload, as F16C's VCVTPH2PS does.
float f16_to_f32(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  const std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // infinity, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // +-0
  } else {
    // Subnormal: mantissa * 2^-24, a normal f32. Shift the leading one up to bit 10.
    const int shift = std::countl_zero(mantissa) - 21;
    bits = sign | (static_cast<std::uint32_t>(113 - shift) << 23) | (((mantissa << shift) & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// binary32 -> binary16, rounding to nearest, ties to even; overflow gives infinity. NaNs are
// quieted with their payload truncated, as F16C's VCVTPS2PH does.
std::uint16_t f32_to_f16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7FFFFFFFu;
  if (ax > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
  // 65520 = halfway between 65504 (the largest half) and 2^16; the tie goes to the even 2^16.
  if (ax >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);
  if (ax >= 0x38800000u) {  // >= 2^-14: a normal half. Rebias the exponent, round off 13 bits.
    const std::uint32_t rounded = ax + 0xFFFu + ((ax >> 13) & 1u);
    return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  if (ax <= 0x33000000u) return sign;  // <= 2^-25: at most half the smallest subnormal, ties to 0
  // A subnormal half: |f| / 2^-24 = m * 2^-(126 - e), rounded to an integer (1024 is the
  // smallest normal, which is also the right encoding).
  const std::uint32_t e = ax >> 23;
  const std::uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
  const std::uint32_t shift = 126 - e;  // 14 ..= 24
  const std::uint32_t q = m >> shift;
  const std::uint32_t rest = m & ((1u << shift) - 1);
  const std::uint32_t half = 1u << (shift - 1);
  return static_cast<std::uint16_t>(sign | (q + (rest > half || (rest == half && (q & 1u)) ? 1u : 0u)));
}

struct Isa {
  static constexpr std::size_t kVectorBytes = 0;
  static float widen_f16(const unsigned char* p) {
    std::uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return f16_to_f32(h);
  }
  static void narrow_f16(unsigned char* p, float v) {
    const std::uint16_t h = f32_to_f16(v);
    std::memcpy(p, &h, sizeof h);
  }
};

#include "collectives/reduce_kernels.inc"

}  // namespace

constinit const ReduceKernels kScalarKernels = make_kernels();

}  // namespace weft::collectives::detail
