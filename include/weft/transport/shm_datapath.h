// ShmDatapath: TTP over Ethernet framing through a POSIX shared-memory region between two
// processes on one host — weft's own shared-memory link, with no kernel and no DPDK on the path.
//
// The region holds two single-producer single-consumer rings of fixed-size slots, one per
// direction. tx_burst copies each frame (headers and gathered payload) into the next free slot
// and publishes the batch with one release store; rx_burst hands up views straight into the
// peer's slots, valid until the next rx_burst, which gives the slots back. A frame therefore
// crosses with one copy (an encrypted one: sealed by the sender, copied into the slot, opened by
// the receiver straight from the slot), where UDP on loopback makes two in the kernel and DPDK
// memif three.
//
// Setup: one side creates the region (ShmOptions::create), the other attaches to it by name,
// waiting up to attach_timeout for the creator. Both check the geometry. Once both are attached
// the name can be removed (unlink()), so nothing is left behind if a process dies. Every failure
// throws std::runtime_error naming the object, the step and errno's text.
//
// Back-pressure and dead peers: a full ring refuses the rest of a burst (the caller offers it
// again) while the peer process lives; when the peer process is gone (kill(pid, 0) fails), frames
// are dropped and counted instead, as on a cable with no link, so a dead peer never holds back
// frames to live ones (behind a PortSet).
//
// wait_fd() is -1: poll it. Threading: one thread per side, like every Datapath.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/transport/datapath.h"

namespace weft::transport {

struct ShmOptions {
  std::string name;                 // shm_open name: "/weft-shm-..." (one '/', then no '/')
  bool create = false;              // true: create and initialise the region; false: attach to it
  std::uint32_t slots = 1024;       // frames per direction; a power of two
  std::size_t max_frame_bytes = 9000;  // largest frame carried (slots are this plus 4 B, rounded)
  std::chrono::milliseconds attach_timeout{10000};  // how long an attaching side waits
};

struct ShmStats {
  std::uint64_t tx_frames = 0;     // copied into the ring
  std::uint64_t tx_refused = 0;    // ring full, peer alive: returned to the caller
  std::uint64_t tx_peer_gone = 0;  // ring full and the peer process gone: dropped, reported sent
  std::uint64_t tx_oversize = 0;   // larger than max_frame_bytes: dropped, reported sent
  std::uint64_t rx_frames = 0;     // handed to the caller
};

class ShmDatapath final : public Datapath {
 public:
  explicit ShmDatapath(const ShmOptions& options);
  ~ShmDatapath() override;
  ShmDatapath(const ShmDatapath&) = delete;
  ShmDatapath& operator=(const ShmDatapath&) = delete;

  // Removes the region's name (the mapping stays). The creator also removes it when destroyed.
  void unlink();
  // Whether the other side has attached (the creator's view; always true for the attacher).
  bool peer_attached() const;
  const ShmStats& stats() const { return stats_; }

  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kEthernet; }
  std::size_t max_frame_bytes() const override { return options_.max_frame_bytes; }
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  bool gathers() const override { return true; }  // headers and payload are copied into one slot
  std::string describe() const override;

 private:
  struct Region;
  struct Ring;
  bool peer_alive();
  ShmOptions options_;
  std::size_t slot_bytes_ = 0;
  std::size_t map_bytes_ = 0;
  void* map_ = nullptr;
  Region* region_ = nullptr;
  Ring* tx_ = nullptr;
  Ring* rx_ = nullptr;
  std::uint8_t* tx_slots_ = nullptr;
  std::uint8_t* rx_slots_ = nullptr;
  std::uint64_t tx_head_ = 0;        // next slot to fill (this side is the only producer)
  std::uint64_t tx_tail_seen_ = 0;   // the consumer's position as last read
  std::uint64_t rx_tail_ = 0;        // next slot to read (this side is the only consumer)
  std::size_t rx_held_ = 0;          // slots handed up by the last rx_burst, given back at the next
  bool linked_ = false;              // the name still exists (creator)
  ShmStats stats_;
  std::vector<std::uint8_t> pcap_scratch_;
};

}  // namespace weft::transport
