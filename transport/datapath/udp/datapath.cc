// UdpDatapath: Boost.Asio opens and binds the socket; the hot path is plain Linux syscalls on its
// native handle (Asio's per-datagram reactor costs 15-33 % on loopback, datapath-limits.md §3).
//
// Transmit. tx_burst turns the caller's frames into at most `batch` msghdrs and hands them to one
// sendmmsg. A msghdr is one datagram, or, with GSO, a run of frames to the same peer on the same
// VC whose sizes are equal (the last may be shorter): the frames become the iovecs of one
// super-datagram and a UDP_SEGMENT cmsg tells the kernel where to cut it (<= 64 segments,
// <= 65507 B). A gathered frame (headers + payload by reference) is two iovecs, so the payload
// goes from the application's buffer to the kernel with no copy in between. The socket's own TOS is the data VC's (DSCP, ECT(0));
// a frame on another VC carries an IP_TOS cmsg. The iovecs point
// into the caller's frames: the kernel copies them during the call, so nothing is copied here.
// EAGAIN/ENOBUFS stop the burst and report how many frames were accepted; any other error counts
// the msghdr's datagrams in send_errors() and moves on (the transport retransmits). A GSO send
// the kernel rejects as unsupported turns GSO off and the burst is rebuilt without it.
//
// Receive. recvmmsg fills up to `batch` pooled buffers (64 KiB each with GRO). A UDP_GRO cmsg
// names the segment size of a coalesced super-datagram, which is cut back into frames; IP_TOS
// (IP_RECVTOS) gives the ECN bits. When a burst yields more frames than the caller has room for,
// the rest are handed out by the next calls before the socket is read again, so the views handed
// out stay valid until the next call as promised.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>  // before Asio: Boost 1.74's asio under C++20 needs it (DESIGN.md §9)
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "weft/transport/pcap.h"
#include "weft/transport/udp_datapath.h"

namespace weft::transport {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxGsoSegments = 64;        // UDP_MAX_SEGMENTS in the kernel
constexpr std::size_t kMaxUdpPayload = 65507;      // 65535 - IPv4 header - UDP header
constexpr std::size_t kGroBufferBytes = 65536;     // one GRO super-datagram

// Room for the cmsgs of one message: IP_TOS (int) and UDP_SEGMENT (u16) on send; UDP_GRO (int) and
// IP_TOS (u8) on receive.
struct alignas(cmsghdr) ControlBuffer {
  unsigned char bytes[64];
};

std::uint64_t address_key(UdpAddress a) { return std::uint64_t{a.ip} << 16 | a.port; }

sockaddr_in to_sockaddr(UdpAddress a) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(a.port);
  s.sin_addr.s_addr = htonl(a.ip);
  return s;
}

UdpAddress from_sockaddr(const sockaddr_in& s) { return {ntohl(s.sin_addr.s_addr), ntohs(s.sin_port)}; }

cmsghdr* put_cmsg(cmsghdr* c, int level, int type, const void* data, std::size_t len) {
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(len);
  std::memcpy(CMSG_DATA(c), data, len);
  return c;
}

void set_buffer(int fd, int force_option, int option, int bytes) {
  // The FORCE variants ignore rmem_max/wmem_max but need CAP_NET_ADMIN; fall back quietly.
  if (::setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

std::optional<UdpAddress> parse_udp_address(const std::string& text, std::string& error) {
  std::string rest = text;
  if (rest.rfind("udp://", 0) == 0) rest = rest.substr(6);
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    error = "'" + text + "': missing ':PORT' (expected udp://HOST:PORT, e.g. udp://127.0.0.1:7000)";
    return std::nullopt;
  }
  const std::string host = rest.substr(0, colon);
  const std::string port_text = rest.substr(colon + 1);
  UdpAddress a;
  if (host == "localhost") {
    a.ip = INADDR_LOOPBACK;
  } else {
    in_addr addr{};
    if (host.empty() || ::inet_pton(AF_INET, host.c_str(), &addr) != 1) {
      error = "'" + text + "': bad host '" + host +
              "' (expected an IPv4 address such as 127.0.0.1, or localhost)";
      return std::nullopt;
    }
    a.ip = ntohl(addr.s_addr);
  }
  bool digits = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) digits = digits && c >= '0' && c <= '9';
  const unsigned long port = digits ? std::stoul(port_text) : 0;
  if (!digits || port > 65535) {
    error = "'" + text + "': bad port '" + port_text + "' (expected a number from 0 to 65535)";
    return std::nullopt;
  }
  a.port = static_cast<std::uint16_t>(port);
  return a;
}

