// The peers' shared half: command line, sizes, inputs, checks, the timing loop and the output.
//
// Inputs are chosen so that every result is exact whatever order a library reduces in: element i
// on rank r is ((7i + 13r) mod 31) + 1 (prod: 1 + ((i + r) mod 2), so that products are powers
// of two), stored as the dtype. Sums are at most 31n: exact in float (n < 500k) and half
// (n <= 66); integers wrap the same way in every order. Both patterns repeat every
// kPeriod elements, so the expected result of any element comes from a table of kPeriod entries
// and the check costs one memcmp per run of kPeriod elements.
#include "bench/peers/peer_common.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>

namespace weft::bench::peers {

namespace {

constexpr std::uint64_t kPeriod = 62;  // lcm(31, 2): both input patterns repeat with it

constexpr std::array<std::string_view, 5> kCollectiveNames = {"allreduce", "allgather", "reducescatter", "broadcast",
                                                              "alltoall"};

std::string sv(std::string_view s) { return std::string(s); }

// Element i of rank r's input (see the top of this file).
std::uint64_t input_value(bool prod_pattern, std::uint64_t i, int r) {
  const auto rank = static_cast<std::uint64_t>(r);
  if (prod_pattern) return 1 + (i + rank) % 2;
  return (i % kPeriod * 7 + rank * 13) % 31 + 1;
}

// IEEE binary16 bits of a non-negative integer (exact when it has at most 11 significant bits,
// which every value here has; larger ones are truncated, not rounded, and would fail the check).
std::uint16_t half_bits(std::uint64_t v) {
  if (v == 0) return 0;
  const int e = 63 - std::countl_zero(v);  // v in [2^e, 2^(e+1))
  if (e > 15) return 0x7C00;               // +inf
  const std::uint64_t mantissa = e >= 10 ? (v >> (e - 10)) : (v << (10 - e));
  return static_cast<std::uint16_t>(((e + 15) << 10) | (mantissa & 0x3FF));
}

// Stores integer `v` as one element of `dtype` (integers wrap to their width).
void encode(DataType dtype, std::uint64_t v, unsigned char* out) {
  switch (dtype) {
    case DataType::kF32: {
      const auto f = static_cast<float>(v);
      std::memcpy(out, &f, sizeof f);
      return;
    }
    case DataType::kF64: {
      const auto d = static_cast<double>(v);
      std::memcpy(out, &d, sizeof d);
      return;
    }
    case DataType::kF16: {
      const std::uint16_t h = half_bits(v);
      std::memcpy(out, &h, sizeof h);
      return;
    }
    case DataType::kBF16: {
      const auto f = static_cast<float>(v);
      std::uint32_t bits = 0;
      std::memcpy(&bits, &f, sizeof bits);
      const auto b = static_cast<std::uint16_t>(bits >> 16);
      std::memcpy(out, &b, sizeof b);
      return;
    }
    case DataType::kI8:
    case DataType::kI16:
    case DataType::kI32:
    case DataType::kI64:
    case DataType::kU8:
    case DataType::kU16:
    case DataType::kU32:
    case DataType::kU64:
      std::memcpy(out, &v, collectives::dtype_size(dtype));  // little-endian: the low bytes
      return;
  }
  throw std::logic_error("encode: invalid dtype");
}

// kPeriod encoded elements: pattern[k] = element k (mod kPeriod).
using Pattern = std::vector<unsigned char>;

template <class Value>
Pattern make_pattern(DataType dtype, Value value) {
  const std::size_t size = collectives::dtype_size(dtype);
  Pattern p(kPeriod * size);
  for (std::uint64_t k = 0; k < kPeriod; ++k) encode(dtype, value(k), p.data() + k * size);
  return p;
}

// Rank q's input pattern.
Pattern input_pattern(const Options& o, int q) {
  const bool prod = collective_reduces(o.collective) && o.op == ReduceOp::kProd;
  return make_pattern(o.dtype, [&](std::uint64_t k) { return input_value(prod, k, q); });
}

// The reduction over all ranks' inputs.
Pattern reduced_pattern(const Options& o, int ranks) {
  const bool prod = o.op == ReduceOp::kProd;
  return make_pattern(o.dtype, [&](std::uint64_t k) {
    std::uint64_t acc = input_value(prod, k, 0);
    for (int q = 1; q < ranks; ++q) {
      const std::uint64_t v = input_value(prod, k, q);
      switch (o.op) {
        case ReduceOp::kSum:
        case ReduceOp::kAvg:  // never reaches a library: both peers reject avg
          acc += v;
          break;
        case ReduceOp::kProd:
          acc *= v;
          break;
        case ReduceOp::kMin:
          acc = std::min(acc, v);
          break;
        case ReduceOp::kMax:
          acc = std::max(acc, v);
          break;
      }
    }
    return acc;
  });
}

// Writes `count` elements starting at pattern phase `phase` into `out`: one period element by
// element, then copies of what is written so far (a multiple of the period) doubling each time.
void fill(unsigned char* out, std::uint64_t count, std::size_t element_bytes, const Pattern& p, std::uint64_t phase) {
  const std::uint64_t first = std::min(count, kPeriod);
  for (std::uint64_t i = 0; i < first; ++i) {
    std::memcpy(out + i * element_bytes, p.data() + (phase + i) % kPeriod * element_bytes, element_bytes);
  }
  for (std::uint64_t done = first; done < count;) {
    const std::uint64_t n = std::min(done, count - done);
    std::memcpy(out + done * element_bytes, out, n * element_bytes);
    done += n;
  }
}

// Elements of `got` that differ from the pattern starting at `phase`.
std::uint64_t count_wrong(const unsigned char* got, std::uint64_t count, std::size_t element_bytes, const Pattern& p,
                          std::uint64_t phase) {
  // One period laid out from `phase`: what every run of kPeriod elements of `got` must hold.
  std::vector<unsigned char> expect(kPeriod * element_bytes);
  fill(expect.data(), kPeriod, element_bytes, p, phase);
  std::uint64_t wrong = 0;
  for (std::uint64_t i = 0; i < count; i += kPeriod) {
    const std::uint64_t n = std::min(kPeriod, count - i);
    const unsigned char* g = got + i * element_bytes;
    if (std::memcmp(g, expect.data(), n * element_bytes) == 0) continue;
    for (std::uint64_t j = 0; j < n; ++j) {
      wrong += std::memcmp(g + j * element_bytes, expect.data() + j * element_bytes, element_bytes) != 0;
    }
  }
  return wrong;
}

// A 64-byte-aligned buffer, every page touched.
struct FreeDeleter {
  void operator()(unsigned char* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<unsigned char, FreeDeleter>;

Buffer allocate(std::uint64_t bytes) {
  const std::uint64_t rounded = std::max<std::uint64_t>(64, (bytes + 63) / 64 * 64);
  auto* p = static_cast<unsigned char*>(std::aligned_alloc(64, rounded));
  if (p == nullptr) throw std::runtime_error("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0xFF, rounded);  // NaN or -1 or the maximum: not what any check expects here
  return Buffer(p);
}

void fill_inputs(const Options& o, const SizeLayout& l, int rank, unsigned char* send) {
  const std::size_t es = collectives::dtype_size(o.dtype);
  if (o.collective == Collective::kBroadcast && rank != 0) return;
  fill(send, l.send_count, es, input_pattern(o, rank), 0);
}

std::uint64_t check_result(const Options& o, const SizeLayout& l, int rank, int ranks, const void* result) {
  const std::size_t es = collectives::dtype_size(o.dtype);
  const auto* got = static_cast<const unsigned char*>(result);
  const auto r = static_cast<std::uint64_t>(rank);
  switch (o.collective) {
    case Collective::kAllreduce:
      return count_wrong(got, l.recv_count, es, reduced_pattern(o, ranks), 0);
    case Collective::kReduceScatter:
      return count_wrong(got, l.recv_count, es, reduced_pattern(o, ranks), r * l.count % kPeriod);
    case Collective::kBroadcast:
      return count_wrong(got, l.recv_count, es, input_pattern(o, 0), 0);
    case Collective::kAllgather:
    case Collective::kAlltoall: {
      // Block q came from rank q: allgather its whole input, alltoall its block for this rank.
      const std::uint64_t phase = o.collective == Collective::kAlltoall ? r * l.count % kPeriod : 0;
      std::uint64_t wrong = 0;
      for (int q = 0; q < ranks; ++q) {
        wrong += count_wrong(got + static_cast<std::uint64_t>(q) * l.count * es, l.count, es, input_pattern(o, q),
                             phase);
      }
      return wrong;
    }
  }
  throw std::logic_error("check_result: invalid collective");
}

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Auto --iters: rank 0 times batches of 1, 2, 4 ... runs until one takes a tenth of the target,
// then every rank runs max(kMinAutoIters, target / time per run).
std::uint64_t calibrate_iters(Peer& peer, const Options& o) {
  constexpr std::uint64_t kMaxIters = 10'000'000;
  for (std::uint64_t batch = 1;; batch *= 2) {
    const Clock::time_point t0 = Clock::now();
    for (std::uint64_t i = 0; i < batch; ++i) peer.run();
    const double elapsed = seconds_since(t0);
    std::uint64_t decided = 0;  // 0: go on
    if (peer.rank() == 0 && (elapsed >= o.seconds / 10 || batch >= kMaxIters)) {
      const double per_run = elapsed / static_cast<double>(batch);
      const double want = per_run > 0 ? std::ceil(o.seconds / per_run) : static_cast<double>(kMaxIters);
      decided = std::clamp(static_cast<std::uint64_t>(std::min(want, 1e18)), kMinAutoIters, kMaxIters);
    }
    decided = peer.from_rank0(decided);
    if (decided != 0) return decided;
  }
}

std::string format_bytes(std::uint64_t b) {
  if (b >= (1u << 30) && b % (1u << 30) == 0) return std::to_string(b >> 30) + " GiB";
  if (b >= (1u << 20) && b % (1u << 20) == 0) return std::to_string(b >> 20) + " MiB";
  if (b >= (1u << 10) && b % (1u << 10) == 0) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

std::string busbw_text(Collective c) {
  switch (c) {
    case Collective::kAllreduce:
      return "algbw x 2(n-1)/n";
    case Collective::kBroadcast:
      return "algbw x 1";
    case Collective::kAllgather:
    case Collective::kReduceScatter:
    case Collective::kAlltoall:
      return "algbw x (n-1)/n";
  }
  return "?";
}

// Column widths: the header and the rows share them.
constexpr const char* kHeaderFormat = "%12s %9s %8s %7s %17s %11s %12s %12s %7s\n";
constexpr const char* kRowFormat = "%12llu %9llu %8s %7s %17s %11.2f %12.2f %12.2f %7s\n";

void print_header(const Options& o, const RunInfo& info, int ranks) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", o.seconds);
  const std::string iters = o.iters > 0 ? std::to_string(o.iters)
                                        : "auto (about " + std::string(seconds) + " s per size, at least " +
                                              std::to_string(kMinAutoIters) + ")";
  std::printf("# %s %s: impl %s, %d ranks, transport %s\n", info.program.c_str(),
              sv(collective_name(o.collective)).c_str(), info.impl.c_str(), ranks, info.transport.c_str());
  std::printf("# library: %s\n", info.library.c_str());
  std::printf("# sizes %s .. %s x%llu, iters %s, warm-up %llu, check %s\n", format_bytes(o.min_bytes).c_str(),
              format_bytes(o.max_bytes).c_str(), static_cast<unsigned long long>(o.step_factor), iters.c_str(),
              static_cast<unsigned long long>(o.warmup), o.check ? "on" : "off");
  std::printf("# time = elapsed/iters, mean over ranks; algbw = size/time; busbw = %s; GB/s = 1e9 B/s\n",
              busbw_text(o.collective).c_str());
  std::printf(kHeaderFormat, "#       size", "count", "type", "redop", "algorithm", "time(us)", "algbw(GB/s)",
              "busbw(GB/s)", "#wrong");
  std::fflush(stdout);
}

struct Row {
  SizeLayout layout;
  std::string algorithm;
  double time_s = 0;
  std::uint64_t iters = 0;
  std::optional<std::uint64_t> wrong;  // nullopt: --no-check
};

void print_row(const Options& o, const RunInfo& info, int ranks, const Row& row) {
  const double algbw = row.time_s > 0 ? static_cast<double>(row.layout.bytes) / row.time_s / 1e9 : 0;
  const double busbw = algbw * busbw_factor(o.collective, ranks);
  const std::string op = collective_reduces(o.collective) ? sv(collectives::reduce_op_name(o.op)) : "none";
  const std::string dtype = sv(collectives::dtype_name(o.dtype));
  if (o.json) {
    nlohmann::ordered_json j;
    j["impl"] = info.impl;
    j["collective"] = collective_name(o.collective);
    j["ranks"] = ranks;
    j["bytes"] = row.layout.bytes;
    j["count"] = row.layout.count;
    j["dtype"] = dtype;
    j["op"] = op;
    j["algorithm"] = row.algorithm;
    j["time_us"] = row.time_s * 1e6;
    j["algbw_gbps"] = algbw;
    j["busbw_gbps"] = busbw;
    j["wrong"] = row.wrong ? nlohmann::ordered_json(*row.wrong) : nlohmann::ordered_json(nullptr);
    j["iters"] = row.iters;
    std::printf("%s\n", j.dump().c_str());
  } else {
    const std::string wrong = row.wrong ? std::to_string(*row.wrong) : "N/A";
    std::printf(kRowFormat, static_cast<unsigned long long>(row.layout.bytes),
                static_cast<unsigned long long>(row.layout.count), dtype.c_str(), op.c_str(), row.algorithm.c_str(),
                row.time_s * 1e6, algbw, busbw, wrong.c_str());
  }
  std::fflush(stdout);
}

Row measure_size(Peer& peer, const Options& o, const SizeLayout& l) {
  const std::size_t es = collectives::dtype_size(o.dtype);
  Buffer send = allocate(l.send_count * es);
  Buffer recv = allocate(l.recv_count * es);
  fill_inputs(o, l, peer.rank(), send.get());
  const Prepared prepared = peer.prepare(o, l, send.get(), recv.get());

  Row row;
  row.layout = l;
  row.algorithm = prepared.algorithm;
  double wrong = 0;
  if (o.check) {
    peer.run();
    wrong = static_cast<double>(check_result(o, l, peer.rank(), peer.ranks(), prepared.result));
    // No rank starts its next run before every rank has finished this one, so the check judges
    // one run alone. (Gloo's ReduceScatterHalvingDoubling at a rank count that is not a power of
    // two gives wrong elements when a fast rank's next run overlaps a slow rank's current one.)
    peer.barrier();
  }
  for (std::uint64_t i = 0; i < o.warmup; ++i) peer.run();
  row.iters = o.iters > 0 ? o.iters : calibrate_iters(peer, o);

  peer.barrier();
  const Clock::time_point t0 = Clock::now();
  for (std::uint64_t i = 0; i < row.iters; ++i) peer.run();
  const double per_run = seconds_since(t0) / static_cast<double>(row.iters);

  std::vector<double> sums = {per_run, wrong};
  peer.sum_over_ranks(sums);
  row.time_s = sums[0] / peer.ranks();
  if (o.check) row.wrong = static_cast<std::uint64_t>(sums[1]);
  return row;
}

}  // namespace

std::string_view collective_name(Collective c) {
  const auto i = static_cast<std::size_t>(c);
  return i < kCollectiveNames.size() ? kCollectiveNames[i] : "?";
}

std::optional<Collective> parse_collective(std::string_view s) {
  for (std::size_t i = 0; i < kCollectiveNames.size(); ++i) {
    if (s == kCollectiveNames[i]) return static_cast<Collective>(i);
  }
  return std::nullopt;
}

bool collective_reduces(Collective c) { return c == Collective::kAllreduce || c == Collective::kReduceScatter; }

double busbw_factor(Collective c, int ranks) {
  const double n = ranks;
  switch (c) {
    case Collective::kAllreduce:
      return 2 * (n - 1) / n;
    case Collective::kAllgather:
    case Collective::kReduceScatter:
    case Collective::kAlltoall:
      return (n - 1) / n;
    case Collective::kBroadcast:
      return 1;
  }
  return 0;
}

std::optional<SizeLayout> layout_for(Collective c, std::uint64_t requested_bytes, std::size_t element_bytes,
                                     int ranks) {
  const std::uint64_t elements = requested_bytes / element_bytes;
  const auto n = static_cast<std::uint64_t>(ranks);
  SizeLayout l;
  switch (c) {
    case Collective::kAllreduce:
    case Collective::kBroadcast:
      if (elements == 0) return std::nullopt;
      l.count = l.send_count = l.recv_count = elements;
      l.bytes = elements * element_bytes;
      return l;
    case Collective::kAllgather:
    case Collective::kReduceScatter:
    case Collective::kAlltoall: {
      const std::uint64_t per_rank = elements / n;
      if (per_rank == 0) return std::nullopt;
      l.count = per_rank;
      l.send_count = c == Collective::kAllgather ? per_rank : per_rank * n;
      l.recv_count = c == Collective::kReduceScatter ? per_rank : per_rank * n;
      l.bytes = per_rank * n * element_bytes;
      return l;
    }
  }
  return std::nullopt;
}

std::vector<std::uint64_t> size_sweep(const Options& o) {
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t s = o.min_bytes; s <= o.max_bytes; s *= o.step_factor) {
    sizes.push_back(s);
    if (s > o.max_bytes / o.step_factor) break;  // the next one would pass max (or overflow)
  }
  return sizes;
}

std::optional<std::uint64_t> parse_bytes(std::string_view s) {
  std::uint64_t shift = 0;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) s.remove_suffix(1);
  }
  if (s.empty() || s.size() > 13) return std::nullopt;
  std::uint64_t v = 0;
  for (const char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  if (v > (std::uint64_t{1} << 40) >> shift) return std::nullopt;
  return v << shift;
}

int usage_error(const ProgramInfo& info, bool speak, const std::string& message) {
  if (speak) {
    std::fprintf(stderr, "%s: error: %s\nRun '%s --help' for usage.\n", info.program.c_str(), message.c_str(),
                 info.program.c_str());
  }
  return kExitUsage;
}

std::optional<int> parse_command_line(int argc, char** argv, const ProgramInfo& info, bool speak, Options& out) {
  CLI::App app{info.summary, info.program};
  app.footer(info.footer);
  app.get_formatter()->column_width(30);

  std::string collective_text;
  std::string min_text = "8";
  std::string max_text = "256M";
  std::string dtype_text = "float";
  std::string op_text = "sum";
  Options o;
  app.add_option("COLLECTIVE", collective_text, "allreduce | allgather | reducescatter | broadcast | alltoall")
      ->required();
  app.add_option("--min-bytes", min_text, "first size S in bytes; K, M, G suffixes are powers of 1024")
      ->capture_default_str();
  app.add_option("--max-bytes", max_text, "last size S (inclusive)")->capture_default_str();
  app.add_option("--step-factor", o.step_factor, "multiply S by this between sizes (integer >= 2)")
      ->capture_default_str();
  app.add_option("--dtype", dtype_text,
                 "element type (nccl-tests names): float double half bfloat16 int8 int16 int32 int64 uint8 "
                 "uint16 uint32 uint64, or f32 f64 f16 bf16 i8 .. u64")
      ->capture_default_str();
  app.add_option("--op", op_text, "reduction for allreduce and reducescatter: sum prod min max (avg)")
      ->capture_default_str();
  app.add_option("--iters", o.iters, "timed runs per size; 0 = auto: about --seconds, at least 5, chosen by rank 0")
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "auto --iters: target timed duration per size")->capture_default_str();
  app.add_option("--warmup", o.warmup, "untimed runs per size, after the check")->capture_default_str();
  app.add_flag("--json", o.json,
               "one JSON object per size and line: impl collective ranks bytes count dtype op algorithm time_us "
               "algbw_gbps busbw_gbps wrong iters");
  app.add_option("--label", o.label, "the impl column (default: the library and transport, e.g. openmpi-tcp)");
  app.add_flag_callback("--check", [&o] { o.check = true; },
                        "compare one run per size with the expected result before timing (the default)");
  app.add_flag_callback("--no-check", [&o] { o.check = false; }, "skip that check (#wrong prints N/A)");
  if (info.add_options) info.add_options(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      if (speak) app.exit(e);
      return kExitOk;
    }
    return usage_error(info, speak, e.what());
  }

