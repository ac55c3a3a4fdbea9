// Tests of the reduction kernels (collectives/reduce*.cc) against a reference written here, one
// element at a time, independently of the library: f16/bf16 are decoded from their fields with
// ldexp and rounded with nearbyint on doubles, integers wrap through uint64_t. Every variant the
// CPU runs must equal the reference bit for bit, on every dtype, op, count (tails included) and
// misalignment, without writing a byte outside its output.
//
// Inputs are random from a fixed seed (kSeed, printed with every failure) and are built to hit
// the cases that matter: NaNs with payloads, infinities, signed zeros, subnormals, equal and
// opposite pairs, f16/bf16 pairs whose exact result is a rounding tie, integer extremes.
#include "collectives/reduce_kernels.h"
#include "tests/support/cpu_flags.h"
#include "weft/collectives/reduce.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace weft::collectives {

// Names the variant in gtest's messages (found by argument-dependent lookup, so it cannot be in
// the anonymous namespace).
void PrintTo(ReduceIsa isa, std::ostream* os) { *os << reduce_isa_name(isa); }

namespace {

constexpr std::uint64_t kSeed = 0x5EED2024;

// Counts (tails and whole registers of 8/16/32/64 lanes) and misalignments (bytes added to a
// 64-byte-aligned address: none, one element, one byte).
constexpr std::size_t kCounts[] = {0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4097};
constexpr std::size_t kMaxCount = 4097;
enum class Misalign { kNone, kOneElement, kOneByte };
constexpr Misalign kMisaligns[] = {Misalign::kNone, Misalign::kOneElement, Misalign::kOneByte};

std::size_t misalign_bytes(Misalign m, DataType t) {
  switch (m) {
    case Misalign::kNone: return 0;
    case Misalign::kOneElement: return dtype_size(t);
    case Misalign::kOneByte: return 1;
  }
  return 0;
}

const char* misalign_name(Misalign m) {
  switch (m) {
    case Misalign::kNone: return "aligned";
    case Misalign::kOneElement: return "+1 element";
    case Misalign::kOneByte: return "+1 byte";
  }
  return "?";
}

// ---- Reference ----------------------------------------------------------------------------------

template <class T>
T load(const unsigned char* p, std::size_t i) {
  T v;
  std::memcpy(&v, p + i * sizeof v, sizeof v);
  return v;
}

template <class T>
void store(unsigned char* p, std::size_t i, T v) {
  std::memcpy(p + i * sizeof v, &v, sizeof v);
}

// A binary floating-point format narrower than f32: precision (significand bits with the
// implicit one), exponent range, field widths, canonical NaN.
struct SmallFormat {
  int precision;
  int min_exponent;  // of the smallest normal
  int max_exponent;
  int bias;
  int mantissa_bits;
  std::uint16_t canonical_nan;
};
constexpr SmallFormat kHalf{11, -14, 15, 15, 10, 0x7E00};
constexpr SmallFormat kBfloat16{8, -126, 127, 127, 7, 0x7FC0};

double decode(const SmallFormat& f, std::uint16_t bits) {
  const bool negative = (bits & 0x8000u) != 0;
  const int exponent_field = (bits & 0x7FFF) >> f.mantissa_bits;
  const int mantissa = bits & ((1 << f.mantissa_bits) - 1);
  const int max_field = (1 << (15 - f.mantissa_bits)) - 1;
  double v;
  if (exponent_field == max_field) {
    v = mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (exponent_field == 0) {
    v = std::ldexp(mantissa, f.min_exponent - f.mantissa_bits);
  } else {
    v = std::ldexp(mantissa + (1 << f.mantissa_bits), exponent_field - f.bias - f.mantissa_bits);
  }
  return negative ? -v : v;
}

// x rounded to the format, to nearest with ties to even (nearbyint in the default rounding mode
// on an exactly scaled double); `tie` reports whether x was exactly halfway.
std::uint16_t encode(const SmallFormat& f, double x, bool* tie = nullptr) {
  if (tie != nullptr) *tie = false;
  if (std::isnan(x)) return f.canonical_nan;
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const std::uint16_t infinity = static_cast<std::uint16_t>(((1 << (15 - f.mantissa_bits)) - 1) << f.mantissa_bits);
  const double ax = std::fabs(x);
  if (std::isinf(ax)) return sign | infinity;
  if (ax == 0) return sign;
  const int exponent = std::max(std::ilogb(ax), f.min_exponent);
  const double quantum = std::ldexp(1.0, exponent - (f.precision - 1));
  const double scaled = ax / quantum;  // exact: a power-of-two scaling
  if (tie != nullptr) *tie = scaled - std::floor(scaled) == 0.5;
  const double rounded = std::nearbyint(scaled) * quantum;
  if (rounded >= std::ldexp(1.0, f.max_exponent + 1)) return sign | infinity;
  const int e = std::ilogb(rounded);
  if (e < f.min_exponent) {  // subnormal
    return sign | static_cast<std::uint16_t>(rounded / std::ldexp(1.0, f.min_exponent - f.mantissa_bits));
  }
  const auto mantissa = static_cast<std::uint16_t>(rounded / std::ldexp(1.0, e - f.mantissa_bits)) -
                        (1u << f.mantissa_bits);
  return sign | static_cast<std::uint16_t>((e + f.bias) << f.mantissa_bits) | static_cast<std::uint16_t>(mantissa);
}

template <class F>
F canonical_nan() {
  if constexpr (sizeof(F) == 4) {
    return std::bit_cast<float>(std::uint32_t{0x7FC00000});
  } else {
    return std::bit_cast<double>(std::uint64_t{0x7FF8000000000000});
  }
}

// The documented semantics, spelled out per case.
template <class F>
F reference_float(ReduceOp op, F a, F b) {
  F r = 0;
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg: r = a + b; break;
    case ReduceOp::kProd: r = a * b; break;
    case ReduceOp::kMin:
      if (std::isnan(a) || std::isnan(b)) {
        r = canonical_nan<F>();
      } else if (a == b) {
        r = std::signbit(a) ? a : b;  // -0.0 below +0.0
      } else {
        r = a < b ? a : b;
      }
      break;
    case ReduceOp::kMax:
      if (std::isnan(a) || std::isnan(b)) {
        r = canonical_nan<F>();
      } else if (a == b) {
        r = std::signbit(a) ? b : a;
      } else {
        r = a < b ? b : a;
      }
      break;
  }
  return std::isnan(r) ? canonical_nan<F>() : r;
}

template <class T>
T reference_integer(ReduceOp op, T a, T b) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg: return static_cast<T>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
    case ReduceOp::kProd: return static_cast<T>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
    case ReduceOp::kMin: return std::min(a, b);
    case ReduceOp::kMax: return std::max(a, b);
  }
  return 0;
}

