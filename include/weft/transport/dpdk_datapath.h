// DpdkDatapath: TTP over raw Ethernet (EtherType 0x9AC6) through one DPDK ethdev port, polled
// (no interrupts, wait_fd() is -1: drive it with Driver::Options::busy_poll and tsc_now_ns).
// Lives in libweft-dpdk, apart from libweft, so a runtime that links weft does not pull DPDK in.
//
// Setup: the constructor initialises DPDK's EAL (once per process: DPDK cannot initialise it
// twice), creates an mbuf pool, configures the port with one rx and one tx queue, starts it and
// waits for link up. Every setup failure throws std::runtime_error naming the step, the port or
// vdev, DPDK's reason (rte_strerror) and what to try.
//
// Frames: tx_burst copies each frame into one mbuf and, unless disabled, inserts an 802.1Q tag
// (VID 0, "priority tagged") whose PCP carries the VC: VC0 -> 1, VC1 -> 5, VC2 -> 3. rx_burst
// removes a tag (in the frame or already stripped by the PMD), drops and counts frames whose
// EtherType is not 0x9AC6 or that arrive in several segments, and returns views into its mbufs,
// valid until the next rx_burst. RxFrame::peer is 0: the Endpoint takes the peer from the TSH.
// Captures (set_pcap) hold the frames as the Endpoint sees them, i.e. without the 802.1Q tag.
//
// Virtual devices that work without hugepages or PCI (see docs and research/datapath-limits.md):
//   memif     --vdev=net_memif0,role=server|client,socket=DIR/memif.sock,socket-abstract=no,bsize=10240
//   af_packet --vdev=net_af_packet0,iface=IF,qdisc_bypass=1,framecnt=2048,blocksz=20480,framesz=10240
// with EAL args such as -l 0 --no-huge --no-pci -m 512 --no-shconf --no-telemetry.
//
// memif caveat (DPDK 22.11): when the peer disconnects, the PMD frees the shared regions from its
// interrupt thread while this process may be inside rx_burst on them, which can crash (seen once
// in ~100 runs here). Close in order: one side stops polling before the other closes its port
// (tests/integration/dpdk_transfer.cc shows the pattern).
//
// Threading: one thread (the polling lcore's) owns the datapath, like the Endpoint above it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/transport/datapath.h"

struct rte_mbuf;
struct rte_mempool;

namespace weft::transport {

struct DpdkOptions {
  // EAL arguments, without a program name, e.g. {"-l", "0", "--no-huge", "--no-pci", "-m",
  // "512", "--no-shconf", "--vdev=net_memif0,..."}. Empty: reuse the EAL this process already
  // initialised (a second port in the same process); non-empty when the EAL is up is an error.
  std::vector<std::string> eal_args;
  std::uint16_t port_id = 0;            // ethdev port (vdevs are numbered in --vdev order)
  std::size_t max_frame_bytes = 9000;   // largest untagged Ethernet frame (no FCS) sent or received
  std::uint32_t pool_mbufs = 8191;      // mbufs in the pool (about 10.4 KB each with jumbo frames)
  std::uint32_t mbuf_data_bytes = 10240;  // mbuf data room above the headroom; at least max frame + 4
  std::uint16_t rx_descriptors = 1024;  // rx ring size
  std::uint16_t tx_descriptors = 1024;  // tx ring size
  std::uint32_t link_timeout_ms = 5000;  // wait this long for link up; 0: do not wait
  bool vlan_priority = true;            // insert an 802.1Q priority tag carrying the VC in its PCP
};

struct DpdkStats {
  std::uint64_t tx_frames = 0;           // accepted by the PMD
  std::uint64_t tx_refused = 0;          // offered but not accepted (ring full), returned to caller
  std::uint64_t tx_link_down = 0;        // not sent because the link was down: dropped, reported as
                                         // accepted (the transport retransmits, or fails the link)
  std::uint64_t tx_oversize = 0;         // shorter than 14 B or longer than max_frame_bytes: dropped
                                         // (reported as accepted, so the caller does not retry it)
  std::uint64_t rx_frames = 0;           // handed to the caller
  std::uint64_t rx_not_ttp = 0;          // EtherType not 0x9AC6: dropped
  std::uint64_t rx_multi_segment = 0;    // did not fit one mbuf: dropped
  std::uint64_t rx_vlan_stripped = 0;    // frames that carried an 802.1Q tag
  std::uint64_t mbuf_alloc_failures = 0;  // pool empty on tx: frame left with the caller
};

// 802.1p priority code point for a VC (VC0 -> 1, VC1 -> 5, VC2 -> 3).
std::uint8_t vc_to_pcp(Vc vc);

class DpdkDatapath final : public Datapath {
 public:
  explicit DpdkDatapath(const DpdkOptions& options);
  ~DpdkDatapath() override;
  DpdkDatapath(const DpdkDatapath&) = delete;
  DpdkDatapath& operator=(const DpdkDatapath&) = delete;

  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kEthernet; }
  std::size_t max_frame_bytes() const override { return options_.max_frame_bytes; }
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  bool gathers() const override { return true; }  // headers and payload are copied into one mbuf
  std::string describe() const override;

  const DpdkStats& stats() const { return stats_; }
  // Whether the port's link is up now (memif: the peer is connected). Does not wait.
  bool link_up() const;
  // The port's MAC address (informational: weft addresses peers by node id in the TSH).
  std::array<std::uint8_t, 6> mac_address() const;

 private:
  static constexpr std::size_t kMaxBurst = 64;
  void release_rx();
  DpdkOptions options_;
  std::string device_name_;
  rte_mempool* pool_ = nullptr;
  bool started_ = false;
  std::array<rte_mbuf*, kMaxBurst> tx_mbufs_{};
  std::array<rte_mbuf*, kMaxBurst> rx_held_{};
  std::size_t rx_held_count_ = 0;
  DpdkStats stats_;
  std::vector<std::uint8_t> pcap_scratch_;  // a gathered frame made whole for the capture
};

// Brings this process's EAL up with `eal_args` (as DpdkOptions::eal_args) without configuring a
// port, for a program that must act between the EAL's device probe and the ports' start (a memif
// server listens from the probe on; a client connects when its port starts). Throws as the
// constructor does; throws if the EAL is already up.
void init_dpdk_eal(const std::vector<std::string>& eal_args);
// Whether this process's EAL is up.
bool dpdk_eal_up();
// The port a device (vdev) name was given, e.g. "net_memif3"; throws std::runtime_error if none.
std::uint16_t dpdk_port_by_name(const std::string& name);

// Nanoseconds from the TSC (rte_get_tsc_cycles scaled by rte_get_tsc_hz), for
// Driver::Options::clock; cheaper than clock_gettime on the polling path. The origin is the
// moment the EAL came up. Valid once a DpdkDatapath exists in this process (the EAL measures the
// TSC rate); before that it returns monotonic_now_ns(), another time base: take every `now` and
// deadline of one run from this function after constructing the datapath.
TimeNs tsc_now_ns();

}  // namespace weft::transport
