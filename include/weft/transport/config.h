// Endpoint configuration: a plain struct with defaults, every field with its unit.
#pragma once

#include <cstdint>
#include <memory>

#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::crypto {
class Credentials;
}

namespace weft::transport {

struct EndpointConfig {
  // --- identity and wire -------------------------------------------------------------------
  Profile profile = Profile::kWeft;
  wire::Encapsulation encapsulation = wire::Encapsulation::kEthernet;
  NodeId node_id = 1;                  // 24-bit node id (low 24 bits of the MAC on Ethernet)
  std::uint32_t max_frame_bytes = 9000;  // largest frame sent; compat clamps to 1536 (1024 B payload)
  std::uint32_t max_connections = 1u << 20;  // (peer, vc) links held at once; beyond: OPEN_NACK
  std::uint64_t rng_seed = 1;          // seeds initial TxIDs, epochs and entropy values
  // Initial TxID of every link when non-zero (tests of 32-bit wrap); random when 0.
  std::uint32_t fixed_initial_tx_id = 0;

  // --- windows and buffers (both profiles use the same window, so comparisons isolate
  //     go-back-N against SACK) -----------------------------------------------------------
  std::uint32_t window_bytes = 1u << 20;          // max bytes in flight per link
  std::uint32_t initial_window_bytes = 64u << 10;  // weft congestion window at start
  std::uint64_t send_buffer_bytes = 256ull << 20;  // queued + unacked bytes per link; send() fails beyond
  std::uint32_t recv_buffer_bytes = 4u << 20;      // buffered receive bytes per link; beyond: NACK_FULL

  // --- timers -----------------------------------------------------------------------------
  std::uint32_t rto_initial_us = 1000;   // RTO before the first RTT sample (also OPEN/CLOSE)
  std::uint32_t rto_min_us = 100;        // floor of the RTO computed from SRTT + 4 * RTTVAR
  std::uint32_t rto_max_us = 200000;     // cap of the exponentially backed-off RTO
  // Retry budget: a link whose outstanding data (or OPEN/CLOSE) made no progress for this long
  // fails with kRetryBudgetExhausted / kOpenTimedOut / kCloseTimedOut, reported to the app.
  std::uint32_t retry_budget_us = 10000000;
  std::uint32_t ack_every_packets = 4;   // weft: ACK at least every N in-order PAYLOADs
  std::uint32_t ack_delay_us = 4;        // weft: ... or this long after the first unACKed one
  std::uint32_t nack_full_backoff_us = 20;  // pause after NACK_FULL, doubled on each repeat
  // Answer a frame that finds the receive buffer full with NACK_FULL (the sender pauses, then
  // resends). false: drop it silently, and the sender finds out by its retransmission timer —
  // what a receiver without backpressure does (for comparisons, e.g. the incast study).
  bool nack_full = true;

  // --- congestion control (weft) ------------------------------------------------------------
  bool congestion_control = true;        // ECN (DCTCP-like) + delay; never loss-driven
  std::uint32_t dctcp_gain_shift = 4;    // alpha gain g = 1 / 2^shift
  std::uint32_t delay_target_us = 50;    // queueing delay above min RTT that triggers decrease
  bool pacing = true;                    // pace data at gain * cwnd / srtt
  std::uint32_t min_window_bytes = 2048;  // congestion window floor (raised to one full segment)

  // --- security (weft profile; docs/security.md) ----------------------------------------------
  // Credentials that authenticate this node's handshakes. With them, OPEN/OPEN_ACK carry an
  // authenticated X25519 exchange and every later frame of the link is AEAD-sealed. nullptr means
  // plaintext: the protocol core's own tests run so, and every weft program refuses it unless
  // --insecure is given. ttpoe-compat ignores credentials (the spec has no security).
  std::shared_ptr<const crypto::Credentials> credentials;
  std::uint64_t rotate_packets = 1ull << 22;     // new key generation after this many frames under one key
  std::uint64_t rotate_interval_us = 600000000;  // ... or after this long with traffic (0: never)
  // Hard cap of frames sealed under one key (RFC 9001 §6.6 budgets 2^23 for AES-GCM); rotation
  // happens here even if rotate_packets is larger.
  std::uint64_t usage_limit_packets = 1ull << 23;
  // now + wall_clock_offset_ns is the handshake clock an OPEN is stamped with (real drivers set it
  // so the sum is Unix time in ns; the simulator leaves 0: all nodes share virtual time).
  std::int64_t wall_clock_offset_ns = 0;
  // An OPEN from a peer this endpoint holds no handshake record of must be stamped within this
  // window of the local handshake clock, else it is dropped as stale (a replay).
  std::uint64_t handshake_window_us = 120000000;
  std::uint32_t aead_cache_entries = 64;  // expanded AEAD key states kept (active links hit it)
  std::uint64_t initial_tx_counter = 0;   // tests only: first transmission counter of each direction

  // --- robustness ---------------------------------------------------------------------------
  std::uint32_t control_queue_limit = 4096;  // stateless replies (NACK_NOLINK, ...) queued at most
};

// The largest payload one frame carries for this configuration (profile, encapsulation, MTU).
std::uint32_t max_payload_bytes(const EndpointConfig& c);

// Timer settings for endpoints driven by real processes (UDP, DPDK) rather than the simulator:
// rto_min_us 2000 and delay_target_us 1000. Between processes on a shared host, RTT samples swing
// by hundreds of microseconds with scheduling and batching, none of it network queueing; the
// simulator's floors (100 us RTO, 50 us delay target) would read that as loss and congestion.
// Loss is still repaired by SACK/RACK long before the RTO; ECN is unchanged.
EndpointConfig with_host_timers(EndpointConfig c);

}  // namespace weft::transport
