// dpdk_memif_bench: raw memif throughput (plain, touching every byte, and through DpdkDatapath)
// against weft-over-memif goodput (1 MiB and 64 MiB messages), 9000 B frames, two processes per measurement, runs interleaved; prints every run
// and the medians, and the ratio weft / raw (issue 3 acceptance: >= 0.6 for 1 MiB messages).
//
//   dpdk_memif_bench [--runs N] [--seconds S] [--frame B] [--weft-count-1m N] [--weft-count-64m N]
//                    [--no-vlan] [--rto-min-us US] [--no-cc] [--no-pacing] [--window-bytes B]
// Exit status: 0 when every run completed and verified, 1 otherwise (the ratio is reported, not
// enforced: on a shared 2-core machine it swings with load).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/baselines/memif_baseline.h"

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool raw_only = false, weft_only = false;
  double seconds = 2.0;
  std::size_t frame = 9000, count_1m = 64, count_64m = 2;
  bool vlan = true;
  weft::transport::EndpointConfig endpoint;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dpdk_memif_bench: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--runs") runs = std::stoi(val());
    else if (k == "--seconds") seconds = std::stod(val());
    else if (k == "--frame") frame = std::stoul(val());
    else if (k == "--weft-count-1m") count_1m = std::stoul(val());
    else if (k == "--weft-count-64m") count_64m = std::stoul(val());
    else if (k == "--no-vlan") vlan = false;
    else if (k == "--raw-only") raw_only = true;
    else if (k == "--weft-only") weft_only = true;
    else if (k == "--rto-min-us") endpoint.rto_min_us = static_cast<std::uint32_t>(std::stoul(val()));
    else if (k == "--no-cc") endpoint.congestion_control = false;
    else if (k == "--no-pacing") endpoint.pacing = false;
    else if (k == "--window-bytes") endpoint.window_bytes = static_cast<std::uint32_t>(std::stoul(val()));
    else {
      std::fprintf(stderr, "dpdk_memif_bench: unknown argument '%s'\n", k.c_str());
      return 2;
    }
  }
  std::vector<double> raw, raw_touch, dpath, w1, w64;
  bool ok = true;
  std::printf("%-4s %-28s %10s %10s %12s\n", "run", "measurement", "Gb/s", "Mpps", "retransmits");
  for (int r = 0; r < runs; ++r) {
    try {
      for (int variant = 0; variant < 3 && !weft_only; ++variant) {
        weft::bench::RawMemifOptions ro;
        ro.run.frame_bytes = frame;
        ro.seconds = seconds;
        ro.touch = variant == 1;
        ro.through_datapath = variant == 2;
        auto a = weft::bench::raw_memif_throughput(ro);
        (variant == 0 ? raw : variant == 1 ? raw_touch : dpath).push_back(a.gbps);
        const char* names[] = {"raw memif blast", "raw memif blast, touch", "DpdkDatapath blast"};
        std::printf("%-4d %-28s %10.2f %10.3f %12s\n", r, names[variant], a.gbps, a.mpps, "-");
      }
      struct Case {
        std::size_t bytes, count;
        std::vector<double>* sink;
      };
      for (const Case& c : {Case{std::size_t{1} << 20, count_1m, &w1}, Case{std::size_t{64} << 20, count_64m, &w64}}) {
        if (raw_only) break;
        const std::size_t bytes = c.bytes, count = c.count;
        std::vector<double>* sink = c.sink;
        weft::bench::WeftMemifOptions wo;
        wo.run.frame_bytes = frame;
        wo.message_bytes = bytes;
        wo.messages = count;
        wo.vlan_priority = vlan;
        wo.endpoint = endpoint;
        auto w = weft::bench::weft_memif_goodput(wo);
        sink->push_back(w.gbps);
        const std::string name = "weft " + std::to_string(bytes >> 20) + " MiB x " + std::to_string(count);
        std::printf("%-4d %-28s %10.2f %10s %12llu\n", r, name.c_str(), w.gbps, "-",
                    static_cast<unsigned long long>(w.retransmits));
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "run %d failed: %s\n", r, e.what());
      ok = false;
    }
  }
  const double m_raw = median(raw), m_touch = median(raw_touch), m_dp = median(dpath), m1 = median(w1),
               m64 = median(w64);
  std::printf("\nmedians of %d runs, %zu B frames:\n", runs, frame);
  std::printf("  raw memif        %8.2f Gb/s\n  raw memif, touch %8.2f Gb/s\n", m_raw, m_touch);
  std::printf("  DpdkDatapath     %8.2f Gb/s   %.2fx raw\n", m_dp, m_raw > 0 ? m_dp / m_raw : 0);
  std::printf("  weft 1 MiB       %8.2f Gb/s   %.2fx raw, %.2fx raw-touch\n", m1, m_raw > 0 ? m1 / m_raw : 0,
              m_touch > 0 ? m1 / m_touch : 0);
  std::printf("  weft 64 MiB      %8.2f Gb/s   %.2fx raw, %.2fx raw-touch\n", m64, m_raw > 0 ? m64 / m_raw : 0,
              m_touch > 0 ? m64 / m_touch : 0);
  return ok ? 0 : 1;
}
