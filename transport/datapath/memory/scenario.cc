#include "weft/transport/mix.h"
#include "weft/transport/scenario.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>

namespace weft::transport::sim {
namespace {

// Message streams of the two directions use different seeds so a message delivered to the wrong
// side cannot pass the content check.
constexpr std::uint64_t kDirectionSalt[2] = {0xA11CE, 0xB0B};

// One host of a transfer: what it sends, what it expects to receive.
struct Side {
  int node = -1;
  NodeId id = 0;
  NodeId peer = 0;
  EndpointHost* host = nullptr;
  const std::vector<std::uint32_t>* send_sizes = nullptr;
  const std::vector<std::uint32_t>* recv_sizes = nullptr;
  std::uint64_t send_seed = 0;
  std::uint64_t recv_seed = 0;
  std::size_t next_send = 0;
  std::size_t next_recv = 0;
  bool opened = false;
  bool closed = false;
  bool close_called = false;
  LinkInfo last_info;
};

}  // namespace

void fill_message(std::uint64_t seed, std::uint64_t index, std::vector<std::uint8_t>& out,
                  std::uint32_t size) {
  out.resize(size);
  const std::uint64_t base = mix64(seed ^ mix64(index));
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w = mix64(base + i);
    std::memcpy(out.data() + i, &w, 8);
  }
  if (i < size) {
    std::uint64_t w = mix64(base + i);
    std::memcpy(out.data() + i, &w, size - i);
  }
}

double jain_index(const std::vector<double>& x) {
  if (x.empty()) return 0;
  double sum = 0, sq = 0;
  for (double v : x) {
    sum += v;
    sq += v * v;
  }
  return sq == 0 ? 0 : sum * sum / (static_cast<double>(x.size()) * sq);
}

