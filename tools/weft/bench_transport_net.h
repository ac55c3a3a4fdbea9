// `weft bench transport --datapath udp|dpdk`: weft between two real processes, beside the raw
// baselines of the same datapath measured in the same run, runs interleaved, medians reported.
#pragma once

#include <cstdint>

namespace weft::tools {

struct NetBenchOptions {
  int repeat = 5;                     // interleaved rounds; medians over them
  // About as long as the raw baselines run (1 s each): short runs would measure start-up (first
  // touches of fresh buffers, slow start) rather than the steady state the baselines report.
  std::uint64_t bytes_per_run = 2048ull << 20;
  std::uint32_t message_bytes = 1u << 20;
  bool json = false;
  bool quiet = false;
};

int run_bench_udp(const NetBenchOptions& o);
// Returns kExitUsage with a clear message when the program was built without DPDK.
int run_bench_dpdk(const NetBenchOptions& o);

}  // namespace weft::tools
