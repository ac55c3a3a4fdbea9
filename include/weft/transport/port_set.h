// PortSet: one Datapath made of several ports — a node with a memif per peer, or an accelerator
// with scale-up and scale-out ports. tx_burst routes each frame through the port that reaches
// its peer (route()); rx_burst polls every port, starting after the one it started with last time
// so no port starves. The Endpoint above sees one datapath and never learns about ports.
//
// Ports are borrowed (they must outlive the PortSet) and must share one encapsulation. A frame
// for a peer with no route is dropped, counted (unrouted()) and reported as accepted, as a UDP
// datapath does for a peer with no address: the transport retransmits what matters and fails
// the link after its retry budget. Frames stay in order per port; when a port refuses part of a
// burst, tx_burst returns the frames accepted before the refusal (the caller retries the rest).
//
// wait_fd(): the port's descriptor when there is exactly one port, else -1 (poll them: drive a
// PortSet of several ports in busy-poll mode).
//
// Threading: one driver thread, like the ports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "weft/transport/datapath.h"

namespace weft::transport {

class PortSet final : public Datapath {
 public:
  PortSet() = default;
  // Adds a port; returns its index. Throws std::invalid_argument if its encapsulation differs
  // from the first port's.
  int add_port(Datapath& port);
  // Frames to `peer` leave through port `port` (replaces an earlier route). Throws
  // std::out_of_range for an unknown port.
  void route(NodeId peer, int port);
  std::size_t ports() const { return ports_.size(); }
  std::uint64_t unrouted() const { return unrouted_; }

  wire::Encapsulation encapsulation() const override;
  std::size_t max_frame_bytes() const override;  // the smallest of the ports'
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  bool gathers() const override;  // when every port gathers
  int wait_fd() const override;
  void set_pcap(PcapWriter* pcap) override;
  std::string describe() const override;

 private:
  std::vector<Datapath*> ports_;
  std::unordered_map<NodeId, int> routes_;
  std::size_t next_rx_ = 0;
  std::uint64_t unrouted_ = 0;
};

}  // namespace weft::transport
