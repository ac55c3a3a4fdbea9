// dpdk_transfer: one side of a weft transfer over DpdkDatapath, for the multi-process DPDK tests
// (dpdk_memif.sh, dpdk_af_packet.sh run a responder and a sender as two processes).
//
//   dpdk_transfer --role responder --eal "-l 0 ... --vdev=..." --node 1 --peer 2 [--sizes ...]
//   dpdk_transfer --role sender    --eal "-l 1 ... --vdev=..." --node 2 --peer 1 [--sizes ...]
//
// The sender opens a link, queues one message per entry of --sizes (byte j of message k is
// pattern(k, j)), waits for the responder's reply to each, closes, and prints time and goodput.
// The responder checks every message's size and bytes against the same pattern and replies with
// {index, FNV-1a digest, ok}; the sender compares the digest with its own. Both drive their
// Endpoint with the generic Driver in busy-poll mode and the TSC clock; --loss wraps the
// datapath in a FaultShim (seed printed). --cluster-key FILE encrypts the link (the responder may
// write a fresh key file first with --make-cluster-key FILE). Exit status: 0 success, 1 wrong data, 2 link error or
// deadline, 3 setup error, 4 bad command line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "weft/crypto/credentials.h"
#include "weft/transport/datapath.h"
#include "weft/transport/dpdk_datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"

namespace {

using namespace weft::transport;

struct Args {
  std::string role;
  std::vector<std::string> eal;
  NodeId node = 0;
  NodeId peer = 0;
  std::vector<std::size_t> sizes = {1, 1000, 1 << 20, 64 << 20};
  double loss = 0.0;
  std::uint64_t seed = 1;
  double deadline_s = 120;
  std::string pcap;
  bool vlan = true;
  bool tsc = true;  // TSC clock (false: monotonic_now_ns)
  std::uint32_t rto_min_us = 0;  // 0: the EndpointConfig default
  bool no_cc = false;
  std::string cluster_key;       // encrypt with this cluster key file
  bool make_cluster_key = false; // write a new key to cluster_key first
};

std::uint8_t pattern(std::size_t k, std::size_t j) {
  const std::uint32_t x = static_cast<std::uint32_t>(j) * 2654435761u;
  return static_cast<std::uint8_t>((x >> 13) ^ (j >> 16) ^ (k * 31 + 7));
}

std::uint64_t fnv1a(std::span<const std::uint8_t> b) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::uint8_t c : b) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (56 - 8 * i));
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "dpdk_transfer: %s\n"
               "usage: dpdk_transfer --role responder|sender --eal \"EAL ARGS\" --node N --peer N\n"
               "       [--sizes B,B,...] [--loss P] [--seed S] [--deadline-s S] [--pcap FILE] [--no-vlan]\n"
               "       [--cluster-key FILE | --make-cluster-key FILE]\n"
               "       [--monotonic-clock] [--rto-min-us US] [--no-cc]\n",
               why.c_str());
  std::exit(4);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(k + " needs a value");
      return argv[++i];
    };
    if (k == "--role") a.role = val();
    else if (k == "--eal") {
      std::istringstream s(val());
      for (std::string w; s >> w;) a.eal.push_back(w);
    } else if (k == "--node") a.node = static_cast<NodeId>(std::stoul(val()));
    else if (k == "--peer") a.peer = static_cast<NodeId>(std::stoul(val()));
    else if (k == "--sizes") {
      a.sizes.clear();
      std::istringstream s(val());
      for (std::string w; std::getline(s, w, ',');) a.sizes.push_back(std::stoull(w));
    } else if (k == "--loss") a.loss = std::stod(val());
    else if (k == "--seed") a.seed = std::stoull(val());
    else if (k == "--deadline-s") a.deadline_s = std::stod(val());
    else if (k == "--pcap") a.pcap = val();
    else if (k == "--no-vlan") a.vlan = false;
    else if (k == "--monotonic-clock") a.tsc = false;
    else if (k == "--rto-min-us") a.rto_min_us = static_cast<std::uint32_t>(std::stoul(val()));
    else if (k == "--no-cc") a.no_cc = true;
    else if (k == "--cluster-key") a.cluster_key = val();
    else if (k == "--make-cluster-key") {
      a.cluster_key = val();
      a.make_cluster_key = true;
    }
    else usage("unknown argument '" + k + "'");
  }
  if (a.role != "responder" && a.role != "sender") usage("--role must be responder or sender");
  if (a.eal.empty()) usage("--eal is required");
  if (a.node == 0 || a.peer == 0) usage("--node and --peer are required (non-zero)");
  return a;
}

