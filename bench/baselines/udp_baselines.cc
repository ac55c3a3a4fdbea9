// Raw kernel baselines over loopback (see udp_baselines.h). Each runs the receiving side in a
// fork()ed child that reports through a pipe; the parent bounds every wait and kills a child that
// does not report. Setup (sockets, buffers) happens before fork so the child only runs syscalls
// on memory that already exists.
#include "bench/baselines/udp_baselines.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

namespace weft::bench {

namespace {

constexpr std::size_t kMaxUdpPayload = 65507;
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kBatch = 32;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// A socket closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Binds `fd` to 127.0.0.1:0 and returns the port, or 0 on failure.
std::uint16_t bind_loopback(int fd) {
  sockaddr_in a = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 0;
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

bool connect_loopback(int fd, std::uint16_t port) {
  sockaddr_in a = loopback(port);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

void set_buffers(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
}

void set_receive_timeout(int fd, std::int64_t ns) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>(ns % 1'000'000'000 / 1000);
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

// What a receiving child reports.
struct ChildReport {
  std::uint64_t bytes = 0;        // bytes received after the first receive call
  std::uint64_t datagrams = 0;    // likewise, datagrams (GRO segments counted one by one)
  std::int64_t first_ns = 0;      // time of the first receive
  std::int64_t last_ns = 0;       // time of the last receive
  int error = 0;                  // errno of a failure in the child, 0 if none
};

[[noreturn]] void child_exit(int pipe_fd, const ChildReport& r) {
  const ssize_t w = ::write(pipe_fd, &r, sizeof r);
  ::_exit(w == static_cast<ssize_t>(sizeof r) ? 0 : 1);
}

// Waits up to `timeout_ns` for the child's report, then reaps it (killing it if needed).
bool collect(pid_t pid, int pipe_fd, std::int64_t timeout_ns, ChildReport& report, std::string& error) {
  pollfd p{pipe_fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout_ns / 1'000'000));
  bool ok = false;
  if (ready == 1 && ::read(pipe_fd, &report, sizeof report) == static_cast<ssize_t>(sizeof report)) {
    ok = true;
  } else {
    error = "the receiving child process did not report within " + std::to_string(timeout_ns / 1'000'000) + " ms";
  }
  int status = 0;
  for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) ::usleep(10'000);
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    (void)::waitpid(pid, &status, 0);
  }
  if (ok && report.error != 0) {
    error = std::string("receiving child: ") + std::strerror(report.error);
    ok = false;
  }
  return ok;
}

// Blast receiver: recvmmsg until the sender has been quiet for 200 ms (or never started in 5 s).
[[noreturn]] void blast_receiver(int fd, int pipe_fd, bool gro, std::size_t buffer_bytes) {
  std::vector<std::uint8_t> memory(kBatch * buffer_bytes);
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  struct alignas(cmsghdr) Control {
    unsigned char bytes[64];
  };
  std::vector<Control> control(kBatch);
  ChildReport r;
  set_receive_timeout(fd, 5'000'000'000);
  bool started = false;
  while (true) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iov[i] = {memory.data() + i * buffer_bytes, buffer_bytes};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control[i].bytes;
      msgs[i].msg_hdr.msg_controllen = sizeof control[i].bytes;
    }
    const int n = ::recvmmsg(fd, msgs.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) r.error = errno;
      break;  // quiet for the timeout: the sender is done
    }
    const std::int64_t t = now_ns();
    if (!started) {
      started = true;
      r.first_ns = t;
      set_receive_timeout(fd, 200'000'000);
      continue;  // the first call's bytes arrived before the measured interval
    }
    r.last_ns = t;
    for (int i = 0; i < n; ++i) {
      const std::size_t len = msgs[i].msg_len;
      std::size_t segment = len;
      if (gro) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int s = 0;
            std::memcpy(&s, CMSG_DATA(c), sizeof s);
            if (s > 0) segment = static_cast<std::size_t>(s);
          }
        }
      }
      r.bytes += len;
      r.datagrams += segment > 0 ? (len + segment - 1) / segment : 1;
    }
  }
  child_exit(pipe_fd, r);
}

}  // namespace

