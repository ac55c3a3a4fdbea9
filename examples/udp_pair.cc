// udp_pair: two processes talking weft over real UDP sockets on loopback.
//
// The program forks. The child is a responder: it binds a UDP socket on 127.0.0.1 (port 0, so the
// kernel picks a free one), tells the parent the port through a pipe, accepts the link the parent
// opens and sends every message back. The parent opens a link to it, sends two messages (a
// greeting and 1 MiB), checks that both come back identical and in order, closes the link and
// waits for the child to exit. `weft peer --echo` and `weft send --verify` do the same with more
// options.
//
// What to notice:
//  - The same sans-I/O Endpoint as in hello_transport; only the driver changes. A UdpDatapath
//    moves frames (TTP directly after UDP), the generic Driver feeds them to the Endpoint with
//    the monotonic clock and sleeps in poll(2) until a datagram or the next timer.
//  - Over UDP a node is a datagram's source IP:port: the responder needs no configuration and
//    answers whoever opens a link; the sender names its peer with add_peer().
//  - Every wait has a deadline (run_until), so a dead process is an error, never a hang.
//  - It runs in PLAINTEXT: the EndpointConfig has no credentials (the library default), so frames
//    are neither encrypted nor authenticated. That keeps the first example short; real programs
//    set EndpointConfig::credentials, as examples/encrypted_pair.cc does (and the `weft` tools
//    refuse plaintext unless --insecure is given).
//
// Usage: udp_pair   (exit status 0 when the echo matched and both sides closed cleanly)

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/udp_datapath.h"

using namespace weft::transport;  // a short program; real code would name what it uses

namespace {

constexpr Vc kVc = Vc::kData;
constexpr TimeNs kDeadlineNs = 10'000'000'000;  // 10 s for the whole exchange

EndpointConfig udp_config() {
  // Real processes: with_host_timers() raises the RTO floor and delay target above the host's
  // scheduling jitter (the defaults suit the simulator's microsecond links).
  EndpointConfig c = with_host_timers(EndpointConfig{});
  c.encapsulation = wire::Encapsulation::kUdp;
  c.retry_budget_us = 3'000'000;  // a silent peer fails the link after 3 s
  return c;
}

// The child: echo every message on the link it arrived on, until that link closes.
int responder(int port_pipe) {
  UdpDatapath udp(UdpOptions{.bind = "127.0.0.1:0"});
  const std::uint16_t port = udp.local_address().port;
  if (write(port_pipe, &port, sizeof port) != sizeof port) return 1;
  close(port_pipe);

  Endpoint ep(udp_config());
  Driver driver(ep, udp);
  bool closed = false;
  driver.run_until(monotonic_now_ns() + kDeadlineNs, [&](Event& ev) {
    if (ev.kind == EventKind::kMessage) {
      std::printf("[responder] got %zu B from node %u, echoing\n", ev.message.size(), ev.peer);
      // Zero-copy echo: the endpoint takes the received buffer itself and frees it once the
      // echo is acknowledged (send() would copy it).
      const SharedBytes echo = SharedBytes::adopt(std::move(ev.message));
      if (!ep.send_shared(ev.peer, ev.vc, echo, monotonic_now_ns()).ok()) return true;
    }
    if (ev.kind == EventKind::kError) std::printf("[responder] link error: %s\n", ev.detail.c_str());
    closed = ev.kind == EventKind::kClosed;
    return ev.kind == EventKind::kClosed || ev.kind == EventKind::kError;
  });
  std::printf("[responder] %s\n", closed ? "link closed cleanly" : "gave up");
  return closed ? 0 : 1;
}

// The parent: open, send two messages, check the echoes, close.
int sender(std::uint16_t port) {
  UdpDatapath udp(UdpOptions{.bind = "127.0.0.1:0"});
  const NodeId peer = udp.add_peer(UdpAddress{0x7F000001, port});  // 127.0.0.1
  Endpoint ep(udp_config());
  Driver driver(ep, udp);

  const std::string hello = "hello over UDP";
  std::vector<std::vector<std::uint8_t>> sent = {{hello.begin(), hello.end()}, std::vector<std::uint8_t>(1u << 20)};
  for (std::size_t i = 0; i < sent[1].size(); ++i) sent[1][i] = static_cast<std::uint8_t>(i * 131 + 7);

  // open() and send() only queue; the driver loop does the work. Messages sent before the link
  // is open wait for it.
  if (!ep.open(peer, kVc, monotonic_now_ns()).ok()) return 1;
  for (const auto& m : sent) {
    if (!ep.send(peer, kVc, m, monotonic_now_ns()).ok()) return 1;
  }
  std::size_t echoed = 0;
  bool ok = true;
  const TimeNs deadline = monotonic_now_ns() + kDeadlineNs;
  const bool finished = driver.run_until(deadline, [&](Event& ev) {
    switch (ev.kind) {
      case EventKind::kOpened:
        std::printf("[sender] link to 127.0.0.1:%u open\n", port);
        return false;
      case EventKind::kMessage:
        ok = ok && ev.message == sent[echoed];
        std::printf("[sender] echo %zu: %zu B, %s\n", echoed, ev.message.size(),
                    ev.message == sent[echoed] ? "identical" : "DIFFERENT");
        if (++echoed == sent.size()) (void)ep.close(peer, kVc, monotonic_now_ns());
        return false;
      case EventKind::kClosed:
        std::printf("[sender] link closed; %llu retransmit(s)\n",
                    static_cast<unsigned long long>(ev.stats.retransmits));
        return true;
      case EventKind::kError:
        std::printf("[sender] link error: %s\n", ev.detail.c_str());
        ok = false;
        return true;
      case EventKind::kPeerClosing:
        return false;
    }
    return false;
  });
  return finished && ok && echoed == sent.size() ? 0 : 1;
}

}  // namespace

int main() {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  std::fflush(stdout);
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(fds[0]);
    const int rc = responder(fds[1]);
    std::fflush(stdout);
    _exit(rc);
  }
  close(fds[1]);
  std::uint16_t port = 0;
  if (read(fds[0], &port, sizeof port) != sizeof port) {
    std::printf("the responder did not start\n");
    return 1;
  }
  const int rc = sender(port);
  int status = 0;
  waitpid(child, &status, 0);
  const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("%s\n", rc == 0 && child_ok ? "udp_pair: OK" : "udp_pair: FAILED");
  return rc == 0 && child_ok ? 0 : 1;
}