struct Run {
  Args args;
  std::unique_ptr<DpdkDatapath> dpdk;
  std::unique_ptr<FaultShim> shim;
  std::unique_ptr<PcapWriter> pcap;
  std::unique_ptr<Endpoint> ep;
  std::unique_ptr<Driver> drv;
  TimeNs deadline = 0;
  const char* name = "";
  TimeNs (*clock)() = &tsc_now_ns;
  TimeNs now() const { return clock(); }

  explicit Run(const Args& a) : args(a), name(a.role.c_str()) {
    // The key file first: the sender starts once the memif socket exists (dpdk_memif.sh) and
    // reads the key right away, while this side's port waits for the link.
    if (!a.cluster_key.empty() && a.make_cluster_key) weft::crypto::write_cluster_key(a.cluster_key);
    DpdkOptions o;
    o.eal_args = a.eal;
    o.link_timeout_ms = 10000;
    o.vlan_priority = a.vlan;
    dpdk = std::make_unique<DpdkDatapath>(o);
    if (!a.tsc) clock = &monotonic_now_ns;
    Datapath* path = dpdk.get();
    if (a.loss > 0) {
      shim = std::make_unique<FaultShim>(*dpdk, FaultShim::Faults{a.loss, 0, 0, 0}, a.seed);
      path = shim.get();
      std::printf("%s: fault shim, loss %.3f, seed %llu\n", name, a.loss,
                  static_cast<unsigned long long>(a.seed));
    }
    if (!a.pcap.empty()) {
      pcap = std::make_unique<PcapWriter>(a.pcap);
      path->set_pcap(pcap.get());
    }
    EndpointConfig cfg = with_host_timers(EndpointConfig{});
    cfg.encapsulation = wire::Encapsulation::kEthernet;
    cfg.node_id = a.node;
    cfg.max_frame_bytes = static_cast<std::uint32_t>(path->max_frame_bytes());
    cfg.rng_seed = a.seed * 2 + a.node;
    if (a.rto_min_us != 0) cfg.rto_min_us = a.rto_min_us;
    if (a.no_cc) cfg.congestion_control = false;
    // A whole message waits in the link's receive buffer until the application takes it.
    std::size_t largest = 0;
    for (std::size_t b : a.sizes) largest = std::max(largest, b);
    cfg.recv_buffer_bytes = static_cast<std::uint32_t>(std::max<std::size_t>(cfg.recv_buffer_bytes, largest + (1u << 20)));
    if (!a.cluster_key.empty()) {
      auto creds = std::make_shared<weft::crypto::Credentials>();
      weft::crypto::load_cluster_key(a.cluster_key, *creds);
      cfg.credentials = creds;
      cfg.wall_clock_offset_ns = wall_clock_offset_ns(clock);
      std::printf("%s: encrypted (cluster key %s)\n", name, a.cluster_key.c_str());
    }
    ep = std::make_unique<Endpoint>(cfg);
    drv = std::make_unique<Driver>(*ep, *path, Driver::Options{true, 32, clock});
    deadline = now() + static_cast<TimeNs>(a.deadline_s * 1e9);
    std::printf("%s: %s up, node %u\n", name, path->describe().c_str(), a.node);
  }

  void report() const {
    const DpdkStats& s = dpdk->stats();
    std::printf(
        "%s: driver sent %llu received %llu refused %llu; dpdk tx %llu refused %llu rx %llu not-ttp %llu "
        "vlan-stripped %llu; endpoint drops %llu",
        name, static_cast<unsigned long long>(drv->frames_sent()),
        static_cast<unsigned long long>(drv->frames_received()), static_cast<unsigned long long>(drv->tx_refused()),
        static_cast<unsigned long long>(s.tx_frames), static_cast<unsigned long long>(s.tx_refused),
        static_cast<unsigned long long>(s.rx_frames), static_cast<unsigned long long>(s.rx_not_ttp),
        static_cast<unsigned long long>(s.rx_vlan_stripped),
        static_cast<unsigned long long>(ep->stats().drops_total()));
    if (shim) std::printf("; shim dropped %llu", static_cast<unsigned long long>(shim->dropped()));
    std::printf("\n");
    for (int i = 0; i < static_cast<int>(DropReason::kCount); ++i) {
      if (ep->stats().drops[i] != 0) {
        std::printf("%s:   dropped %s: %llu\n", name, std::string(drop_reason_name(static_cast<DropReason>(i))).c_str(),
                    static_cast<unsigned long long>(ep->stats().drops[i]));
      }
    }
  }
};