__extension__ typedef __int128 Int128;

template <class T>
T reference_divide_integer(T v, std::size_t ranks) {
  return static_cast<T>(static_cast<Int128>(v) / static_cast<Int128>(ranks));  // C++ `/` truncates
}

std::uint16_t reference_small(const SmallFormat& f, ReduceOp op, std::uint16_t a, std::uint16_t b,
                              std::size_t* ties) {
  const float r = reference_float<float>(op, static_cast<float>(decode(f, a)), static_cast<float>(decode(f, b)));
  bool tie = false;
  const std::uint16_t bits = encode(f, r, &tie);
  if (tie && ties != nullptr) ++*ties;
  return bits;
}

template <class T>
void reference_typed(ReduceOp op, const unsigned char* a, const unsigned char* b, unsigned char* out,
                     std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      store(out, i, reference_float<T>(op, load<T>(a, i), load<T>(b, i)));
    } else {
      store(out, i, reference_integer<T>(op, load<T>(a, i), load<T>(b, i)));
    }
  }
}

// out[i] = op(a[i], b[i]) per the documented semantics; counts f16/bf16 rounding ties in *ties.
void reference_combine(DataType t, ReduceOp op, const unsigned char* a, const unsigned char* b, unsigned char* out,
                       std::size_t count, std::size_t* ties = nullptr) {
  switch (t) {
    case DataType::kF32: return reference_typed<float>(op, a, b, out, count);
    case DataType::kF64: return reference_typed<double>(op, a, b, out, count);
    case DataType::kF16:
    case DataType::kBF16: {
      const SmallFormat& f = t == DataType::kF16 ? kHalf : kBfloat16;
      for (std::size_t i = 0; i < count; ++i) {
        store(out, i, reference_small(f, op, load<std::uint16_t>(a, i), load<std::uint16_t>(b, i), ties));
      }
      return;
    }
    case DataType::kI8: return reference_typed<std::int8_t>(op, a, b, out, count);
    case DataType::kI16: return reference_typed<std::int16_t>(op, a, b, out, count);
    case DataType::kI32: return reference_typed<std::int32_t>(op, a, b, out, count);
    case DataType::kI64: return reference_typed<std::int64_t>(op, a, b, out, count);
    case DataType::kU8: return reference_typed<std::uint8_t>(op, a, b, out, count);
    case DataType::kU16: return reference_typed<std::uint16_t>(op, a, b, out, count);
    case DataType::kU32: return reference_typed<std::uint32_t>(op, a, b, out, count);
    case DataType::kU64: return reference_typed<std::uint64_t>(op, a, b, out, count);
  }
}

template <class T>
void reference_divide_typed(unsigned char* buf, std::size_t count, std::size_t ranks) {
  for (std::size_t i = 0; i < count; ++i) {
    const T v = load<T>(buf, i);
    if constexpr (std::is_floating_point_v<T>) {
      const T r = v / static_cast<T>(ranks);
      store(buf, i, std::isnan(r) ? canonical_nan<T>() : r);
    } else {
      store(buf, i, reference_divide_integer<T>(v, ranks));
    }
  }
}

void reference_divide(DataType t, unsigned char* buf, std::size_t count, std::size_t ranks) {
  switch (t) {
    case DataType::kF32: return reference_divide_typed<float>(buf, count, ranks);
    case DataType::kF64: return reference_divide_typed<double>(buf, count, ranks);
    case DataType::kF16:
    case DataType::kBF16: {
      const SmallFormat& f = t == DataType::kF16 ? kHalf : kBfloat16;
      for (std::size_t i = 0; i < count; ++i) {
        const float r = static_cast<float>(decode(f, load<std::uint16_t>(buf, i))) / static_cast<float>(ranks);
        store(buf, i, encode(f, r));
      }
      return;
    }
    case DataType::kI8: return reference_divide_typed<std::int8_t>(buf, count, ranks);
    case DataType::kI16: return reference_divide_typed<std::int16_t>(buf, count, ranks);
    case DataType::kI32: return reference_divide_typed<std::int32_t>(buf, count, ranks);
    case DataType::kI64: return reference_divide_typed<std::int64_t>(buf, count, ranks);
    case DataType::kU8: return reference_divide_typed<std::uint8_t>(buf, count, ranks);
    case DataType::kU16: return reference_divide_typed<std::uint16_t>(buf, count, ranks);
    case DataType::kU32: return reference_divide_typed<std::uint32_t>(buf, count, ranks);
    case DataType::kU64: return reference_divide_typed<std::uint64_t>(buf, count, ranks);
  }
}

// ---- Inputs -------------------------------------------------------------------------------------

using Rng = std::mt19937_64;

bool chance(Rng& rng, unsigned percent) { return rng() % 100 < percent; }

template <class T, std::size_t kN>
T pick(Rng& rng, const T (&table)[kN]) {
  return table[rng() % kN];
}