UdpBlastResult udp_blast(const UdpBlastOptions& o) {
  UdpBlastResult result;
  if (o.datagram_bytes == 0 || o.datagram_bytes > kMaxUdpPayload) {
    result.error = "datagram size " + std::to_string(o.datagram_bytes) + " is out of range (1.." +
                   std::to_string(kMaxUdpPayload) + ")";
    return result;
  }
  Fd rx(::socket(AF_INET, SOCK_DGRAM, 0));
  Fd tx(::socket(AF_INET, SOCK_DGRAM, 0));
  if (rx.get() < 0 || tx.get() < 0) return result.error = errno_text("socket"), result;
  set_buffers(rx.get(), o.socket_buffer_bytes);
  set_buffers(tx.get(), o.socket_buffer_bytes);
  const std::uint16_t port = bind_loopback(rx.get());
  if (port == 0 || !connect_loopback(tx.get(), port)) return result.error = errno_text("bind/connect"), result;
  const int on = 1;
  result.gro = o.gro && ::setsockopt(rx.get(), SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
  const int segment = static_cast<int>(o.datagram_bytes);
  result.gso = o.gso && ::setsockopt(tx.get(), SOL_UDP, UDP_SEGMENT, &segment, sizeof segment) == 0;
  result.segments_per_send = result.gso ? std::min(kMaxGsoSegments, kMaxUdpPayload / o.datagram_bytes) : 1;
  if (result.segments_per_send == 0) result.segments_per_send = 1;
  const std::size_t send_bytes = result.segments_per_send * o.datagram_bytes;
  std::vector<std::uint8_t> payload(std::max(send_bytes, o.datagram_bytes), 0x5a);
  // Without GSO the sender batches with sendmmsg instead.
  std::vector<iovec> iov(kBatch, iovec{payload.data(), o.datagram_bytes});
  std::vector<mmsghdr> msgs(kBatch);
  for (std::size_t i = 0; i < kBatch; ++i) {
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return result.error = errno_text("pipe"), result;
  Fd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return result.error = errno_text("fork"), result;
  if (pid == 0) blast_receiver(rx.get(), pipe_write.get(), result.gro, result.gro ? 65536 : o.datagram_bytes);
  rx.reset();

  const std::int64_t duration_ns = static_cast<std::int64_t>(o.duration_s * 1e9);
  const std::int64_t start = now_ns();
  std::uint64_t sent = 0;
  std::uint64_t calls = 0;
  while ((calls++ & 15) != 0 || now_ns() - start < duration_ns) {
    if (result.gso) {
      const ssize_t w = ::send(tx.get(), payload.data(), send_bytes, 0);
      if (w == static_cast<ssize_t>(send_bytes)) sent += result.segments_per_send;
    } else {
      const int n = ::sendmmsg(tx.get(), msgs.data(), kBatch, 0);
      if (n > 0) sent += static_cast<std::uint64_t>(n);
    }
  }
  result.datagrams_sent = sent;
  ChildReport report;
  if (!collect(pid, pipe_read.get(), 5'000'000'000 + duration_ns, report, result.error)) return result;
  const double seconds = static_cast<double>(report.last_ns - report.first_ns) * 1e-9;
  if (seconds <= 0 || report.bytes == 0) {
    result.error = "the receiver got no datagrams after its first receive";
    return result;
  }
  result.ok = true;
  result.datagrams_received = report.datagrams;
  result.gbps = static_cast<double>(report.bytes) * 8 / seconds * 1e-9;
  result.mpps = static_cast<double>(report.datagrams) / seconds * 1e-6;
  result.loss = sent > 0 ? 1.0 - static_cast<double>(report.datagrams) / static_cast<double>(sent) : 0;
  if (result.loss < 0) result.loss = 0;  // the first receive is not counted
  return result;
}

namespace {

// Echo side of the ping-pong: returns every datagram to its sender until an empty datagram (or
// 2 s of silence) ends the run.
[[noreturn]] void echo_child(int fd, int pipe_fd, bool busy_poll, std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes + 64);
  ChildReport r;
  constexpr std::int64_t kIdleNs = 2'000'000'000;
  set_receive_timeout(fd, kIdleNs);
  std::int64_t last = now_ns();
  std::uint64_t spins = 0;
  while (true) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), busy_poll ? MSG_DONTWAIT : 0);
    if (n > 0) {
      (void)::send(fd, buf.data(), static_cast<std::size_t>(n), 0);
      ++r.datagrams;
      if (busy_poll) last = now_ns();
      continue;
    }
    if (n == 0) break;  // the end marker
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      r.error = errno;
      break;
    }
    if (!busy_poll) break;  // 2 s without a ping
    if ((++spins & 4095) == 0 && now_ns() - last > kIdleNs) break;
  }
  child_exit(pipe_fd, r);
}

}  // namespace

