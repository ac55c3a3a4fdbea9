// Raw memif blast and weft-over-memif goodput, each between two forked processes.
//
// The raw baseline is the ceiling weft's DPDK datapath is judged against: the sender stamps a
// sequence number into each mbuf (or, with `touch`, writes the whole frame, which is what
// weft's copy into the mbuf costs) and pushes bursts into memif, retrying what the ring refuses;
// the receiver counts frames and bytes between its first and last arrival and checks lengths and
// sequence. memif itself copies each frame into its shared ring and out again on receive in
// both cases. A third variant moves the same frames through DpdkDatapath (copy + 802.1Q tag on
// tx, untag + EtherType filter on rx): the datapath's cost without the transport above it.
//
// The weft measurement runs the real stack: Endpoint (weft profile, plaintext), DpdkDatapath
// (one copy into the mbuf, 802.1Q tag), generic Driver busy-polling with the TSC clock. The
// clock starts at the first send() and stops at the responder's reply to the last message, so
// the figure includes segmentation, ACKs, reassembly and delivery of whole messages.
//
// Shutdown order matters: DPDK 22.11's memif frees its shared regions when the peer disconnects,
// from the interrupt thread, while the lcore may still be polling them (a SIGSEGV seen once here).
// So the receiver (server) stops polling and closes its port first while the sender (client)
// sleeps without polling, then the sender closes.
#include "bench/baselines/memif_baseline.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "weft/transport/datapath.h"
#include "weft/transport/dpdk_datapath.h"
#include "weft/transport/endpoint.h"

namespace weft::bench {
namespace {

using transport::Driver;
using transport::Endpoint;
using transport::EndpointConfig;
using transport::Event;
using transport::EventKind;
using transport::NodeId;
using transport::TimeNs;
using transport::Vc;

constexpr NodeId kReceiverNode = 1;
constexpr NodeId kSenderNode = 2;

// What a child sends its parent through a pipe: plain data, fixed size.
struct ChildReport {
  int ok = 0;
  char error[512] = {};
  double seconds = 0;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t extra1 = 0;
  std::uint64_t extra2 = 0;
};

std::vector<std::string> eal_args(const MemifRunOptions& run, unsigned lcore, const std::string& socket,
                                  const char* role) {
  return {"-l", std::to_string(lcore), "--no-huge", "--no-pci", "-m", std::to_string(run.eal_memory_mb),
          "--no-shconf", "--no-telemetry", "--log-level=lib.eal:warning", "--log-level=pmd.net.memif:error",
          "--vdev=net_memif0,role=" + std::string(role) + ",socket=" + socket + ",socket-abstract=no,bsize=10240"};
}

std::uint8_t pattern(std::size_t j) {
  const std::uint32_t x = static_cast<std::uint32_t>(j) * 2654435761u;
  return static_cast<std::uint8_t>((x >> 13) ^ (j >> 16));
}

pid_t spawn(int& read_fd, const std::function<void(ChildReport&)>& body) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("memif bench: pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("memif bench: fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    ChildReport r;
    try {
      body(r);
      r.ok = 1;
    } catch (const std::exception& e) {
      std::snprintf(r.error, sizeof r.error, "%s", e.what());
    }
    const ssize_t w = ::write(fds[1], &r, sizeof r);
    std::fflush(stdout);
    ::_exit(w == static_cast<ssize_t>(sizeof r) ? 0 : 1);
  }
  ::close(fds[1]);
  read_fd = fds[0];
  return pid;
}

// Reads the child's report, waiting until `deadline`; kills the child if it passes.
ChildReport collect(pid_t pid, int fd, std::chrono::steady_clock::time_point deadline, const char* side) {
  ChildReport r;
  std::size_t got = 0;
  auto* p = reinterpret_cast<char*>(&r);
  while (got < sizeof r) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000))) <= 0) continue;
    const ssize_t n = ::read(fd, p + got, sizeof r - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got < sizeof r) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got < sizeof r) {
    throw std::runtime_error(std::string("memif bench: the ") + side +
                             (WIFSIGNALED(status) ? " was killed (deadline passed or it crashed, signal " +
                                                        std::to_string(WTERMSIG(status)) + ")"
                                                  : " exited without a report (status " +
                                                        std::to_string(WEXITSTATUS(status)) + ")"));
  }
  if (!r.ok) throw std::runtime_error(std::string("memif bench: ") + side + ": " + r.error);
  return r;
}

