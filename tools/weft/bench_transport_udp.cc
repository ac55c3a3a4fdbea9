// `weft bench transport --datapath udp`: weft over UDP on loopback between two processes, with
// the kernel's own figures measured in the same run, interleaved round by round:
//   goodput  weft (8972 B datagrams, 1 MiB messages)  vs  raw UDP blast, GSO + GRO, 8972 B
//            (and kernel TCP with 128 KiB writes, for reference)
//   latency  weft 64 B message echo                   vs  raw UDP 64 B ping-pong,
//            in the same wait mode: blocking (poll/recv) and busy-poll (spin)
//   encrypted goodput at 8972 B and 1472 B datagrams (AES-256-GCM, the provider chosen by
//            measurement at start-up)   vs  that provider's single-core seal and open rate at the
//            same payload size, measured in the same round (the AEAD is the ceiling)
//   the same 8972 B run with libsodium's AES-256-GCM, against libsodium's own rate
//   encrypted 64 B RTT (blocking), reported beside the plaintext one
// Medians over --repeat rounds (default 5). Acceptance (issue 3): plaintext weft goodput >= 0.6x
// raw blast; weft 64 B p50 RTT <= 1.5x raw ping-pong in each mode. Issue 4: encrypted goodput at
// 8972 B datagrams >= 0.6x min(seal, open).
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
#include "weft/crypto/credentials.h"
#include "weft/crypto/select.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::tools {
namespace {

constexpr std::uint32_t kDatagram = 8972;       // 9000 B MTU - IPv4 - UDP
constexpr std::uint32_t kSmallDatagram = 1472;  // 1500 B MTU - IPv4 - UDP

// Payload bytes a protected frame of `datagram` bytes carries (TTP header, security header, tag).
constexpr std::size_t sealed_payload(std::uint32_t datagram) {
  return datagram - transport::wire::kTtpBytes - transport::wire::kProtectionOverhead;
}

}  // namespace

