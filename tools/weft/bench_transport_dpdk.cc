// `weft bench transport --datapath dpdk`: weft over DPDK memif between two processes (9000 B
// frames, bsize=10240, one busy-polling lcore each) beside raw memif measured in the same run,
// interleaved round by round; medians. Acceptance (issue 3): weft with 1 MiB messages >= 0.6x the
// raw memif figure; 64 MiB messages reported too. Encrypted (issue 4): weft with 1 MiB messages,
// every frame sealed with AES-256-GCM by the provider chosen by measurement, beside that
// provider's single-core min(seal, open) at the same payload size, measured in the same round
// (reported; the UDP benchmark carries the target). Built only when the program links
// libweft-dpdk (WEFT_DPDK); otherwise the command explains that.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "tools/weft/bench_transport_net.h"
#include "tools/weft/cli.h"
#include "weft/crypto/credentials.h"
#include "weft/crypto/select.h"
#include "weft/transport/wire.h"

#ifdef WEFT_HAVE_DPDK
#include "bench/baselines/memif_baseline.h"
#endif

namespace weft::tools {

#ifndef WEFT_HAVE_DPDK
int run_bench_dpdk(const NetBenchOptions&) {
  throw UsageError("--datapath dpdk: this weft was built without DPDK (configure with -DWEFT_DPDK=ON and "
                   "install dpdk-dev libdpdk-dev; scripts/setup does)",
                   "weft bench transport");
}
#else
int run_bench_dpdk(const NetBenchOptions& o) {
  std::ostream& report = o.json ? std::cerr : std::cout;
  std::vector<double> raw, weft_1m, weft_64m, enc_1m, aead_min;
  std::vector<std::string> failures;
  // Sealed payload of a 9000 B Ethernet frame: minus the 60 B of headers, the security header, the tag.
  const std::size_t sealed = 9000 - transport::wire::kL2HeaderBytes - transport::wire::kProtectionOverhead;
  auto creds = std::make_shared<crypto::Credentials>();
  crypto::generate_cluster_key(*creds);  // in memory only; the forked peer inherits it
  if (auto* p = crypto::choose_provider(crypto::Suite::kAes256Gcm, sealed, 0.1)) creds->aes256gcm = p;
  const crypto::AeadProvider& aead = *creds->provider(creds->aes256gcm ? crypto::Suite::kAes256Gcm
                                                                        : crypto::Suite::kChaCha20Poly1305);
  for (int round = 1; round <= o.repeat; ++round) {
    try {
      bench::RawMemifOptions ro;
      ro.seconds = 1.0;
      ro.touch = true;  // weft copies every byte into its mbufs: compare like with like
      raw.push_back(bench::raw_memif_throughput(ro).gbps);
      bench::WeftMemifOptions w1;
      w1.message_bytes = 1u << 20;
      w1.messages = std::max<std::size_t>(1, o.bytes_per_run / w1.message_bytes);
      weft_1m.push_back(bench::weft_memif_goodput(w1).gbps);
      bench::WeftMemifOptions w64;
      w64.message_bytes = 64u << 20;
      w64.messages = std::max<std::size_t>(1, o.bytes_per_run / w64.message_bytes);
      weft_64m.push_back(bench::weft_memif_goodput(w64).gbps);
      const crypto::AeadSpeed sp = crypto::measure_provider(aead, sealed, 0.2);
      aead_min.push_back(sp.min_gbytes_s());
      bench::WeftMemifOptions we = w1;
      we.endpoint.credentials = creds;
      enc_1m.push_back(bench::weft_memif_goodput(we).gbps);
    } catch (const std::exception& e) {
      failures.push_back(e.what());
    }
    if (!o.quiet && !raw.empty()) {
      std::fprintf(stderr,
                   "[round %d/%d] raw memif %.1f Gb/s, weft 1 MiB %.1f Gb/s, weft 64 MiB %.1f Gb/s, encrypted 1 MiB "
                   "%.1f Gb/s (AEAD min %.2f GB/s)\n",
                   round, o.repeat, raw.back(), weft_1m.empty() ? 0 : weft_1m.back(),
                   weft_64m.empty() ? 0 : weft_64m.back(), enc_1m.empty() ? 0 : enc_1m.back(),
                   aead_min.empty() ? 0 : aead_min.back());
    }
  }
  const double r = median(raw), w1 = median(weft_1m), w64 = median(weft_64m);
  const bool pass = r > 0 && w1 >= 0.6 * r;
  char buf[256];
  report << "weft bench transport --datapath dpdk (memif between two processes, 9000 B frames; "
            "medians of " << o.repeat << " interleaved rounds)\n\n";
  std::snprintf(buf, sizeof buf, "%-36s %10s %8s  %s\n", "measure", "Gb/s", "ratio", "target");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-36s %10.2f\n", "raw memif (sender touches every byte)", r);
  report << buf;
  std::snprintf(buf, sizeof buf, "%-36s %10.2f %7.2fx  >=0.6x raw memif: %s\n", "weft, 1 MiB messages", w1,
                r > 0 ? w1 / r : 0, pass ? "PASS" : "FAIL");
  report << buf;
  std::snprintf(buf, sizeof buf, "%-36s %10.2f %7.2fx\n", "weft, 64 MiB messages", w64, r > 0 ? w64 / r : 0);
  report << buf;
  const double e1 = median(enc_1m), am = median(aead_min);
  std::snprintf(buf, sizeof buf, "%-36s %10.2f %7.2fx  of the AEAD's single-core min(seal, open) %.2f GB/s (%s %s)\n",
                "weft encrypted, 1 MiB messages", e1, am > 0 ? e1 / 8 / am : 0, am,
                std::string(aead.name()).c_str(), std::string(crypto::suite_name(aead.suite())).c_str());
  report << buf;
  for (const auto& f : failures) report << "FAILED: " << f << "\n";
  if (o.json) {
    nlohmann::ordered_json j;
    j["datapath"] = "dpdk";
    j["rounds"] = o.repeat;
    j["raw_memif_gbps"] = r;
    j["weft_1mib_gbps"] = w1;
    j["weft_64mib_gbps"] = w64;
    j["encrypted"] = {{"weft_1mib_gbps", e1}, {"aead_min_gbytes_s", am}, {"ratio", am > 0 ? e1 / 8 / am : 0},
                      {"provider", aead.name()}, {"suite", crypto::suite_name(aead.suite())}};
    j["pass"] = pass;
    j["samples"] = {{"raw", raw}, {"weft_1mib", weft_1m}, {"weft_64mib", weft_64m}, {"encrypted_1mib", enc_1m}};
    j["failures"] = failures;
    std::cout << j.dump(2) << std::endl;
  }
  return failures.empty() ? kExitOk : kExitFailed;
}
#endif

}  // namespace weft::tools
