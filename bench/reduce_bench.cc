// reduce_bench: throughput of the reduction kernels (weft/collectives/reduce.h) per dtype, op and
// instruction-set variant, beside memcpy of the same buffer size measured in the same run.
//
// Each row times reduce_into(acc, in, count) over one buffer of --bytes, repeated for about
// --seconds split into 5 samples, and prints the median in GB/s (1e9 bytes of `in` per second).
// Before a row is timed, the variant's result on the row's data is compared byte for byte with
// the scalar variant's; a mismatch ends the run with status 1.
//
// The default 16 MiB per buffer (two buffers, acc and in) is chosen to be resident in the
// last-level cache of a current server CPU, so that rows compare kernels rather than DRAM. Where
// the L3 is smaller or slow (a VM's share of it, say), every vector row converges on memory
// bandwidth and memcpy's ratio; --bytes 1048576 (L2-resident) shows the kernels' own speed. Input values are in [1, 2) for floating types (sums and products never
// become subnormal, whose slow paths would time the CPU's microcode rather than the kernel) and
// random bits for integers.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "weft/collectives/reduce.h"

namespace {

using namespace weft::collectives;

constexpr int kSamples = 5;

constexpr std::string_view kUsage = R"(usage: reduce_bench [options]
Times reduce_into(acc, in) per dtype x op x instruction set, beside memcpy of the same size.

  --bytes N       bytes per buffer (default 16777216 = 16 MiB: two such buffers fit a server's
                  L3; 1048576 fits L2 and shows compute-bound kernels)
  --seconds S     time per row, split into 5 samples whose median is printed (default 0.2)
  --dtype LIST    comma-separated dtypes, or all (default): float double half bfloat16 int8
                  int16 int32 int64 uint8 uint16 uint32 uint64 (also f32 bf16 i8 ... u64)
  --op LIST       comma-separated ops, or all (default): sum prod min max avg
                  (avg accumulates as sum: its kernel is sum's)
  --isa LIST      comma-separated variants, or all (default: those this CPU runs):
                  scalar avx2 avx512
  --help          this text

GB/s counts bytes of `in` per second. reduce_into reads acc and in and writes acc (3 bytes
moved per byte counted); memcpy reads and writes once (2).
Exit status: 0, 1 if a variant's result differs from the scalar one, 2 on a bad argument.
)";

struct Options {
  std::size_t bytes = 16u << 20;
  double seconds = 0.2;
  std::vector<DataType> dtypes{kAllDataTypes.begin(), kAllDataTypes.end()};
  std::vector<ReduceOp> ops{kAllReduceOps.begin(), kAllReduceOps.end()};
  std::vector<ReduceIsa> isas;  // empty: every supported one
};

[[noreturn]] void bad_argument(const std::string& message) {
  std::fprintf(stderr, "reduce_bench: %s (try --help)\n", message.c_str());
  std::exit(2);
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t comma = s.find(',');
    parts.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    s.remove_prefix(comma + 1);
  }
}

