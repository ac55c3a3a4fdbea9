// `weft bench transport --datapath udp`: weft over UDP on loopback between two processes, with
// the kernel's own figures measured in the same run, interleaved round by round:
//   goodput  weft (8972 B datagrams, 1 MiB messages)  vs  raw UDP blast, GSO + GRO, 8972 B
//            (and kernel TCP with 128 KiB writes, for reference)
//   latency  weft 64 B message echo                   vs  raw UDP 64 B ping-pong,
//            in the same wait mode: blocking (poll/recv) and busy-poll (spin)
// Medians over --repeat rounds (default 5). Acceptance (issue 3): weft goodput >= 0.6x raw blast;
// weft 64 B p50 RTT <= 1.5x raw ping-pong in each mode. Plaintext (no AEAD yet).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/baselines/udp_baselines.h"
#include "bench/weft_udp_bench.h"
#include "tools/weft/bench_transport_net.h"
#include "tools/weft/cli.h"
#include "weft/transport/types.h"

namespace weft::tools {
namespace {

constexpr std::uint32_t kDatagram = 8972;  // 9000 B MTU - IPv4 - UDP

}  // namespace

int run_bench_udp(const NetBenchOptions& o) {
  std::ostream& report = o.json ? std::cerr : std::cout;
  std::vector<double> raw_gbps, weft_gbps, tcp_gbps, raw_rtt_block, weft_rtt_block, raw_rtt_busy, weft_rtt_busy,
      weft_p99_block, weft_p99_busy, raw_p99_block, raw_p99_busy;
  std::vector<std::string> failures;
  auto progress = [&](const std::string& s) {
    if (!o.quiet) std::cerr << s << std::endl;
  };
  for (int round = 1; round <= o.repeat; ++round) {
    bench::UdpBlastOptions bo;
    bo.datagram_bytes = kDatagram;
    bo.duration_s = 1.0;
    auto blast = bench::udp_blast(bo);
    if (blast.ok) raw_gbps.push_back(blast.gbps); else failures.push_back("raw UDP blast: " + blast.error);

    bench::GoodputSpec gs;
    gs.total_bytes = o.bytes_per_run;
    gs.message_bytes = o.message_bytes;
    gs.frame_bytes = kDatagram;
    auto weft = bench::weft_udp_goodput(gs);
    if (weft.ok) weft_gbps.push_back(weft.gbps); else failures.push_back("weft goodput: " + weft.error);

    bench::TcpStreamOptions to;
    to.duration_s = 1.0;
    auto tcp = bench::tcp_stream(to);
    if (tcp.ok) tcp_gbps.push_back(tcp.gbps); else failures.push_back("TCP stream: " + tcp.error);

    for (bool busy : {false, true}) {
      bench::PingPongOptions po;
      po.busy_poll = busy;
      po.iterations = 20000;
      auto raw = bench::udp_ping_pong(po);
      auto w = bench::weft_udp_rtt(20000, 64, busy);
      if (raw.ok) {
        (busy ? raw_rtt_busy : raw_rtt_block).push_back(raw.p50_us);
        (busy ? raw_p99_busy : raw_p99_block).push_back(raw.p99_us);
      } else {
        failures.push_back(std::string("raw ping-pong (") + (busy ? "busy" : "blocking") + "): " + raw.error);
      }
      if (w.ok) {
        (busy ? weft_rtt_busy : weft_rtt_block).push_back(w.p50_us);
        (busy ? weft_p99_busy : weft_p99_block).push_back(w.p99_us);
      } else {
        failures.push_back(std::string("weft RTT (") + (busy ? "busy" : "blocking") + "): " + w.error);
      }
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "[round %d/%d] raw blast %.1f Gb/s, weft %.1f Gb/s, TCP %.1f Gb/s; 64 B RTT p50 blocking raw "
                  "%.1f / weft %.1f us, busy raw %.1f / weft %.1f us",
                  round, o.repeat, blast.gbps, weft.gbps, tcp.gbps,
                  raw_rtt_block.empty() ? 0 : raw_rtt_block.back(), weft_rtt_block.empty() ? 0 : weft_rtt_block.back(),
                  raw_rtt_busy.empty() ? 0 : raw_rtt_busy.back(), weft_rtt_busy.empty() ? 0 : weft_rtt_busy.back());
    progress(line);
  }
  const double g_raw = median(raw_gbps), g_weft = median(weft_gbps), g_tcp = median(tcp_gbps);
  const double rb = median(raw_rtt_block), wb = median(weft_rtt_block), rs = median(raw_rtt_busy),
               ws = median(weft_rtt_busy);
  const bool gp_pass = g_raw > 0 && g_weft >= 0.6 * g_raw;
  const bool rb_pass = rb > 0 && wb > 0 && wb <= 1.5 * rb;
  const bool rs_pass = rs > 0 && ws > 0 && ws <= 1.5 * rs;
  char buf[512];
  report << "weft bench transport --datapath udp (two processes on 127.0.0.1, plaintext; medians of "
         << o.repeat << " interleaved rounds)\n";
  report << "goodput: " << kDatagram << " B datagrams; weft sends " << (o.bytes_per_run >> 20) << " MiB in "
         << o.message_bytes << " B messages\n\n";
  std::snprintf(buf, sizeof buf, "%-34s %10s %10s %8s  %s\n", "measure", "weft", "baseline", "ratio", "target");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.2f %10.2f %7.2fx  >=0.6x raw UDP GSO/GRO blast: %s\n",
                "goodput Gb/s", g_weft, g_raw, g_raw > 0 ? g_weft / g_raw : 0, gp_pass ? "PASS" : "FAIL");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10s %10.2f\n", "kernel TCP Gb/s (reference)", "", g_tcp);
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %10.1f %7.2fx  <=1.5x raw ping-pong: %s\n",
                "64 B RTT p50 us, blocking", wb, rb, rb > 0 ? wb / rb : 0, rb_pass ? "PASS" : "FAIL");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %10.1f\n", "64 B RTT p99 us, blocking", median(weft_p99_block),
                median(raw_p99_block));
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %10.1f %7.2fx  <=1.5x raw ping-pong: %s\n",
                "64 B RTT p50 us, busy-poll", ws, rs, rs > 0 ? ws / rs : 0, rs_pass ? "PASS" : "FAIL");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %10.1f\n", "64 B RTT p99 us, busy-poll", median(weft_p99_busy),
                median(raw_p99_busy));
  report << buf;
  for (const auto& f : failures) report << "FAILED: " << f << "\n";
  if (o.json) {
    nlohmann::ordered_json j;
    j["datapath"] = "udp";
    j["rounds"] = o.repeat;
    j["datagram_bytes"] = kDatagram;
    j["goodput_gbps"] = {{"weft", g_weft}, {"raw_udp_gso_gro", g_raw}, {"kernel_tcp", g_tcp}, {"pass", gp_pass}};
    j["rtt_p50_us_blocking"] = {{"weft", wb}, {"raw", rb}, {"pass", rb_pass}};
    j["rtt_p50_us_busy_poll"] = {{"weft", ws}, {"raw", rs}, {"pass", rs_pass}};
    j["samples"] = {{"weft_gbps", weft_gbps}, {"raw_gbps", raw_gbps}, {"tcp_gbps", tcp_gbps},
                    {"weft_rtt_blocking", weft_rtt_block}, {"raw_rtt_blocking", raw_rtt_block},
                    {"weft_rtt_busy", weft_rtt_busy}, {"raw_rtt_busy", raw_rtt_busy}};
    j["failures"] = failures;
    std::cout << j.dump(2) << std::endl;
  }
  return failures.empty() ? kExitOk : kExitFailed;
}

}  // namespace weft::tools
