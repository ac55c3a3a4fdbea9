#include "bench/weft_udp_bench.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "weft/crypto/credentials.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/udp_datapath.h"

namespace weft::bench {
namespace {

using namespace transport;

EndpointConfig udp_config(Profile profile, std::uint32_t frame_bytes,
                          std::shared_ptr<const crypto::Credentials> credentials) {
  EndpointConfig c;
  c.credentials = std::move(credentials);
  c.wall_clock_offset_ns = wall_clock_offset_ns();
  c.profile = profile;
  c.encapsulation = wire::Encapsulation::kUdp;
  c.max_frame_bytes = frame_bytes;
  c.retry_budget_us = 5'000'000;
  c.send_buffer_bytes = 32ull << 20;  // the sender's top-up stops at kSendBufferFull
  return with_host_timers(c);
}

// The child: a peer that sinks (echo=false) or echoes every message until its link closes or
// `timeout_s` passes. Exit status 0 = link closed cleanly.
[[noreturn]] void run_peer(UdpDatapath& dp, const EndpointConfig& cfg, bool echo, bool busy_poll, double timeout_s) {
  Endpoint ep(cfg);
  Driver::Options o;
  o.busy_poll = busy_poll;
  Driver drv(ep, dp, o);
  const TimeNs deadline = monotonic_now_ns() + static_cast<TimeNs>(timeout_s * 1e9);
  int status = 3;
  drv.run_until(deadline, [&](Event& ev) {
    if (ev.kind == EventKind::kMessage && echo) {
      (void)ep.send(ev.peer, ev.vc, ev.message, monotonic_now_ns());
    }
    if (ev.kind == EventKind::kClosed) {
      status = 0;
      return true;
    }
    if (ev.kind == EventKind::kError) {
      status = 4;
      return true;
    }
    return false;
  });
  // Let the final CLOSE_ACK leave before exiting.
  for (int i = 0; i < 100 && ep.wants_to_transmit(); ++i) drv.step(0);
  _exit(status);
}

struct Pair {
  std::unique_ptr<UdpDatapath> a, b;
  NodeId b_as_seen_by_a = 0;
};

Pair make_pair(std::uint32_t frame_bytes) {
  UdpOptions o;
  o.max_frame_bytes = frame_bytes;
  Pair p;
  p.a = std::make_unique<UdpDatapath>(o);
  p.b = std::make_unique<UdpDatapath>(o);
  p.b_as_seen_by_a = p.a->add_peer(p.b->local_address());
  return p;
}

// Opens both sockets, forks, and runs the peer (sink or echo) in the child on p.b. The parent
// keeps p.a. Returns the child's pid, or -1 with `error` set.
pid_t start_peer(Pair& p, const EndpointConfig& cfg, bool echo, bool busy_poll, double timeout_s,
                 std::string& error) {
  try {
    p = make_pair(cfg.max_frame_bytes);
  } catch (const std::exception& e) {
    error = e.what();
    return -1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    p.a.reset();
    run_peer(*p.b, cfg, echo, busy_poll, timeout_s);
  }
  p.b.reset();
  return pid;
}

std::string child_status(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, 0) < 0) return "waitpid failed";
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return "";
  if (WIFEXITED(st)) return "peer process exited with status " + std::to_string(WEXITSTATUS(st));
  return "peer process died (signal " + std::to_string(WTERMSIG(st)) + ")";
}

}  // namespace

