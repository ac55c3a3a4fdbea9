// Public entry points of the reduction kernels and the choice of instruction-set variant. The
// kernels themselves are in reduce_kernels.inc, compiled once per variant by reduce_scalar.cc,
// reduce_avx2.cc and reduce_avx512.cc.
#include "weft/collectives/reduce.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "collectives/reduce_kernels.h"

#if WEFT_REDUCE_X86
#include <cpuid.h>
#endif

namespace weft::collectives {
namespace {

using detail::ReduceKernels;

[[noreturn]] void die(const char* function, const char* what, unsigned value) {
  std::fprintf(stderr, "weft collectives: %s: %s (value %u); this is a bug in the caller\n", function, what, value);
  std::abort();
}

constexpr std::string_view kIsaNames[kReduceIsaCount] = {"scalar", "avx2", "avx512"};

const ReduceKernels* kernels_of(ReduceIsa isa) {
  switch (isa) {
    case ReduceIsa::kScalar: return &detail::kScalarKernels;
#if WEFT_REDUCE_X86
    case ReduceIsa::kAvx2: return &detail::kAvx2Kernels;
    case ReduceIsa::kAvx512: return &detail::kAvx512Kernels;
#else
    case ReduceIsa::kAvx2:
    case ReduceIsa::kAvx512: return nullptr;
#endif
  }
  return nullptr;
}

// What this CPU and OS can run. __builtin_cpu_supports also checks that the OS saves the YMM/ZMM
// state (XCR0); F16C is read from CPUID leaf 1 because Clang's builtin does not know "f16c".
bool cpu_runs(ReduceIsa isa) {
#if WEFT_REDUCE_X86
  __builtin_cpu_init();
  const auto has_f16c = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  };
  switch (isa) {
    case ReduceIsa::kScalar: return true;
    case ReduceIsa::kAvx2: return __builtin_cpu_supports("avx2") && has_f16c();
    case ReduceIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && has_f16c();
  }
  return false;
#else
  return isa == ReduceIsa::kScalar;
#endif
}

ReduceIsa find_best() {
  for (const ReduceIsa isa : {ReduceIsa::kAvx512, ReduceIsa::kAvx2}) {
    if (reduce_isa_supported(isa)) return isa;
  }
  return ReduceIsa::kScalar;
}

// The best variant, or the one WEFT_REDUCE_ISA names if this CPU runs it.
ReduceIsa choose_from_environment() {
  std::string message;
  const ReduceIsa isa = detail::choose_isa(std::getenv("WEFT_REDUCE_ISA"), best_reduce_isa(), &reduce_isa_supported, message);
  if (!message.empty()) std::fprintf(stderr, "weft collectives: %s\n", message.c_str());
  return isa;
}

ReduceIsa environment_isa() {
  static const ReduceIsa isa = choose_from_environment();  // once, thread-safe
  return isa;
}

// set_reduce_isa's choice; kNoOverride when there is none.
constexpr unsigned kNoOverride = 0xFF;
std::atomic<unsigned> g_override{kNoOverride};

const ReduceKernels& active_kernels() { return *kernels_of(active_reduce_isa()); }

void check(const char* function, DataType dtype) {
  if (!dtype_valid(dtype)) die(function, "invalid DataType", static_cast<unsigned>(dtype));
}

std::size_t combine_index(const char* function, ReduceOp op) {
  if (!reduce_op_valid(op)) die(function, "invalid ReduceOp", static_cast<unsigned>(op));
  return static_cast<std::size_t>(op == ReduceOp::kAvg ? ReduceOp::kSum : op);
}

}  // namespace

void reduce_into(void* acc, const void* in, std::size_t count, DataType dtype, ReduceOp op) {
  check("reduce_into", dtype);
  const std::size_t o = combine_index("reduce_into", op);
  if (count == 0) return;
  active_kernels().combine[static_cast<std::size_t>(dtype)][o](acc, acc, in, count);
}

void reduce_out(void* out, const void* a, const void* b, std::size_t count, DataType dtype, ReduceOp op) {
  check("reduce_out", dtype);
  const std::size_t o = combine_index("reduce_out", op);
  if (count == 0) return;
  active_kernels().combine[static_cast<std::size_t>(dtype)][o](out, a, b, count);
}

void finish_avg(void* buf, std::size_t count, DataType dtype, std::size_t ranks) {
  check("finish_avg", dtype);
  if (ranks == 0) die("finish_avg", "ranks must be at least 1", 0);
  if (count == 0) return;
  active_kernels().divide[static_cast<std::size_t>(dtype)](buf, count, ranks);
}

std::string_view reduce_isa_name(ReduceIsa isa) {
  const auto i = static_cast<std::size_t>(isa);
  return i < kReduceIsaCount ? kIsaNames[i] : "?";
}

std::optional<ReduceIsa> parse_reduce_isa(std::string_view s) {
  for (std::size_t i = 0; i < kReduceIsaCount; ++i) {
    if (s == kIsaNames[i]) return static_cast<ReduceIsa>(i);
  }
  return std::nullopt;
}

bool reduce_isa_supported(ReduceIsa isa) {
  return static_cast<std::size_t>(isa) < kReduceIsaCount && kernels_of(isa) != nullptr && cpu_runs(isa);
}

ReduceIsa best_reduce_isa() {
  static const ReduceIsa best = find_best();
  return best;
}

ReduceIsa active_reduce_isa() {
  const unsigned forced = g_override.load(std::memory_order_relaxed);
  return forced == kNoOverride ? environment_isa() : static_cast<ReduceIsa>(forced);
}

std::string_view reduce_isa() { return reduce_isa_name(active_reduce_isa()); }

bool set_reduce_isa(ReduceIsa isa) {
  if (!reduce_isa_supported(isa)) return false;
  g_override.store(static_cast<unsigned>(isa), std::memory_order_relaxed);
  return true;
}

void reset_reduce_isa() { g_override.store(kNoOverride, std::memory_order_relaxed); }

namespace detail {

ReduceIsa choose_isa(const char* env, ReduceIsa best, bool (*supported)(ReduceIsa), std::string& message) {
  message.clear();
  if (env == nullptr || *env == '\0') return best;
  const std::optional<ReduceIsa> wanted = parse_reduce_isa(env);
  const std::string best_name(reduce_isa_name(best));
  if (!wanted) {
    message = std::string("WEFT_REDUCE_ISA=") + env + " is not one of scalar, avx2, avx512; using " + best_name;
    return best;
  }
  if (!supported(*wanted)) {
    message = std::string("WEFT_REDUCE_ISA=") + env + ", but this CPU (or this build) cannot run it; using " + best_name;
    return best;
  }
  return *wanted;
}

}  // namespace detail

}  // namespace weft::collectives
