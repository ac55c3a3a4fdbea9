// DpdkDatapath: one ethdev port, one rx and one tx queue, frames copied into single-segment mbufs.
//
// Copying on tx costs one memcpy per frame (the Endpoint encodes into its own buffers), and buys
// two things: the 802.1Q tag is written in the same pass, and the mbuf pool is the only memory
// the PMD ever sees. On rx the frames are handed up as views into the received mbufs, which stay
// held until the next rx_burst, so receiving copies nothing. A tag is removed in place by moving
// the two MAC addresses four bytes forward (as rte_vlan_strip does), so the Endpoint always sees
// an untagged frame whatever the peer sent.
#include "weft/transport/dpdk_datapath.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "weft/transport/pcap.h"

namespace weft::transport {
namespace {

constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::size_t kVlanTagBytes = 4;
constexpr std::size_t kMacPairBytes = 12;

// Set once, when this process's EAL comes up.
bool g_eal_up = false;
std::uint64_t g_tsc_hz = 0;
std::uint64_t g_tsc_origin = 0;
// Nanoseconds per cycle as a 32.32 fixed-point factor: a busy-polling driver reads the clock every
// pass, and two 64-bit divisions per reading showed up in its profile.
std::uint64_t g_ns_per_cycle_q32 = 0;
__extension__ typedef unsigned __int128 u128;
// rte_eal_init may keep pointers into argv; the strings live as long as the process.
std::vector<std::string> g_eal_argv_storage;

std::string dpdk_error(int err) { return std::string(rte_strerror(err < 0 ? -err : err)); }

std::uint16_t load_be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint8_t* mbuf_data(rte_mbuf* m) { return static_cast<std::uint8_t*>(m->buf_addr) + m->data_off; }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& a : v) s += (s.empty() ? "" : " ") + a;
  return s;
}