PingPongResult udp_ping_pong(const PingPongOptions& o) {
  PingPongResult result;
  const std::size_t size = std::max<std::size_t>(o.message_bytes, 8);  // room for a sequence number
  if (size > kMaxUdpPayload) return result.error = "message size out of range", result;
  Fd a(::socket(AF_INET, SOCK_DGRAM, 0));
  Fd b(::socket(AF_INET, SOCK_DGRAM, 0));
  if (a.get() < 0 || b.get() < 0) return result.error = errno_text("socket"), result;
  const std::uint16_t port_a = bind_loopback(a.get());
  const std::uint16_t port_b = bind_loopback(b.get());
  if (port_a == 0 || port_b == 0 || !connect_loopback(a.get(), port_b) || !connect_loopback(b.get(), port_a)) {
    return result.error = errno_text("bind/connect"), result;
  }
  std::vector<std::uint8_t> ping(size, 0), pong(size + 64);
  std::vector<std::int64_t> rtt;
  rtt.reserve(o.iterations);

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return result.error = errno_text("pipe"), result;
  Fd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return result.error = errno_text("fork"), result;
  if (pid == 0) echo_child(b.get(), pipe_write.get(), o.busy_poll, size);
  b.reset();

  constexpr std::int64_t kLostNs = 100'000'000;  // no pong in 100 ms: count it lost and resend
  set_receive_timeout(a.get(), kLostNs);
  std::uint64_t seq = 0;
  std::uint64_t consecutive_losses = 0;
  for (std::size_t i = 0; i < o.warmup + o.iterations;) {
    ++seq;
    std::memcpy(ping.data(), &seq, sizeof seq);
    const std::int64_t t0 = now_ns();
    if (::send(a.get(), ping.data(), size, 0) != static_cast<ssize_t>(size)) {
      result.error = errno_text("send");
      break;
    }
    bool answered = false;
    while (true) {
      const ssize_t n = ::recv(a.get(), pong.data(), pong.size(), o.busy_poll ? MSG_DONTWAIT : 0);
      if (n >= static_cast<ssize_t>(sizeof seq)) {
        std::uint64_t got = 0;
        std::memcpy(&got, pong.data(), sizeof got);
        if (got == seq) {
          answered = true;
          break;
        }
        continue;  // a late pong of a ping counted as lost
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
      if (now_ns() - t0 > kLostNs) break;
    }
    const std::int64_t t1 = now_ns();
    if (!answered) {
      ++result.lost;
      if (++consecutive_losses == 20) {
        result.error = "no pong for 20 pings in a row (is the echo process alive?)";
        break;
      }
      continue;
    }
    consecutive_losses = 0;
    if (i >= o.warmup) rtt.push_back(t1 - t0);
    ++i;
  }
  (void)::send(a.get(), ping.data(), 0, 0);  // end marker
  ChildReport report;
  std::string child_error;
  if (!collect(pid, pipe_read.get(), 3'000'000'000, report, child_error) && result.error.empty()) {
    result.error = child_error;
  }
  if (!result.error.empty() || rtt.empty()) {
    if (result.error.empty()) result.error = "no round trips measured";
    return result;
  }
  std::sort(rtt.begin(), rtt.end());
  auto pct = [&](double p) {
    const std::size_t k = std::min(rtt.size() - 1, static_cast<std::size_t>(p * static_cast<double>(rtt.size())));
    return static_cast<double>(rtt[k]) * 1e-3;
  };
  double sum = 0;
  for (std::int64_t v : rtt) sum += static_cast<double>(v);
  result.ok = true;
  result.round_trips = rtt.size();
  result.p50_us = pct(0.50);
  result.p99_us = pct(0.99);
  result.p999_us = pct(0.999);
  result.mean_us = sum / static_cast<double>(rtt.size()) * 1e-3;
  return result;
}

namespace {

[[noreturn]] void tcp_receiver(int listen_fd, int pipe_fd) {
  ChildReport r;
  pollfd p{listen_fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) {
    r.error = ETIMEDOUT;
    child_exit(pipe_fd, r);
  }
  const int fd = ::accept(listen_fd, nullptr, nullptr);
  if (fd < 0) {
    r.error = errno;
    child_exit(pipe_fd, r);
  }
  set_receive_timeout(fd, 5'000'000'000);
  std::vector<std::uint8_t> buf(1 << 20);
  bool started = false;
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) r.error = errno;
    if (n <= 0) break;
    const std::int64_t t = now_ns();
    if (!started) {
      started = true;
      r.first_ns = t;
      continue;
    }
    r.last_ns = t;
    r.bytes += static_cast<std::uint64_t>(n);
  }
  child_exit(pipe_fd, r);
}

}  // namespace

TcpStreamResult tcp_stream(const TcpStreamOptions& o) {
  TcpStreamResult result;
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  if (listener.get() < 0) return result.error = errno_text("socket"), result;
  const std::uint16_t port = bind_loopback(listener.get());
  if (port == 0 || ::listen(listener.get(), 1) != 0) return result.error = errno_text("bind/listen"), result;
  std::vector<std::uint8_t> chunk(std::max<std::size_t>(o.write_bytes, 1), 0x5a);

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return result.error = errno_text("pipe"), result;
  Fd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return result.error = errno_text("fork"), result;
  if (pid == 0) tcp_receiver(listener.get(), pipe_write.get());
  listener.reset();

  // Created after fork: a copy in the child would keep the connection open past our close.
  Fd conn(::socket(AF_INET, SOCK_STREAM, 0));
  if (conn.get() < 0 || !connect_loopback(conn.get(), port)) {
    result.error = errno_text("connect");
  } else {
    timeval tv{5, 0};  // a stuck receiver must not hang the writer
    (void)::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const std::int64_t duration_ns = static_cast<std::int64_t>(o.duration_s * 1e9);
    const std::int64_t start = now_ns();
    while (now_ns() - start < duration_ns) {
      const ssize_t w = ::write(conn.get(), chunk.data(), chunk.size());
      if (w < 0 && errno != EINTR) {
        result.error = errno_text("write");
        break;
      }
    }
  }
  conn.reset();  // EOF ends the receiver
  ChildReport report;
  std::string child_error;
  if (!collect(pid, pipe_read.get(), 10'000'000'000, report, child_error) && result.error.empty()) {
    result.error = child_error;
  }
  if (!result.error.empty()) return result;
  const double seconds = static_cast<double>(report.last_ns - report.first_ns) * 1e-9;
  if (seconds <= 0) return result.error = "the receiver read nothing after its first read", result;
  result.ok = true;
  result.bytes = report.bytes;
  result.gbps = static_cast<double>(report.bytes) * 8 / seconds * 1e-9;
  return result;
}

}  // namespace weft::bench