// Runs receiver (memif server) and sender (memif client) as two children; returns both reports.
std::pair<ChildReport, ChildReport> run_pair(const MemifRunOptions& run,
                                             const std::function<void(ChildReport&, const std::string&)>& receiver,
                                             const std::function<void(ChildReport&, const std::string&)>& sender) {
  char tmpl[] = "/tmp/weft-memif-bench.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("memif bench: mkdtemp: ") + std::strerror(errno));
  const std::string dir = tmpl;
  const std::string socket = dir + "/memif.sock";
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(run.deadline_s * 1000));
  int rfd = -1, sfd = -1;
  const pid_t rpid = spawn(rfd, [&](ChildReport& r) { receiver(r, socket); });
  // A memif client does not retry a connection: start it once the server listens.
  for (int i = 0; i < 1000; ++i) {
    struct stat st {};
    if (::stat(socket.c_str(), &st) == 0) break;
    if (::waitpid(rpid, nullptr, WNOHANG) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const pid_t spid = spawn(sfd, [&](ChildReport& r) { sender(r, socket); });
  ChildReport s, r;
  try {
    s = collect(spid, sfd, deadline, "sender");
  } catch (...) {
    ::kill(rpid, SIGKILL);
    ::close(rfd);
    ::waitpid(rpid, nullptr, 0);
    throw;
  }
  r = collect(rpid, rfd, deadline, "receiver");
  return {r, s};
}

// ---- raw memif ------------------------------------------------------------------------------

rte_mempool* raw_port_setup(std::uint16_t port) {
  rte_mempool* pool = rte_pktmbuf_pool_create("raw_pool", 8191, 256, 0, 10240 + RTE_PKTMBUF_HEADROOM,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) throw std::runtime_error(std::string("mbuf pool: ") + rte_strerror(rte_errno));
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr) != 0 || rte_eth_dev_start(port) != 0) {
    throw std::runtime_error("memif port setup failed");
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) break;
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("memif link did not come up in 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pool;
}

void raw_eal(const std::vector<std::string>& args) {
  std::vector<std::string> storage = {"memif-bench"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : storage) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    throw std::runtime_error(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
  }
}

std::uint8_t* mbuf_data(rte_mbuf* m) { return static_cast<std::uint8_t*>(m->buf_addr) + m->data_off; }

void raw_receiver(ChildReport& rep, const RawMemifOptions& o, const std::string& socket) {
  raw_eal(eal_args(o.run, o.run.receiver_lcore, socket, "server"));
  rte_mempool* pool = raw_port_setup(0);
  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t idle_end = hz * 3 / 10;  // 300 ms without frames after the first: done
  const std::uint64_t give_up = rte_get_tsc_cycles() + static_cast<std::uint64_t>(o.run.deadline_s * static_cast<double>(hz));
  std::vector<rte_mbuf*> burst(o.burst);
  std::uint64_t first = 0, last = 0, frames = 0, bytes = 0, bad = 0, next_seq = 0;
  while (true) {
    const std::uint16_t n = rte_eth_rx_burst(0, 0, burst.data(), static_cast<std::uint16_t>(burst.size()));
    const std::uint64_t now = rte_get_tsc_cycles();
    if (n == 0) {
      if ((frames > 0 && now - last > idle_end) || now > give_up) break;
      continue;
    }
    if (frames == 0) first = now;
    last = now;
    for (std::uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = burst[i];
      std::uint64_t seq = 0;
      std::memcpy(&seq, mbuf_data(m) + 14, sizeof seq);
      if (m->pkt_len != o.run.frame_bytes || seq != next_seq) ++bad;
      next_seq = seq + 1;
      bytes += m->pkt_len;
    }
    frames += n;
    rte_pktmbuf_free_bulk(burst.data(), n);
  }
  if (bad > 0) throw std::runtime_error(std::to_string(bad) + " frames had a wrong length or sequence");
  rep.frames = frames;
  rep.bytes = bytes;
  rep.seconds = static_cast<double>(last - first) / static_cast<double>(hz);
  rte_eth_dev_stop(0);
  (void)pool;
}