int run_bench_udp(const NetBenchOptions& o) {
  std::ostream& report = o.json ? std::cerr : std::cout;
  std::vector<double> raw_gbps, weft_gbps, tcp_gbps, raw_rtt_block, weft_rtt_block, raw_rtt_busy, weft_rtt_busy,
      weft_p99_block, weft_p99_busy, raw_p99_block, raw_p99_busy;
  std::vector<std::string> failures;
  auto progress = [&](const std::string& s) {
    if (!o.quiet) std::cerr << s << std::endl;
  };
  // Encryption: an ephemeral cluster key (the forked peer inherits it; nothing touches disk) and
  // the faster AES-256-GCM provider of this machine, chosen by measuring both.
  auto creds = std::make_shared<crypto::Credentials>();
  crypto::generate_cluster_key(*creds);
  std::vector<crypto::AeadSpeed> choice;
  creds->aes256gcm = crypto::choose_provider(crypto::Suite::kAes256Gcm, sealed_payload(kDatagram), 0.1, &choice);
  if (creds->aes256gcm == nullptr) creds->aes256gcm = creds->chacha20poly1305;  // no AES-NI
  const crypto::AeadProvider& aead = *creds->aes256gcm;
  for (const auto& m : choice) {
    char line[200];
    std::snprintf(line, sizeof line, "AEAD provider candidate %s %s: seal %.2f GB/s, open %.2f GB/s at %zu B",
                  std::string(m.provider->name()).c_str(), std::string(crypto::suite_name(m.provider->suite())).c_str(),
                  m.seal_gbytes_s, m.open_gbytes_s, m.frame_bytes);
    progress(line);
  }
  progress("using " + std::string(aead.name()) + " " + std::string(crypto::suite_name(aead.suite())));
  // The same run with libsodium's AES-256-GCM (the default provider), for the ratio it reaches.
  auto sodium_creds = std::make_shared<crypto::Credentials>();
  crypto::generate_cluster_key(*sodium_creds);
  const crypto::AeadProvider* sodium = crypto::libsodium_aes256gcm();
  if (sodium != nullptr) sodium_creds->aes256gcm = sodium;
  std::vector<double> enc_gbps, enc_small_gbps, seal_big, open_big, seal_small, open_small, enc_rtt_block,
      sodium_gbps, sodium_seal, sodium_open;
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
    // Encrypted: the AEAD's own rate at each payload size, then weft sealing every frame.
    for (bool big : {true, false}) {
      const std::uint32_t dg = big ? kDatagram : kSmallDatagram;
      const crypto::AeadSpeed sp = crypto::measure_provider(aead, sealed_payload(dg), 0.2);
      (big ? seal_big : seal_small).push_back(sp.seal_gbytes_s);
      (big ? open_big : open_small).push_back(sp.open_gbytes_s);
      bench::GoodputSpec es;
      es.total_bytes = std::max<std::uint64_t>(o.message_bytes, o.bytes_per_run / (big ? 1 : 4));
      es.message_bytes = o.message_bytes;
      es.frame_bytes = dg;
      es.credentials = creds;
      auto e = bench::weft_udp_goodput(es);
      if (e.ok) (big ? enc_gbps : enc_small_gbps).push_back(e.gbps);
      else failures.push_back(std::string("encrypted weft goodput (") + std::to_string(dg) + " B): " + e.error);
    }
    if (sodium != nullptr && sodium != &aead) {
      const crypto::AeadSpeed sp = crypto::measure_provider(*sodium, sealed_payload(kDatagram), 0.2);
      sodium_seal.push_back(sp.seal_gbytes_s);
      sodium_open.push_back(sp.open_gbytes_s);
      bench::GoodputSpec es;
      es.total_bytes = std::max<std::uint64_t>(o.message_bytes, o.bytes_per_run / 2);
      es.message_bytes = o.message_bytes;
      es.frame_bytes = kDatagram;
      es.credentials = sodium_creds;
      auto e = bench::weft_udp_goodput(es);
      if (e.ok) sodium_gbps.push_back(e.gbps); else failures.push_back("encrypted weft goodput (libsodium): " + e.error);
    }
    {
      auto w = bench::weft_udp_rtt(5000, 64, false, 500, creds);
      if (w.ok) enc_rtt_block.push_back(w.p50_us); else failures.push_back("encrypted weft RTT: " + w.error);
    }
    char line[400];
    std::snprintf(line, sizeof line,
                  "[round %d/%d] encrypted %.1f Gb/s (AEAD seal %.2f / open %.2f GB/s), 1472 B %.1f Gb/s; raw blast %.1f Gb/s, weft %.1f Gb/s, TCP %.1f Gb/s; 64 B RTT p50 blocking raw "
                  "%.1f / weft %.1f us, busy raw %.1f / weft %.1f us",
                  round, o.repeat, enc_gbps.empty() ? 0 : enc_gbps.back(), seal_big.back(), open_big.back(),
                  enc_small_gbps.empty() ? 0 : enc_small_gbps.back(), blast.gbps, weft.gbps, tcp.gbps,
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
  report << "weft bench transport --datapath udp (two processes on 127.0.0.1; medians of "
         << o.repeat << " interleaved rounds)\n";
  report << "goodput: " << kDatagram << " B datagrams; weft sends " << (o.bytes_per_run >> 20) << " MiB in "
         << o.message_bytes << " B messages\n\nplaintext\n";
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
  // Encryption (issue 4): goodput in GB/s against the single-core AEAD ceiling min(seal, open).
  const double e_big = median(enc_gbps), e_small = median(enc_small_gbps);
  const double ceil_big = std::min(median(seal_big), median(open_big));
  const double ceil_small = std::min(median(seal_small), median(open_small));
  const bool enc_pass = ceil_big > 0 && e_big / 8 >= 0.6 * ceil_big;
  report << "\nencrypted (" << crypto::suite_name(aead.suite()) << ", " << aead.name()
         << "; every frame sealed and opened; AEAD rate = one core, same payload size, same round)\n";
  std::snprintf(buf, sizeof buf, "%-34s %10s %10s %8s  %s\n", "measure", "weft GB/s", "AEAD GB/s", "ratio", "target");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.2f %10.2f %7.2fx  >=0.6x min(seal %.2f, open %.2f): %s\n",
                "goodput, 8972 B datagrams", e_big / 8, ceil_big, ceil_big > 0 ? e_big / 8 / ceil_big : 0,
                median(seal_big), median(open_big), enc_pass ? "PASS" : "FAIL");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.2f %10.2f %7.2fx  reported (min of seal %.2f, open %.2f)\n",
                "goodput, 1472 B datagrams", e_small / 8, ceil_small, ceil_small > 0 ? e_small / 8 / ceil_small : 0,
                median(seal_small), median(open_small));
  report << buf;
  const double sodium_ceiling = std::min(median(sodium_seal), median(sodium_open));
  if (!sodium_gbps.empty()) {
    std::snprintf(buf, sizeof buf, "%-34s %10.2f %10.2f %7.2fx  libsodium in use (min of seal %.2f, open %.2f)\n",
                  "goodput, 8972 B, libsodium", median(sodium_gbps) / 8, sodium_ceiling,
                  sodium_ceiling > 0 ? median(sodium_gbps) / 8 / sodium_ceiling : 0, median(sodium_seal),
                  median(sodium_open));
    report << buf;
  }
  std::snprintf(buf, sizeof buf, "%-34s %10.2f %10.2f %7.2fx  (plaintext / encrypted, 8972 B)\n",
                "goodput Gb/s, plaintext vs encrypted", g_weft, e_big, e_big > 0 ? g_weft / e_big : 0);
  report << buf;
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %10.1f\n", "64 B RTT p50 us blocking, enc/plain",
                median(enc_rtt_block), wb);
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
    j["encrypted"] = {{"suite", crypto::suite_name(aead.suite())},
                      {"provider", aead.name()},
                      {"goodput_gbps_8972", e_big},
                      {"goodput_gbps_1472", e_small},
                      {"aead_seal_gbytes_s_8972", median(seal_big)},
                      {"aead_open_gbytes_s_8972", median(open_big)},
                      {"aead_seal_gbytes_s_1472", median(seal_small)},
                      {"aead_open_gbytes_s_1472", median(open_small)},
                      {"ratio_to_aead_8972", ceil_big > 0 ? e_big / 8 / ceil_big : 0},
                      {"rtt_p50_us_blocking", median(enc_rtt_block)},
                      {"libsodium_goodput_gbps_8972", median(sodium_gbps)},
                      {"libsodium_aead_min_gbytes_s_8972", sodium_ceiling},
                      {"pass", enc_pass},
                      {"samples_gbps_8972", enc_gbps},
                      {"samples_gbps_1472", enc_small_gbps}};
    j["failures"] = failures;
    std::cout << j.dump(2) << std::endl;
  }
  return failures.empty() ? kExitOk : kExitFailed;
}

}  // namespace weft::tools
