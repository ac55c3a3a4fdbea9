// PcapWriter: classic libpcap files (LINKTYPE_ETHERNET, microsecond timestamps), written without
// libpcap so every datapath and tool can capture. UDP-encapsulated TTP frames are wrapped in
// synthetic Ethernet + IPv4 + UDP headers carrying the real addresses and ports, so Wireshark,
// tshark and `weft decode` read every capture the same way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "weft/transport/types.h"

namespace weft::transport {

struct UdpAddress {
  std::uint32_t ip = 0;    // IPv4, host order
  std::uint16_t port = 0;  // host order
};

class PcapWriter {
 public:
  // Opens `path` for writing; throws std::runtime_error naming the path and errno text on failure.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // An Ethernet frame, as sent or received. `time_ns`: any epoch (real drivers: monotonic ns).
  void write_ethernet(TimeNs time_ns, std::span<const std::uint8_t> frame);
  // A UDP payload (a TTP frame in UDP encapsulation) between two addresses; `tos` is the IP TOS
  // byte (DSCP and ECN as sent or received).
  void write_udp(TimeNs time_ns, UdpAddress src, UdpAddress dst, std::uint8_t tos,
                 std::span<const std::uint8_t> payload);
  std::uint64_t packets() const { return packets_; }
  void flush();

 private:
  std::FILE* file_ = nullptr;
  std::vector<std::uint8_t> scratch_;
  std::uint64_t packets_ = 0;
};

// Reads a classic pcap file (either byte order, micro- or nanosecond timestamps, LINKTYPE_ETHERNET)
// and returns its packets. Throws std::runtime_error with the reason on a malformed file.
struct PcapPacket {
  TimeNs time_ns = 0;
  std::vector<std::uint8_t> data;
};
std::vector<PcapPacket> read_pcap(const std::string& path);

}  // namespace weft::transport