void raw_sender(ChildReport& rep, const RawMemifOptions& o, const std::string& socket) {
  raw_eal(eal_args(o.run, o.run.sender_lcore, socket, "client"));
  rte_mempool* pool = raw_port_setup(0);
  std::vector<std::uint8_t> frame(o.run.frame_bytes);
  for (std::size_t j = 0; j < frame.size(); ++j) frame[j] = pattern(j);
  frame[12] = 0x9A;
  frame[13] = 0xC6;
  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t end = rte_get_tsc_cycles() + static_cast<std::uint64_t>(o.seconds * static_cast<double>(hz));
  std::vector<rte_mbuf*> pending(o.burst);
  std::size_t have = 0;
  std::uint64_t seq = 0, sent = 0;
  while (rte_get_tsc_cycles() < end) {
    if (have < pending.size()) {
      const unsigned want = static_cast<unsigned>(pending.size() - have);
      if (rte_pktmbuf_alloc_bulk(pool, pending.data() + have, want) == 0) {
        for (std::size_t i = have; i < pending.size(); ++i) {
          rte_mbuf* m = pending[i];
          std::uint8_t* d = mbuf_data(m);
          if (o.touch) std::memcpy(d, frame.data(), frame.size());
          else std::memcpy(d, frame.data(), 14);
          std::memcpy(d + 14, &seq, sizeof seq);
          ++seq;
          m->data_len = static_cast<std::uint16_t>(frame.size());
          m->pkt_len = static_cast<std::uint32_t>(frame.size());
        }
        have = pending.size();
      }
    }
    const std::uint16_t n = rte_eth_tx_burst(0, 0, pending.data(), static_cast<std::uint16_t>(have));
    sent += n;
    // Keep the refused ones, in order, for the next burst (their sequence numbers are taken).
    std::memmove(pending.data(), pending.data() + n, (have - n) * sizeof(rte_mbuf*));
    have -= n;
  }
  if (have > 0) rte_pktmbuf_free_bulk(pending.data(), static_cast<unsigned>(have));
  rep.frames = sent;
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the receiver times out and disconnects first
  rte_eth_dev_stop(0);
}

// The same blast through DpdkDatapath: TTP EtherType frames, copied and tagged on tx, untagged
// and filtered on rx; the sequence stamp sits after the Ethernet header as above.
transport::DpdkOptions datapath_options(const RawMemifOptions& o, unsigned lcore, const std::string& socket,
                                        const char* role) {
  transport::DpdkOptions d;
  d.eal_args = eal_args(o.run, lcore, socket, role);
  d.max_frame_bytes = o.run.frame_bytes;
  d.link_timeout_ms = 10000;
  return d;
}

void datapath_receiver(ChildReport& rep, const RawMemifOptions& o, const std::string& socket) {
  transport::DpdkDatapath dp(datapath_options(o, o.run.receiver_lcore, socket, "server"));
  const TimeNs idle_end = 300'000'000;
  const TimeNs give_up = transport::tsc_now_ns() + static_cast<TimeNs>(o.run.deadline_s * 1e9);
  std::vector<transport::RxFrame> rx(o.burst);
  std::uint64_t frames = 0, bytes = 0, bad = 0, next_seq = 0;
  TimeNs first = 0, last = 0;
  while (true) {
    const std::size_t n = dp.rx_burst(rx);
    const TimeNs now = transport::tsc_now_ns();
    if (n == 0) {
      if ((frames > 0 && now - last > idle_end) || now > give_up) break;
      continue;
    }
    if (frames == 0) first = now;
    last = now;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t seq = 0;
      if (rx[i].bytes.size() >= 22) std::memcpy(&seq, rx[i].bytes.data() + 14, sizeof seq);
      if (rx[i].bytes.size() != o.run.frame_bytes || seq != next_seq) ++bad;
      next_seq = seq + 1;
      bytes += rx[i].bytes.size();
    }
    frames += n;
  }
  if (bad > 0) throw std::runtime_error(std::to_string(bad) + " frames had a wrong length or sequence");
  rep.frames = frames;
  rep.bytes = bytes;
  rep.seconds = static_cast<double>(last - first) / 1e9;
}

void datapath_sender(ChildReport& rep, const RawMemifOptions& o, const std::string& socket) {
  transport::DpdkDatapath dp(datapath_options(o, o.run.sender_lcore, socket, "client"));
  std::vector<std::vector<std::uint8_t>> frames(o.burst, std::vector<std::uint8_t>(o.run.frame_bytes));
  std::vector<transport::TxFrame> tx(o.burst);
  for (auto& f : frames) {
    for (std::size_t j = 0; j < f.size(); ++j) f[j] = pattern(j);
    f[12] = 0x9A;
    f[13] = 0xC6;
  }
  const TimeNs end = transport::tsc_now_ns() + static_cast<TimeNs>(o.seconds * 1e9);
  std::uint64_t seq = 0, sent = 0;
  std::size_t have = 0;  // frames[0, have) carry stamps not yet accepted
  while (transport::tsc_now_ns() < end) {
    for (; have < frames.size(); ++have) {
      std::memcpy(frames[have].data() + 14, &seq, sizeof seq);
      ++seq;
    }
    for (std::size_t i = 0; i < have; ++i) tx[i] = transport::TxFrame{frames[i], kReceiverNode, Vc::kData, 0};
    const std::size_t n = dp.tx_burst({tx.data(), have});
    sent += n;
    std::rotate(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(n), frames.begin() + static_cast<std::ptrdiff_t>(have));
    have -= n;
  }
  rep.frames = sent;
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the receiver times out and disconnects first
}

