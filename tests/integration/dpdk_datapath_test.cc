// dpdk_datapath_test CASE: single-process checks of DpdkDatapath on DPDK virtual devices that
// need no peer (net_ring0 loops tx back to rx; net_null discards). DPDK's EAL comes up once per
// process, so every case runs as its own process (one CTest each); exit 0 = pass.
//
//   loopback     tag inserted and removed, non-TTP / oversize / runt frames counted and dropped
//   vlan_pcp     the 802.1Q tag on the wire carries VID 0 and the VC's PCP (1, 5, 3)
//   no_vlan      vlan_priority = false sends the frame unchanged
//   partial_tx   a full ring refuses frames; tx_burst's count equals what is received
//   pcap         captures hold every frame sent and received, untagged
//   tsc_clock    tsc_now_ns advances at the monotonic clock's rate
//   eal_twice    a second EAL init is refused with a clear error; empty eal_args reuse it
//   eal_bad_args rte_eal_init's failure reaches the caller with DPDK's reason
//   bad_port     a port that does not exist is named
//   link_timeout a memif server without a client fails after link_timeout_ms, naming the vdev
//   link_down    frames offered while the link is down are dropped and counted, not refused (a
//                refused frame would hold back the caller's frames to every other port)
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "weft/transport/dpdk_datapath.h"
#include "weft/transport/pcap.h"

namespace {

using namespace weft::transport;

int g_failures = 0;
#define CHECK(cond)                                                             \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                             \
    }                                                                           \
  } while (0)

std::vector<std::string> eal(const std::string& vdevs) {
  std::vector<std::string> a = {"-l", "0", "--no-huge", "--no-pci", "-m", "512", "--no-shconf", "--no-telemetry",
                                "--log-level=lib.eal:warning"};
  std::size_t start = 0;
  while (start < vdevs.size()) {
    const std::size_t end = vdevs.find(' ', start);
    a.push_back("--vdev=" + vdevs.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return a;
}

DpdkOptions ring_options() {
  DpdkOptions o;
  o.eal_args = eal("net_ring0");
  return o;
}

// An Ethernet frame of `len` bytes with `ethertype`, a recognisable body stamped with `tag`.
std::vector<std::uint8_t> frame(std::size_t len, std::uint16_t ethertype, std::uint8_t tag) {
  std::vector<std::uint8_t> f(len);
  const std::uint8_t dst[6] = {0x02, 0x57, 0x46, 0, 0, 1}, src[6] = {0x02, 0x57, 0x46, 0, 0, 2};
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, src, 6);
  f[12] = static_cast<std::uint8_t>(ethertype >> 8);
  f[13] = static_cast<std::uint8_t>(ethertype);
  for (std::size_t i = 14; i < len; ++i) f[i] = static_cast<std::uint8_t>(i * 7 + tag);
  return f;
}

std::size_t receive_all(DpdkDatapath& dp, std::vector<std::vector<std::uint8_t>>& got) {
  std::vector<RxFrame> rx(32);
  for (int idle = 0; idle < 1000;) {
    const std::size_t n = dp.rx_burst(rx);
    if (n == 0) {
      ++idle;
      continue;
    }
    for (std::size_t i = 0; i < n; ++i) got.emplace_back(rx[i].bytes.begin(), rx[i].bytes.end());
  }
  return got.size();
}

bool throws_with(const std::function<void()>& fn, std::initializer_list<const char*> needles) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    std::printf("error as expected: %s\n", e.what());
    for (const char* n : needles) {
      if (std::strstr(e.what(), n) == nullptr) {
        std::fprintf(stderr, "the message lacks '%s'\n", n);
        return false;
      }
    }
    return true;
  }
  std::fprintf(stderr, "no exception\n");
  return false;
}

void loopback() {
  DpdkDatapath dp(ring_options());
  const auto a = frame(100, wire::kEtherTypeTtp, 1), b = frame(9000, wire::kEtherTypeTtp, 2),
             c = frame(64, wire::kEtherTypeTtp, 3), ip = frame(64, 0x0800, 4), big = frame(9001, wire::kEtherTypeTtp, 5),
             runt = frame(10, wire::kEtherTypeTtp, 6);
  const std::vector<TxFrame> tx = {{a, 1, Vc::kReqLo}, {big, 1, Vc::kData}, {b, 1, Vc::kReqHi},
                                   {ip, 1, Vc::kData}, {runt, 1, Vc::kData}, {c, 1, Vc::kData}};
  CHECK(dp.tx_burst(tx) == tx.size());
  std::vector<std::vector<std::uint8_t>> got;
  CHECK(receive_all(dp, got) == 3);
  CHECK(got.size() == 3 && got[0] == a && got[1] == b && got[2] == c);
  CHECK(dp.stats().tx_oversize == 2);
  CHECK(dp.stats().tx_frames == 4);
  CHECK(dp.stats().rx_not_ttp == 1);
  CHECK(dp.stats().rx_vlan_stripped == 4);
  CHECK(dp.stats().rx_frames == 3);
  CHECK(dp.describe().find("net_ring0") != std::string::npos);
}

