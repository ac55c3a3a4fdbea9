#include "weft/transport/pcap.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace weft::transport {
namespace {

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v));
}
void put_le32(std::FILE* f, std::uint32_t v) {
  std::uint8_t b[4] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                       static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
  std::fwrite(b, 1, 4, f);
}
void put_le16(std::FILE* f, std::uint16_t v) {
  std::uint8_t b[2] = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8)};
  std::fwrite(b, 1, 2, f);
}

std::uint16_t ip_checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>((p[i] << 8) | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace

PcapWriter::PcapWriter(const std::string& path) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw std::runtime_error("cannot write pcap file '" + path + "': " + std::strerror(errno));
  put_le32(file_, 0xA1B2C3D4);  // magic, microsecond timestamps
  put_le16(file_, 2);
  put_le16(file_, 4);
  put_le32(file_, 0);      // thiszone
  put_le32(file_, 0);      // sigfigs
  put_le32(file_, 65535);  // snaplen
  put_le32(file_, 1);      // LINKTYPE_ETHERNET
}

PcapWriter::~PcapWriter() {
  if (file_) std::fclose(file_);
}

void PcapWriter::flush() { std::fflush(file_); }

void PcapWriter::write_ethernet(TimeNs time_ns, std::span<const std::uint8_t> frame) {
  const std::uint64_t us = static_cast<std::uint64_t>(time_ns < 0 ? 0 : time_ns) / 1000;
  const std::uint32_t len = static_cast<std::uint32_t>(frame.size());
  put_le32(file_, static_cast<std::uint32_t>(us / 1000000));
  put_le32(file_, static_cast<std::uint32_t>(us % 1000000));
  put_le32(file_, len);
  put_le32(file_, len);
  std::fwrite(frame.data(), 1, frame.size(), file_);
  ++packets_;
}

void PcapWriter::write_udp(TimeNs time_ns, UdpAddress src, UdpAddress dst, std::uint8_t tos,
                           std::span<const std::uint8_t> payload) {
  scratch_.clear();
  // Ethernet: locally administered MACs derived from the IPv4 addresses.
  const std::uint8_t dst_mac[6] = {0x02, 0x00, static_cast<std::uint8_t>(dst.ip >> 24),
                                   static_cast<std::uint8_t>(dst.ip >> 16), static_cast<std::uint8_t>(dst.ip >> 8),
                                   static_cast<std::uint8_t>(dst.ip)};
  const std::uint8_t src_mac[6] = {0x02, 0x00, static_cast<std::uint8_t>(src.ip >> 24),
                                   static_cast<std::uint8_t>(src.ip >> 16), static_cast<std::uint8_t>(src.ip >> 8),
                                   static_cast<std::uint8_t>(src.ip)};
  scratch_.insert(scratch_.end(), dst_mac, dst_mac + 6);
  scratch_.insert(scratch_.end(), src_mac, src_mac + 6);
  put16(scratch_, 0x0800);
  const std::size_t ip_start = scratch_.size();
  const std::uint16_t ip_len = static_cast<std::uint16_t>(20 + 8 + payload.size());
  scratch_.push_back(0x45);
  scratch_.push_back(tos);
  put16(scratch_, ip_len);
  put16(scratch_, 0);       // id
  put16(scratch_, 0x4000);  // DF
  scratch_.push_back(64);   // TTL
  scratch_.push_back(17);   // UDP
  put16(scratch_, 0);       // checksum, filled below
  put32(scratch_, src.ip);
  put32(scratch_, dst.ip);
  const std::uint16_t csum = ip_checksum(scratch_.data() + ip_start, 20);
  scratch_[ip_start + 10] = static_cast<std::uint8_t>(csum >> 8);
  scratch_[ip_start + 11] = static_cast<std::uint8_t>(csum);
  put16(scratch_, src.port);
  put16(scratch_, dst.port);
  put16(scratch_, static_cast<std::uint16_t>(8 + payload.size()));
  put16(scratch_, 0);  // UDP checksum optional over IPv4
  scratch_.insert(scratch_.end(), payload.begin(), payload.end());
  write_ethernet(time_ns, scratch_);
}

std::vector<PcapPacket> read_pcap(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot read pcap file '" + path + "': " + std::strerror(errno));
  std::vector<std::uint8_t> all;
  std::uint8_t buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.insert(all.end(), buf, buf + n);
  std::fclose(f);
  if (all.size() < 24) throw std::runtime_error("'" + path + "' is not a pcap file (shorter than its 24 B header)");
  auto rd32 = [&](std::size_t at, bool swap) {
    std::uint32_t v = static_cast<std::uint32_t>(all[at]) | (static_cast<std::uint32_t>(all[at + 1]) << 8) |
                      (static_cast<std::uint32_t>(all[at + 2]) << 16) | (static_cast<std::uint32_t>(all[at + 3]) << 24);
    return swap ? __builtin_bswap32(v) : v;
  };
  const std::uint32_t magic = rd32(0, false);
  bool swap = false, nanos = false;
  if (magic == 0xA1B2C3D4) {
  } else if (magic == 0xA1B23C4D) {
    nanos = true;
  } else if (magic == 0xD4C3B2A1) {
    swap = true;
  } else if (magic == 0x4D3CB2A1) {
    swap = nanos = true;
  } else {
    throw std::runtime_error("'" + path + "' is not a classic pcap file (bad magic; pcapng is not supported: "
                             "convert with editcap -F pcap)");
  }
  if (rd32(20, swap) != 1) {
    throw std::runtime_error("'" + path + "': link type " + std::to_string(rd32(20, swap)) + " is not Ethernet (1)");
  }
  std::vector<PcapPacket> out;
  std::size_t at = 24;
  while (at < all.size()) {
    if (all.size() - at < 16) throw std::runtime_error("'" + path + "': truncated record header at byte " + std::to_string(at));
    const std::uint32_t sec = rd32(at, swap), frac = rd32(at + 4, swap), incl = rd32(at + 8, swap);
    at += 16;
    if (incl > all.size() - at) throw std::runtime_error("'" + path + "': truncated packet at byte " + std::to_string(at));
    PcapPacket p;
    p.time_ns = static_cast<TimeNs>(sec) * 1000000000 + static_cast<TimeNs>(frac) * (nanos ? 1 : 1000);
    p.data.assign(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(at + incl));
    out.push_back(std::move(p));
    at += incl;
  }
  return out;
}

}  // namespace weft::transport