std::string format_udp_address(UdpAddress a) {
  in_addr addr{};
  addr.s_addr = htonl(a.ip);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(a.port);
}

struct UdpDatapath::Impl {
  explicit Impl(const UdpOptions& o) : options(o), socket(io) {}

  UdpOptions options;
  asio::io_context io;
  asio::ip::udp::socket socket;
  int fd = -1;
  UdpAddress local;
  bool gso = false;
  bool gro = false;            // UDP_GRO on now
  bool gro_supported = false;  // the kernel accepted UDP_GRO at startup
  std::uint32_t lone_receives = 0;  // adaptive GRO: receives in a row that found one plain datagram
  std::uint64_t gro_switches = 0;
  int default_tos = -1;  // the socket's IP_TOS (frames with another TOS carry a cmsg); -1: none

  // Peers: node id n names peers[n - 1].
  std::vector<UdpAddress> peers;
  std::unordered_map<std::uint64_t, NodeId> ids;
  std::uint64_t last_key = ~std::uint64_t{0};
  NodeId last_id = 0;

  // Transmit pool: one msghdr per batch slot, up to kMaxGsoSegments iovecs each.
  std::vector<mmsghdr> tx_msgs;
  std::vector<sockaddr_in> tx_names;
  std::vector<iovec> tx_iov;
  std::vector<ControlBuffer> tx_control;
  std::vector<std::size_t> tx_frames;  // frames in each msghdr

  // Receive pool and the frames of the last recvmmsg not yet handed out.
  std::vector<std::uint8_t> rx_memory;
  std::size_t rx_buffer_bytes = 0;
  std::vector<mmsghdr> rx_msgs;
  std::vector<sockaddr_in> rx_names;
  std::vector<iovec> rx_iov;
  std::vector<ControlBuffer> rx_control;
  std::vector<std::size_t> rx_segment;  // segment size of each message (its length if not GRO)
  std::vector<NodeId> rx_peer;
  std::vector<bool> rx_ce;
  std::size_t rx_count = 0;   // messages in the last recvmmsg
  std::size_t rx_filled = 0;  // msghdrs the kernel wrote in the last recvmmsg (to reset)
  bool rx_light = true;       // the last receive found at most one message: use recvmsg
  std::size_t rx_next = 0;    // message being handed out
  std::size_t rx_offset = 0;  // offset of the next frame inside it

  std::uint64_t sent = 0, received = 0, send_errors = 0, receive_drops = 0, gso_sends = 0,
                gro_receives = 0;
  std::uint8_t last_tos = 0;
  std::vector<std::uint8_t> pcap_scratch;  // a gathered frame made whole for the capture

  NodeId id_for(UdpAddress a) {
    const std::uint64_t key = address_key(a);
    if (key == last_key) return last_id;
    auto it = ids.find(key);
    NodeId id;
    if (it != ids.end()) {
      id = it->second;
    } else {
      peers.push_back(a);
      id = static_cast<NodeId>(peers.size());
      ids.emplace(key, id);
    }
    last_key = key;
    last_id = id;
    return id;
  }

  // Sends `count` prepared msghdrs from `first`; returns how many the kernel took, or -1 (errno).
  // A lone plain datagram (no cmsg, one iovec) goes by sendto, which skips copying a msghdr in
  // (about 70 ns of a 64 B round trip's path on loopback).
  int send_messages(std::size_t first, std::size_t count) {
    const msghdr& h = tx_msgs[first].msg_hdr;
    if (count == 1 && h.msg_controllen == 0 && h.msg_iovlen == 1) {
      const ssize_t n = ::sendto(fd, h.msg_iov[0].iov_base, h.msg_iov[0].iov_len, MSG_DONTWAIT,
                                 static_cast<const sockaddr*>(h.msg_name), h.msg_namelen);
      return n >= 0 ? 1 : -1;
    }
    return ::sendmmsg(fd, &tx_msgs[first], static_cast<unsigned>(count), MSG_DONTWAIT);
  }

