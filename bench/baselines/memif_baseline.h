// Raw memif throughput and weft-over-memif goodput between two processes, for
// `weft bench transport --datapath dpdk` and tests/integration/dpdk_memif_bench.
//
// Each measurement forks two child processes (DPDK's EAL can be initialised only once per
// process): a receiver, the memif server, pinned to receiver_lcore, and a sender, the memif
// client, pinned to sender_lcore, each with its own EAL (--no-huge --no-pci --no-shconf) and a
// socket in a fresh temporary directory. The calling process must not have initialised DPDK
// itself; it only waits for the children and reads their results from pipes. Both children
// busy-poll, so on a 2-core machine nothing else should run meanwhile.
//
// Errors: setup failures (EAL, link, a child that crashed or passed its deadline) throw
// std::runtime_error naming the side and the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "weft/transport/config.h"

namespace weft::bench {

struct MemifRunOptions {
  std::size_t frame_bytes = 9000;     // Ethernet frame size (no FCS), both measurements
  unsigned receiver_lcore = 0;        // EAL -l of the receiver (memif server)
  unsigned sender_lcore = 1;          // EAL -l of the sender (memif client)
  unsigned eal_memory_mb = 512;       // EAL -m of each process (no hugepages)
  double deadline_s = 120;            // a child still running after this long is killed
};

struct RawMemifOptions {
  MemifRunOptions run;
  double seconds = 2.0;    // how long the sender blasts
  unsigned burst = 32;     // frames per rte_eth_tx_burst / rte_eth_rx_burst
  bool touch = false;      // sender writes every byte of each frame (as weft's copy does)
  // Move the frames through DpdkDatapath's tx_burst/rx_burst (copy into the mbuf, 802.1Q tag
  // in and out, EtherType filter) instead of raw mbufs: the datapath's own cost, without weft.
  bool through_datapath = false;
};

struct RawMemifResult {
  double gbps = 0;                  // received frame bits per second (Ethernet frames, no FCS)
  double mpps = 0;                  // received frames per second, millions
  std::uint64_t frames_sent = 0;    // accepted by rte_eth_tx_burst
  std::uint64_t frames_received = 0;
  double seconds = 0;               // receiver's first to last frame
};

// Sender blasts frame_bytes frames for `seconds`; the receiver counts them (and checks each
// frame's length and sequence stamp). Throws on setup failure.
RawMemifResult raw_memif_throughput(const RawMemifOptions& options);

struct WeftMemifOptions {
  MemifRunOptions run;
  std::size_t message_bytes = 1 << 20;  // size of each message
  std::size_t messages = 64;            // how many, queued back to back on one link (VC2)
  bool vlan_priority = true;            // DpdkOptions::vlan_priority
  // Endpoint settings of both sides. The bench sets node_id, encapsulation (Ethernet) and
  // max_frame_bytes (run.frame_bytes), and raises recv/send_buffer_bytes to hold a message.
  transport::EndpointConfig endpoint;
};

struct WeftMemifResult {
  double gbps = 0;                  // message bytes * 8 / seconds
  double seconds = 0;               // sender: first send() to the responder's last reply
  std::uint64_t payloads_sent = 0;  // PAYLOAD frames, retransmissions included
  std::uint64_t retransmits = 0;
  std::uint64_t messages_verified = 0;  // receiver: right size and sampled pattern
};

// weft (profile weft, plaintext) over DpdkDatapath on memif, the generic Driver in busy-poll
// mode with the TSC clock: one link, `messages` messages, each answered by a small reply once the
// receiver has it whole. Throws on setup failure or when a message arrives wrong.
WeftMemifResult weft_memif_goodput(const WeftMemifOptions& options);

}  // namespace weft::bench
