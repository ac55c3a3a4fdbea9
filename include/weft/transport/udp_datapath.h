// UdpDatapath: TTP over UDP (the TTP header directly after UDP, as TTPoE's IPv4 mode), on Linux
// sockets opened through Boost.Asio, with batching where the kernel allows it: sendmmsg/recvmmsg,
// UDP GSO (UDP_SEGMENT) for runs of equal-size frames to one peer, UDP GRO on receive; a
// fallback to one datagram per call where a feature is missing.
//
// Peers: a node id names each remote IP:port. add_peer() assigns one explicitly; a datagram from
// an unknown address gets the next free id automatically (so a responder needs no configuration)
// and replies go back to that address. Ranks on one host differ by port.
// VC -> DSCP: VC0 CS1 (8), VC1 CS5 (40), VC2 AF41 (34). Frames are sent ECN-capable (ECT(0)); a
// received CE mark is reported in RxFrame::ce.
//
// Only one translation unit includes Asio (udp_datapath.cc), to keep builds fast.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "weft/transport/datapath.h"
#include "weft/transport/pcap.h"

namespace weft::transport {

struct UdpOptions {
  std::string bind = "127.0.0.1:0";  // local address; port 0 picks a free one
  std::size_t max_frame_bytes = 9000;  // largest TTP frame (datagram payload)
  bool gso = true;                   // use UDP_SEGMENT when the kernel supports it
  bool gro = true;                   // use UDP_GRO when the kernel supports it
  int socket_buffer_bytes = 32 << 20;  // SO_SNDBUF / SO_RCVBUF (FORCE variants tried as root)
  std::size_t batch = 32;            // datagrams per sendmmsg / recvmmsg
};

// Parses "udp://HOST:PORT" or "HOST:PORT" (IPv4 literal or "localhost"). Returns nullopt and sets
// `error` to a message naming what is wrong.
std::optional<UdpAddress> parse_udp_address(const std::string& text, std::string& error);
std::string format_udp_address(UdpAddress a);

class UdpDatapath final : public Datapath {
 public:
  // Opens and binds the socket; throws std::runtime_error naming the address and the reason
  // (e.g. "127.0.0.1:7000: address already in use").
  explicit UdpDatapath(const UdpOptions& options);
  ~UdpDatapath() override;

  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kUdp; }
  std::size_t max_frame_bytes() const override;
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  int wait_fd() const override;
  std::string describe() const override;

  UdpAddress local_address() const;
  // Names `addr` with a node id (returns the existing id if it has one). Ids start at 1.
  NodeId add_peer(UdpAddress addr);
  std::optional<UdpAddress> peer_address(NodeId id) const;
  bool gso_enabled() const;
  bool gro_enabled() const;
  std::uint64_t datagrams_sent() const;
  std::uint64_t datagrams_received() const;
  std::uint64_t send_errors() const;  // datagrams the kernel refused (counted, never silent)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::transport
