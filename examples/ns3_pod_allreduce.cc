// ns3_pod_allreduce: an 8-accelerator scale-up pod in ns-3 — eight hosts on one Ethernet switch,
// each running weft's real transport and collective engine — doing one all-reduce.
//
//   build/default/examples/ns3_pod_allreduce                       # 8 ranks, 1 MiB, seed 1
//   build/default/examples/ns3_pod_allreduce --ranks 16 --bytes 4194304 --loss 0.01 --seed 7
//
// What to notice:
//  - Nothing of the protocol is re-implemented for the simulator: each host is a weft Endpoint
//    plus the collective Engine, the same code a real rank runs, behind a small facade
//    (sim/facade/weft_ns3_facade.h); ns-3 supplies the devices, cables, switch and virtual time.
//  - The run is deterministic: the seed is printed, and the same seed gives the same run to the
//    nanosecond (frame losses come from per-port generators seeded from it).
//  - Every element of the result is checked on every rank (#wrong), and every frame is
//    accounted for (delivered, lost on a wire, dropped at a queue, or still in flight).
//  - The ideal time is the bandwidth bound: busbw factor x S / link rate (2(n-1)/n x S / B for an
//    all-reduce); the ratio shows what latency, segmenting, headers and loss recovery cost.
//
// Exit status: 0 when every rank finished with no wrong element, 1 otherwise, 2 usage error.
// C++17: it includes ns-3's headers (see sim/CMakeLists.txt).
#include <chrono>
#include <cstdio>
#include <exception>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ns3/simulator.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-fabric.h"

namespace {

struct Options {
  int ranks = 8;
  std::size_t bytes = 1u << 20;
  std::string algorithm = "auto";
  double rate_gbps = 100.0, delay_us = 1.0, loss = 0.0;
  std::uint64_t queue_bytes = 1u << 20, seed = 1;
  std::string pcap;  // capture every frame into this file
};

int usage(const char* argv0, const std::string& why, std::FILE* to = stderr) {
  std::fprintf(to,
               "%s%s"
               "usage: %s [--ranks N] [--bytes S] [--algorithm A] [--rate-gbps G] [--delay-us D]\n"
               "          [--queue-bytes Q] [--loss P] [--seed N] [--pcap FILE]\n"
               "  an all-reduce of S bytes (float sum) on N hosts behind one switch, links of G Gb/s and D us,\n"
               "  switch egress queues of Q bytes, each frame lost with probability P (default: 8 ranks,\n"
               "  1 MiB, auto, 100 Gb/s, 1 us, 1 MiB, 0, seed 1); --pcap writes every frame put on a wire\n",
               why.c_str(), why.empty() ? "" : "\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(argv[0], "", stdout);
      return 0;
    }
    if (i + 1 >= argc) return usage(argv[0], "ns3_pod_allreduce: " + a + " needs a value");
    const std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--ranks") o.ranks = static_cast<int>(std::strtol(v.c_str(), &end, 10));
    else if (a == "--bytes") o.bytes = std::strtoull(v.c_str(), &end, 10);
    else if (a == "--algorithm") o.algorithm = v, end = const_cast<char*>(v.c_str() + v.size());
    else if (a == "--rate-gbps") o.rate_gbps = std::strtod(v.c_str(), &end);
    else if (a == "--delay-us") o.delay_us = std::strtod(v.c_str(), &end);
    else if (a == "--queue-bytes") o.queue_bytes = std::strtoull(v.c_str(), &end, 10);
    else if (a == "--loss") o.loss = std::strtod(v.c_str(), &end);
    else if (a == "--seed") o.seed = std::strtoull(v.c_str(), &end, 10);
    else if (a == "--pcap") o.pcap = v, end = const_cast<char*>(v.c_str() + v.size());
    else return usage(argv[0], "ns3_pod_allreduce: unknown option " + a);
    if (end == nullptr || *end != '\0') return usage(argv[0], "ns3_pod_allreduce: " + a + " '" + v + "' is not a number");
  }
  if (o.ranks < 2 || o.ranks > 1024) return usage(argv[0], "ns3_pod_allreduce: --ranks must be 2..1024");
  if (o.bytes < 4 || !(o.rate_gbps > 0) || !(o.delay_us >= 0) || !(o.loss >= 0 && o.loss < 1)) {
    return usage(argv[0], "ns3_pod_allreduce: --bytes >= 4, --rate-gbps > 0, --delay-us >= 0, 0 <= --loss < 1");
  }