// Parses a LIST argument with `parse` (returning optional<T>); "all" gives `all`.
template <class T, class Parse>
std::vector<T> parse_list(std::string_view flag, std::string_view value, std::string_view what, Parse parse,
                          const std::vector<T>& all) {
  if (value == "all") return all;
  std::vector<T> out;
  for (const std::string_view name : split_commas(value)) {
    const std::optional<T> v = parse(name);
    if (!v) bad_argument(std::string(flag) + ": unknown " + std::string(what) + " '" + std::string(name) + "'");
    if (std::find(out.begin(), out.end(), *v) == out.end()) out.push_back(*v);
  }
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    }
    std::string_view value;
    if (const std::size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--bytes" || arg == "--seconds" || arg == "--dtype" || arg == "--op" || arg == "--isa") {
      if (i + 1 == argc) bad_argument(std::string(arg) + " needs a value");
      value = argv[++i];
    } else {
      bad_argument("unknown argument '" + std::string(arg) + "'");
    }
    if (arg == "--bytes") {
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || end != value.data() + value.size() || n < 8 || n > (std::uint64_t{1} << 36)) {
        bad_argument("--bytes '" + std::string(value) + "' is not a byte count from 8 to 2^36");
      }
      o.bytes = static_cast<std::size_t>(n);
    } else if (arg == "--seconds") {
      // std::from_chars for double is in libstdc++ 11+.
      double s = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
      if (ec != std::errc{} || end != value.data() + value.size() || !(s > 0) || s > 60) {
        bad_argument("--seconds '" + std::string(value) + "' is not a duration in (0, 60]");
      }
      o.seconds = s;
    } else if (arg == "--dtype") {
      o.dtypes = parse_list<DataType>("--dtype", value, "dtype", parse_dtype,
                                      {kAllDataTypes.begin(), kAllDataTypes.end()});
    } else if (arg == "--op") {
      o.ops = parse_list<ReduceOp>("--op", value, "op", parse_reduce_op, {kAllReduceOps.begin(), kAllReduceOps.end()});
    } else if (arg == "--isa") {
      o.isas = parse_list<ReduceIsa>("--isa", value, "instruction set", parse_reduce_isa, {});
      for (const ReduceIsa isa : o.isas) {
        if (!reduce_isa_supported(isa)) {
          bad_argument("--isa " + std::string(reduce_isa_name(isa)) + ": this CPU (or build) cannot run it");
        }
      }
    } else {
      bad_argument("unknown argument '" + std::string(arg) + "'");
    }
  }
  return o;
}

using Clock = std::chrono::steady_clock;

// Median over kSamples of bytes_per_call * calls / elapsed, each sample running `call` for about
// seconds / kSamples (at least once). GB/s.
template <class Call>
double median_gbytes_s(std::size_t bytes_per_call, double seconds, Call call) {
  double samples[kSamples];
  for (double& gbs : samples) {
    std::uint64_t calls = 0;
    const Clock::time_point start = Clock::now();
    double elapsed = 0;
    do {
      call();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / kSamples);
    gbs = static_cast<double>(bytes_per_call) * static_cast<double>(calls) / elapsed / 1e9;
  }
  std::sort(samples, samples + kSamples);
  return samples[kSamples / 2];
}

// Fills `count` elements of `dtype`: [1, 2) for floating types, random bits for integers.
void fill(unsigned char* p, std::size_t count, DataType dtype, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(1.0, 2.0);
  for (std::size_t i = 0; i < count; ++i) {
    unsigned char* e = p + i * dtype_size(dtype);
    switch (dtype) {
      case DataType::kF32: {
        const auto v = static_cast<float>(unit(rng));
        std::memcpy(e, &v, sizeof v);
        break;
      }
      case DataType::kF64: {
        const double v = unit(rng);
        std::memcpy(e, &v, sizeof v);
        break;
      }
      case DataType::kF16: {
        const auto v = static_cast<std::uint16_t>(0x3C00u | (rng() & 0x3FFu));  // 1.xxx in binary16
        std::memcpy(e, &v, sizeof v);
        break;
      }
      case DataType::kBF16: {
        const auto v = static_cast<std::uint16_t>(0x3F80u | (rng() & 0x7Fu));  // 1.xxx in bfloat16
        std::memcpy(e, &v, sizeof v);
        break;
      }
      default: {
        const std::uint64_t v = rng();
        std::memcpy(e, &v, dtype_size(dtype));
        break;
      }
    }
  }
}

// memcpy behind a function of our own, called through a volatile pointer below, so that the
// compiler can neither merge nor elide the repeated copies.
[[gnu::noinline]] void copy_bytes(void* dst, const void* src, std::size_t n) { std::memcpy(dst, src, n); }