// f32/f64 by bits. `partner`: the other operand's bits, or nullptr for the first one.
template <class F>
F random_float(Rng& rng, const F* partner) {
  using Bits = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;
  constexpr int kMantissaBits = std::numeric_limits<F>::digits - 1;
  constexpr Bits kBias = std::numeric_limits<F>::max_exponent - 1;
  const F specials[] = {F{0},
                        -F{0},
                        std::numeric_limits<F>::infinity(),
                        -std::numeric_limits<F>::infinity(),
                        std::numeric_limits<F>::quiet_NaN(),
                        -std::numeric_limits<F>::quiet_NaN(),
                        std::numeric_limits<F>::signaling_NaN(),
                        std::bit_cast<F>(static_cast<Bits>(std::bit_cast<Bits>(std::numeric_limits<F>::quiet_NaN()) |
                                                           0x1234)),  // a payload
                        std::numeric_limits<F>::denorm_min(),
                        -std::numeric_limits<F>::denorm_min(),
                        std::numeric_limits<F>::min() - std::numeric_limits<F>::denorm_min(),  // largest subnormal
                        std::numeric_limits<F>::min(),
                        std::numeric_limits<F>::max(),
                        -std::numeric_limits<F>::max(),
                        F{1},
                        F{-1},
                        F{0.5}};
  if (partner != nullptr && chance(rng, 30)) {
    const F p = *partner;
    switch (rng() % 5) {
      case 0: return p;
      case 1: return -p;
      case 2: return std::nextafter(p, std::numeric_limits<F>::infinity());
      case 3: return std::nextafter(p, -std::numeric_limits<F>::infinity());
      default: return p * std::ldexp(F{1}, -std::numeric_limits<F>::digits);  // half an ulp: sum ties
    }
  }
  const unsigned r = static_cast<unsigned>(rng() % 100);
  if (r < 20) return pick(rng, specials);
  if (r < 45) return std::bit_cast<F>(static_cast<Bits>(rng()));
  // Few mantissa bits, exponents near 1: sums and products round, and often tie.
  const Bits sign = static_cast<Bits>(rng() & 1) << (sizeof(Bits) * 8 - 1);
  const Bits exponent = kBias - 20 + static_cast<Bits>(rng() % 41);
  const Bits mantissa = static_cast<Bits>(rng() & 7) << (kMantissaBits - 3);
  return std::bit_cast<F>(static_cast<Bits>(sign | (exponent << kMantissaBits) | mantissa));
}

std::uint16_t random_small(const SmallFormat& f, Rng& rng, const std::uint16_t* partner) {
  const std::uint16_t infinity = static_cast<std::uint16_t>(((1 << (15 - f.mantissa_bits)) - 1) << f.mantissa_bits);
  const std::uint16_t specials[] = {0x0000,
                                    0x8000,
                                    infinity,
                                    static_cast<std::uint16_t>(infinity | 0x8000),
                                    f.canonical_nan,
                                    static_cast<std::uint16_t>(f.canonical_nan | 0x8000),
                                    static_cast<std::uint16_t>(infinity | 1),  // signaling NaN
                                    0x0001,                                    // smallest subnormal
                                    0x8001,
                                    static_cast<std::uint16_t>((1 << f.mantissa_bits) - 1),  // largest subnormal
                                    static_cast<std::uint16_t>(1 << f.mantissa_bits),        // smallest normal
                                    static_cast<std::uint16_t>(infinity - 1),                // largest finite
                                    static_cast<std::uint16_t>((infinity - 1) | 0x8000),
                                    static_cast<std::uint16_t>(f.bias << f.mantissa_bits)};  // 1.0
  if (partner != nullptr && chance(rng, 35)) {
    const std::uint16_t p = *partner;
    const int exponent_field = (p & 0x7FFF) >> f.mantissa_bits;
    switch (rng() % 5) {
      case 0: return p;
      case 1: return static_cast<std::uint16_t>(p ^ 0x8000);
      case 2: return static_cast<std::uint16_t>(p + 1);
      case 3:
      default:
        // Half an ulp of p (a power of two, either sign): p + it is exactly halfway.
        if (exponent_field > f.precision) {
          return static_cast<std::uint16_t>((rng() & 0x8000) |
                                            ((exponent_field - f.precision) << f.mantissa_bits));
        }
        return static_cast<std::uint16_t>(rng());
    }
  }
  const unsigned r = static_cast<unsigned>(rng() % 100);
  if (r < 15) return pick(rng, specials);
  if (r < 40) return static_cast<std::uint16_t>(rng());
  // Few mantissa bits, exponents near 1: products of two such values often tie.
  const auto sign = static_cast<std::uint16_t>(rng() & 0x8000);
  const int exponent = f.bias - 6 + static_cast<int>(rng() % 13);
  const auto mantissa = static_cast<std::uint16_t>((rng() & 7) << (f.mantissa_bits - 3));
  return static_cast<std::uint16_t>(sign | (exponent << f.mantissa_bits) | mantissa);
}

template <class T>
T random_integer(Rng& rng) {
  constexpr T kMin = std::numeric_limits<T>::min(), kMax = std::numeric_limits<T>::max();
  const T extremes[] = {kMin, static_cast<T>(kMin + 1), kMax, static_cast<T>(kMax - 1), T{0}, T{1},
                        static_cast<T>(-1)};
  if (chance(rng, 35)) return pick(rng, extremes);
  return static_cast<T>(rng());
}

template <class T>
void fill_typed(Rng& rng, unsigned char* a, unsigned char* b, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      const T x = random_float<T>(rng, nullptr);
      store(a, i, x);
      store(b, i, random_float<T>(rng, &x));
    } else {
      store(a, i, random_integer<T>(rng));
      store(b, i, random_integer<T>(rng));
    }
  }
}

// Random operands a and b, each `count` elements of t, b often related to a.
void fill_pair(DataType t, Rng& rng, unsigned char* a, unsigned char* b, std::size_t count) {
  switch (t) {
    case DataType::kF32: return fill_typed<float>(rng, a, b, count);
    case DataType::kF64: return fill_typed<double>(rng, a, b, count);
    case DataType::kF16:
    case DataType::kBF16: {
      const SmallFormat& f = t == DataType::kF16 ? kHalf : kBfloat16;
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint16_t x = random_small(f, rng, nullptr);
        store(a, i, x);
        store(b, i, random_small(f, rng, &x));
      }
      return;
    }
    case DataType::kI8: return fill_typed<std::int8_t>(rng, a, b, count);
    case DataType::kI16: return fill_typed<std::int16_t>(rng, a, b, count);
    case DataType::kI32: return fill_typed<std::int32_t>(rng, a, b, count);
    case DataType::kI64: return fill_typed<std::int64_t>(rng, a, b, count);
    case DataType::kU8: return fill_typed<std::uint8_t>(rng, a, b, count);
    case DataType::kU16: return fill_typed<std::uint16_t>(rng, a, b, count);
    case DataType::kU32: return fill_typed<std::uint32_t>(rng, a, b, count);
    case DataType::kU64: return fill_typed<std::uint64_t>(rng, a, b, count);
  }
}