void init_eal(const std::vector<std::string>& args) {
  if (g_eal_up) {
    if (args.empty()) return;
    throw std::runtime_error(
        "DPDK EAL is already initialised in this process and cannot be initialised twice; "
        "construct further DpdkDatapaths with empty eal_args (and put every --vdev in the first), "
        "or use one process per EAL");
  }
  if (args.empty()) {
    throw std::runtime_error(
        "DpdkDatapath: eal_args is empty but no EAL is up yet; pass EAL arguments such as "
        "-l 0 --no-huge --no-pci -m 512 --no-shconf --vdev=...");
  }
  g_eal_argv_storage.clear();
  g_eal_argv_storage.push_back("weft");
  g_eal_argv_storage.insert(g_eal_argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : g_eal_argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
  if (rc < 0) {
    const int err = rte_errno;
    std::string msg = "rte_eal_init failed (" + dpdk_error(err) + ") with arguments '" + join(args) + "'";
    if (err == EALREADY) msg += ": the EAL was already initialised by other code in this process";
    else
      msg += ": check the lcore list (-l), memory (-m; --no-huge needs it, --in-memory needs "
             "hugepages), --no-shconf for several processes, and the --vdev syntax";
    throw std::runtime_error(msg);
  }
  g_eal_up = true;
  g_tsc_hz = rte_get_tsc_hz();
  g_tsc_origin = rte_get_tsc_cycles();
  if (g_tsc_hz != 0) g_ns_per_cycle_q32 = static_cast<std::uint64_t>((static_cast<u128>(1'000'000'000) << 32) / g_tsc_hz);
}

}  // namespace

std::uint8_t vc_to_pcp(Vc vc) {
  switch (vc) {
    case Vc::kReqLo: return 1;
    case Vc::kReqHi: return 5;
    case Vc::kData: return 3;
  }
  return 0;
}

void init_dpdk_eal(const std::vector<std::string>& eal_args) {
  if (eal_args.empty()) throw std::runtime_error("init_dpdk_eal: no EAL arguments");
  init_eal(eal_args);
}

bool dpdk_eal_up() { return g_eal_up; }

std::uint16_t dpdk_port_by_name(const std::string& name) {
  std::uint16_t port = 0;
  if (!g_eal_up || rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    throw std::runtime_error("DPDK has no port named '" + name + "'" +
                             (g_eal_up ? "" : " (the EAL is not up)") + "; was it given as --vdev=" + name + ",...?");
  }
  return port;
}

bool DpdkDatapath::link_up() const {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(options_.port_id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

TimeNs tsc_now_ns() {
  if (g_tsc_hz == 0) return monotonic_now_ns();
  const std::uint64_t c = rte_get_tsc_cycles() - g_tsc_origin;
  // 128-bit product: no overflow for centuries; the factor's rounding is below 1 ns per second.
  return static_cast<TimeNs>((static_cast<u128>(c) * g_ns_per_cycle_q32) >> 32);
}

DpdkDatapath::DpdkDatapath(const DpdkOptions& options) : options_(options) {
  if (options_.max_frame_bytes < wire::kMinSendFrameBytes) {
    throw std::runtime_error("DpdkDatapath: max_frame_bytes (" + std::to_string(options_.max_frame_bytes) +
                             ") must be at least " + std::to_string(wire::kMinSendFrameBytes));
  }
  if (options_.mbuf_data_bytes < options_.max_frame_bytes + kVlanTagBytes) {
    throw std::runtime_error("DpdkDatapath: mbuf_data_bytes (" + std::to_string(options_.mbuf_data_bytes) +
                             ") must be at least max_frame_bytes + 4 (" +
                             std::to_string(options_.max_frame_bytes + kVlanTagBytes) + ")");
  }
  if (options_.mbuf_data_bytes + RTE_PKTMBUF_HEADROOM > UINT16_MAX) {
    throw std::runtime_error("DpdkDatapath: mbuf_data_bytes must be below " +
                             std::to_string(UINT16_MAX - RTE_PKTMBUF_HEADROOM));
  }
  init_eal(options_.eal_args);
  const std::uint16_t port = options_.port_id;
  if (!rte_eth_dev_is_valid_port(port)) {
    throw std::runtime_error("DPDK port " + std::to_string(port) + " does not exist (" +
                             std::to_string(rte_eth_dev_count_avail()) +
                             " ports available); add a --vdev=net_memif0,... or net_af_packet0,... "
                             "EAL argument, or pick another port_id");
  }
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  device_name_ = rte_eth_dev_get_name_by_port(port, name) == 0 ? name : "port " + std::to_string(port);
  const std::string where = "DPDK port " + std::to_string(port) + " (" + device_name_ + ")";

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    throw std::runtime_error(where + ": rte_eth_dev_info_get failed: " + dpdk_error(rc));
  }
  const int socket = rte_eth_dev_socket_id(port) < 0 ? static_cast<int>(rte_socket_id()) : rte_eth_dev_socket_id(port);
  const std::string pool_name = "weft_pool_p" + std::to_string(port);
  pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), options_.pool_mbufs, 256, 0,
                                  static_cast<std::uint16_t>(options_.mbuf_data_bytes + RTE_PKTMBUF_HEADROOM),
                                  socket);
  if (pool_ == nullptr) {
    throw std::runtime_error(where + ": cannot create a pool of " + std::to_string(options_.pool_mbufs) +
                             " mbufs of " + std::to_string(options_.mbuf_data_bytes) + " B: " +
                             dpdk_error(rte_errno) + "; raise the EAL memory (-m 512 or more)");
  }

  // The MTU is informational for vdevs; keep it within what the port reports (af_packet reports a
  // 1518 B max_rx_pktlen yet passes larger frames, and rejects a larger configured MTU).
  rte_eth_conf conf{};
  std::uint32_t mtu = static_cast<std::uint32_t>(options_.max_frame_bytes - 14);
  if (info.max_rx_pktlen > 18) mtu = std::min<std::uint32_t>(mtu, info.max_rx_pktlen - 18);
  if (info.max_mtu > 0) mtu = std::min<std::uint32_t>(mtu, info.max_mtu);
  mtu = std::max<std::uint32_t>(mtu, std::min<std::uint32_t>(RTE_ETHER_MTU, info.max_mtu));
  conf.rxmode.mtu = mtu;
  if (int rc = rte_eth_dev_configure(port, 1, 1, &conf); rc != 0) {
    throw std::runtime_error(where + ": rte_eth_dev_configure (1 rx, 1 tx queue, MTU " + std::to_string(mtu) +
                             ") failed: " + dpdk_error(rc));
  }
  std::uint16_t nb_rx = options_.rx_descriptors, nb_tx = options_.tx_descriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rx, &nb_tx); rc != 0) {
    throw std::runtime_error(where + ": rte_eth_dev_adjust_nb_rx_tx_desc failed: " + dpdk_error(rc));
  }
  if (int rc = rte_eth_rx_queue_setup(port, 0, nb_rx, static_cast<unsigned>(socket), nullptr, pool_); rc != 0) {
    throw std::runtime_error(where + ": rx queue setup failed: " + dpdk_error(rc) +
                             " (af_packet: the frame size must fit the mbuf data room of " +
                             std::to_string(options_.mbuf_data_bytes) + " B; set framesz accordingly)");
  }
  if (int rc = rte_eth_tx_queue_setup(port, 0, nb_tx, static_cast<unsigned>(socket), nullptr); rc != 0) {
    throw std::runtime_error(where + ": tx queue setup failed: " + dpdk_error(rc));
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) {
    throw std::runtime_error(where + ": rte_eth_dev_start failed: " + dpdk_error(rc));
  }
  started_ = true;
  (void)rte_eth_promiscuous_enable(port);  // vdevs may not support it; frames are filtered by TSH

  if (options_.link_timeout_ms > 0) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.link_timeout_ms);
    while (!link_up()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
        started_ = false;
        rte_mempool_free(pool_);
        pool_ = nullptr;
        throw std::runtime_error(where + ": link did not come up within " +
                                 std::to_string(options_.link_timeout_ms) +
                                 " ms (memif: is the peer process running with the same socket path and "
                                 "the other role? af_packet: is the interface up?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

DpdkDatapath::~DpdkDatapath() {
  release_rx();
  if (started_) {
    rte_eth_dev_stop(options_.port_id);
    rte_eth_dev_close(options_.port_id);
  }
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

std::string DpdkDatapath::describe() const {
  return "dpdk " + device_name_ + " (port " + std::to_string(options_.port_id) + ")";
}

std::array<std::uint8_t, 6> DpdkDatapath::mac_address() const {
  std::array<std::uint8_t, 6> out{};
  rte_ether_addr a{};
  if (rte_eth_macaddr_get(options_.port_id, &a) == 0) std::copy(a.addr_bytes, a.addr_bytes + 6, out.begin());
  return out;
}

std::size_t DpdkDatapath::tx_burst(std::span<const TxFrame> frames) {
  const std::size_t want = std::min(frames.size(), kMaxBurst);
  if (want == 0) return 0;
  // Per mbuf, the index of the frame it carries; frames dropped as oversize take no mbuf.
  std::array<std::uint16_t, kMaxBurst> frame_of{};
  std::size_t count = 0;
  std::size_t offered = 0;
  for (; offered < want; ++offered) {
    const TxFrame& f = frames[offered];
    const std::size_t len = f.size();  // headers + gathered payload: both are copied into the mbuf
    if (len > options_.max_frame_bytes || f.bytes.size() < wire::kEthHeaderBytes) {
      ++stats_.tx_oversize;
      continue;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      ++stats_.mbuf_alloc_failures;
      break;
    }
    const std::size_t tag = options_.vlan_priority ? kVlanTagBytes : 0;
    std::uint8_t* p = mbuf_data(m);
    if (tag != 0) {
      std::memcpy(p, f.bytes.data(), kMacPairBytes);
      const std::uint16_t tci = static_cast<std::uint16_t>(vc_to_pcp(f.vc) << 13);  // PCP, DEI 0, VID 0
      p[12] = kEtherTypeVlan >> 8;
      p[13] = kEtherTypeVlan & 0xFF;
      p[14] = static_cast<std::uint8_t>(tci >> 8);
      p[15] = static_cast<std::uint8_t>(tci);
      std::memcpy(p + kMacPairBytes + tag, f.bytes.data() + kMacPairBytes, f.bytes.size() - kMacPairBytes);
    } else {
      std::memcpy(p, f.bytes.data(), f.bytes.size());
    }
    if (!f.payload.empty()) std::memcpy(p + tag + f.bytes.size(), f.payload.data(), f.payload.size());
    m->data_len = static_cast<std::uint16_t>(len + tag);
    m->pkt_len = static_cast<std::uint32_t>(len + tag);
    tx_mbufs_[count] = m;
    frame_of[count] = static_cast<std::uint16_t>(offered);
    ++count;
  }
  const std::uint16_t sent =
      count == 0 ? 0 : rte_eth_tx_burst(options_.port_id, 0, tx_mbufs_.data(), static_cast<std::uint16_t>(count));
  std::size_t accepted = offered;
  if (sent < count) {
    rte_pktmbuf_free_bulk(tx_mbufs_.data() + sent, static_cast<unsigned>(count - sent));
    if (link_up()) {
      accepted = frame_of[sent];  // a full ring: the caller offers the rest again
      stats_.tx_refused += count - sent;
    } else {
      // No peer: the frames are lost, as on a cable with no link. Refusing them would hold every
      // later frame of the caller (of every port, behind a PortSet) behind a peer that is gone.
      stats_.tx_link_down += count - sent;
    }
  }
  stats_.tx_frames += sent;
  if (pcap_ != nullptr) {
    const TimeNs now = tsc_now_ns();
    for (std::size_t i = 0; i < sent; ++i) pcap_->write_ethernet(now, frames[frame_of[i]].flatten(pcap_scratch_));
  }
  return accepted;
}

void DpdkDatapath::release_rx() {
  if (rx_held_count_ > 0) rte_pktmbuf_free_bulk(rx_held_.data(), static_cast<unsigned>(rx_held_count_));
  rx_held_count_ = 0;
}

std::size_t DpdkDatapath::rx_burst(std::span<RxFrame> out) {
  release_rx();
  const std::size_t want = std::min(out.size(), kMaxBurst);
  if (want == 0) return 0;
  const std::uint16_t n =
      rte_eth_rx_burst(options_.port_id, 0, rx_held_.data(), static_cast<std::uint16_t>(want));
  std::size_t kept = 0;
  const TimeNs now = pcap_ != nullptr ? tsc_now_ns() : 0;
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = rx_held_[i];
    if (m->nb_segs != 1) {
      ++stats_.rx_multi_segment;
      rte_pktmbuf_free(m);
      continue;
    }
    std::uint8_t* p = mbuf_data(m);
    std::size_t len = m->data_len;
    if (len >= wire::kEthHeaderBytes + kVlanTagBytes && load_be16(p + kMacPairBytes) == kEtherTypeVlan) {
      std::memmove(p + kVlanTagBytes, p, kMacPairBytes);
      p += kVlanTagBytes;
      len -= kVlanTagBytes;
      ++stats_.rx_vlan_stripped;
    } else if ((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0) {
      ++stats_.rx_vlan_stripped;  // the PMD (af_packet: the kernel) already removed it
    }
    if (len < wire::kEthHeaderBytes || load_be16(p + kMacPairBytes) != wire::kEtherTypeTtp) {
      ++stats_.rx_not_ttp;
      rte_pktmbuf_free(m);
      continue;
    }
    rx_held_[kept] = m;
    out[kept] = RxFrame{{p, len}, 0, false};
    if (pcap_ != nullptr) pcap_->write_ethernet(now, out[kept].bytes);
    ++kept;
  }
  rx_held_count_ = kept;
  stats_.rx_frames += kept;
  return kept;
}

}  // namespace weft::transport