void print_link_stats(const char* name, const LinkStats& s) {
  std::printf("%s: link payloads %llu retransmits %llu (rto %llu fast %llu) acks sent %llu received %llu\n", name,
              static_cast<unsigned long long>(s.payloads_sent), static_cast<unsigned long long>(s.retransmits),
              static_cast<unsigned long long>(s.retransmits_rto), static_cast<unsigned long long>(s.retransmits_fast),
              static_cast<unsigned long long>(s.acks_sent), static_cast<unsigned long long>(s.acks_received));
}

int responder(Run& r) {
  const Args& a = r.args;
  std::size_t next = 0;
  bool wrong = false;
  int result = -1;
  const bool finished = r.drv->run_until(r.deadline, [&](Event& ev) {
    switch (ev.kind) {
      case EventKind::kOpened:
        std::printf("responder: link from node %u opened\n", ev.peer);
        return false;
      case EventKind::kMessage: {
        bool ok = next < a.sizes.size() && ev.message.size() == a.sizes[next];
        for (std::size_t j = 0; ok && j < ev.message.size(); ++j) ok = ev.message[j] == pattern(next, j);
        if (!ok) {
          std::fprintf(stderr, "responder: message %zu (%zu B) does not match the expected %zu B pattern\n", next,
                       ev.message.size(), next < a.sizes.size() ? a.sizes[next] : 0);
          wrong = true;
        }
        std::uint8_t reply[17];
        put64(reply, next);
        put64(reply + 8, fnv1a(ev.message));
        reply[16] = ok ? 1 : 0;
        const TimeNs t = r.now();
        if (Status st = r.ep->send(ev.peer, ev.vc, reply, t); !st) {
          std::fprintf(stderr, "responder: reply %zu failed: %s\n", next, st.detail().c_str());
          wrong = true;
        }
        ++next;
        return false;
      }
      case EventKind::kPeerClosing:
        return false;
      case EventKind::kClosed:
        print_link_stats("responder", ev.stats);
        result = (wrong || next != a.sizes.size()) ? 1 : 0;
        return true;
      case EventKind::kError:
        std::fprintf(stderr, "responder: link error %s: %s\n", std::string(error_name(ev.error)).c_str(),
                     ev.detail.c_str());
        result = 2;
        return true;
    }
    return false;
  });
  if (!finished) {
    std::fprintf(stderr, "responder: deadline of %.0f s passed after %zu of %zu messages\n", a.deadline_s, next,
                 a.sizes.size());
    r.report();
    return 2;
  }
  // Linger so a retransmitted CLOSE (its CLOSE_ACK lost) is still answered.
  const TimeNs linger = r.now() + 300'000'000;
  r.drv->run_until(linger, [](Event&) { return false; });
  std::printf("responder: %zu messages received, %s\n", next, result == 0 ? "all verified" : "FAILED");
  r.report();
  return result;
}