// ---- Buffers ------------------------------------------------------------------------------------

// A buffer with guard bytes on both sides: data() is 64-byte aligned plus a misalignment, and
// guards_intact() tells whether anything wrote outside [data(), data() + size).
class Guarded {
 public:
  static constexpr std::size_t kGuardBytes = 128;
  static constexpr unsigned char kPattern = 0xA5;

  Guarded(std::size_t bytes, std::size_t misalign) : storage_(kGuardBytes * 2 + 64 + misalign + bytes, kPattern) {
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data() + kGuardBytes);
    data_ = storage_.data() + kGuardBytes + (64 - address % 64) % 64 + misalign;
    bytes_ = bytes;
  }
  unsigned char* data() { return data_; }
  bool guards_intact() const {
    const unsigned char* end = data_ + bytes_;
    return std::all_of(storage_.data(), static_cast<const unsigned char*>(data_),
                       [](unsigned char c) { return c == kPattern; }) &&
           std::all_of(end, storage_.data() + storage_.size(), [](unsigned char c) { return c == kPattern; });
  }

 private:
  std::vector<unsigned char> storage_;
  unsigned char* data_ = nullptr;
  std::size_t bytes_ = 0;
};

std::string hex(const unsigned char* p, std::size_t i, std::size_t size) {
  std::uint64_t v = 0;
  std::memcpy(&v, p + i * size, size);  // little-endian x86-64: the element's value
  char text[24];
  std::snprintf(text, sizeof text, "0x%0*llx", static_cast<int>(size * 2), static_cast<unsigned long long>(v));
  return text;
}

// Bitwise comparison of `count` elements, naming the first difference and its inputs.
testing::AssertionResult same_bits(DataType t, const unsigned char* expected, const unsigned char* got,
                                   std::size_t count, const unsigned char* a = nullptr,
                                   const unsigned char* b = nullptr) {
  const std::size_t size = dtype_size(t);
  for (std::size_t i = 0; i < count; ++i) {
    if (std::memcmp(expected + i * size, got + i * size, size) != 0) {
      testing::AssertionResult r = testing::AssertionFailure();
      r << "element " << i << " of " << count << ": expected " << hex(expected, i, size) << ", got "
        << hex(got, i, size);
      if (a != nullptr) r << " (a = " << hex(a, i, size);
      if (b != nullptr) r << ", b = " << hex(b, i, size);
      if (a != nullptr) r << ")";
      return r;
    }
  }
  return testing::AssertionSuccess();
}

std::string describe(DataType t, ReduceOp op, std::size_t count, Misalign m) {
  return std::string(dtype_name(t)) + " " + std::string(reduce_op_name(op)) + " count " + std::to_string(count) +
         " " + misalign_name(m) + " on " + std::string(reduce_isa()) + ", seed " + std::to_string(kSeed);
}

// ---- Names --------------------------------------------------------------------------------------

TEST(ReduceTypes, NamesAndSizesAreNcclTests) {
  const char* names[] = {"float", "double", "half", "bfloat16", "int8", "int16",
                         "int32", "int64",  "uint8", "uint16",  "uint32", "uint64"};
  const std::size_t sizes[] = {4, 8, 2, 2, 1, 2, 4, 8, 1, 2, 4, 8};
  for (std::size_t i = 0; i < kDataTypeCount; ++i) {
    EXPECT_EQ(dtype_name(kAllDataTypes[i]), names[i]);
    EXPECT_EQ(dtype_size(kAllDataTypes[i]), sizes[i]);
    EXPECT_EQ(dtype_is_floating(kAllDataTypes[i]), i < 4);
  }
  const char* ops[] = {"sum", "prod", "min", "max", "avg"};
  for (std::size_t i = 0; i < kReduceOpCount; ++i) EXPECT_EQ(reduce_op_name(kAllReduceOps[i]), ops[i]);
  EXPECT_EQ(dtype_name(static_cast<DataType>(200)), "?");
  EXPECT_EQ(dtype_size(static_cast<DataType>(200)), 0u);
  EXPECT_EQ(reduce_op_name(static_cast<ReduceOp>(200)), "?");
  EXPECT_EQ(reduce_isa_name(static_cast<ReduceIsa>(200)), "?");
}

TEST(ReduceTypes, ParseRoundTripsAndAliases) {
  for (const DataType t : kAllDataTypes) EXPECT_EQ(parse_dtype(dtype_name(t)), t);
  for (const ReduceOp op : kAllReduceOps) EXPECT_EQ(parse_reduce_op(reduce_op_name(op)), op);
  for (std::size_t i = 0; i < kReduceIsaCount; ++i) {
    const auto isa = static_cast<ReduceIsa>(i);
    EXPECT_EQ(parse_reduce_isa(reduce_isa_name(isa)), isa);
  }
  const std::pair<const char*, DataType> aliases[] = {
      {"f32", DataType::kF32},   {"float32", DataType::kF32}, {"f64", DataType::kF64},  {"float64", DataType::kF64},
      {"f16", DataType::kF16},   {"float16", DataType::kF16}, {"bf16", DataType::kBF16}, {"i8", DataType::kI8},
      {"i16", DataType::kI16},   {"i32", DataType::kI32},     {"i64", DataType::kI64},  {"u8", DataType::kU8},
      {"u16", DataType::kU16},   {"u32", DataType::kU32},     {"u64", DataType::kU64}};
  for (const auto& [name, t] : aliases) EXPECT_EQ(parse_dtype(name), t) << name;
  for (const char* bad : {"", "Float", "float ", "fp32", "int", "bf", "uint128"}) {
    EXPECT_EQ(parse_dtype(bad), std::nullopt) << "'" << bad << "'";
  }
  for (const char* bad : {"", "Sum", "mean", "product", "minimum"}) EXPECT_EQ(parse_reduce_op(bad), std::nullopt);
  for (const char* bad : {"", "AVX2", "avx", "avx512f", "sse"}) EXPECT_EQ(parse_reduce_isa(bad), std::nullopt);
  static_assert(parse_dtype("bfloat16") == DataType::kBF16 && dtype_size(DataType::kF64) == 8);
}