  const std::optional<Collective> collective = parse_collective(collective_text);
  if (!collective) {
    return usage_error(info, speak,
                       "COLLECTIVE: unknown collective '" + collective_text +
                           "' (available: allreduce, allgather, reducescatter, broadcast, alltoall)");
  }
  o.collective = *collective;
  constexpr const char* kSizeForms = "is not a size from 1 to 1T (N, NK, NM or NG; K = 1024)";
  const std::optional<std::uint64_t> min_bytes = parse_bytes(min_text);
  if (!min_bytes || *min_bytes == 0) {
    return usage_error(info, speak, "--min-bytes: '" + min_text + "' " + kSizeForms);
  }
  const std::optional<std::uint64_t> max_bytes = parse_bytes(max_text);
  if (!max_bytes || *max_bytes == 0) {
    return usage_error(info, speak, "--max-bytes: '" + max_text + "' " + kSizeForms);
  }
  if (*min_bytes > *max_bytes) {
    return usage_error(info, speak, "--min-bytes (" + min_text + ") is larger than --max-bytes (" + max_text + ")");
  }
  o.min_bytes = *min_bytes;
  o.max_bytes = *max_bytes;
  if (o.step_factor < 2) {
    return usage_error(info, speak, "--step-factor: " + std::to_string(o.step_factor) + " is not an integer >= 2");
  }
  const std::optional<DataType> dtype = collectives::parse_dtype(dtype_text);
  if (!dtype) {
    return usage_error(info, speak,
                       "--dtype: unknown dtype '" + dtype_text +
                           "' (available: float double half bfloat16 int8 int16 int32 int64 uint8 uint16 uint32 "
                           "uint64)");
  }
  o.dtype = *dtype;
  const std::optional<ReduceOp> op = collectives::parse_reduce_op(op_text);
  if (!op) return usage_error(info, speak, "--op: unknown op '" + op_text + "' (available: sum prod min max avg)");
  o.op = *op;
  if (!(o.seconds > 0) || o.seconds > 3600) {
    return usage_error(info, speak, "--seconds: " + std::to_string(o.seconds) + " is not in (0, 3600]");
  }
  if (info.unsupported) {
    if (const std::optional<std::string> why = info.unsupported(o)) return usage_error(info, speak, *why);
  }
  out = o;
  return std::nullopt;
}