// ---- weft over memif ------------------------------------------------------------------------

std::unique_ptr<transport::DpdkDatapath> weft_datapath(const WeftMemifOptions& o, unsigned lcore,
                                                       const std::string& socket, const char* role) {
  transport::DpdkOptions d;
  d.eal_args = eal_args(o.run, lcore, socket, role);
  d.max_frame_bytes = o.run.frame_bytes;
  d.vlan_priority = o.vlan_priority;
  d.link_timeout_ms = 10000;
  return std::make_unique<transport::DpdkDatapath>(d);
}

EndpointConfig weft_config(const WeftMemifOptions& o, NodeId node) {
  EndpointConfig c = o.endpoint;
  c.encapsulation = transport::wire::Encapsulation::kEthernet;
  c.node_id = node;
  c.max_frame_bytes = static_cast<std::uint32_t>(o.run.frame_bytes);
  // Whole messages wait in the receive buffer until the application takes them, and queue in
  // the send buffer.
  c.recv_buffer_bytes = static_cast<std::uint32_t>(std::max<std::size_t>(c.recv_buffer_bytes, o.message_bytes + (1u << 20)));
  c.send_buffer_bytes = std::max<std::uint64_t>(c.send_buffer_bytes, 2 * o.message_bytes + (1u << 20));
  return transport::with_host_timers(c);
}

void weft_receiver(ChildReport& rep, const WeftMemifOptions& o, const std::string& socket) {
  auto dp = weft_datapath(o, o.run.receiver_lcore, socket, "server");
  Endpoint ep(weft_config(o, kReceiverNode));
  Driver drv(ep, *dp, Driver::Options{true, 32, &transport::tsc_now_ns});
  const TimeNs deadline = transport::tsc_now_ns() + static_cast<TimeNs>(o.run.deadline_s * 1e9);
  std::uint64_t index = 0, verified = 0;
  std::string error;
  const bool done = drv.run_until(deadline, [&](Event& ev) {
    if (ev.kind == EventKind::kError) {
      error = "link error: " + ev.detail;
      return true;
    }
    if (ev.kind == EventKind::kClosed) return true;
    if (ev.kind != EventKind::kMessage) return false;
    bool ok = ev.message.size() == o.message_bytes;
    for (std::size_t j = 0; ok && j < ev.message.size(); j += 4093) ok = ev.message[j] == pattern(j);
    if (ok && !ev.message.empty()) ok = ev.message.back() == pattern(ev.message.size() - 1);
    verified += ok ? 1 : 0;
    std::uint8_t reply[9];
    std::memcpy(reply, &index, 8);
    reply[8] = ok ? 1 : 0;
    ++index;
    if (!ep.send(ev.peer, ev.vc, reply, transport::tsc_now_ns())) error = "reply refused";
    return false;
  });
  if (!done) throw std::runtime_error("deadline passed after " + std::to_string(index) + " messages");
  if (!error.empty()) throw std::runtime_error(error);
  drv.run_until(transport::tsc_now_ns() + 300'000'000, [](Event&) { return false; });  // answer a late CLOSE
  rep.frames = index;
  rep.extra1 = verified;
}