void vlan_pcp() {
  DpdkDatapath dp(ring_options());
  const auto f = frame(200, wire::kEtherTypeTtp, 9);
  const std::vector<TxFrame> tx = {{f, 1, Vc::kReqLo}, {f, 1, Vc::kReqHi}, {f, 1, Vc::kData}};
  CHECK(dp.tx_burst(tx) == 3);
  // Read the wire bytes with DPDK directly, before DpdkDatapath strips the tag.
  rte_mbuf* m[8];
  std::uint16_t n = 0;
  for (int i = 0; i < 1000 && n < 3; ++i) n = static_cast<std::uint16_t>(n + rte_eth_rx_burst(0, 0, m + n, 8 - n));
  CHECK(n == 3);
  const std::uint8_t pcp[3] = {1, 5, 3};
  for (std::uint16_t i = 0; i < n; ++i) {
    const std::uint8_t* p = static_cast<const std::uint8_t*>(m[i]->buf_addr) + m[i]->data_off;
    CHECK(m[i]->data_len == f.size() + 4);
    CHECK(p[12] == 0x81 && p[13] == 0x00);
    CHECK((p[14] >> 5) == pcp[i]);          // PCP
    CHECK((p[14] & 0x1F) == 0 && p[15] == 0);  // DEI 0, VID 0
    CHECK(p[16] == 0x9A && p[17] == 0xC6);
    CHECK(std::memcmp(p + 18, f.data() + 14, f.size() - 14) == 0);
    rte_pktmbuf_free(m[i]);
  }
  CHECK(vc_to_pcp(Vc::kReqLo) == 1 && vc_to_pcp(Vc::kReqHi) == 5 && vc_to_pcp(Vc::kData) == 3);
}

void no_vlan() {
  DpdkOptions o = ring_options();
  o.vlan_priority = false;
  DpdkDatapath dp(o);
  const auto f = frame(9000, wire::kEtherTypeTtp, 3);
  const std::vector<TxFrame> tx = {{f, 1, Vc::kReqHi}};
  CHECK(dp.tx_burst(tx) == 1);
  std::vector<std::vector<std::uint8_t>> got;
  CHECK(receive_all(dp, got) == 1 && got[0] == f);
  CHECK(dp.stats().rx_vlan_stripped == 0);
}

void partial_tx() {
  DpdkOptions o = ring_options();
  o.pool_mbufs = 4095;
  DpdkDatapath dp(o);
  const auto f = frame(1500, wire::kEtherTypeTtp, 1);
  const std::vector<TxFrame> burst(32, TxFrame{f, 1, Vc::kData});
  std::size_t accepted = 0;
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    const std::size_t n = dp.tx_burst(burst);
    accepted += n;
    refused = n < burst.size();
  }
  CHECK(refused);
  std::printf("accepted %zu frames before refusing (tx_refused %llu, mbuf_alloc_failures %llu)\n", accepted,
              static_cast<unsigned long long>(dp.stats().tx_refused),
              static_cast<unsigned long long>(dp.stats().mbuf_alloc_failures));
  std::vector<std::vector<std::uint8_t>> got;
  CHECK(receive_all(dp, got) == accepted);
  // Nothing leaked: after draining, a full burst is accepted again.
  CHECK(dp.tx_burst(burst) == burst.size());
}

void pcap() {
  const std::string path = "/tmp/weft-dpdk-test-" + std::to_string(::getpid()) + ".pcap";
  {
    DpdkDatapath dp(ring_options());
    PcapWriter w(path);
    dp.set_pcap(&w);
    const auto f = frame(300, wire::kEtherTypeTtp, 1), g = frame(9000, wire::kEtherTypeTtp, 2);
    const std::vector<TxFrame> tx = {{f, 1, Vc::kData}, {g, 1, Vc::kReqLo}};
    CHECK(dp.tx_burst(tx) == 2);
    std::vector<std::vector<std::uint8_t>> got;
    CHECK(receive_all(dp, got) == 2);
    dp.set_pcap(nullptr);
    w.flush();
    const auto packets = read_pcap(path);
    CHECK(packets.size() == 4);
    if (packets.size() == 4) {
      CHECK(packets[0].data == f && packets[1].data == g && packets[2].data == f && packets[3].data == g);
    }
  }
  std::filesystem::remove(path);
}

