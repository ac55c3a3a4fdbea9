// Vocabulary of the collective library: element types and reduction operators (DESIGN.md §5).
//
// Names follow nccl-tests (`-d float`, `-o sum`), so benchmark tables and command lines read the
// same as theirs. Everything here is constexpr plain data; the reductions themselves are in
// weft/collectives/reduce.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace weft::collectives {

// Element type of a collective's buffers. Values are in host byte order; f16 is IEEE 754
// binary16, bf16 is the top half of an IEEE binary32 (bfloat16). Integers are two's complement.
enum class DataType : std::uint8_t { kF32, kF64, kF16, kBF16, kI8, kI16, kI32, kI64, kU8, kU16, kU32, kU64 };
inline constexpr std::size_t kDataTypeCount = 12;
inline constexpr std::array<DataType, kDataTypeCount> kAllDataTypes = {
    DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16, DataType::kI8,  DataType::kI16,
    DataType::kI32, DataType::kI64, DataType::kU8,  DataType::kU16,  DataType::kU32, DataType::kU64};

// Reduction operator. kAvg is a sum followed by finish_avg() (a division by the rank count) once
// all contributions are in; see reduce.h.
enum class ReduceOp : std::uint8_t { kSum, kProd, kMin, kMax, kAvg };
inline constexpr std::size_t kReduceOpCount = 5;
inline constexpr std::array<ReduceOp, kReduceOpCount> kAllReduceOps = {ReduceOp::kSum, ReduceOp::kProd,
                                                                       ReduceOp::kMin, ReduceOp::kMax,
                                                                       ReduceOp::kAvg};

namespace detail {
struct DataTypeInfo {
  std::string_view name;   // nccl-tests' name, printed
  std::string_view alias;  // short alias, also accepted by parse_dtype
  std::string_view alias2; // a third accepted spelling ("" if none)
  std::size_t size;        // bytes per element
  bool floating;
};
inline constexpr std::array<DataTypeInfo, kDataTypeCount> kDataTypeInfo = {{
    {"float", "f32", "float32", 4, true},
    {"double", "f64", "float64", 8, true},
    {"half", "f16", "float16", 2, true},
    {"bfloat16", "bf16", "", 2, true},
    {"int8", "i8", "", 1, false},
    {"int16", "i16", "", 2, false},
    {"int32", "i32", "", 4, false},
    {"int64", "i64", "", 8, false},
    {"uint8", "u8", "", 1, false},
    {"uint16", "u16", "", 2, false},
    {"uint32", "u32", "", 4, false},
    {"uint64", "u64", "", 8, false},
}};
inline constexpr std::array<std::string_view, kReduceOpCount> kReduceOpNames = {"sum", "prod", "min", "max",
                                                                                "avg"};
}  // namespace detail

// True for a value that is one of the enumerators (false for a cast from an out-of-range byte).
constexpr bool dtype_valid(DataType t) { return static_cast<std::size_t>(t) < kDataTypeCount; }
constexpr bool reduce_op_valid(ReduceOp op) { return static_cast<std::size_t>(op) < kReduceOpCount; }

// Bytes per element: 1, 2, 4 or 8; 0 for an invalid value.
constexpr std::size_t dtype_size(DataType t) {
  return dtype_valid(t) ? detail::kDataTypeInfo[static_cast<std::size_t>(t)].size : 0;
}

// True for f32, f64, f16 and bf16.
constexpr bool dtype_is_floating(DataType t) {
  return dtype_valid(t) && detail::kDataTypeInfo[static_cast<std::size_t>(t)].floating;
}

// nccl-tests' name: float, double, half, bfloat16, int8 ... uint64; "?" for an invalid value.
constexpr std::string_view dtype_name(DataType t) {
  return dtype_valid(t) ? detail::kDataTypeInfo[static_cast<std::size_t>(t)].name : "?";
}

// Inverse of dtype_name, also accepting f32 f64 f16 bf16 i8 i16 i32 i64 u8 u16 u32 u64 and
// float32 float64 float16. Case-sensitive; nullopt for anything else.
constexpr std::optional<DataType> parse_dtype(std::string_view s) {
  for (std::size_t i = 0; i < kDataTypeCount; ++i) {
    const detail::DataTypeInfo& info = detail::kDataTypeInfo[i];
    if (s == info.name || s == info.alias || (!info.alias2.empty() && s == info.alias2)) {
      return static_cast<DataType>(i);
    }
  }
  return std::nullopt;
}

// sum, prod, min, max, avg; "?" for an invalid value.
constexpr std::string_view reduce_op_name(ReduceOp op) {
  return reduce_op_valid(op) ? detail::kReduceOpNames[static_cast<std::size_t>(op)] : "?";
}

// Inverse of reduce_op_name (case-sensitive); nullopt for anything else.
constexpr std::optional<ReduceOp> parse_reduce_op(std::string_view s) {
  for (std::size_t i = 0; i < kReduceOpCount; ++i) {
    if (s == detail::kReduceOpNames[i]) return static_cast<ReduceOp>(i);
  }
  return std::nullopt;
}

}  // namespace weft::collectives