// ---- Variant selection --------------------------------------------------------------------------

TEST(ReduceIsaSelection, BestIsSupportedAndForcingWorks) {
  EXPECT_TRUE(reduce_isa_supported(ReduceIsa::kScalar));
  EXPECT_TRUE(reduce_isa_supported(best_reduce_isa()));
  EXPECT_FALSE(reduce_isa_supported(static_cast<ReduceIsa>(7)));
  EXPECT_FALSE(set_reduce_isa(static_cast<ReduceIsa>(7)));
  std::printf("best variant on this CPU: %.*s\n", static_cast<int>(reduce_isa_name(best_reduce_isa()).size()),
              reduce_isa_name(best_reduce_isa()).data());
  ASSERT_TRUE(set_reduce_isa(ReduceIsa::kScalar));
  EXPECT_EQ(active_reduce_isa(), ReduceIsa::kScalar);
  EXPECT_EQ(reduce_isa(), "scalar");
  for (std::size_t i = 0; i < kReduceIsaCount; ++i) {
    const auto isa = static_cast<ReduceIsa>(i);
    if (!reduce_isa_supported(isa)) {
      EXPECT_FALSE(set_reduce_isa(isa));
      EXPECT_EQ(active_reduce_isa(), ReduceIsa::kScalar) << "a refused variant must not change the active one";
    }
  }
  reset_reduce_isa();
}

// WEFT_REDUCE_ISA is read once per process: each case runs in a fresh process ("threadsafe"
// death tests re-execute the test binary), which prints the variant it ended up with.
class ReduceIsaEnvironment : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

void run_with_environment(const char* value) {
  setenv("WEFT_REDUCE_ISA", value, 1);
  std::fprintf(stderr, "active=%.*s\n", static_cast<int>(reduce_isa().size()), reduce_isa().data());
  std::exit(0);
}

TEST_F(ReduceIsaEnvironment, NamesAVariant) {
  EXPECT_EXIT(run_with_environment("scalar"), testing::ExitedWithCode(0), "^active=scalar\n$");
}

TEST_F(ReduceIsaEnvironment, UnknownNameFallsBackToTheBestWithAMessage) {
  const std::string best(reduce_isa_name(best_reduce_isa()));
  EXPECT_EXIT(run_with_environment("avx1024"), testing::ExitedWithCode(0),
              "WEFT_REDUCE_ISA=avx1024 is not one of scalar, avx2, avx512; using " + best + "\nactive=" + best);
}

// This CPU runs every variant, so the fallback is checked on the pure selection function, posing
// as a CPU without AVX-512 (and one without any vector variant).
TEST(ReduceIsaChoice, UnsupportedVariantFallsBackWithAMessage) {
  std::string message;
  auto no_avx512 = [](ReduceIsa isa) { return isa != ReduceIsa::kAvx512; };
  EXPECT_EQ(detail::choose_isa("avx512", ReduceIsa::kAvx2, no_avx512, message), ReduceIsa::kAvx2);
  EXPECT_EQ(message, "WEFT_REDUCE_ISA=avx512, but this CPU (or this build) cannot run it; using avx2");
  auto scalar_only = [](ReduceIsa isa) { return isa == ReduceIsa::kScalar; };
  EXPECT_EQ(detail::choose_isa("avx2", ReduceIsa::kScalar, scalar_only, message), ReduceIsa::kScalar);
  EXPECT_EQ(message, "WEFT_REDUCE_ISA=avx2, but this CPU (or this build) cannot run it; using scalar");
  EXPECT_EQ(detail::choose_isa("scalar", ReduceIsa::kScalar, scalar_only, message), ReduceIsa::kScalar);
  EXPECT_TRUE(message.empty());
  EXPECT_EQ(detail::choose_isa(nullptr, ReduceIsa::kAvx2, no_avx512, message), ReduceIsa::kAvx2);
  EXPECT_EQ(detail::choose_isa("", ReduceIsa::kAvx2, no_avx512, message), ReduceIsa::kAvx2);
  EXPECT_TRUE(message.empty());
  EXPECT_EQ(detail::choose_isa("avx1024", ReduceIsa::kAvx2, no_avx512, message), ReduceIsa::kAvx2);
  EXPECT_EQ(message, "WEFT_REDUCE_ISA=avx1024 is not one of scalar, avx2, avx512; using avx2");
}

TEST(ReduceContract, ViolationsAbortWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  float x[2] = {1, 2};
  EXPECT_DEATH(finish_avg(x, 2, DataType::kF32, 0), "finish_avg: ranks must be at least 1");
  EXPECT_DEATH(reduce_into(x, x, 2, static_cast<DataType>(12), ReduceOp::kSum), "reduce_into: invalid DataType");
  EXPECT_DEATH(reduce_out(x, x, x, 2, DataType::kF32, static_cast<ReduceOp>(5)), "reduce_out: invalid ReduceOp");
}

// ---- Every variant against the reference ---------------------------------------------------------

// The variant's CPU features, read from /proc/cpuinfo rather than the library's detection.
bool cpu_runs(ReduceIsa isa) {
  switch (isa) {
    case ReduceIsa::kScalar: return true;
    case ReduceIsa::kAvx2: return test::cpu_has("avx2") && test::cpu_has("f16c");
    case ReduceIsa::kAvx512:
      return test::cpu_has("avx512f") && test::cpu_has("avx512bw") && test::cpu_has("avx512dq") &&
             test::cpu_has("avx512vl") && test::cpu_has("f16c");
  }
  return false;
}

class ReduceVariant : public testing::TestWithParam<ReduceIsa> {
 protected:
  void SetUp() override {
    // Skipped only where the kernel reports the CPU lacks the variant's features; where it has
    // them, the library must offer the variant (a detection bug must not pass as a skip).
    if (!cpu_runs(GetParam())) {
      GTEST_SKIP() << "this CPU lacks " << reduce_isa_name(GetParam()) << "'s features (/proc/cpuinfo)";
    }
    ASSERT_TRUE(reduce_isa_supported(GetParam())) << "the CPU has the features, but the variant is not offered";
    ASSERT_TRUE(set_reduce_isa(GetParam()));
  }
  void TearDown() override { reset_reduce_isa(); }
};

