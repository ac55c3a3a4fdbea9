#include "weft/collectives/verify.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "weft/collectives/reduce.h"

namespace weft::collectives {

// Depends on the rank r only through r mod 9 (prod: r mod 2), so through r mod 18 always: the
// checker reduces over one period when there are more ranks (count_wrong_elements). Likewise on
// the element index i only through i mod 18, so every expected result repeats every 18 elements.
int verifiable_value(ReduceOp op, DataType dt, std::size_t i, int r, std::uint32_t salt) {
  const std::uint64_t h = (i * 7 + static_cast<std::uint64_t>(r) * 13 + std::uint64_t{salt} * 5) % 9;
  if (op == ReduceOp::kProd) return 1 + static_cast<int>((i + static_cast<std::size_t>(r) + salt) % 2);
  const bool is_signed = dt != DataType::kU8 && dt != DataType::kU16 && dt != DataType::kU32 && dt != DataType::kU64;
  if ((op == ReduceOp::kMin || op == ReduceOp::kMax) && is_signed) return static_cast<int>(h) - 4;
  return static_cast<int>(h) + 1;
}

namespace {
template <typename T>
void put_as(void* out, T v) {
  std::memcpy(out, &v, sizeof v);
}
}  // namespace

void store_small_int(DataType dt, int v, void* out) {
  switch (dt) {
    case DataType::kF32: return put_as(out, static_cast<float>(v));
    case DataType::kF64: return put_as(out, static_cast<double>(v));
    case DataType::kBF16: {  // the top half of the float: exact for integers of up to 8 bits
      std::uint32_t bits;
      const auto f = static_cast<float>(v);
      std::memcpy(&bits, &f, 4);
      return put_as(out, static_cast<std::uint16_t>(bits >> 16));
    }
    case DataType::kF16: {
      std::uint16_t h = 0;
      if (v != 0) {
        const auto a = static_cast<unsigned>(v < 0 ? -v : v);
        int e = 0;
        while ((a >> (e + 1)) != 0) ++e;
        const unsigned mant = (a << (10 - e)) & 0x3FFu;
        h = static_cast<std::uint16_t>((v < 0 ? 0x8000u : 0u) | (static_cast<unsigned>(e + 15) << 10) | mant);
      }
      return put_as(out, h);
    }
    case DataType::kI8:
    case DataType::kU8: return put_as(out, static_cast<std::uint8_t>(v));
    case DataType::kI16:
    case DataType::kU16: return put_as(out, static_cast<std::uint16_t>(v));
    case DataType::kI32:
    case DataType::kU32: return put_as(out, static_cast<std::uint32_t>(v));
    case DataType::kI64:
    case DataType::kU64: return put_as(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(v)));
  }
}

namespace {

// Elements [first, first + n) of rank r's input into out.
void fill_range(DataType dt, ReduceOp op, std::size_t first, std::size_t n, int r, std::uint32_t salt,
                std::uint8_t* out) {
  const std::size_t es = dtype_size(dt);
  for (std::size_t i = 0; i < n; ++i) store_small_int(dt, verifiable_value(op, dt, first + i, r, salt), out + i * es);
}

std::size_t compare(const std::uint8_t* got, const std::uint8_t* want, std::size_t n, std::size_t es) {
  if (std::memcmp(got, want, n * es) == 0) return 0;  // the common case, at memcmp's speed
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) wrong += std::memcmp(got + i * es, want + i * es, es) != 0 ? 1 : 0;
  return wrong;
}

}  // namespace

void fill_verifiable_input(Collective c, DataType dt, ReduceOp op, std::size_t count, int rank, int size,
                           std::uint32_t salt, void* send) {
  if (send == nullptr) return;
  const bool whole = c == Collective::kReduceScatter || c == Collective::kAllToAll;
  const std::size_t n = whole ? count * static_cast<std::size_t>(size) : count;
  if (c == Collective::kBarrier || c == Collective::kRecv) return;
  fill_range(dt, op, 0, n, rank, salt, static_cast<std::uint8_t*>(send));
}