TransferResult run_transfer(const TransferSpec& spec) {
  TransferResult r;
  SimLoop loop(spec.seed);
  if (spec.trace) loop.set_trace(spec.trace);
  Side sides[2];
  std::vector<std::uint8_t> scratch;
  const std::uint64_t seed = spec.seed;
  r.messages_expected = spec.a_to_b.size() + spec.b_to_a.size();

  auto fail = [&](std::string why) {
    if (r.failure.empty()) r.failure = "seed " + std::to_string(seed) + ": " + std::move(why);
  };

  // The application of each side: verify what arrives, keep the send queue topped up, and (A)
  // close once everything is queued and everything from B has arrived.
  auto refill = [&](Side& s, Endpoint& ep, TimeNs now) {
    if (!s.opened || s.closed) return;
    if (auto info = ep.link_info(s.peer, spec.vc)) {
      s.last_info = *info;
      std::uint64_t queued = info->send_queue_bytes;
      while (s.next_send < s.send_sizes->size() && queued < spec.queue_ahead_bytes) {
        std::uint32_t size = (*s.send_sizes)[s.next_send];
        fill_message(s.send_seed, s.next_send, scratch, size);
        Status st = ep.send(s.peer, spec.vc, scratch, now);
        if (!st.ok()) {
          if (st.error() != Error::kSendBufferFull) fail("send failed: " + st.detail());
          break;
        }
        queued += size;
        ++s.next_send;
      }
    }
    const bool a_side = &s == &sides[0];
    if (a_side && spec.close_at_end && !s.close_called && s.next_send == s.send_sizes->size() &&
        s.next_recv == s.recv_sizes->size()) {
      s.close_called = true;
      Status st = ep.close(s.peer, spec.vc, now);
      if (!st.ok()) fail("close failed: " + st.detail());
    }
  };

  auto make_handler = [&](int i) {
    return [&, i](Endpoint& ep, Event& ev, TimeNs now) {
      Side& s = sides[i];
      switch (ev.kind) {
        case EventKind::kOpened:
          s.opened = true;
          refill(s, ep, now);
          break;
        case EventKind::kMessage: {
          if (s.next_recv >= s.recv_sizes->size()) {
            ++r.corrupt_messages;
            fail("node " + std::to_string(s.id) + " received an extra message (duplicate delivery)");
            break;
          }
          std::uint32_t size = (*s.recv_sizes)[s.next_recv];
          fill_message(s.recv_seed, s.next_recv, scratch, size);
          if (ev.message != scratch) {
            ++r.corrupt_messages;
            fail("node " + std::to_string(s.id) + " message " + std::to_string(s.next_recv) +
                 " differs (got " + std::to_string(ev.message.size()) + " B, expected " +
                 std::to_string(size) + " B)");
          }
          ++s.next_recv;
          ++r.messages_delivered;
          if (i == 1) {
            r.bytes_delivered += ev.message.size();
            r.last_delivery = now;
          }
          if (i == 0) refill(s, ep, now);  // A may close once B's last message is in
          break;
        }
        case EventKind::kPeerClosing:
          if (auto info = ep.link_info(s.peer, spec.vc)) s.last_info = *info;
          break;
        case EventKind::kClosed:
          s.closed = true;
          s.last_info.stats = ev.stats;
          s.last_info.state = LinkState::kClosed;
          break;
        case EventKind::kError:
          s.closed = true;
          s.last_info.stats = ev.stats;
          r.errors.push_back("node " + std::to_string(s.id) + ": " + std::string(error_name(ev.error)) +
                             ": " + ev.detail);
          fail("link error at node " + std::to_string(s.id) + ": " + ev.detail);
          break;
      }
    };
  };

  for (int i = 0; i < 2; ++i) {
    EndpointConfig c = spec.endpoint;
    c.node_id = static_cast<NodeId>(i + 1);
    c.rng_seed = mix64(seed * 2 + static_cast<std::uint64_t>(i));
    auto host = std::make_unique<EndpointHost>(c, make_handler(i));
    sides[i].host = host.get();
    sides[i].id = c.node_id;
    sides[i].peer = static_cast<NodeId>(2 - i);
    sides[i].node = loop.add_host(std::move(host), c.node_id);
    sides[i].send_sizes = i == 0 ? &spec.a_to_b : &spec.b_to_a;
    sides[i].recv_sizes = i == 0 ? &spec.b_to_a : &spec.a_to_b;
    sides[i].send_seed = seed ^ kDirectionSalt[i];
    sides[i].recv_seed = seed ^ kDirectionSalt[1 - i];
  }
  loop.connect(sides[0].node, sides[1].node, spec.link);

  // Top up the send queues every 5 µs of virtual time while anything is left to queue.
  std::function<void()> tick = [&]() {
    for (Side& s : sides) {
      refill(s, s.host->endpoint(), loop.now());
      loop.kick(s.node);
    }
    bool more = false;
    for (Side& s : sides) more |= !s.closed && s.next_send < s.send_sizes->size();
    if (more) loop.schedule(loop.now() + us_to_ns(5), tick);
  };
  loop.schedule(0, [&]() {
    Status st = sides[0].host->endpoint().open(sides[1].id, spec.vc, loop.now());
    if (!st.ok()) fail("open failed: " + st.detail());
    loop.kick(sides[0].node);
    tick();
  });

  auto done = [&]() {
    if (!r.failure.empty()) return true;
    if (spec.close_at_end) return sides[0].closed && sides[1].closed;
    return r.messages_delivered == r.messages_expected;
  };
  loop.run(spec.deadline, done);

  r.end = loop.now();
  r.events = loop.stats().events;
  r.a_closed = sides[0].closed;
  r.b_closed = sides[1].closed;
  r.a_link = sides[0].last_info;
  r.b_link = sides[1].last_info;
  r.a_port = loop.port_stats(sides[0].node, sides[1].node);
  r.b_port = loop.port_stats(sides[1].node, sides[0].node);
  if (r.last_delivery > r.start) {
    r.goodput_gbps = static_cast<double>(r.bytes_delivered) * 8.0 / static_cast<double>(r.last_delivery - r.start);
  }
  if (r.failure.empty()) {
    if (r.messages_delivered != r.messages_expected) {
      fail("delivered " + std::to_string(r.messages_delivered) + " of " +
           std::to_string(r.messages_expected) + " messages by virtual time " +
           std::to_string(r.end / 1000) + " us");
    } else if (spec.close_at_end && !(r.a_closed && r.b_closed)) {
      fail("links did not close (A closed: " + std::to_string(r.a_closed) +
           ", B closed: " + std::to_string(r.b_closed) + ")");
    }
  }
  r.ok = r.failure.empty();
  return r;
}