TEST_P(ReduceVariant, ReduceOutMatchesTheReference) {
  Rng rng(kSeed);
  std::size_t ties[kDataTypeCount] = {};
  for (const DataType t : kAllDataTypes) {
    const std::size_t size = dtype_size(t);
    for (const ReduceOp op : kAllReduceOps) {
      for (const std::size_t count : kCounts) {
        for (const Misalign m : kMisaligns) {
          const std::size_t bytes = count * size, shift = misalign_bytes(m, t);
          Guarded a(bytes, shift), b(bytes, shift), out(bytes, shift);
          std::vector<unsigned char> expected(bytes + 1);
          fill_pair(t, rng, a.data(), b.data(), count);
          reference_combine(t, op, a.data(), b.data(), expected.data(), count, &ties[static_cast<std::size_t>(t)]);
          reduce_out(out.data(), a.data(), b.data(), count, t, op);
          ASSERT_TRUE(same_bits(t, expected.data(), out.data(), count, a.data(), b.data()))
              << describe(t, op, count, m);
          ASSERT_TRUE(out.guards_intact() && a.guards_intact() && b.guards_intact()) << describe(t, op, count, m);
        }
      }
    }
  }
  // The inputs must really exercise round-to-nearest-even's ties.
  EXPECT_GT(ties[static_cast<std::size_t>(DataType::kF16)], 1000u);
  EXPECT_GT(ties[static_cast<std::size_t>(DataType::kBF16)], 1000u);
}

TEST_P(ReduceVariant, ReduceIntoMatchesTheReference) {
  Rng rng(kSeed + 1);
  for (const DataType t : kAllDataTypes) {
    const std::size_t size = dtype_size(t);
    for (const ReduceOp op : kAllReduceOps) {
      for (const std::size_t count : kCounts) {
        for (const Misalign m : kMisaligns) {
          const std::size_t bytes = count * size, shift = misalign_bytes(m, t);
          Guarded acc(bytes, shift), in(bytes, shift);
          std::vector<unsigned char> a(bytes + 1), expected(bytes + 1);
          fill_pair(t, rng, acc.data(), in.data(), count);
          if (bytes != 0) std::memcpy(a.data(), acc.data(), bytes);
          reference_combine(t, op, a.data(), in.data(), expected.data(), count);
          reduce_into(acc.data(), in.data(), count, t, op);
          ASSERT_TRUE(same_bits(t, expected.data(), acc.data(), count, a.data(), in.data()))
              << describe(t, op, count, m);
          ASSERT_TRUE(acc.guards_intact() && in.guards_intact()) << describe(t, op, count, m);
        }
      }
    }
  }
}

// out may be a, b, or both; reduce_into's in may be acc.
TEST_P(ReduceVariant, AliasedBuffers) {
  Rng rng(kSeed + 2);
  constexpr std::size_t kCount = 1000;
  for (const DataType t : kAllDataTypes) {
    const std::size_t bytes = kCount * dtype_size(t);
    for (const ReduceOp op : kAllReduceOps) {
      std::vector<unsigned char> a(bytes), b(bytes), expected(bytes), work(bytes), aa(bytes);
      fill_pair(t, rng, a.data(), b.data(), kCount);

      reference_combine(t, op, a.data(), b.data(), expected.data(), kCount);
      work = a;
      reduce_out(work.data(), work.data(), b.data(), kCount, t, op);
      EXPECT_TRUE(same_bits(t, expected.data(), work.data(), kCount)) << "out == a, " << describe(t, op, kCount, {});
      work = b;
      reduce_out(work.data(), a.data(), work.data(), kCount, t, op);
      EXPECT_TRUE(same_bits(t, expected.data(), work.data(), kCount)) << "out == b, " << describe(t, op, kCount, {});

      reference_combine(t, op, a.data(), a.data(), aa.data(), kCount);
      work = a;
      reduce_out(work.data(), work.data(), work.data(), kCount, t, op);
      EXPECT_TRUE(same_bits(t, aa.data(), work.data(), kCount)) << "out == a == b, " << describe(t, op, kCount, {});
      work = a;
      reduce_into(work.data(), work.data(), kCount, t, op);
      EXPECT_TRUE(same_bits(t, aa.data(), work.data(), kCount)) << "in == acc, " << describe(t, op, kCount, {});
    }
  }
}

TEST_P(ReduceVariant, FinishAvgMatchesTheReference) {
  Rng rng(kSeed + 3);
  const std::size_t rank_counts[] = {1, 2, 3, 7, 1000, (std::size_t{1} << 40) + 1, SIZE_MAX};
  for (const DataType t : kAllDataTypes) {
    const std::size_t size = dtype_size(t);
    for (const std::size_t ranks : rank_counts) {
      for (const std::size_t count : kCounts) {
        for (const Misalign m : kMisaligns) {
          const std::size_t bytes = count * size, shift = misalign_bytes(m, t);
          Guarded buf(bytes, shift);
          std::vector<unsigned char> scratch(bytes + 1), expected(bytes + 1);
          fill_pair(t, rng, scratch.data(), buf.data(), count);
          if (bytes != 0) std::memcpy(expected.data(), buf.data(), bytes);
          reference_divide(t, expected.data(), count, ranks);
          finish_avg(buf.data(), count, t, ranks);
          ASSERT_TRUE(same_bits(t, expected.data(), buf.data(), count))
              << describe(t, ReduceOp::kAvg, count, m) << ", ranks " << ranks;
          ASSERT_TRUE(buf.guards_intact()) << describe(t, ReduceOp::kAvg, count, m);
        }
      }
    }
  }
}

