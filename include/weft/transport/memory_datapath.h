// MemoryDatapath: an in-process, real-time Datapath pair joined by two queues — the memory
// backend of the Datapath interface (SimLoop is the virtual-time driver of the same frames). It
// lets the generic Driver and decorators such as FaultShim be tested without sockets.
#pragma once

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "weft/transport/datapath.h"

namespace weft::transport {

class MemoryDatapath final : public Datapath {
 public:
  // Two ends of one link; node ids are read from the frames (Ethernet encapsulation).
  static std::pair<std::unique_ptr<MemoryDatapath>, std::unique_ptr<MemoryDatapath>> make_pair(
      std::size_t queue_limit_frames = 4096);

  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kEthernet; }
  std::size_t max_frame_bytes() const override { return wire::kWeftMaxFrameBytes; }
  // Accepts frames while the peer's queue has room (backpressure, never drops).
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  // Gathered frames are copied whole into the queue, as a NIC would DMA them: the Driver's
  // scatter-gather path runs in tests without sockets.
  bool gathers() const override { return true; }
  std::string describe() const override { return "memory pair"; }

 private:
  struct Queue {
    std::deque<std::vector<std::uint8_t>> frames;
    std::size_t limit = 0;
  };
  MemoryDatapath(std::shared_ptr<Queue> in, std::shared_ptr<Queue> out) : in_(std::move(in)), out_(std::move(out)) {}
  std::shared_ptr<Queue> in_;
  std::shared_ptr<Queue> out_;
  std::vector<std::vector<std::uint8_t>> held_;  // frames handed out by the last rx_burst
};

}  // namespace weft::transport
