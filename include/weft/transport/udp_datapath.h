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
  bool gro_adaptive = true;          // GRO only while traffic is bulk: on when a receive finds a
                                     // queue (>= 8 datagrams), off after 1024 receives in a row
                                     // found one lone datagram. A GRO socket adds ~0.2 us to each
                                     // small datagram's path on loopback (docs/performance.md).
  int socket_buffer_bytes = 32 << 20;  // SO_SNDBUF / SO_RCVBUF (FORCE variants tried as root)
  std::size_t batch = 32;            // messages per sendmmsg / recvmmsg (a GSO message holds up to
                                     // 64 datagrams; a GRO message up to 64 KiB of them)
};

// The IP TOS byte a frame on `vc` is sent with: DSCP (VC0 CS1, VC1 CS5, VC2 AF41) in the high six
// bits, ECT(0) (binary 10) in the two ECN bits.
inline constexpr std::uint8_t kEcnMask = 0x3;
inline constexpr std::uint8_t kEcnEct0 = 0x2;
inline constexpr std::uint8_t kEcnCe = 0x3;
constexpr std::uint8_t udp_dscp_for_vc(Vc vc) {
  return vc == Vc::kReqLo ? 8 : vc == Vc::kReqHi ? 40 : 34;
}
constexpr std::uint8_t udp_tos_for_vc(Vc vc) {
  return static_cast<std::uint8_t>(udp_dscp_for_vc(vc) << 2 | kEcnEct0);
}

// Parses "udp://HOST:PORT" or "HOST:PORT" (IPv4 literal or "localhost"). Returns nullopt and sets
// `error` to a message naming what is wrong.
std::optional<UdpAddress> parse_udp_address(const std::string& text, std::string& error);
std::string format_udp_address(UdpAddress a);

class UdpDatapath final : public Datapath {
 public:
  // Threading: not thread-safe; one driver thread owns a UdpDatapath.
  // Opens and binds the socket; throws std::runtime_error naming the address and the reason
  // (e.g. "127.0.0.1:7000: address already in use").
  explicit UdpDatapath(const UdpOptions& options);
  ~UdpDatapath() override;

  wire::Encapsulation encapsulation() const override { return wire::Encapsulation::kUdp; }
  std::size_t max_frame_bytes() const override;
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override;
  int wait_fd() const override;
  bool gathers() const override { return true; }
  std::string describe() const override;

  UdpAddress local_address() const;
  // Names `addr` with a node id (returns the existing id if it has one). Ids start at 1.
  NodeId add_peer(UdpAddress addr);
  std::optional<UdpAddress> peer_address(NodeId id) const;
  // True while UDP GSO is in use: the startup probe succeeded and the kernel has not refused a
  // GSO send (EIO/EINVAL/EOPNOTSUPP turns it off for good, and the frames go out one by one).
  bool gso_enabled() const;
  bool gro_enabled() const;  // UDP_GRO is on now (the kernel accepted it; adaptive: traffic is bulk)
  std::uint64_t gro_switches() const;  // adaptive GRO: times it was turned on or off
  // Counters since construction; datagrams are TTP frames (a GSO send of 7 counts 7).
  std::uint64_t datagrams_sent() const;
  std::uint64_t datagrams_received() const;
  // Frames not sent and reported as accepted: the kernel refused them with an error other than
  // EAGAIN/ENOBUFS, or their node id has no address. Counted, never silent; the transport
  // retransmits what matters.
  std::uint64_t send_errors() const;
  // Datagrams received and dropped: truncated, larger than max_frame_bytes, or empty.
  std::uint64_t receive_drops() const;
  std::uint64_t gso_sends() const;     // send calls that carried more than one datagram (UDP_SEGMENT)
  std::uint64_t gro_receives() const;  // received super-datagrams split into more than one frame
  // The TOS byte of the last datagram received (DSCP and ECN as they arrived; 0 before any).
  std::uint8_t last_rx_tos() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::transport