// Every one of the 65536 f16 and bf16 values against fixed partners and itself, and divided by
// 2 and 3 (halving walks every subnormal tie).
TEST_P(ReduceVariant, EveryHalfAndBfloat16Value) {
  constexpr std::size_t kCount = 65536;
  for (const DataType t : {DataType::kF16, DataType::kBF16}) {
    const SmallFormat& f = t == DataType::kF16 ? kHalf : kBfloat16;
    std::vector<unsigned char> all(kCount * 2), partner(kCount * 2), expected(kCount * 2), got(kCount * 2);
    for (std::size_t i = 0; i < kCount; ++i) store(all.data(), i, static_cast<std::uint16_t>(i));
    const std::uint16_t partners[] = {0x0000, 0x8000, static_cast<std::uint16_t>(f.bias << f.mantissa_bits), 0x0001,
                                      static_cast<std::uint16_t>(0x8000 | (1 << f.mantissa_bits))};
    for (const ReduceOp op : kAllReduceOps) {
      for (const std::uint16_t p : partners) {
        for (std::size_t i = 0; i < kCount; ++i) store(partner.data(), i, p);
        reference_combine(t, op, all.data(), partner.data(), expected.data(), kCount);
        reduce_out(got.data(), all.data(), partner.data(), kCount, t, op);
        ASSERT_TRUE(same_bits(t, expected.data(), got.data(), kCount, all.data(), partner.data()))
            << describe(t, op, kCount, {}) << ", partner " << hex(partner.data(), 0, 2);
      }
      std::reverse_copy(all.begin(), all.end(), partner.begin());  // a byte-reversed order: other pairs
      reference_combine(t, op, all.data(), partner.data(), expected.data(), kCount);
      reduce_out(got.data(), all.data(), partner.data(), kCount, t, op);
      ASSERT_TRUE(same_bits(t, expected.data(), got.data(), kCount, all.data(), partner.data()))
          << describe(t, op, kCount, {}) << ", reversed partner";
    }
    for (const std::size_t ranks : {2, 3}) {
      expected = all;
      got = all;
      reference_divide(t, expected.data(), kCount, ranks);
      finish_avg(got.data(), kCount, t, ranks);
      ASSERT_TRUE(same_bits(t, expected.data(), got.data(), kCount, all.data()))
          << describe(t, ReduceOp::kAvg, kCount, {}) << ", ranks " << ranks;
    }
  }
}

// The header's claim: f16/bf16 sum and prod through f32 are the correctly rounded results. Checked
// on pairs whose exact result a double holds (sums of f16 always; bf16 when TwoSum's error is 0;
// products always), rounded once from the exact value.
TEST_P(ReduceVariant, HalfAndBfloat16SumAndProdAreCorrectlyRounded) {
  Rng rng(kSeed + 4);
  constexpr std::size_t kCount = 20000;
  for (const DataType t : {DataType::kF16, DataType::kBF16}) {
    const SmallFormat& f = t == DataType::kF16 ? kHalf : kBfloat16;
    std::vector<unsigned char> a(kCount * 2), b(kCount * 2), got(kCount * 2);
    fill_pair(t, rng, a.data(), b.data(), kCount);
    for (const ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd}) {
      reduce_out(got.data(), a.data(), b.data(), kCount, t, op);
      std::size_t checked = 0;
      for (std::size_t i = 0; i < kCount; ++i) {
        const double x = decode(f, load<std::uint16_t>(a.data(), i)), y = decode(f, load<std::uint16_t>(b.data(), i));
        const double exact = op == ReduceOp::kSum ? x + y : x * y;
        if (op == ReduceOp::kSum && std::isfinite(exact)) {
          const double bb = exact - x;
          if ((x - (exact - bb)) + (y - bb) != 0) continue;  // TwoSum: not exact in double
        }
        ++checked;
        ASSERT_EQ(encode(f, exact), load<std::uint16_t>(got.data(), i))
            << describe(t, op, kCount, {}) << ", element " << i << ": " << x << " and " << y;
      }
      EXPECT_GT(checked, kCount / 2);
    }
  }
}

TEST_P(ReduceVariant, IntegerWrapAndTruncationExamples) {
  const auto one = [](DataType t, ReduceOp op, auto a, auto b) {
    decltype(a) out{};
    reduce_out(&out, &a, &b, 1, t, op);
    return out;
  };
  EXPECT_EQ(one(DataType::kI32, ReduceOp::kSum, INT32_MAX, std::int32_t{1}), INT32_MIN);
  EXPECT_EQ(one(DataType::kI64, ReduceOp::kSum, INT64_MIN, INT64_MIN), 0);
  EXPECT_EQ(one(DataType::kI8, ReduceOp::kProd, std::int8_t{-128}, std::int8_t{-1}), -128);
  EXPECT_EQ(one(DataType::kI16, ReduceOp::kProd, std::int16_t{-32768}, std::int16_t{-1}), -32768);
  EXPECT_EQ(one(DataType::kU8, ReduceOp::kProd, std::uint8_t{200}, std::uint8_t{200}), 64);
  EXPECT_EQ(one(DataType::kU16, ReduceOp::kProd, std::uint16_t{65535}, std::uint16_t{65535}), 1);
  EXPECT_EQ(one(DataType::kI64, ReduceOp::kProd, INT64_MAX, INT64_MAX), 1);
  EXPECT_EQ(one(DataType::kU64, ReduceOp::kAvg, UINT64_MAX, std::uint64_t{2}), 1u);
  EXPECT_EQ(one(DataType::kI8, ReduceOp::kMin, std::int8_t{-128}, std::int8_t{127}), -128);
  EXPECT_EQ(one(DataType::kU8, ReduceOp::kMin, std::uint8_t{255}, std::uint8_t{0}), 0);
  EXPECT_EQ(one(DataType::kU64, ReduceOp::kMax, UINT64_MAX, std::uint64_t{1}), UINT64_MAX);
  EXPECT_EQ(one(DataType::kI64, ReduceOp::kMax, INT64_MIN, std::int64_t{-1}), -1);

  std::int32_t i32[] = {-7, 7, -1, INT32_MIN};
  finish_avg(i32, 4, DataType::kI32, 2);
  EXPECT_EQ(i32[0], -3);
  EXPECT_EQ(i32[1], 3);
  EXPECT_EQ(i32[2], 0);
  EXPECT_EQ(i32[3], INT32_MIN / 2);
  std::int64_t i64[] = {INT64_MIN, INT64_MIN, INT64_MAX};
  finish_avg(i64, 1, DataType::kI64, 1);
  EXPECT_EQ(i64[0], INT64_MIN);
  finish_avg(i64 + 1, 2, DataType::kI64, std::size_t{1} << 63);
  EXPECT_EQ(i64[1], -1);
  EXPECT_EQ(i64[2], 0);
  std::uint64_t u64 = UINT64_MAX;
  finish_avg(&u64, 1, DataType::kU64, SIZE_MAX);
  EXPECT_EQ(u64, 1u);
}

