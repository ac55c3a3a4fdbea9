// hello_transport: the first weft program to read.
//
// Two weft endpoints, A (node 1) and B (node 2), joined by one simulated 100 Gb/s link that drops
// 1% of frames in each direction. A opens a link to B, sends three messages of different sizes
// and closes; B prints and checks every message it receives. Everything runs in the in-memory
// simulator (SimLoop), in virtual time, so the run is the same every time for a given seed.
//
// What to notice:
//  - The protocol core (transport::Endpoint) does no I/O and reads no clock. SimLoop plays the
//    network and the clock; EndpointHost plugs an Endpoint into it and hands us its events.
//  - send() takes a whole message of any size; weft splits it into frames (up to 8940 B of payload
//    in a 9000 B jumbo frame) and B gets it back in one piece, once, in order, even with loss.
//  - close() is graceful: the link closes once every message sent has been acknowledged.
//
// Usage: hello_transport [seed]   (default 2: at 1% loss that run loses frames in both directions,
//                                  so you see recovery; exit status 0 when every check passes)

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/sim_loop.h"

using namespace weft::transport;  // a short program; real code would name what it uses
using sim::EndpointHost;
using sim::SimLoop;

namespace {

constexpr NodeId kNodeA = 1;
constexpr NodeId kNodeB = 2;
constexpr Vc kVc = Vc::kData;  // each (peer, virtual channel) pair is its own link

// The three messages A sends: small, one jumbo frame's worth, and 1.5 MiB (about 176 frames).
const std::vector<std::uint32_t> kMessageSizes = {13, 8940, 3u << 19};

// Message `index` of `size` bytes. B regenerates it to check what arrived.
std::vector<std::uint8_t> make_message(std::size_t index, std::uint32_t size) {
  std::vector<std::uint8_t> m(size);
  const std::string greeting = "hello, weft!";
  for (std::uint32_t i = 0; i < size; ++i) {
    m[i] = i < greeting.size() && index == 0 ? static_cast<std::uint8_t>(greeting[i])
                                             : static_cast<std::uint8_t>(i * 31 + index * 7);
  }
  return m;
}

std::string first_bytes(const std::vector<std::uint8_t>& m) {
  std::string s;
  char hex[4];
  for (std::size_t i = 0; i < m.size() && i < 8; ++i) {
    std::snprintf(hex, sizeof hex, "%02x ", m[i]);
    s += hex;
  }
  return s + (m.size() > 8 ? "..." : "");
}

void print_link(const char* who, const LinkStats& stats, TimeNs srtt_ns) {
  char srtt[64];
  if (srtt_ns > 0) {
    std::snprintf(srtt, sizeof srtt, "srtt %.2f us", static_cast<double>(srtt_ns) / 1000.0);
  } else {
    std::snprintf(srtt, sizeof srtt, "no srtt (RTT is sampled from ACKed data; none sent)");
  }
  std::printf("%s: link stats: %llu PAYLOAD frames sent, %llu retransmitted (%llu fast, %llu on timeout), "
              "%llu messages received, %s\n",
              who, static_cast<unsigned long long>(stats.payloads_sent),
              static_cast<unsigned long long>(stats.retransmits),
              static_cast<unsigned long long>(stats.retransmits_fast),
              static_cast<unsigned long long>(stats.retransmits_rto),
              static_cast<unsigned long long>(stats.messages_received), srtt);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2;
  std::printf("hello_transport: seed %llu (rerun with: hello_transport %llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));

  // --- 1. The simulated network: one link, 1% loss each way, driven by `seed`. -------------
  SimLoop loop(seed);
  sim::LinkConfig link;
  link.rate_gbps = 100;
  link.delay_us = 2;
  link.a_to_b.loss = 0.01;  // frames from A to B (PAYLOADs)
  link.b_to_a.loss = 0.01;  // frames from B to A (ACKs, SACKs)

  // --- 2. Two endpoints. A config is a plain struct; the defaults are the weft profile. -----
  EndpointConfig config_a;
  config_a.node_id = kNodeA;
  config_a.rng_seed = seed;
  EndpointConfig config_b = config_a;
  config_b.node_id = kNodeB;
  config_b.rng_seed = seed + 1;

  bool failed = false;
  std::size_t received = 0;
  bool a_closed = false, b_closed = false;
  TimeNs srtt_a = 0, srtt_b = 0;  // sampled while the links exist; a closed link is gone

  // --- 3. Node A: on "opened", send the messages, then close. --------------------------------
  auto a_events = [&](Endpoint& ep, Event& ev, TimeNs now) {
    switch (ev.kind) {
      case EventKind::kOpened:
        std::printf("A: link to node %u open at %.2f us\n", ev.peer, static_cast<double>(now) / 1000.0);
        for (std::size_t i = 0; i < kMessageSizes.size(); ++i) {
          Status st = ep.send(kNodeB, kVc, make_message(i, kMessageSizes[i]), now);
          if (!st.ok()) {
            std::printf("A: send failed: %s\n", st.detail().c_str());
            failed = true;
          }
        }
        // Graceful: the messages queued above are still delivered before CLOSE goes out.
        if (Status st = ep.close(kNodeB, kVc, now); !st.ok()) {
          std::printf("A: close failed: %s\n", st.detail().c_str());
          failed = true;
        }
        break;
      case EventKind::kClosed:
        // The link is closed and every message A sent was acknowledged; ev.stats are its final counters.
        a_closed = true;
        std::printf("A: link closed at %.2f us\n", static_cast<double>(now) / 1000.0);
        print_link("A", ev.stats, srtt_a);
        break;
      case EventKind::kError:
        std::printf("A: link error: %s (%s)\n", std::string(error_name(ev.error)).c_str(), ev.detail.c_str());
        failed = true;
        break;
      case EventKind::kMessage:
      case EventKind::kPeerClosing:
        break;
    }
  };

  // --- 4. Node B: accept the link (no call needed), print and verify each message. ----------
  auto b_events = [&](Endpoint& ep, Event& ev, TimeNs now) {
    switch (ev.kind) {
      case EventKind::kOpened:
        std::printf("B: link from node %u open\n", ev.peer);
        break;
      case EventKind::kMessage: {
        const bool expected = received < kMessageSizes.size();
        const bool ok = expected && ev.message == make_message(received, kMessageSizes[received]);
        std::printf("B: message %zu from node %u: %zu B [%s] at %.2f us: %s\n", received, ev.peer,
                    ev.message.size(), first_bytes(ev.message).c_str(), static_cast<double>(now) / 1000.0,
                    ok ? "verified" : "WRONG");
        if (!ok) failed = true;
        ++received;
        if (auto info = ep.link_info(ev.peer, kVc)) srtt_b = info->srtt_ns;
        break;
      }
      case EventKind::kPeerClosing:
        std::printf("B: node %u is closing the link\n", ev.peer);
        break;
      case EventKind::kClosed:
        b_closed = true;
        print_link("B", ev.stats, srtt_b);
        break;
      case EventKind::kError:
        std::printf("B: link error: %s (%s)\n", std::string(error_name(ev.error)).c_str(), ev.detail.c_str());
        failed = true;
        break;
    }
  };

  // The loop owns the hosts; keep plain pointers to reach the endpoints. A node's id must match
  // the MAC its endpoint puts on the wire, so add_host takes it again.
  auto host_a = std::make_unique<EndpointHost>(config_a, a_events);
  auto host_b = std::make_unique<EndpointHost>(config_b, b_events);
  Endpoint& endpoint_a = host_a->endpoint();
  const int node_a = loop.add_host(std::move(host_a), kNodeA);
  const int node_b = loop.add_host(std::move(host_b), kNodeB);
  loop.connect(node_a, node_b, link);

  // Sample A's smoothed RTT every 20 us of virtual time while its link exists, for the report.
  std::function<void()> sample_rtt = [&]() {
    if (auto info = endpoint_a.link_info(kNodeB, kVc)) {
      if (info->srtt_ns > 0) srtt_a = info->srtt_ns;
      loop.schedule(loop.now() + us_to_ns(20), sample_rtt);
    }
  };

  // --- 5. Start: A opens the link at virtual time 0. Then run until both sides are closed. --
  // Calls made inside a scheduled callback need no kick(): the loop polls every host afterwards.
  loop.schedule(0, [&]() {
    if (Status st = endpoint_a.open(kNodeB, kVc, loop.now()); !st.ok()) {
      std::printf("A: open failed: %s\n", st.detail().c_str());
      failed = true;
    }
    sample_rtt();
  });
  const TimeNs deadline = us_to_ns(1'000'000);  // 1 s of virtual time: far more than needed
  loop.run(deadline, [&]() { return failed || (a_closed && b_closed); });

  // --- 6. Check the outcome. ----------------------------------------------------------------
  if (received != kMessageSizes.size()) {
    std::printf("FAILED: B received %zu of %zu messages (seed %llu)\n", received, kMessageSizes.size(),
                static_cast<unsigned long long>(seed));
    failed = true;
  }
  if (!a_closed || !b_closed) {
    std::printf("FAILED: link not closed on both sides by %.0f us (seed %llu)\n",
                static_cast<double>(loop.now()) / 1000.0, static_cast<unsigned long long>(seed));
    failed = true;
  }
  const sim::PortStats& wire_ab = loop.port_stats(node_a, node_b);
  const sim::PortStats& wire_ba = loop.port_stats(node_b, node_a);
  std::printf("wire: A->B %llu frames (%llu lost), B->A %llu frames (%llu lost); %.2f us of virtual time\n",
              static_cast<unsigned long long>(wire_ab.frames_sent),
              static_cast<unsigned long long>(wire_ab.dropped_loss),
              static_cast<unsigned long long>(wire_ba.frames_sent),
              static_cast<unsigned long long>(wire_ba.dropped_loss), static_cast<double>(loop.now()) / 1000.0);
  std::printf("%s\n", failed ? "hello_transport: FAILED" : "hello_transport: OK");
  return failed ? 1 : 0;
}
