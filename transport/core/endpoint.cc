#include "weft/transport/mix.h"
#include "weft/transport/endpoint.h"

#include <algorithm>
#include <cstring>
#include <queue>
#include <unordered_map>

#include "transport/core/connection.h"
#include "transport/core/fsm.h"
#include "transport/core/ring.h"

namespace weft::transport {

std::string_view link_state_name(LinkState s) {
  switch (s) {
    case LinkState::kClosed: return "CLOSED";
    case LinkState::kOpenSent: return "OPEN_SENT";
    case LinkState::kOpenRecd: return "OPEN_RECD";
    case LinkState::kOpen: return "OPEN";
    case LinkState::kCloseSent: return "CLOSE_SENT";
    case LinkState::kCloseRecd: return "CLOSE_RECD";
  }
  return "?";
}

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::kMalformed: return "malformed";
    case DropReason::kNotForUs: return "not-for-us";
    case DropReason::kStaleEpoch: return "stale-epoch";
    case DropReason::kIllegalForState: return "illegal-for-state";
    case DropReason::kNoLink: return "no-link";
    case DropReason::kStaleId: return "stale-id";
    case DropReason::kProfileMismatch: return "profile-mismatch";
    case DropReason::kControlQueueFull: return "control-queue-full";
    case DropReason::kRecvBufferFull: return "recv-buffer-full";
    case DropReason::kOutOfWindow: return "out-of-window";
    case DropReason::kGoBackNIgnored: return "go-back-n-ignored";
    case DropReason::kCount: break;
  }
  return "?";
}

std::string_view event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::kOpened: return "opened";
    case EventKind::kMessage: return "message";
    case EventKind::kPeerClosing: return "peer-closing";
    case EventKind::kClosed: return "closed";
    case EventKind::kError: return "error";
  }
  return "?";
}

std::uint64_t EndpointStats::drops_total() const {
  std::uint64_t n = 0;
  for (auto d : drops) n += d;
  return n;
}

namespace {

std::uint64_t link_key(NodeId peer, Vc vc) {
  return (std::uint64_t{peer} << 8) | static_cast<std::uint64_t>(vc);
}

// A reply sent without (or regardless of) link state: OPEN_NACK, CLOSE_ACK that leaves the state
// as it is, NACK_NOLINK.
struct ControlReply {
  NodeId peer = 0;
  std::uint8_t vc = 0;
  wire::Opcode opcode = wire::Opcode::kNackNolink;
  std::uint32_t tx_id = 0;
  std::uint32_t rx_id = 0;
  std::uint16_t epoch = 0;
};

struct TimerEntry {
  TimeNs deadline;
  std::uint32_t slot;
  std::uint32_t generation;
  bool operator>(const TimerEntry& o) const {
    return deadline != o.deadline ? deadline > o.deadline : slot > o.slot;
  }
};

}  // namespace

struct Endpoint::Impl {
  Endpoint& ep;
  const EndpointConfig& cfg;
  const bool compat;
  std::uint64_t rng_state;
  std::vector<std::unique_ptr<Connection>> slots;
  std::vector<std::uint32_t> generations;
  std::vector<std::uint32_t> free_slots;
  std::unordered_map<std::uint64_t, std::uint32_t> index;
  Ring<std::pair<std::uint32_t, std::uint32_t>> ready;  // (slot, generation)
  Ring<ControlReply> control;
  mutable std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::vector<std::vector<std::uint8_t>> delivered;  // scratch for on_payload

  // Whether send() of `size` bytes on (peer, vc) would be accepted; sets `c` to the link.
  Status check_send(NodeId peer, Vc vc, std::size_t size, Connection*& c);

  Impl(Endpoint& e, const EndpointConfig& c)
      : ep(e), cfg(c), compat(c.profile == Profile::kTtpoeCompat),
        rng_state(mix64(c.rng_seed ^ (std::uint64_t{c.node_id} << 32))) {}

  std::uint64_t random() { return mix64(rng_state++); }

  Connection* find(NodeId peer, Vc vc) const {
    auto it = index.find(link_key(peer, vc));
    return it == index.end() ? nullptr : slots[it->second].get();
  }