  void set_gro(bool enable) {
    const int value = enable ? 1 : 0;
    if (::setsockopt(fd, SOL_UDP, UDP_GRO, &value, sizeof value) == 0) {
      gro = enable;
      ++gro_switches;
    }
    lone_receives = 0;
  }

  // Adaptive GRO, after a receive call that returned `messages` msghdrs, `coalesced` of them GRO
  // super-datagrams. A super-datagram still queued when GRO goes off arrives without its segment
  // size and is dropped (counted in receive_drops; the transport resends it): GRO goes off only
  // after a long run of lone datagrams, when the queue is almost surely empty.
  void adapt_gro(std::size_t messages, std::size_t coalesced) {
    if (!gro_supported || !options.gro_adaptive || messages == 0) return;
    constexpr std::size_t kGroOnBatch = 8;
    constexpr std::uint32_t kGroOffAfter = 1024;
    if (!gro) {
      if (messages >= kGroOnBatch) set_gro(true);
      return;
    }
    if (messages == 1 && coalesced == 0) {
      if (++lone_receives >= kGroOffAfter) set_gro(false);
    } else {
      lone_receives = 0;
    }
  }

  const UdpAddress* address_of(NodeId id) const {
    return id >= 1 && id <= peers.size() ? &peers[id - 1] : nullptr;
  }
};