std::size_t count_wrong_elements(Collective c, DataType dt, ReduceOp op, std::size_t count, int root, int rank,
                                 int size, std::uint32_t salt, const void* recv) {
  const std::size_t es = dtype_size(dt);
  const auto* got = static_cast<const std::uint8_t*>(recv);
  const ReduceOp rop = op == ReduceOp::kAvg ? ReduceOp::kSum : op;
  // Inputs, and so every expected output, repeat every 18 elements (verifiable_value): the
  // expected values of one chunk (a multiple of 18 long) are those of every chunk, so they are
  // computed once per call and each chunk of the output is compared with them.
  constexpr std::size_t kChunk = 18 * 910;
  std::vector<std::uint8_t> want(kChunk * es), tmp(kChunk * es);
  std::size_t wrong = 0;
  // The reduction over all ranks of input elements [first, first + n), compared with got[0, n).
  // An input depends on its rank only through rank mod kPeriod (verifiable_value), so with many
  // ranks the reduction over them is the reduction over one period, each residue's value taken as
  // many times as ranks have that residue: c copies combined by doubling (x+x, x*x), O(log c)
  // passes instead of c. Integer arithmetic (wrapping) and the floats' exact small integers give
  // the very bytes rank-by-rank reduction gives; min and max ignore the counts.
  constexpr int kPeriod = 18;
  std::vector<std::uint8_t> acc, base;
  auto reduce_many = [&](std::size_t first, std::size_t k) {
    bool any = false;
    for (int m = 0; m < kPeriod && m < size; ++m) {
      std::size_t copies = static_cast<std::size_t>((size - 1 - m) / kPeriod + 1);
      if (rop == ReduceOp::kMin || rop == ReduceOp::kMax) copies = 1;
      base.resize(k * es);
      acc.resize(k * es);
      fill_range(dt, op, first, k, m, salt, base.data());
      bool have = false;
      while (copies > 0) {
        if ((copies & 1) != 0) {
          if (have) reduce_into(acc.data(), base.data(), k, dt, rop);
          else std::memcpy(acc.data(), base.data(), k * es);
          have = true;
        }
        copies >>= 1;
        if (copies > 0) {
          std::memcpy(tmp.data(), base.data(), k * es);
          reduce_into(base.data(), tmp.data(), k, dt, rop);
        }
      }
      if (any) reduce_into(want.data(), acc.data(), k, dt, rop);
      else std::memcpy(want.data(), acc.data(), k * es);
      any = true;
    }
  };
  auto reduced = [&](std::size_t first, std::size_t n, const std::uint8_t* out) {
    const std::size_t k = std::min(kChunk, n);
    if (k == 0) return;
    // (Not for f16 / bf16: their sums stop being exact at 2048 / 256, where the order of the
    // additions starts to matter; those are reduced rank by rank.)
    if (size > kPeriod && dt != DataType::kF16 && dt != DataType::kBF16) {
      reduce_many(first, k);
    } else {
      fill_range(dt, op, first, k, 0, salt, want.data());
      for (int r = 1; r < size; ++r) {
        fill_range(dt, op, first, k, r, salt, tmp.data());
        reduce_into(want.data(), tmp.data(), k, dt, rop);
      }
    }
    if (op == ReduceOp::kAvg) finish_avg(want.data(), k, dt, static_cast<std::size_t>(size));
    for (std::size_t done = 0; done < n; done += kChunk) {
      wrong += compare(out + done * es, want.data(), std::min(kChunk, n - done), es);
    }
  };
  // Rank `r`'s input elements [first, first + n), compared with out[0, n).
  auto copied = [&](int r, std::size_t first, std::size_t n, const std::uint8_t* out) {
    fill_range(dt, op, first, std::min(kChunk, n), r, salt, want.data());
    for (std::size_t done = 0; done < n; done += kChunk) {
      wrong += compare(out + done * es, want.data(), std::min(kChunk, n - done), es);
    }
  };
  switch (c) {
    case Collective::kAllReduce: reduced(0, count, got); break;
    case Collective::kReduce:
      if (rank == root) reduced(0, count, got);
      break;
    case Collective::kReduceScatter: reduced(static_cast<std::size_t>(rank) * count, count, got); break;
    case Collective::kBroadcast: copied(root, 0, count, got); break;
    case Collective::kAllGather:
      for (int q = 0; q < size; ++q) copied(q, 0, count, got + static_cast<std::size_t>(q) * count * es);
      break;
    case Collective::kAllToAll:
      for (int q = 0; q < size; ++q) {
        copied(q, static_cast<std::size_t>(rank) * count, count, got + static_cast<std::size_t>(q) * count * es);
      }
      break;
    case Collective::kRecv: copied(root, 0, count, got); break;
    case Collective::kBarrier:
    case Collective::kSend: break;
  }
  return wrong;
}

}  // namespace weft::collectives