  Connection* create(NodeId peer, Vc vc) {
    if (index.size() >= cfg.max_connections) return nullptr;
    std::uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots.size());
      slots.emplace_back();
      generations.push_back(0);
    }
    slots[slot] = std::make_unique<Connection>(cfg, peer, vc);
    Connection* c = slots[slot].get();
    c->slot = slot;
    c->generation = ++generations[slot];
    std::uint32_t isn = cfg.fixed_initial_tx_id != 0 ? cfg.fixed_initial_tx_id
                                                     : static_cast<std::uint32_t>(random());
    c->next_tx_id = isn;
    c->snd_una = isn;
    c->first_data_tx_id = isn;
    c->entropy_seed = random();
    if (!compat) {
      do c->epoch = static_cast<std::uint16_t>(random());
      while (c->epoch == 0);
    }
    index.emplace(link_key(peer, vc), slot);
    return c;
  }

  void destroy(Connection* c) {
    std::uint32_t slot = c->slot;
    index.erase(link_key(c->peer, c->vc));
    ++generations[slot];
    slots[slot].reset();
    free_slots.push_back(slot);
  }

  static Event link_event(EventKind kind, const Connection& c) {
    Event ev;
    ev.kind = kind;
    ev.peer = c.peer;
    ev.vc = c.vc;
    return ev;
  }

  static LinkStats final_stats(const Connection& c) {
    LinkStats s = c.stats;
    s.congestion_decreases = c.cc.decreases();
    return s;
  }

  void emit(Event ev) { ep.events_.push_back(std::move(ev)); }

  void finish_closed(Connection* c) {
    c->state = LinkState::kClosed;
    ++ep.stats_.links_closed;
    Event ev = link_event(EventKind::kClosed, *c);
    ev.stats = final_stats(*c);
    emit(std::move(ev));
    destroy(c);
  }

  void fail(Connection* c, Error e, std::string detail) {
    ++ep.stats_.link_errors;
    Event ev = link_event(EventKind::kError, *c);
    ev.error = e;
    ev.unacked_messages = c->unacked_messages();
    ev.stats = final_stats(*c);
    ev.detail = "link to node " + std::to_string(c->peer) + " " + std::string(vc_name(c->vc)) +
                " (" + std::string(link_state_name(c->state)) + "): " + detail;
    if (ev.unacked_messages > 0) {
      ev.detail += "; " + std::to_string(ev.unacked_messages) + " message(s) sent were not acknowledged";
    }
    emit(std::move(ev));
    c->state = LinkState::kClosed;
    destroy(c);
  }

  void drop(DropReason r) { ++ep.stats_.drops[static_cast<int>(r)]; }

  void reply(NodeId peer, std::uint8_t vc, wire::Opcode op, std::uint32_t tx, std::uint32_t rx,
             std::uint16_t epoch) {
    if (control.size() >= cfg.control_queue_limit) {
      drop(DropReason::kControlQueueFull);
      return;
    }
    control.push_back(ControlReply{peer, vc, op, tx, rx, epoch});
  }

  // ---- scheduling -----------------------------------------------------------------------------

  bool has_work(const Connection& c, TimeNs now) const {
    return c.open_pending || c.open_ack_pending || c.close_ack_pending || c.close_nack_pending ||
           c.nack_full_pending || c.nack_pending || c.close_pending || c.ack_due(now) ||
           c.data_sendable(now);
  }

  // Earliest time on_timer has work for `c`. Work already due (an ACK, a paced segment) is on the
  // ready list instead, so every deadline returned is either in the future or handled by
  // link_timer (which moves it forward): the driver never spins.
  TimeNs deadline(const Connection& c, TimeNs now) const {
    TimeNs d = c.data_deadline();
    if (c.ack_deadline() > now) d = std::min(d, c.ack_deadline());
    if ((c.state == LinkState::kOpenSent && !c.open_pending) ||
        (c.state == LinkState::kCloseSent && !c.close_pending && !c.close_held)) {
      d = std::min(d, c.handshake_sent + c.rtt.rto());
    }
    if (c.state == LinkState::kCloseRecd) d = std::min(d, c.close_recd_deadline);
    if (c.state == LinkState::kOpen || c.state == LinkState::kCloseRecd) {
      TimeNs r = c.data_ready_time();
      if (r != kNever && r > now) d = std::min(d, r);
    }
    return d;
  }

  // Re-evaluates a link after anything touched it: ready list and timer.
  void update(Connection* c, TimeNs now) {
    if (!c->in_ready && has_work(*c, now)) {
      c->in_ready = true;
      ready.push_back({c->slot, c->generation});
    }
    TimeNs d = deadline(*c, now);
    if (d < c->armed) {
      c->armed = d;
      timers.push(TimerEntry{d, c->slot, c->generation});
    }
  }

  Connection* lookup(std::uint32_t slot, std::uint32_t gen) const {
    if (slot >= slots.size() || generations[slot] != gen || !slots[slot]) return nullptr;
    return slots[slot].get();
  }

  void maybe_start_close(Connection* c, TimeNs now) {
    if (!c->close_requested || c->state != LinkState::kOpen || !c->all_acked()) return;
    c->state = LinkState::kCloseSent;
    c->close_tx_id = c->next_tx_id++;  // CLOSE consumes an id
    c->snd_una = c->next_tx_id;
    c->close_pending = true;
    c->handshake_started = now;
  }

  // ---- transmit ---------------------------------------------------------------------------------

  // Fills `out` for a frame of `n` encoded bytes (0: it did not fit) plus an optional payload
  // sent by reference.
  std::size_t written(std::size_t n, NodeId peer, std::uint8_t vc, const wire::TtpHeader& h,
                      std::span<const std::uint8_t> payload, const std::shared_ptr<const void>* owner,
                      Transmit& out) {
    out.payload = payload;
    if (owner != nullptr) {
      out.payload_owner = *owner;
    } else {
      out.payload_owner.reset();
    }
    out.peer = peer;
    out.vc = static_cast<Vc>(vc);
    out.bytes = n;
    out.entropy = h.entropy;
    out.opcode = h.opcode;
    ++ep.stats_.frames_sent;
    return n;
  }

  std::size_t write(std::span<std::uint8_t> buf, NodeId peer, std::uint8_t vc,
                    const wire::TtpHeader& h, const wire::Extensions& ext,
                    std::span<const std::uint8_t> payload, Transmit& out) {
    const std::size_t n = wire::encode(cfg.encapsulation, cfg.node_id, peer, h, ext, payload, buf);
    return written(n, peer, vc, h, {}, nullptr, out);
  }

  // A PAYLOAD by reference: headers in `buf`, the payload named in `out` (poll_transmit_gather).
  std::size_t write_gather(std::span<std::uint8_t> buf, NodeId peer, std::uint8_t vc, const wire::TtpHeader& h,
                           std::span<const std::uint8_t> payload, const std::shared_ptr<const void>& owner,
                           Transmit& out) {
    const std::size_t n = wire::encode_headers(cfg.encapsulation, cfg.node_id, peer, h, {}, payload.size(), buf);
    return written(n, peer, vc, h, payload, &owner, out);
  }

  wire::Features features(const Connection& c) const {
    wire::Features f;
    f.epoch = c.epoch;
    f.max_frame_bytes = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg.max_frame_bytes, 0xFFFF));
    f.recv_window_bytes = cfg.recv_buffer_bytes;
    f.feature_bits = wire::kFeatureSack | wire::kFeatureEcn | wire::kFeatureEntropy | wire::kFeatureMessages;
    return f;
  }

  // Produces at most one frame for link `c`.
  // `gather`: a large PAYLOAD goes by reference (poll_transmit_gather).
  bool produce(Connection* c, std::span<std::uint8_t> buf, TimeNs now, bool gather, Transmit& out) {
    wire::TtpHeader h;
    wire::Extensions ext;
    h.vc = static_cast<std::uint8_t>(c->vc);
    h.epoch = compat ? 0 : c->epoch;
    const std::uint8_t vc = h.vc;
    if (c->open_pending) {
      c->open_pending = false;
      c->handshake_sent = now;
      h.opcode = wire::Opcode::kOpen;
      h.tx_id = c->open_tx_id;
      if (!compat) {
        ext.has_features = true;
        ext.features = features(*c);
      }
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    if (c->open_ack_pending) {
      c->open_ack_pending = false;
      h.opcode = wire::Opcode::kOpenAck;
      h.tx_id = c->first_data_tx_id;  // our first DATA id (spec §3), also when repeated later
      h.rx_id = c->peer_open_tx_id;
      if (!compat) {
        ext.has_features = true;
        ext.features = features(*c);
      }
      bool ok = write(buf, c->peer, vc, h, ext, {}, out) > 0;
      if (c->state == LinkState::kOpenRecd) {  // OPEN_ACK(tx) moves OPEN_RECD to OPEN
        c->state = LinkState::kOpen;
        c->open_ack_sent = now;
        ++ep.stats_.links_opened;
        emit(link_event(EventKind::kOpened, *c));
        maybe_start_close(c, now);
      }
      return ok;
    }
    if (c->close_ack_pending) {
      c->close_ack_pending = false;
      h.opcode = wire::Opcode::kCloseAck;
      h.rx_id = c->peer_close_tx_id;
      bool ok = write(buf, c->peer, vc, h, ext, {}, out) > 0;
      if (c->all_acked()) {
        finish_closed(c);
      } else {
        fail(c, Error::kPeerNoLink, "the peer closed while data was unacknowledged");
      }
      return ok;
    }
    if (c->close_nack_pending) {
      c->close_nack_pending = false;
      h.opcode = wire::Opcode::kCloseNack;
      h.tx_id = c->next_tx_id;
      h.rx_id = c->rx_last;
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    if (c->nack_full_pending) {
      c->nack_full_pending = false;
      ++c->stats.nack_full_sent;
      h.opcode = wire::Opcode::kNackFull;
      h.rx_id = c->nack_full_id;
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    if (c->nack_pending) {
      c->nack_pending = false;
      h.opcode = wire::Opcode::kNack;
      h.rx_id = c->nack_id();
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    if (c->ack_due(now) || (c->close_pending && c->ack_owed())) {  // a CLOSE never overtakes an ACK
      c->build_ack(h, ext);
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    if (c->close_pending) {
      c->close_pending = false;
      c->handshake_sent = now;
      h.opcode = wire::Opcode::kClose;
      h.tx_id = c->close_tx_id;
      h.rx_id = c->rx_last;
      return write(buf, c->peer, vc, h, ext, {}, out) > 0;
    }
    OutSegment seg;
    if (c->data_sendable(now) && c->next_segment(now, seg)) {
      h.opcode = wire::Opcode::kPayload;
      h.tx_id = seg.tx_id;
      if (!compat) {
        h.flags = seg.eom ? wire::kFlagEndOfMessage : 0;
        c->piggyback_ack(h);
        h.entropy = static_cast<std::uint16_t>(
            mix64(c->entropy_seed ^ seg.tx_id ^ (std::uint64_t{seg.transmissions} << 40)));
      }
      ++c->stats.payloads_sent;
      c->stats.payload_bytes_sent += seg.len;
      if (gather && seg.len >= kGatherMinPayloadBytes) {
        return write_gather(buf, c->peer, vc, h, {seg.data, seg.len}, *seg.owner, out) > 0;
      }
      return write(buf, c->peer, vc, h, ext, {seg.data, seg.len}, out) > 0;
    }
    return false;
  }

  bool poll_transmit(std::span<std::uint8_t> buf, TimeNs now, bool gather, Transmit& out) {
    if (!control.empty()) {
      ControlReply r = control.front();
      control.pop_front();
      wire::TtpHeader h;
      h.opcode = r.opcode;
      h.vc = r.vc;
      h.tx_id = r.tx_id;
      h.rx_id = r.rx_id;
      h.epoch = compat ? 0 : r.epoch;
      return write(buf, r.peer, r.vc, h, {}, {}, out) > 0;
    }
    while (!ready.empty()) {
      auto [slot, gen] = ready.front();
      ready.pop_front();
      Connection* c = lookup(slot, gen);
      if (!c) continue;
      c->in_ready = false;
      const std::uint32_t key_slot = c->slot;
      const std::uint32_t key_gen = c->generation;
      bool produced = produce(c, buf, now, gather, out);
      c = lookup(key_slot, key_gen);  // produce() may have closed the link
      if (c) update(c, now);
      if (produced) return true;
    }
    return false;
  }

  // ---- timers -----------------------------------------------------------------------------------

  void on_timer(TimeNs now) {
    while (!timers.empty() && timers.top().deadline <= now) {
      TimerEntry t = timers.top();
      timers.pop();
      Connection* c = lookup(t.slot, t.generation);
      if (!c || c->armed != t.deadline) continue;  // stale entry
      c->armed = kNever;
      link_timer(c, now);
      c = lookup(t.slot, t.generation);
      if (c) update(c, now);
    }
  }

  void link_timer(Connection* c, TimeNs now) {
    const TimeNs budget = us_to_ns(cfg.retry_budget_us);
    if (c->state == LinkState::kOpenSent && !c->open_pending && now >= c->handshake_sent + c->rtt.rto()) {
      if (now - c->handshake_started >= budget) {
        fail(c, Error::kOpenTimedOut,
             "OPEN unanswered for " + std::to_string(cfg.retry_budget_us) +
                 " us (retry_budget_us); is the peer up and reachable?");
        return;
      }
      c->rtt.backoff();
      c->open_pending = true;
      return;
    }
    if (c->state == LinkState::kCloseSent && !c->close_pending && !c->close_held &&
        now >= c->handshake_sent + c->rtt.rto()) {
      if (now - c->handshake_started >= budget) {
        fail(c, Error::kCloseTimedOut,
             "CLOSE unanswered for " + std::to_string(cfg.retry_budget_us) + " us (retry_budget_us)");
        return;
      }
      c->rtt.backoff();
      c->close_pending = true;
      return;
    }
    if (c->state == LinkState::kCloseRecd && now >= c->close_recd_deadline) {
      fail(c, Error::kCloseTimedOut, "the peer sent CLOSE but never completed the close handshake");
      return;
    }
    if (!c->on_data_timer(now)) {
      fail(c, Error::kRetryBudgetExhausted,
           "no data acknowledged for " + std::to_string(cfg.retry_budget_us) +
               " us (retry_budget_us) despite retransmissions; the peer or the path is down");
    }
  }

  // ---- receive ----------------------------------------------------------------------------------

  bool quiesced(const Connection& c, std::uint32_t peer_close_tx) const {
    return c.all_acked() && peer_close_tx == c.rx_last + 1;
  }

  // An OPEN on an established link is a duplicate of the peer's OPEN (its OPEN_ACK was lost) or
  // a restarted peer. weft tells them apart by epoch; compat, which has no epoch, by the OPEN's
  // TxID (a duplicate repeats it; a restarted peer picks a new one).
  bool peer_restarted(const Connection& c, const wire::Frame& f) const {
    if (compat) return !c.peer_sent_open || f.ttp.tx_id != c.peer_open_tx_id;
    return f.ttp.epoch != c.epoch && !(c.peer_sent_open && f.ttp.epoch == c.peer_open_epoch);
  }

  void accept_open(Connection* c, const wire::Frame& f) {
    c->peer_sent_open = true;
    c->peer_open_tx_id = f.ttp.tx_id;
    c->peer_open_epoch = f.ttp.epoch;
    c->rx_last = f.ttp.tx_id;  // the OPEN consumed its id; the first DATA is OPEN + 1
    c->open_ack_pending = true;
  }

  void on_frame(std::span<const std::uint8_t> bytes, TimeNs now, NodeId udp_peer) {
    ++ep.stats_.frames_received;
    wire::Frame f;
    wire::DecodeOptions opt;
    opt.encapsulation = cfg.encapsulation;
    opt.parse_extensions = !compat;
    opt.max_frame_bytes = compat ? wire::kCompatMaxFrameBytes : wire::kWeftMaxFrameBytes;
    wire::DecodeError e = wire::decode(bytes, opt, f);
    if (e != wire::DecodeError::kNone) {
      drop(DropReason::kMalformed);
      ++ep.stats_.decode_errors[static_cast<int>(e)];
      return;
    }
    NodeId peer = udp_peer;
    if (cfg.encapsulation == wire::Encapsulation::kEthernet) {
      if (f.dst_node != (cfg.node_id & kNodeIdMask)) {
        drop(DropReason::kNotForUs);
        return;
      }
      peer = f.src_node;
    }
    const Vc vc = static_cast<Vc>(f.ttp.vc);
    const wire::Opcode op = f.ttp.opcode;
    Connection* c = find(peer, vc);
    if (c && !compat && op != wire::Opcode::kOpen && f.ttp.epoch != c->epoch) {
      drop(DropReason::kStaleEpoch);
      return;
    }
    if (c && op == wire::Opcode::kOpen && c->state != LinkState::kOpenSent && peer_restarted(*c, f)) {
      // The peer lost its state and opens again: its new OPEN replaces the old link.
      fail(c, Error::kPeerRestarted,
           compat ? "the peer sent a new OPEN (another TxID) on an open link: it restarted"
                  : "the peer opened the link again with a new epoch (it restarted)");
      c = nullptr;
    }
    if (!compat && op == wire::Opcode::kOpen && !f.ext.has_features) {
      drop(DropReason::kProfileMismatch);  // a ttpoe-compat OPEN; weft never downgrades
      return;
    }
    const LinkState state = c ? c->state : LinkState::kClosed;
    const std::uint16_t echo = f.ttp.epoch;
    if (c && state == LinkState::kOpen &&
        (op == wire::Opcode::kPayload || op == wire::Opcode::kAck || op == wire::Opcode::kNack ||
         op == wire::Opcode::kNackFull || op == wire::Opcode::kClose)) {
      if (!c->peer_confirmed) c->confirm_peer(now);  // the peer is past OPEN_SENT
    }
    switch (fsm::rx_action(state, op)) {
      case fsm::RxAction::kOpenNew: {
        c = create(peer, vc);
        if (!c) {
          reply(peer, f.ttp.vc, wire::Opcode::kOpenNack, 0, f.ttp.tx_id, echo);
          return;
        }
        c->state = LinkState::kOpenRecd;
        if (!compat) c->epoch = f.ttp.epoch;
        accept_open(c, f);
        break;
      }
      case fsm::RxAction::kOpenAnswer:
        if (c->state == LinkState::kOpenSent) {  // passing ships: answer, stay until OPEN_ACK
          if (!compat && peer < cfg.node_id) c->epoch = f.ttp.epoch;
          accept_open(c, f);
        } else {
          c->open_ack_pending = true;  // duplicate OPEN (our OPEN_ACK was lost): answer again
        }
        break;
      case fsm::RxAction::kOpenAckEstablish:
        if (f.ttp.rx_id != c->open_tx_id) {
          drop(DropReason::kStaleId);
          return;
        }
        c->rx_last = f.ttp.tx_id - 1;  // OPEN_ACK's TxID is the peer's first DATA id
        c->state = LinkState::kOpen;
        c->rtt.on_sample(now - c->handshake_sent);
        ++ep.stats_.links_opened;
        emit(link_event(EventKind::kOpened, *c));
        maybe_start_close(c, now);
        break;
      case fsm::RxAction::kStay:
        return;
      case fsm::RxAction::kIllegal:
        drop(DropReason::kIllegalForState);
        return;
      case fsm::RxAction::kOpenNackRefused:
        if (f.ttp.rx_id != c->open_tx_id) {
          drop(DropReason::kStaleId);
          return;
        }
        fail(c, Error::kOpenRefused, "the peer answered OPEN with OPEN_NACK (no room for another link)");
        return;
      case fsm::RxAction::kCloseAnswerAck:
        reply(peer, f.ttp.vc, wire::Opcode::kCloseAck, 0, f.ttp.tx_id, c ? c->epoch : echo);
        return;
      case fsm::RxAction::kCloseStale:
        reply(peer, f.ttp.vc, wire::Opcode::kCloseAck, 0, f.ttp.tx_id, c->epoch);
        fail(c, Error::kOpenRefused,
             "a CLOSE arrived while opening (a CLOSE from a prior connection closes the link, per "
             "TTPoE); open again");
        return;
      case fsm::RxAction::kCloseInOpen:
        c->state = LinkState::kCloseRecd;
        c->peer_close_tx_id = f.ttp.tx_id;
        c->set_peer_final(f.ttp.tx_id);  // the CLOSE's id: all the peer's data comes before it
        c->close_recd_deadline = now + us_to_ns(cfg.retry_budget_us);
        emit(link_event(EventKind::kPeerClosing, *c));
        if (quiesced(*c, f.ttp.tx_id)) c->close_ack_pending = true;
        else c->close_nack_pending = true;
        break;
      case fsm::RxAction::kCloseReplayed:
        c->peer_close_tx_id = f.ttp.tx_id;
        if (quiesced(*c, f.ttp.tx_id)) c->close_ack_pending = true;
        else c->close_nack_pending = true;
        break;
      case fsm::RxAction::kCloseSimultaneous:
        c->peer_close_tx_id = f.ttp.tx_id;
        // Both sides closing: finish when each has seen all of the other's data.
        if (f.ttp.rx_id + 1 == c->close_tx_id && f.ttp.tx_id == c->rx_last + 1) c->close_ack_pending = true;
        else c->close_nack_pending = true;
        break;
      case fsm::RxAction::kCloseAckFinish:
        if (c->state == LinkState::kCloseSent && f.ttp.rx_id != c->close_tx_id) {
          drop(DropReason::kStaleId);
          return;
        }
        if (c->all_acked()) finish_closed(c);
        else fail(c, Error::kPeerNoLink, "the peer acknowledged CLOSE while data was unacknowledged");
        return;
      case fsm::RxAction::kCloseNackHold:
        if (c->state == LinkState::kCloseSent) {
          c->close_pending = false;
          if (c->rx_last + 1 == f.ttp.tx_id) {
            // Every id the peer declared has arrived; it is still waiting for its own data to be
            // acknowledged. Replay on the timer, not at once, so the two never trade CLOSE and
            // CLOSE_NACK at wire speed.
            c->handshake_sent = now;
          } else {
            c->close_held = true;  // no replay until the declared data arrives (storm prevention)
            c->close_hold_id = f.ttp.tx_id;
          }
          c->set_peer_final(f.ttp.tx_id);  // the peer's next TxID: nothing at or after it
        }
        break;
      case fsm::RxAction::kPayloadNoLink:
        reply(peer, f.ttp.vc, wire::Opcode::kNackNolink, 0, f.ttp.tx_id, c ? c->epoch : echo);
        return;
      case fsm::RxAction::kPayloadAccept: {
        if (c->state != LinkState::kOpen && c->peer_final_known &&
            !wire::id_before(f.ttp.tx_id, c->peer_final_tx_id)) {
          reply(peer, f.ttp.vc, wire::Opcode::kNackNolink, 0, f.ttp.tx_id, c->epoch);  // past the closing id
          return;
        }
        if (!compat && (f.ttp.flags & wire::kFlagAckPiggyback) != 0) {
          wire::Extensions none;
          if (!c->on_ack(f.ttp.rx_id, none, f.ttp.congestion, now)) {
            drop(DropReason::kStaleId);  // acknowledges an id never sent: the frame is not trusted
            return;
          }
          maybe_start_close(c, now);
        }
        delivered.clear();
        c->on_payload(f, now, delivered, ep.stats_);
        for (auto& m : delivered) {
          Event ev = link_event(EventKind::kMessage, *c);
          ev.message = std::move(m);
          emit(std::move(ev));
        }
        if (c->state == LinkState::kCloseSent) release_close_hold(c);
        break;
      }
      case fsm::RxAction::kDiscardLost:
        drop(DropReason::kNoLink);
        return;
      case fsm::RxAction::kAckProcess:
        if (!c->on_ack(f.ttp.rx_id, f.ext, f.ttp.congestion, now)) {
          drop(DropReason::kStaleId);
          return;
        }
        maybe_start_close(c, now);
        break;
      case fsm::RxAction::kNackProcess:
        if (!c->on_nack(f.ttp.rx_id, now)) {
          drop(DropReason::kStaleId);
          return;
        }
        break;
      case fsm::RxAction::kNackFullProcess:
        (void)c->on_nack_full(f.ttp.rx_id, now);
        break;
      case fsm::RxAction::kNoLinkProcess:
        if (!c->id_in_flight_range(f.ttp.rx_id)) {
          drop(DropReason::kStaleId);
          return;
        }
        if (c->state == LinkState::kOpen && c->peer_sent_open && c->nolink_before_confirmation(f.ttp.rx_id)) {
          // We answered the peer's OPEN and started sending before it showed it had our
          // OPEN_ACK; in OPEN_SENT it must answer PAYLOAD with NACK_NOLINK. The OPEN_ACK was
          // lost, not the link: send it again (until confirmed) and resend the data later
          // (docs/wire-format.md, "NACK_NOLINK before confirmation").
          if (!c->peer_confirmed) c->open_ack_pending = true;
          c->note_nolink(f.ttp.rx_id, now);
          break;
        }
        if (c->state != LinkState::kOpen && c->all_acked()) {
          finish_closed(c);
        } else {
          fail(c, Error::kPeerNoLink,
               "the peer answered PAYLOAD " + std::to_string(f.ttp.rx_id) +
                   " with NACK_NOLINK: it has no link (it closed or restarted)");
        }
        return;
    }
    if (c) update(c, now);
  }

  void release_close_hold(Connection* c) {
    if (c->close_held && c->rx_last + 1 == c->close_hold_id) {
      c->close_held = false;
      c->close_pending = true;  // the peer's declared data all arrived: replay CLOSE now
    }
  }
};

Endpoint::Endpoint(const EndpointConfig& config) : config_(config) {
  if (config_.profile == Profile::kTtpoeCompat) {
    config_.max_frame_bytes = std::min<std::uint32_t>(config_.max_frame_bytes, wire::kCompatMaxFrameBytes);
  }
  config_.max_frame_bytes = std::min<std::uint32_t>(config_.max_frame_bytes, wire::kWeftMaxFrameBytes);
  config_.node_id &= kNodeIdMask;
  impl_ = std::make_unique<Impl>(*this, config_);
}

Endpoint::~Endpoint() = default;

Status Endpoint::open(NodeId peer, Vc vc, TimeNs now) {
  if (static_cast<int>(vc) >= kVcCount) return Status(Error::kInvalidArgument, "vc must be 0, 1 or 2");
  if (impl_->find(peer, vc)) {
    return Status(Error::kAlreadyExists, "a link to node " + std::to_string(peer) + " " +
                                             std::string(vc_name(vc)) + " already exists");
  }
  Connection* c = impl_->create(peer, vc);
  if (!c) {
    return Status(Error::kTooManyConnections,
                  "max_connections (" + std::to_string(config_.max_connections) + ") links are open");
  }
  c->state = LinkState::kOpenSent;
  c->open_tx_id = c->next_tx_id++;  // OPEN consumes an id; the first DATA is OPEN + 1
  c->snd_una = c->next_tx_id;
  c->first_data_tx_id = c->next_tx_id;
  c->open_pending = true;
  c->handshake_started = now;
  impl_->update(c, now);
  return Ok{};
}

SharedBytes SharedBytes::adopt(std::vector<std::uint8_t>&& v) {
  auto owned = std::make_shared<const std::vector<std::uint8_t>>(std::move(v));
  const std::span<const std::uint8_t> bytes(*owned);
  return SharedBytes{std::move(owned), bytes};
}

SharedBytes SharedBytes::copy_of(std::span<const std::uint8_t> b) {
  // One allocation holds the reference count and the bytes.
  std::shared_ptr<std::uint8_t[]> owned = std::make_shared_for_overwrite<std::uint8_t[]>(b.size());
  if (!b.empty()) std::memcpy(owned.get(), b.data(), b.size());
  const std::span<const std::uint8_t> bytes(owned.get(), b.size());
  return SharedBytes{std::move(owned), bytes};
}

Status Endpoint::send(NodeId peer, Vc vc, std::span<const std::uint8_t> message, TimeNs now) {
  // Checked before copying, so a refused send costs no copy.
  Connection* c = nullptr;
  if (Status s = impl_->check_send(peer, vc, message.size(), c); !s.ok()) return s;
  Status s = c->enqueue(SharedBytes::copy_of(message), config_.send_buffer_bytes);
  if (s.ok()) impl_->update(c, now);
  return s;
}

Status Endpoint::send_shared(NodeId peer, Vc vc, SharedBytes message, TimeNs now) {
  Connection* c = nullptr;
  if (Status s = impl_->check_send(peer, vc, message.bytes.size(), c); !s.ok()) return s;
  Status s = c->enqueue(std::move(message), config_.send_buffer_bytes);
  if (s.ok()) impl_->update(c, now);
  return s;
}

Status Endpoint::Impl::check_send(NodeId peer, Vc vc, std::size_t size, Connection*& c) {
  c = find(peer, vc);
  if (!c) {
    return Status(Error::kNoSuchConnection, "no link to node " + std::to_string(peer) + " " +
                                                std::string(vc_name(vc)) + "; call open() first");
  }
  if (c->close_requested || c->state == LinkState::kCloseSent || c->state == LinkState::kCloseRecd) {
    return Status(Error::kClosing, "the link is closing; no new messages are accepted");
  }
  if (compat && (size == 0 || size > max_payload_bytes(cfg))) {
    return Status(Error::kInvalidArgument,
                  "ttpoe-compat messages are 1.." + std::to_string(max_payload_bytes(cfg)) +
                      " B (one PAYLOAD each); got " + std::to_string(size) +
                      " B. The weft profile segments messages of any size.");
  }
  if (!c->send_buffer_has_room(size, cfg.send_buffer_bytes)) return c->send_buffer_full(cfg.send_buffer_bytes);
  return Ok{};
}

Status Endpoint::close(NodeId peer, Vc vc, TimeNs now) {
  Connection* c = impl_->find(peer, vc);
  if (!c) return Status(Error::kNoSuchConnection, "no link to node " + std::to_string(peer));
  if (c->close_requested || c->state == LinkState::kCloseSent || c->state == LinkState::kCloseRecd) {
    return Status(Error::kClosing, "the link is already closing");
  }
  c->close_requested = true;
  impl_->maybe_start_close(c, now);
  impl_->update(c, now);
  return Ok{};
}

void Endpoint::on_frame(std::span<const std::uint8_t> frame, TimeNs now, NodeId udp_peer) {
  impl_->on_frame(frame, now, udp_peer);
}

bool Endpoint::poll_transmit(std::span<std::uint8_t> buf, TimeNs now, Transmit& out) {
  return impl_->poll_transmit(buf, now, /*gather=*/false, out);
}

bool Endpoint::poll_transmit_gather(std::span<std::uint8_t> buf, TimeNs now, Transmit& out) {
  return impl_->poll_transmit(buf, now, /*gather=*/true, out);
}

TimeNs Endpoint::next_timer() const {
  auto& t = impl_->timers;
  while (!t.empty()) {
    const TimerEntry& top = t.top();
    Connection* c = impl_->lookup(top.slot, top.generation);
    if (c && c->armed == top.deadline) return top.deadline;
    t.pop();
  }
  return kNever;
}

void Endpoint::on_timer(TimeNs now) { impl_->on_timer(now); }

std::optional<Event> Endpoint::poll_event() {
  if (events_head_ >= events_.size()) return std::nullopt;
  Event ev = std::move(events_[events_head_++]);
  if (events_head_ == events_.size()) {
    events_.clear();
    events_head_ = 0;
  }
  if (ev.kind == EventKind::kMessage) {
    if (Connection* c = impl_->find(ev.peer, ev.vc)) {
      c->undelivered_bytes -= std::min<std::uint64_t>(c->undelivered_bytes, ev.message.size());
    }
  }
  return ev;
}

LinkState Endpoint::state(NodeId peer, Vc vc) const {
  Connection* c = impl_->find(peer, vc);
  return c ? c->state : LinkState::kClosed;
}

std::optional<LinkInfo> Endpoint::link_info(NodeId peer, Vc vc) const {
  Connection* c = impl_->find(peer, vc);
  if (!c) return std::nullopt;
  LinkInfo i;
  i.peer = c->peer;
  i.vc = c->vc;
  i.state = c->state;
  i.next_tx_id = c->next_tx_id;
  i.rx_last_id = c->rx_last;
  i.local_epoch = c->epoch;
  i.remote_epoch = c->peer_open_epoch;
  i.cwnd_bytes = c->window();
  i.bytes_in_flight = c->in_flight_bytes();
  i.send_queue_bytes = c->queued_bytes();
  i.srtt_ns = c->rtt.srtt();
  i.min_rtt_ns = c->rtt.min_rtt();
  i.rto_ns = c->rtt.rto();
  i.stats = Impl::final_stats(*c);
  return i;
}

std::size_t Endpoint::link_count() const { return impl_->index.size(); }

bool Endpoint::wants_to_transmit() const { return !impl_->control.empty() || !impl_->ready.empty(); }

}  // namespace weft::transport