TEST_P(ReduceVariant, FloatingPointExamples) {
  const auto bits32 = [](float v) { return std::bit_cast<std::uint32_t>(v); };
  const auto f32 = [](ReduceOp op, float a, float b) {
    float out = 0;
    reduce_out(&out, &a, &b, 1, DataType::kF32, op);
    return std::bit_cast<std::uint32_t>(out);
  };
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(f32(ReduceOp::kMin, -0.0f, 0.0f), bits32(-0.0f));
  EXPECT_EQ(f32(ReduceOp::kMin, 0.0f, -0.0f), bits32(-0.0f));
  EXPECT_EQ(f32(ReduceOp::kMax, -0.0f, 0.0f), bits32(0.0f));
  EXPECT_EQ(f32(ReduceOp::kMax, 0.0f, -0.0f), bits32(0.0f));
  EXPECT_EQ(f32(ReduceOp::kMin, nan, 1.0f), 0x7FC00000u);
  EXPECT_EQ(f32(ReduceOp::kMax, 1.0f, -nan), 0x7FC00000u);
  EXPECT_EQ(f32(ReduceOp::kSum, inf, -inf), 0x7FC00000u);  // x86 would make 0xFFC00000
  EXPECT_EQ(f32(ReduceOp::kProd, 0.0f, inf), 0x7FC00000u);
  EXPECT_EQ(f32(ReduceOp::kMin, -inf, 1.0f), bits32(-inf));
  EXPECT_EQ(f32(ReduceOp::kSum, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::denorm_min()),
            2u);  // subnormals are not flushed

  const auto f16 = [](ReduceOp op, std::uint16_t a, std::uint16_t b) {
    std::uint16_t out = 0;
    reduce_out(&out, &a, &b, 1, DataType::kF16, op);
    return out;
  };
  EXPECT_EQ(f16(ReduceOp::kSum, 0x3C00, 0x1000), 0x3C00);  // 1 + 2^-11: a tie, to the even 1
  EXPECT_EQ(f16(ReduceOp::kSum, 0x3C01, 0x1000), 0x3C02);  // (1 + 2^-10) + 2^-11: a tie, up to even
  EXPECT_EQ(f16(ReduceOp::kSum, 0x7BFF, 0x4C00), 0x7C00);  // 65504 + 16: the tie at 65520 overflows
  EXPECT_EQ(f16(ReduceOp::kSum, 0x7BFF, 0x4BFF), 0x7BFF);  // 65504 + 15.99: stays finite
  EXPECT_EQ(f16(ReduceOp::kProd, 0x0001, 0x3800), 0x0000);  // 2^-24 * 0.5: a tie, to the even 0
  EXPECT_EQ(f16(ReduceOp::kProd, 0x0003, 0x3800), 0x0002);  // 3 * 2^-25: a tie, to the even 2^-23
  EXPECT_EQ(f16(ReduceOp::kMin, 0x8000, 0x0000), 0x8000);
  EXPECT_EQ(f16(ReduceOp::kMax, 0x7C01, 0x3C00), 0x7E00);  // a signaling NaN gives the canonical NaN

  const auto bf16 = [](ReduceOp op, std::uint16_t a, std::uint16_t b) {
    std::uint16_t out = 0;
    reduce_out(&out, &a, &b, 1, DataType::kBF16, op);
    return out;
  };
  EXPECT_EQ(bf16(ReduceOp::kSum, 0x3F80, 0x3B80), 0x3F80);  // 1 + 2^-8: a tie, to the even 1
  EXPECT_EQ(bf16(ReduceOp::kSum, 0x3F81, 0x3B80), 0x3F82);  // (1 + 2^-7) + 2^-8: up to even
  EXPECT_EQ(bf16(ReduceOp::kSum, 0x7F7F, 0x7B00), 0x7F80);  // the largest + half an ulp: a tie, to infinity
  EXPECT_EQ(bf16(ReduceOp::kSum, 0x7F7F, 0x7A80), 0x7F7F);  // + a quarter ulp: stays finite
  EXPECT_EQ(bf16(ReduceOp::kProd, 0x0001, 0x3F00), 0x0000);  // the smallest subnormal halved: to 0
  EXPECT_EQ(bf16(ReduceOp::kProd, 0x0003, 0x3F00), 0x0002);
  EXPECT_EQ(bf16(ReduceOp::kSum, 0xFF81, 0x3F80), 0x7FC0);  // a negative NaN payload: canonical

  float avg[] = {3.0f, -1.0f, nan, inf};
  finish_avg(avg, 4, DataType::kF32, 2);
  EXPECT_EQ(bits32(avg[0]), bits32(1.5f));
  EXPECT_EQ(bits32(avg[1]), bits32(-0.5f));
  EXPECT_EQ(bits32(avg[2]), 0x7FC00000u);
  EXPECT_EQ(bits32(avg[3]), bits32(inf));
}

TEST_P(ReduceVariant, ZeroCountTouchesNothing) {
  for (const DataType t : kAllDataTypes) {
    for (const ReduceOp op : kAllReduceOps) {
      reduce_out(nullptr, nullptr, nullptr, 0, t, op);
      reduce_into(nullptr, nullptr, 0, t, op);
    }
    finish_avg(nullptr, 0, t, 3);
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, ReduceVariant,
                         testing::Values(ReduceIsa::kScalar, ReduceIsa::kAvx2, ReduceIsa::kAvx512),
                         [](const testing::TestParamInfo<ReduceIsa>& param_info) {
                           return std::string(reduce_isa_name(param_info.param));
                         });

}  // namespace
}  // namespace weft::collectives