  const auto wall0 = std::chrono::steady_clock::now();
  ns3::WeftFabric fabric;
  if (!o.pcap.empty()) {
    try {
      fabric.EnablePcap(o.pcap);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ns3_pod_allreduce: %s\n", e.what());
      return 2;
    }
  }
  std::vector<weft::ns3sim::CollectiveHost*> ranks;
  for (int r = 0; r < o.ranks; ++r) {
    weft::ns3sim::CollectiveHostOptions h;
    h.rank = r;
    h.size = o.ranks;
    h.seed = o.seed;
    h.alpha_us = o.delay_us * 2 + 1;  // the cost model's view: two hops and some software
    h.beta_gbps = o.rate_gbps / 8;    // bytes per ns
    auto core = weft::ns3sim::CollectiveHost::create(h);
    ranks.push_back(core.get());
    fabric.AddHost(std::move(core), static_cast<std::uint32_t>(r + 1));
  }
  ns3::WeftSwitch::Options so;
  so.queue_limit_bytes = o.queue_bytes;
  const int sw = fabric.AddSwitch(so);
  ns3::WeftFabric::LinkOptions link;
  link.rate_gbps = o.rate_gbps;
  link.delay_us = o.delay_us;
  link.loss = o.loss;
  link.loss_seed = o.seed;
  for (int r = 0; r < o.ranks; ++r) fabric.Connect(r, sw, link);
  fabric.BuildRoutes();

  weft::ns3sim::CollectiveSpec spec;
  spec.bytes = o.bytes;
  spec.algorithm = o.algorithm;
  auto all_done = [&ranks] {
    for (auto* r : ranks) {
      if (!r->done()) return false;
    }
    return true;
  };
  for (int r = 0; r < o.ranks; ++r) {
    fabric.Host(r)->SetAfterEvent([&all_done] {
      if (all_done()) ns3::Simulator::Stop();
    });
  }
  bool started = true;
  std::string start_error;
  ns3::Simulator::Schedule(ns3::NanoSeconds(0), [&] {
    for (auto* r : ranks) {
      if (!r->start(spec, 0)) {
        started = false;
        start_error = r->error();
      }
    }
    fabric.ActivityAll();
  });
  ns3::Simulator::Stop(ns3::Seconds(10));
  ns3::Simulator::Run();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!started) {
    std::fprintf(stderr, "ns3_pod_allreduce: cannot start: %s\n", start_error.c_str());
    ns3::Simulator::Destroy();
    return 2;
  }

  std::uint64_t wrong = 0, retransmits = 0;
  weft::ns3sim::TimeNs finish = 0;
  bool ok = true;
  std::string failure;
  for (auto* r : ranks) {
    if (!r->done() || r->failed()) {
      ok = false;
      if (failure.empty()) failure = r->done() ? r->error() : "did not finish within 10 s of virtual time";
    }
    wrong += r->wrong_elements();
    retransmits += r->retransmissions();
    if (r->finished_at() != weft::ns3sim::kNever) finish = std::max(finish, r->finished_at());
  }
  const double factor = weft::ns3sim::busbw_factor("allreduce", o.ranks);
  const double ideal_ns = factor * static_cast<double>(ranks[0]->bytes()) * 8.0 / o.rate_gbps;
  const double busbw = finish > 0 ? factor * static_cast<double>(ranks[0]->bytes()) / static_cast<double>(finish) : 0;
  const ns3::WeftFabric::Conservation c = fabric.Count();

  std::printf("# ns3_pod_allreduce: %d ranks on one switch, %.0f Gb/s links, %.1f us, queue %llu B, loss %g, seed %llu\n",
              o.ranks, o.rate_gbps, o.delay_us, static_cast<unsigned long long>(o.queue_bytes), o.loss,
              static_cast<unsigned long long>(o.seed));
  std::printf("#%11s %19s %12s %12s %7s %12s %7s %8s %8s %9s\n", "size(B)", "algorithm", "time(us)", "ideal(us)",
              "ratio", "busbw(GB/s)", "#wrong", "frames", "retrans", "wall(s)");
  std::printf("%12zu %19s %12.3f %12.3f %7.2f %12.3f %7llu %8llu %8llu %9.3f\n", ranks[0]->bytes(),
              ranks[0]->algorithm().c_str(), static_cast<double>(finish) / 1e3, ideal_ns / 1e3,
              ideal_ns > 0 ? static_cast<double>(finish) / ideal_ns : 0.0, busbw, static_cast<unsigned long long>(wrong),
              static_cast<unsigned long long>(c.originated), static_cast<unsigned long long>(retransmits), wall_s);
  std::printf("# frames: %s\n", c.ToString().c_str());
  ns3::Simulator::Destroy();
  if (!ok) {
    std::fprintf(stderr, "ns3_pod_allreduce: FAILED: %s\n", failure.c_str());
    return 1;
  }
  if (wrong != 0 || !c.Holds()) {
    std::fprintf(stderr, "ns3_pod_allreduce: FAILED: %llu wrong elements%s\n", static_cast<unsigned long long>(wrong),
                 c.Holds() ? "" : "; frames not accounted for");
    return 1;
  }
  return 0;
}