void tsc_clock() {
  DpdkDatapath dp(ring_options());
  const TimeNs t0 = tsc_now_ns(), m0 = monotonic_now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const TimeNs t1 = tsc_now_ns(), m1 = monotonic_now_ns();
  const double ratio = static_cast<double>(t1 - t0) / static_cast<double>(m1 - m0);
  std::printf("tsc/monotonic rate over %.1f ms: %.5f\n", static_cast<double>(m1 - m0) / 1e6, ratio);
  CHECK(ratio > 0.98 && ratio < 1.02);
  TimeNs last = tsc_now_ns();
  for (int i = 0; i < 100000; ++i) {
    const TimeNs t = tsc_now_ns();
    CHECK(t >= last);
    last = t;
  }
}

void eal_twice() {
  DpdkOptions o;
  o.eal_args = eal("net_null0 net_null1");
  DpdkDatapath first(o);
  CHECK(throws_with([&] { DpdkDatapath again(o); }, {"already initialised"}));
  DpdkOptions second;
  second.port_id = 1;
  DpdkDatapath other(second);  // empty eal_args: the EAL that is up
  CHECK(other.describe().find("net_null1") != std::string::npos);
}

void eal_bad_args() {
  DpdkOptions o;
  o.eal_args = {"-l", "0", "--no-huge", "--in-memory", "--no-pci"};  // invalid together
  CHECK(throws_with([&] { DpdkDatapath dp(o); }, {"rte_eal_init failed", "--in-memory"}));
}

void bad_port() {
  DpdkOptions o;
  o.eal_args = eal("net_null0");
  o.port_id = 5;
  CHECK(throws_with([&] { DpdkDatapath dp(o); }, {"port 5 does not exist", "1 ports available"}));
}

void link_timeout() {
  char tmpl[] = "/tmp/weft-dpdk-test.XXXXXX";
  CHECK(::mkdtemp(tmpl) != nullptr);
  DpdkOptions o;
  o.eal_args = eal(std::string("net_memif0,role=server,socket=") + tmpl + "/memif.sock,socket-abstract=no,bsize=10240");
  o.link_timeout_ms = 300;
  CHECK(throws_with([&] { DpdkDatapath dp(o); }, {"net_memif0", "link did not come up within 300 ms"}));
  std::filesystem::remove_all(tmpl);
}

void link_down() {
  char tmpl[] = "/tmp/weft-dpdk-test.XXXXXX";
  CHECK(::mkdtemp(tmpl) != nullptr);
  DpdkOptions o;
  o.eal_args = eal(std::string("net_memif0,role=server,socket=") + tmpl + "/memif.sock,socket-abstract=no,bsize=10240");
  o.link_timeout_ms = 0;  // no client will come
  {
    DpdkDatapath dp(o);
    CHECK(!dp.link_up());
    const auto f = frame(1500, wire::kEtherTypeTtp, 1);
    const std::vector<TxFrame> burst(32, TxFrame{f, 1, Vc::kData});
    CHECK(dp.tx_burst(burst) == burst.size());
    CHECK(dp.stats().tx_link_down == burst.size());
    CHECK(dp.stats().tx_refused == 0);
    CHECK(dp.stats().tx_frames == 0);
    std::printf("link down: %zu frames offered, %llu dropped as link-down, %llu sent\n", burst.size(),
                static_cast<unsigned long long>(dp.stats().tx_link_down),
                static_cast<unsigned long long>(dp.stats().tx_frames));
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, void (*)()> cases = {
      {"loopback", loopback}, {"vlan_pcp", vlan_pcp},   {"no_vlan", no_vlan},           {"partial_tx", partial_tx},
      {"pcap", pcap},         {"tsc_clock", tsc_clock}, {"eal_twice", eal_twice},       {"eal_bad_args", eal_bad_args},
      {"bad_port", bad_port}, {"link_timeout", link_timeout}, {"link_down", link_down}};
  if (argc != 2 || cases.count(argv[1]) == 0) {
    std::fprintf(stderr, "usage: dpdk_datapath_test CASE (one per process: DPDK's EAL starts once)\ncases:");
    for (const auto& [name, fn] : cases) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  try {
    cases.at(argv[1])();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: unexpected exception: %s\n", argv[1], e.what());
    return 1;
  }
  std::printf("%s: %s\n", argv[1], g_failures == 0 ? "passed" : "FAILED");
  return g_failures == 0 ? 0 : 1;
}