IncastResult run_incast(const IncastSpec& spec) {
  IncastResult r;
  SimLoop loop(spec.seed);
  const int sw = loop.add_switch();
  const NodeId receiver_id = 1000;
  std::vector<double> bytes(static_cast<std::size_t>(spec.senders), 0.0);
  std::vector<std::uint8_t> message(spec.message_bytes, 0x5A);

  EndpointConfig rc = spec.endpoint;
  rc.node_id = receiver_id;
  rc.rng_seed = mix64(spec.seed);
  auto receiver = std::make_unique<EndpointHost>(rc, [&](Endpoint&, Event& ev, TimeNs now) {
    if (ev.kind == EventKind::kMessage && now >= spec.measure_from && now <= spec.duration &&
        ev.peer >= 1 && ev.peer <= static_cast<NodeId>(spec.senders)) {
      bytes[ev.peer - 1] += static_cast<double>(ev.message.size());
    }
    if (ev.kind == EventKind::kError) ++r.errors;
  });
  const int rnode = loop.add_host(std::move(receiver), receiver_id);
  loop.connect(sw, rnode, spec.link);

  std::vector<int> nodes;
  std::vector<EndpointHost*> hosts;
  for (int i = 0; i < spec.senders; ++i) {
    EndpointConfig c = spec.endpoint;
    c.node_id = static_cast<NodeId>(i + 1);
    c.rng_seed = mix64(spec.seed + 1 + static_cast<std::uint64_t>(i));
    auto h = std::make_unique<EndpointHost>(c, [&](Endpoint&, Event& ev, TimeNs) {
      if (ev.kind == EventKind::kError) ++r.errors;
    });
    hosts.push_back(h.get());
    nodes.push_back(loop.add_host(std::move(h), c.node_id));
    loop.connect(nodes.back(), sw, spec.link);
  }
  // Each sender keeps a few messages queued until `duration`.
  std::function<void()> tick = [&]() {
    for (int i = 0; i < spec.senders; ++i) {
      Endpoint& ep = hosts[static_cast<std::size_t>(i)]->endpoint();
      auto info = ep.link_info(receiver_id, Vc::kData);
      if (!info) continue;
      std::uint64_t queued = info->send_queue_bytes;
      while (queued < 4ull * spec.message_bytes + info->cwnd_bytes) {
        if (!ep.send(receiver_id, Vc::kData, message, loop.now()).ok()) break;
        queued += spec.message_bytes;
      }
      loop.kick(nodes[static_cast<std::size_t>(i)]);
    }
    if (loop.now() + us_to_ns(5) < spec.duration) loop.schedule(loop.now() + us_to_ns(5), tick);
  };
  for (int i = 0; i < spec.senders; ++i) {
    const std::uint64_t draw = mix64(spec.seed ^ mix64(static_cast<std::uint64_t>(i) + 77));
    const TimeNs at = spec.start_jitter > 0 ? static_cast<TimeNs>(draw % static_cast<std::uint64_t>(spec.start_jitter)) : 0;
    loop.schedule(at, [&, i]() {
      (void)hosts[static_cast<std::size_t>(i)]->endpoint().open(receiver_id, Vc::kData, loop.now());
      loop.kick(nodes[static_cast<std::size_t>(i)]);
    });
  }
  loop.schedule(0, tick);
  loop.run(spec.duration);
  const double window_ns = static_cast<double>(spec.duration - spec.measure_from);
  for (double b : bytes) r.flow_gbps.push_back(b * 8.0 / window_ns);
  r.total_gbps = std::accumulate(r.flow_gbps.begin(), r.flow_gbps.end(), 0.0);
  r.jain_index = jain_index(r.flow_gbps);
  const PortStats& p = loop.port_stats(sw, rnode);
  r.max_queue_bytes = p.max_queue_bytes;
  r.queue_drops = p.dropped_queue;
  r.ecn_marked = p.ecn_marked;
  r.events = loop.stats().events;
  return r;
}

}  // namespace weft::transport::sim