int run_sweep(Peer& peer, const Options& o, const RunInfo& info) {
  const int rank = peer.rank();
  const int ranks = peer.ranks();
  if (rank == 0 && !o.json) print_header(o, info, ranks);
  bool all_right = true;
  for (const std::uint64_t size : size_sweep(o)) {
    const std::optional<SizeLayout> layout = layout_for(o.collective, size, collectives::dtype_size(o.dtype), ranks);
    if (!layout) {
      if (rank == 0 && !o.json) {
        std::printf("# %llu B: skipped (less than one %s per rank)\n", static_cast<unsigned long long>(size),
                    sv(collectives::dtype_name(o.dtype)).c_str());
        std::fflush(stdout);
      }
      continue;
    }
    Row row;
    try {
      row = measure_size(peer, o, *layout);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: rank %d: %s of %llu bytes (%s) failed: %s\n", info.program.c_str(), rank,
                   sv(collective_name(o.collective)).c_str(), static_cast<unsigned long long>(layout->bytes),
                   sv(collectives::dtype_name(o.dtype)).c_str(), e.what());
      std::fflush(stderr);
      peer.abort_all();
    }
    if (row.wrong && *row.wrong != 0) {
      all_right = false;
      if (rank == 0) {
        std::fprintf(stderr, "%s: %s of %llu bytes (%s): %llu elements wrong over %d ranks\n", info.program.c_str(),
                     sv(collective_name(o.collective)).c_str(), static_cast<unsigned long long>(layout->bytes),
                     sv(collectives::dtype_name(o.dtype)).c_str(), static_cast<unsigned long long>(*row.wrong), ranks);
      }
    }
    if (rank == 0) print_row(o, info, ranks, row);
  }
  return all_right ? kExitOk : kExitFailed;
}

std::optional<long> env_long(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0') return std::nullopt;
  return x;
}

}  // namespace weft::bench::peers