// A 64-byte-aligned region of a vector (so runs do not depend on where malloc put it).
unsigned char* aligned(std::vector<unsigned char>& v) {
  const auto address = reinterpret_cast<std::uintptr_t>(v.data());
  return v.data() + ((64 - address % 64) % 64);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  std::vector<ReduceIsa> isas = o.isas;
  std::vector<std::string> skipped;
  if (isas.empty()) {
    for (std::size_t i = 0; i < kReduceIsaCount; ++i) {
      const auto isa = static_cast<ReduceIsa>(i);
      if (reduce_isa_supported(isa)) {
        isas.push_back(isa);
      } else {
        skipped.emplace_back(reduce_isa_name(isa));
      }
    }
  }

  std::vector<unsigned char> acc_store(o.bytes + 64), in_store(o.bytes + 64), ref_store(o.bytes + 64),
      got_store(o.bytes + 64);
  unsigned char* const acc = aligned(acc_store);
  unsigned char* const in = aligned(in_store);
  unsigned char* const ref = aligned(ref_store);
  unsigned char* const got = aligned(got_store);
  std::mt19937_64 rng(20240613);
  fill(in, o.bytes, DataType::kU8, rng);

  void (*volatile copy)(void*, const void*, std::size_t) = copy_bytes;
  const double memcpy_gbs = median_gbytes_s(o.bytes, o.seconds, [&] { copy(acc, in, o.bytes); });

  std::printf("# reduce_into, %zu bytes per buffer, %.3g s per row, median of %d samples; variant chosen "
              "by default here: %.*s\n",
              o.bytes, o.seconds, kSamples, static_cast<int>(reduce_isa().size()), reduce_isa().data());
  std::printf("# GB/s = bytes of `in` per second (reduce_into moves 3 bytes per byte counted, memcpy 2)\n");
  for (const std::string& s : skipped) std::printf("# skipped %s: this CPU (or build) cannot run it\n", s.c_str());
  std::printf("# memcpy %zu bytes: %.2f GB/s\n", o.bytes, memcpy_gbs);
  std::printf("%-9s %-5s %-7s %9s %10s\n", "dtype", "op", "isa", "GB/s", "vs memcpy");

  for (const DataType dtype : o.dtypes) {
    const std::size_t count = o.bytes / dtype_size(dtype);
    const std::size_t used = count * dtype_size(dtype);
    for (const ReduceOp op : o.ops) {
      // Check every variant against the scalar one on fresh inputs, then time them (timing
      // overwrites acc).
      fill(acc, count, dtype, rng);
      fill(in, count, dtype, rng);
      if (!set_reduce_isa(ReduceIsa::kScalar)) return 1;
      reduce_out(ref, acc, in, count, dtype, op);
      for (const ReduceIsa isa : isas) {
        if (!set_reduce_isa(isa)) return 1;
        reduce_out(got, acc, in, count, dtype, op);
        if (std::memcmp(ref, got, used) != 0) {
          std::fprintf(stderr, "reduce_bench: %.*s %.*s on %.*s differs from the scalar variant\n",
                       static_cast<int>(dtype_name(dtype).size()), dtype_name(dtype).data(),
                       static_cast<int>(reduce_op_name(op).size()), reduce_op_name(op).data(),
                       static_cast<int>(reduce_isa_name(isa).size()), reduce_isa_name(isa).data());
          return 1;
        }
      }
      for (const ReduceIsa isa : isas) {
        if (!set_reduce_isa(isa)) return 1;
        const double gbs = median_gbytes_s(used, o.seconds, [&] { reduce_into(acc, in, count, dtype, op); });
        std::printf("%-9.*s %-5.*s %-7.*s %9.2f %10.2f\n", static_cast<int>(dtype_name(dtype).size()),
                    dtype_name(dtype).data(), static_cast<int>(reduce_op_name(op).size()), reduce_op_name(op).data(),
                    static_cast<int>(reduce_isa_name(isa).size()), reduce_isa_name(isa).data(), gbs,
                    gbs / memcpy_gbs);
        std::fflush(stdout);
      }
    }
  }
  reset_reduce_isa();
  return 0;
}