GoodputResult weft_udp_goodput(const GoodputSpec& spec) {
  GoodputResult r;
  EndpointConfig cfg = udp_config(spec.profile, spec.frame_bytes, spec.credentials);
  cfg.congestion_control = spec.congestion_control;
  Pair p;
  const pid_t pid = start_peer(p, cfg, /*echo=*/false, spec.busy_poll, spec.timeout_s, r.error);
  if (pid < 0) return r;
  Endpoint ep(cfg);
  Driver::Options o;
  o.busy_poll = spec.busy_poll;
  Driver drv(ep, *p.a, o);
  const NodeId peer = p.b_as_seen_by_a;
  // One buffer sent again and again by reference (zero-copy send), as an application sends from
  // a registered buffer; the raw blast also sends from one buffer.
  std::vector<std::uint8_t> bytes(spec.message_bytes);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  const SharedBytes msg = SharedBytes::adopt(std::move(bytes));
  const std::uint64_t messages = std::max<std::uint64_t>(1, spec.total_bytes / spec.message_bytes);
  std::uint64_t queued = 0;
  const TimeNs start = monotonic_now_ns();
  const TimeNs deadline = start + static_cast<TimeNs>(spec.timeout_s * 1e9);
  (void)ep.open(peer, Vc::kData, start);
  bool closing = false;
  TimeNs end = 0;
  auto top_up = [&](TimeNs now) {
    // send() refuses with kSendBufferFull once send_buffer_bytes are queued: that is the
    // backpressure, no polling of link state needed.
    while (queued < messages && ep.send_shared(peer, Vc::kData, msg, now).ok()) ++queued;
    if (queued == messages && !closing) closing = ep.close(peer, Vc::kData, now).ok();
  };
  // Keep the send queue topped up while stepping the driver; the run ends when CLOSE is
  // acknowledged (every message delivered) or on an error.
  while (end == 0 && r.error.empty() && monotonic_now_ns() < deadline) {
    top_up(monotonic_now_ns());
    drv.step(1'000'000);
    while (auto ev = ep.poll_event()) {
      if (ev->kind == EventKind::kClosed) {
        end = monotonic_now_ns();
        r.retransmits = ev->stats.retransmits;
      } else if (ev->kind == EventKind::kError) {
        r.error = ev->detail;
      }
    }
  }
  r.frames_sent = drv.frames_sent();
  if (end == 0 && r.error.empty()) r.error = "timed out after " + std::to_string(spec.timeout_s) + " s";
  if (!r.error.empty()) kill(pid, SIGKILL);
  const std::string child = child_status(pid);
  if (r.error.empty() && !child.empty()) r.error = child;
  if (!r.error.empty()) return r;
  r.seconds = static_cast<double>(end - start) / 1e9;
  r.gbps = static_cast<double>(messages * spec.message_bytes) * 8 / static_cast<double>(end - start);
  r.ok = true;
  return r;
}

RttResult weft_udp_rtt(int iterations, std::uint32_t bytes, bool busy_poll, int warmup,
                       std::shared_ptr<const crypto::Credentials> credentials) {
  RttResult r;
  const EndpointConfig cfg = udp_config(Profile::kWeft, 9000, std::move(credentials));
  Pair p;
  const pid_t pid = start_peer(p, cfg, /*echo=*/true, busy_poll, 60, r.error);
  if (pid < 0) return r;
  Endpoint ep(cfg);
  Driver::Options o;
  o.busy_poll = busy_poll;
  Driver drv(ep, *p.a, o);
  const NodeId peer = p.b_as_seen_by_a;
  std::vector<std::uint8_t> msg(bytes, 0x42);
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(iterations));
  const TimeNs deadline = monotonic_now_ns() + 60'000'000'000;
  (void)ep.open(peer, Vc::kData, monotonic_now_ns());
  bool opened = drv.run_until(deadline, [](Event& ev) { return ev.kind == EventKind::kOpened; });
  for (int i = 0; opened && i < warmup + iterations && r.error.empty(); ++i) {
    const TimeNs t0 = monotonic_now_ns();
    (void)ep.send(peer, Vc::kData, msg, t0);
    bool got = drv.run_until(deadline, [&](Event& ev) {
      if (ev.kind == EventKind::kError) r.error = ev.detail;
      return ev.kind == EventKind::kMessage || ev.kind == EventKind::kError;
    });
    if (!got) r.error = "no echo within 60 s";
    if (i >= warmup) samples.push_back(static_cast<double>(monotonic_now_ns() - t0) / 1e3);
  }
  (void)ep.close(peer, Vc::kData, monotonic_now_ns());
  drv.run_until(monotonic_now_ns() + 2'000'000'000, [](Event& ev) { return ev.kind == EventKind::kClosed || ev.kind == EventKind::kError; });
  if (!opened) r.error = "the link did not open";
  kill(pid, SIGKILL);
  (void)child_status(pid);
  if (!r.error.empty() || samples.empty()) return r;
  std::sort(samples.begin(), samples.end());
  r.samples = static_cast<int>(samples.size());
  r.p50_us = samples[samples.size() / 2];
  r.p99_us = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
  r.ok = true;
  return r;
}

}  // namespace weft::bench