void weft_sender(ChildReport& rep, const WeftMemifOptions& o, const std::string& socket) {
  auto dp = weft_datapath(o, o.run.sender_lcore, socket, "client");
  Endpoint ep(weft_config(o, kSenderNode));
  Driver drv(ep, *dp, Driver::Options{true, 32, &transport::tsc_now_ns});
  const TimeNs deadline = transport::tsc_now_ns() + static_cast<TimeNs>(o.run.deadline_s * 1e9);
  std::vector<std::uint8_t> bytes(o.message_bytes);
  for (std::size_t j = 0; j < bytes.size(); ++j) bytes[j] = pattern(j);
  // Sent by reference again and again (zero-copy send): the one copy per byte is into the mbuf.
  const transport::SharedBytes message = transport::SharedBytes::adopt(std::move(bytes));
  std::string error;
  auto failed = [&](const Event& ev) {
    if (ev.kind != EventKind::kError) return false;
    error = "link error: " + ev.detail;
    return true;
  };
  if (!ep.open(kReceiverNode, Vc::kData, transport::tsc_now_ns())) throw std::runtime_error("open refused");
  if (!drv.run_until(deadline, [&](Event& ev) { return ev.kind == EventKind::kOpened || failed(ev); }) ||
      !error.empty()) {
    throw std::runtime_error("link did not open: " + error);
  }
  const TimeNs t0 = transport::tsc_now_ns();
  std::size_t queued = 0, replies = 0, bad = 0;
  while (replies < o.messages) {
    while (queued < o.messages && ep.send_shared(kReceiverNode, Vc::kData, message, transport::tsc_now_ns())) ++queued;
    const TimeNs step_end = queued < o.messages ? transport::tsc_now_ns() + 100'000 : deadline;
    drv.run_until(step_end, [&](Event& ev) {
      if (failed(ev)) return true;
      if (ev.kind != EventKind::kMessage) return false;
      if (ev.message.size() != 9 || ev.message[8] != 1) ++bad;
      ++replies;
      return replies == o.messages;
    });
    if (!error.empty()) throw std::runtime_error(error);
    if (transport::tsc_now_ns() >= deadline) {
      throw std::runtime_error("deadline passed with " + std::to_string(replies) + " of " +
                               std::to_string(o.messages) + " replies");
    }
  }
  const TimeNs t1 = transport::tsc_now_ns();
  if (bad > 0) throw std::runtime_error(std::to_string(bad) + " messages arrived wrong");
  if (auto info = ep.link_info(kReceiverNode, Vc::kData)) {
    rep.extra1 = info->stats.payloads_sent;
    rep.extra2 = info->stats.retransmits;
  }
  rep.seconds = static_cast<double>(t1 - t0) / 1e9;
  rep.bytes = o.message_bytes * o.messages;
  if (!ep.close(kReceiverNode, Vc::kData, transport::tsc_now_ns())) throw std::runtime_error("close refused");
  drv.run_until(deadline, [&](Event& ev) { return ev.kind == EventKind::kClosed || failed(ev); });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the receiver disconnects first (see above)
}

}  // namespace

RawMemifResult raw_memif_throughput(const RawMemifOptions& options) {
  if (options.run.frame_bytes < 64 || options.run.frame_bytes > 10240) {
    throw std::invalid_argument("memif bench: frame_bytes must be 64..10240");
  }
  auto [r, s] = run_pair(
      options.run,
      [&](ChildReport& rep, const std::string& sock) {
        options.through_datapath ? datapath_receiver(rep, options, sock) : raw_receiver(rep, options, sock);
      },
      [&](ChildReport& rep, const std::string& sock) {
        options.through_datapath ? datapath_sender(rep, options, sock) : raw_sender(rep, options, sock);
      });
  RawMemifResult out;
  out.frames_sent = s.frames;
  out.frames_received = r.frames;
  out.seconds = r.seconds;
  if (r.seconds > 0) {
    out.gbps = static_cast<double>(r.bytes) * 8 / r.seconds / 1e9;
    out.mpps = static_cast<double>(r.frames) / r.seconds / 1e6;
  }
  return out;
}

WeftMemifResult weft_memif_goodput(const WeftMemifOptions& options) {
  if (options.messages == 0 || options.message_bytes == 0) {
    throw std::invalid_argument("memif bench: messages and message_bytes must be positive");
  }
  auto [r, s] = run_pair(
      options.run, [&](ChildReport& rep, const std::string& sock) { weft_receiver(rep, options, sock); },
      [&](ChildReport& rep, const std::string& sock) { weft_sender(rep, options, sock); });
  WeftMemifResult out;
  out.seconds = s.seconds;
  out.gbps = s.seconds > 0 ? static_cast<double>(s.bytes) * 8 / s.seconds / 1e9 : 0;
  out.payloads_sent = s.extra1;
  out.retransmits = s.extra2;
  out.messages_verified = r.extra1;
  if (r.extra1 != options.messages) {
    throw std::runtime_error("memif bench: the receiver verified " + std::to_string(r.extra1) + " of " +
                             std::to_string(options.messages) + " messages");
  }
  return out;
}

}  // namespace weft::bench