int sender(Run& r) {
  const Args& a = r.args;
  const Vc vc = Vc::kData;
  std::vector<std::vector<std::uint8_t>> messages(a.sizes.size());
  std::vector<std::uint64_t> digests(a.sizes.size());
  std::size_t total = 0;
  for (std::size_t k = 0; k < a.sizes.size(); ++k) {
    messages[k].resize(a.sizes[k]);
    for (std::size_t j = 0; j < a.sizes[k]; ++j) messages[k][j] = pattern(k, j);
    digests[k] = fnv1a(messages[k]);
    total += a.sizes[k];
  }
  if (Status st = r.ep->open(a.peer, vc, r.now()); !st) {
    std::fprintf(stderr, "sender: open failed: %s\n", st.detail().c_str());
    return 2;
  }
  int result = -1;
  auto on_error = [&](const Event& ev) {
    std::fprintf(stderr, "sender: link error %s: %s (%llu messages unacknowledged)\n",
                 std::string(error_name(ev.error)).c_str(), ev.detail.c_str(),
                 static_cast<unsigned long long>(ev.unacked_messages));
    result = 2;
    return true;
  };
  const TimeNs t_open = r.now();
  if (!r.drv->run_until(r.deadline, [&](Event& ev) { return ev.kind == EventKind::kOpened || on_error(ev); })) {
    std::fprintf(stderr, "sender: link to node %u did not open before the deadline\n", a.peer);
    return 2;
  }
  if (result >= 0) return result;
  const TimeNs t0 = r.now();
  std::printf("sender: link open in %.3f ms\n", static_cast<double>(t0 - t_open) / 1e6);

  std::size_t queued = 0, replies = 0;
  bool wrong = false;
  auto on_event = [&](Event& ev) {
    if (ev.kind == EventKind::kError) return on_error(ev);
    if (ev.kind != EventKind::kMessage) return false;
    if (ev.message.size() != 17) {
      std::fprintf(stderr, "sender: unexpected %zu B reply\n", ev.message.size());
      wrong = true;
      return false;
    }
    const std::uint64_t k = get64(ev.message.data());
    if (k != replies || ev.message[16] != 1 || get64(ev.message.data() + 8) != digests[replies]) {
      std::fprintf(stderr, "sender: reply %zu says index %llu ok %d digest %s\n", replies,
                   static_cast<unsigned long long>(k), ev.message[16],
                   k < digests.size() && get64(ev.message.data() + 8) == digests[k] ? "matches" : "differs");
      wrong = true;
    }
    ++replies;
    return replies == a.sizes.size();
  };
  while (replies < a.sizes.size() && result < 0) {
    // Queue messages as the send buffer allows; then let the driver make progress.
    while (queued < messages.size()) {
      Status st = r.ep->send(a.peer, vc, messages[queued], r.now());
      if (!st) {
        if (st.error() == weft::transport::Error::kSendBufferFull) break;
        std::fprintf(stderr, "sender: send of message %zu failed: %s\n", queued, st.detail().c_str());
        return 2;
      }
      ++queued;
    }
    const TimeNs step_deadline = queued < messages.size() ? std::min(r.deadline, r.now() + 1'000'000) : r.deadline;
    if (!r.drv->run_until(step_deadline, on_event) && r.now() >= r.deadline) {
      std::fprintf(stderr, "sender: deadline of %.0f s passed with %zu of %zu replies\n", a.deadline_s, replies,
                   a.sizes.size());
      r.report();
      return 2;
    }
  }
  if (result >= 0) return result;
  const TimeNs t1 = r.now();
  const double secs = static_cast<double>(t1 - t0) / 1e9;
  std::printf("sender: %zu messages, %zu bytes in %.3f s: goodput %.3f Gb/s\n", a.sizes.size(), total, secs,
              static_cast<double>(total) * 8 / secs / 1e9);
  if (auto info = r.ep->link_info(a.peer, vc)) {
    print_link_stats("sender", info->stats);
    std::printf("sender: srtt %.1f us, min rtt %.1f us, rto %.1f us, cwnd %llu B\n",
                static_cast<double>(info->srtt_ns) / 1e3, static_cast<double>(info->min_rtt_ns) / 1e3,
                static_cast<double>(info->rto_ns) / 1e3, static_cast<unsigned long long>(info->cwnd_bytes));
  }

  if (Status st = r.ep->close(a.peer, vc, r.now()); !st) {
    std::fprintf(stderr, "sender: close failed: %s\n", st.detail().c_str());
    return 2;
  }
  if (!r.drv->run_until(r.deadline, [&](Event& ev) { return ev.kind == EventKind::kClosed || on_error(ev); })) {
    std::fprintf(stderr, "sender: link did not close before the deadline\n");
    return 2;
  }
  if (result >= 0) return result;
  std::printf("sender: closed, %s\n", wrong ? "FAILED verification" : "all replies verified");
  r.report();
  // Stop polling and let the responder (memif server) finish its linger and close its port first:
  // DPDK 22.11's memif frees the shared regions when the peer disconnects, under a thread that may
  // be polling them. Here the disconnect reaches us while we sleep.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return wrong ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::unique_ptr<Run> run;
  try {
    run = std::make_unique<Run>(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: setup failed: %s\n", args.role.c_str(), e.what());
    return 3;
  }
  const int rc = args.role == "responder" ? responder(*run) : sender(*run);
  if (run->pcap) run->pcap->flush();
  std::printf("%s: exit %d\n", args.role.c_str(), rc);
  return rc;
}