UdpDatapath::UdpDatapath(const UdpOptions& options) : impl_(std::make_unique<Impl>(options)) {
  Impl& d = *impl_;
  if (d.options.batch == 0) d.options.batch = 1;
  if (d.options.max_frame_bytes == 0 || d.options.max_frame_bytes > kMaxUdpPayload) {
    throw std::runtime_error("udp datapath: max_frame_bytes " + std::to_string(d.options.max_frame_bytes) +
                             " is out of range (1.." + std::to_string(kMaxUdpPayload) + ")");
  }
  std::string error;
  const std::optional<UdpAddress> bind = parse_udp_address(d.options.bind, error);
  if (!bind) throw std::runtime_error("udp datapath bind address " + error);

  boost::system::error_code ec;
  const asio::ip::udp::endpoint where(asio::ip::address_v4(bind->ip), bind->port);
  d.socket.open(asio::ip::udp::v4(), ec);
  if (!ec) d.socket.bind(where, ec);
  if (!ec) d.socket.non_blocking(true, ec);
  if (ec) {
    throw std::runtime_error(format_udp_address(*bind) + ": " + lower_first(ec.message()) +
                             (ec == asio::error::address_in_use
                                  ? " (another socket holds this port: choose another, or port 0 for any free one)"
                                  : ""));
  }
  const asio::ip::udp::endpoint bound = d.socket.local_endpoint(ec);
  d.local = {bound.address().to_v4().to_uint(), bound.port()};
  d.fd = d.socket.native_handle();

  set_buffer(d.fd, SO_SNDBUFFORCE, SO_SNDBUF, d.options.socket_buffer_bytes);
  set_buffer(d.fd, SO_RCVBUFFORCE, SO_RCVBUF, d.options.socket_buffer_bytes);
  const int on = 1;
  (void)::setsockopt(d.fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
  // The socket's own TOS is the data VC's, so the bulk of frames need no IP_TOS cmsg.
  d.default_tos = udp_tos_for_vc(Vc::kData);
  if (::setsockopt(d.fd, IPPROTO_IP, IP_TOS, &d.default_tos, sizeof d.default_tos) != 0) d.default_tos = -1;
  if (d.options.gso) {
    // Probe: a kernel without UDP GSO rejects the option (ENOPROTOOPT). 0 = no socket default;
    // every GSO send names its segment size in a cmsg.
    const int zero = 0;
    d.gso = ::setsockopt(d.fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  }
  if (d.options.gro) {
    d.gro_supported = ::setsockopt(d.fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
    d.gro = d.gro_supported;
    if (d.gro && d.options.gro_adaptive) d.set_gro(false);  // light until a queue shows up
    d.gro_switches = 0;
  }

  const std::size_t batch = d.options.batch;
  d.tx_msgs.resize(batch);
  d.tx_names.resize(batch);
  d.tx_iov.resize(batch * kMaxGsoSegments * 2);  // headers + gathered payload per frame
  d.tx_control.resize(batch);
  d.tx_frames.resize(batch);

  d.rx_buffer_bytes = d.gro_supported ? kGroBufferBytes : d.options.max_frame_bytes;
  d.rx_memory.resize(batch * d.rx_buffer_bytes);
  d.rx_msgs.resize(batch);
  d.rx_names.resize(batch);
  d.rx_iov.resize(batch);
  d.rx_control.resize(batch);
  d.rx_segment.resize(batch);
  d.rx_peer.resize(batch);
  d.rx_ce.resize(batch);
  for (std::size_t i = 0; i < batch; ++i) {
    d.rx_iov[i] = {d.rx_memory.data() + i * d.rx_buffer_bytes, d.rx_buffer_bytes};
    msghdr& h = d.rx_msgs[i].msg_hdr;
    h = {};
    h.msg_name = &d.rx_names[i];
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_iov = &d.rx_iov[i];
    h.msg_iovlen = 1;
    h.msg_control = d.rx_control[i].bytes;
    h.msg_controllen = sizeof d.rx_control[i].bytes;
  }
  d.peers.reserve(64);
  d.ids.reserve(64);
}

UdpDatapath::~UdpDatapath() = default;

std::size_t UdpDatapath::max_frame_bytes() const { return impl_->options.max_frame_bytes; }
int UdpDatapath::wait_fd() const { return impl_->fd; }
UdpAddress UdpDatapath::local_address() const { return impl_->local; }
NodeId UdpDatapath::add_peer(UdpAddress addr) { return impl_->id_for(addr); }
std::optional<UdpAddress> UdpDatapath::peer_address(NodeId id) const {
  const UdpAddress* a = impl_->address_of(id);
  return a ? std::optional<UdpAddress>(*a) : std::nullopt;
}
bool UdpDatapath::gso_enabled() const { return impl_->gso; }
bool UdpDatapath::gro_enabled() const { return impl_->gro; }
std::uint64_t UdpDatapath::gro_switches() const { return impl_->gro_switches; }
std::uint64_t UdpDatapath::datagrams_sent() const { return impl_->sent; }
std::uint64_t UdpDatapath::datagrams_received() const { return impl_->received; }
std::uint64_t UdpDatapath::send_errors() const { return impl_->send_errors; }
std::uint64_t UdpDatapath::receive_drops() const { return impl_->receive_drops; }
std::uint64_t UdpDatapath::gso_sends() const { return impl_->gso_sends; }
std::uint64_t UdpDatapath::gro_receives() const { return impl_->gro_receives; }
std::uint8_t UdpDatapath::last_rx_tos() const { return impl_->last_tos; }

std::string UdpDatapath::describe() const {
  const Impl& d = *impl_;
  const std::string gro = !d.gro_supported ? "off" : d.options.gro_adaptive ? "adaptive" : "on";
  return "udp " + format_udp_address(d.local) + " (gso " + (d.gso ? "on" : "off") + ", gro " + gro + ")";
}

std::size_t UdpDatapath::tx_burst(std::span<const TxFrame> frames) {
  Impl& d = *impl_;
  std::size_t accepted = 0;
  while (accepted < frames.size()) {
    // Build up to `batch` msghdrs from frames[accepted...].
    std::size_t nmsg = 0;
    std::size_t i = accepted;
    while (i < frames.size() && nmsg < d.options.batch) {
      const TxFrame& f = frames[i];
      const UdpAddress* to = d.address_of(f.peer);
      if (to == nullptr) {  // no address for this node id: a caller bug, counted, never silent
        if (nmsg > 0) break;
        ++d.send_errors;
        ++accepted;
        ++i;
        continue;
      }
      std::size_t end = i + 1;
      std::size_t total = f.size();
      if (d.gso && total > 0) {
        const std::size_t segment = total;
        while (end < frames.size() && end - i < kMaxGsoSegments && frames[end].peer == f.peer &&
               frames[end].vc == f.vc && frames[end].size() > 0 && frames[end].size() <= segment &&
               total + frames[end].size() <= kMaxUdpPayload) {
          total += frames[end].size();
          if (frames[end++].size() < segment) break;  // a shorter segment can only be the last
        }
      }
      mmsghdr& m = d.tx_msgs[nmsg];
      iovec* iov = &d.tx_iov[nmsg * kMaxGsoSegments * 2];
      std::size_t niov = 0;
      for (std::size_t k = i; k < end; ++k) {
        iov[niov++] = {const_cast<std::uint8_t*>(frames[k].bytes.data()), frames[k].bytes.size()};
        if (!frames[k].payload.empty()) {
          iov[niov++] = {const_cast<std::uint8_t*>(frames[k].payload.data()), frames[k].payload.size()};
        }
      }
      d.tx_names[nmsg] = to_sockaddr(*to);
      m.msg_hdr = {};
      m.msg_hdr.msg_name = &d.tx_names[nmsg];
      m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
      m.msg_hdr.msg_iov = iov;
      m.msg_hdr.msg_iovlen = niov;
      m.msg_hdr.msg_control = d.tx_control[nmsg].bytes;
      m.msg_hdr.msg_controllen = sizeof d.tx_control[nmsg].bytes;
      auto* c = reinterpret_cast<cmsghdr*>(d.tx_control[nmsg].bytes);
      std::size_t control = 0;
      const int tos = udp_tos_for_vc(f.vc);
      if (tos != d.default_tos) {
        put_cmsg(c, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
        control += CMSG_SPACE(sizeof tos);
        c = reinterpret_cast<cmsghdr*>(d.tx_control[nmsg].bytes + control);
      }
      if (end - i > 1) {
        const std::uint16_t segment = static_cast<std::uint16_t>(f.size());
        put_cmsg(c, SOL_UDP, UDP_SEGMENT, &segment, sizeof segment);
        control += CMSG_SPACE(sizeof segment);
      }
      m.msg_hdr.msg_controllen = control;
      if (control == 0) m.msg_hdr.msg_control = nullptr;
      d.tx_frames[nmsg] = end - i;
      ++nmsg;
      i = end;
    }
    if (nmsg == 0) continue;  // only frames without an address; loop condition ends the burst

    std::size_t done = 0;
    std::size_t frame = accepted;
    while (done < nmsg) {
      const int r = d.send_messages(done, nmsg - done);
      if (r > 0) {
        for (int k = 0; k < r; ++k, ++done) {
          const std::size_t count = d.tx_frames[done];
          if (pcap_ != nullptr) {
            const TimeNs now = monotonic_now_ns();
            for (std::size_t j = frame; j < frame + count; ++j) {
              pcap_->write_udp(now, d.local, *d.address_of(frames[j].peer), udp_tos_for_vc(frames[j].vc),
                               frames[j].flatten(d.pcap_scratch));
            }
          }
          d.sent += count;
          d.gso_sends += count > 1 ? 1 : 0;
          frame += count;
          accepted += count;
        }
        continue;
      }
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return accepted;
      const std::size_t count = d.tx_frames[done];
      if (count > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
        d.gso = false;  // the kernel or route cannot segment: rebuild the rest without GSO
        break;
      }
      d.send_errors += count;  // the transport recovers these frames
      frame += count;
      accepted += count;
      ++done;
    }
  }
  return accepted;
}

std::size_t UdpDatapath::rx_burst(std::span<RxFrame> out) {
  Impl& d = *impl_;
  if (out.empty()) return 0;
  if (d.rx_next >= d.rx_count) {
    // Everything from the last recvmmsg was handed out: the pool is free to refill.
    const std::size_t want = d.gro_supported ? d.options.batch : std::min(d.options.batch, out.size());
    // The kernel rewrites only these fields of the msghdrs it filled last time; the rest were set
    // up once, in the constructor (a busy-polling driver calls this in a tight loop).
    for (std::size_t i = 0; i < d.rx_filled; ++i) {
      msghdr& h = d.rx_msgs[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_in);
      h.msg_controllen = sizeof d.rx_control[i].bytes;
      h.msg_flags = 0;
    }
    // One message at a time while traffic is light: recvmmsg costs a second, failing receive
    // after the one datagram a request/response exchange has waiting (about 70 ns on loopback).
    const bool single = d.rx_light && want > 1;
    int r;
    do {
      if (single) {
        const ssize_t n = ::recvmsg(d.fd, &d.rx_msgs[0].msg_hdr, MSG_DONTWAIT);
        if (n >= 0) d.rx_msgs[0].msg_len = static_cast<unsigned>(n);
        r = n >= 0 ? 1 : -1;
      } else {
        r = ::recvmmsg(d.fd, d.rx_msgs.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
      }
    } while (r < 0 && errno == EINTR);
    // A message received one at a time may have company: batch the next call. A batch that found
    // at most one message goes back to single receives.
    if (single) {
      d.rx_light = r <= 0;
    } else if (r >= 0 || errno == EAGAIN) {
      d.rx_light = r <= 1;
    }
    d.rx_count = r > 0 ? static_cast<std::size_t>(r) : 0;
    d.rx_filled = d.rx_count;
    d.rx_next = 0;
    d.rx_offset = 0;
    const TimeNs now = pcap_ != nullptr ? monotonic_now_ns() : 0;
    const std::uint64_t coalesced_before = d.gro_receives;
    for (std::size_t i = 0; i < d.rx_count; ++i) {
      msghdr& h = d.rx_msgs[i].msg_hdr;
      const std::size_t len = d.rx_msgs[i].msg_len;
      std::size_t segment = len;
      std::uint8_t tos = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int size = 0;
          std::memcpy(&size, CMSG_DATA(c), sizeof size);
          if (size > 0) segment = static_cast<std::size_t>(size);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
          std::memcpy(&tos, CMSG_DATA(c), 1);
        }
      }
      const std::size_t frames = segment > 0 ? (len + segment - 1) / segment : 0;
      if ((h.msg_flags & MSG_TRUNC) != 0 || len == 0 || segment > d.options.max_frame_bytes) {
        d.receive_drops += std::max<std::size_t>(frames, 1);
        d.rx_segment[i] = 0;  // skipped when handed out
        continue;
      }
      d.rx_segment[i] = segment;
      d.rx_peer[i] = d.id_for(from_sockaddr(d.rx_names[i]));
      d.rx_ce[i] = (tos & kEcnMask) == kEcnCe;
      d.last_tos = tos;
      d.received += frames;
      d.gro_receives += frames > 1 ? 1 : 0;
      if (pcap_ != nullptr) {
        const std::uint8_t* base = static_cast<std::uint8_t*>(d.rx_iov[i].iov_base);
        for (std::size_t off = 0; off < len; off += segment) {
          pcap_->write_udp(now, from_sockaddr(d.rx_names[i]), d.local, tos,
                           {base + off, std::min(segment, len - off)});
        }
      }
    }
    d.adapt_gro(d.rx_count, d.gro_receives - coalesced_before);
  }
  std::size_t n = 0;
  while (n < out.size() && d.rx_next < d.rx_count) {
    const std::size_t i = d.rx_next;
    const std::size_t len = d.rx_msgs[i].msg_len;
    const std::size_t segment = d.rx_segment[i];
    if (segment == 0) {
      ++d.rx_next;
      continue;
    }
    const std::size_t piece = std::min(segment, len - d.rx_offset);
    out[n++] = RxFrame{{static_cast<const std::uint8_t*>(d.rx_iov[i].iov_base) + d.rx_offset, piece},
                       d.rx_peer[i], static_cast<bool>(d.rx_ce[i])};
    d.rx_offset += piece;
    if (d.rx_offset >= len) {
      ++d.rx_next;
      d.rx_offset = 0;
    }
  }
  return n;
}

}  // namespace weft::transport
