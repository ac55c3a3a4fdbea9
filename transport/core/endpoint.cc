#include "weft/transport/mix.h"
#include "weft/transport/endpoint.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include <sodium.h>

#include "crypto/handshake.h"
#include "crypto/protection.h"
#include "transport/core/connection.h"
#include "weft/crypto/credentials.h"
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
    case DropReason::kBadTag: return "bad-tag";
    case DropReason::kReplay: return "replay";
    case DropReason::kUnknownKey: return "unknown-key";
    case DropReason::kUnauthenticated: return "unauthenticated";
    case DropReason::kStaleOpen: return "stale-open";
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
  std::uint32_t keys = UINT32_MAX;  // secured: seal with this closed link's keys (a tombstone)
  bool pending = false;             // secured OPEN_ACK answering a PendingOpen
};

// Secured endpoints: the keys of a link that closed by sending the final CLOSE_ACK, kept until
// the retry budget has passed so a repeated CLOSE (that CLOSE_ACK was lost) can still be
// answered with an authenticated CLOSE_ACK. Wiped at expiry.
struct Tombstone {
  std::uint16_t epoch = 0;
  std::uint32_t keys = UINT32_MAX;
  TimeNs expiry = 0;
};

// Secured endpoints: a fresh, authenticated OPEN on a live link (the peer restarted, or someone
// replays or redirects a member's OPEN). It is answered with OPEN_ACK from this record, and the
// old link is replaced only when a frame sealed under the new keys arrives (key confirmation),
// which only the OPEN's real sender can produce; unconfirmed, the record expires.
struct PendingOpen {
  std::uint32_t keys = UINT32_MAX;  // installed keys of the new link (slab record)
  std::uint16_t epoch = 0;
  std::uint32_t peer_open_tx_id = 0;
  std::uint32_t first_data_tx_id = 0;  // announced in our OPEN_ACK
  std::uint64_t issued = 0;            // the OPEN's stamp
  std::string who;                     // Handshake::peer_key
  TimeNs expiry = 0;
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
  MessageSink* sink = nullptr;                        // set_message_sink
  // Security (weft profile with credentials): handshake, key records, decryption scratch.
  const bool secure;
  std::unique_ptr<crypto::Handshake> hs;
  std::unique_ptr<crypto::Protection> prot;
  std::vector<std::uint8_t> plain;
  TimeNs tx_now = 0;  // `now` of the entry point in progress (sealing, tombstones need it)
  std::unordered_map<std::uint64_t, Tombstone> tombstones;  // by link_key
  std::unordered_map<std::uint64_t, PendingOpen> pending_opens;  // by link_key
  // (expiry, link key) of every tombstone and pending OPEN, oldest first (kPendingBit marks the latter).
  std::deque<std::pair<TimeNs, std::uint64_t>> kept_keys_expiry;

  // Whether send() of `size` bytes on (peer, vc) would be accepted; sets `c` to the link.
  Status check_send(NodeId peer, Vc vc, std::size_t size, Connection*& c);

  Impl(Endpoint& e, const EndpointConfig& c)
      : ep(e), cfg(c), compat(c.profile == Profile::kTtpoeCompat),
        rng_state(mix64(c.rng_seed ^ (std::uint64_t{c.node_id} << 32))),
        secure(!compat && c.credentials != nullptr) {
    if (!secure) return;
    if (std::string why = c.credentials->problem(); !why.empty()) {
      throw std::invalid_argument("EndpointConfig::credentials cannot authenticate a handshake: " + why);
    }
    hs = std::make_unique<crypto::Handshake>(c.credentials, c.rng_seed, c.node_id);
    crypto::ProtectionLimits limits;
    limits.rotate_packets = c.rotate_packets;
    limits.rotate_interval_ns = c.rotate_interval_us * 1000;
    limits.usage_limit_packets = c.usage_limit_packets;
    prot = std::make_unique<crypto::Protection>(c.credentials->aes256gcm, c.credentials->chacha20poly1305,
                                                c.aead_cache_entries, limits);
    prot->set_encapsulation(c.encapsulation);
    plain.resize(wire::kWeftMaxFrameBytes);
  }

  crypto::LinkKeys& keys(const Connection& c) const { return prot->link(c.keys); }
  // EndpointStats' view of the guarded key memory, after a record was taken or given back.
  void count_key_records() {
    ep.stats_.key_records = prot->slab().in_use();
    ep.stats_.key_slab_bytes = prot->guarded_bytes() + hs->guarded_bytes();
  }
  bool keyed(const Connection* c) const { return c != nullptr && c->keys != UINT32_MAX && keys(*c).ready; }
  std::uint64_t handshake_clock(TimeNs now) const {
    const TimeNs t = now + cfg.wall_clock_offset_ns;
    return t > 0 ? static_cast<std::uint64_t>(t) : 0;
  }

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
    c->sink = sink;
    c->slot = slot;
    c->generation = ++generations[slot];
    std::uint32_t isn = cfg.fixed_initial_tx_id != 0 ? cfg.fixed_initial_tx_id
                                                     : static_cast<std::uint32_t>(random());
    c->next_tx_id = isn;
    c->snd_una = isn;
    c->first_data_tx_id = isn;
    c->entropy_seed = random();
    if (secure) {
      bury(link_key(peer, vc));  // a new link: the old one's close can no longer be answered
      forget_pending(link_key(peer, vc));
      c->keys = prot->acquire();
      count_key_records();
      const crypto::PublicKey& eph = hs->ephemeral_public();
      std::memcpy(keys(*c).my_ephemeral, eph.data(), eph.size());
    }
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
    if (c->keys != UINT32_MAX) {
      prot->release(c->keys);  // wiped
      count_key_records();
    }
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

  void finish_closed(Connection* c, bool sent_final_close_ack = false) {
    if (sent_final_close_ack && keyed(c)) {
      const std::uint64_t key = link_key(c->peer, c->vc);
      bury(key);
      const TimeNs expiry = tx_now + us_to_ns(cfg.retry_budget_us);
      tombstones[key] = Tombstone{c->epoch, c->keys, expiry};
      kept_keys_expiry.emplace_back(expiry, key);
      c->keys = UINT32_MAX;  // now the tombstone's
    }
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

  // Wipes the tombstone of `key`, if any.
  void bury(std::uint64_t key) {
    auto it = tombstones.find(key);
    if (it == tombstones.end()) return;
    prot->release(it->second.keys);
    tombstones.erase(it);
    count_key_records();
  }
  // Wipes a pending OPEN's keys and forgets it.
  void forget_pending(std::uint64_t key) {
    auto it = pending_opens.find(key);
    if (it == pending_opens.end()) return;
    prot->release(it->second.keys);
    pending_opens.erase(it);
    count_key_records();
  }
  // Tombstones and pending OPENs share one expiry queue; a pending OPEN's entry has the top bit
  // of its key set.
  static constexpr std::uint64_t kPendingBit = 1ull << 63;
  bool expiry_current(TimeNs expiry, std::uint64_t key) const {
    if (key & kPendingBit) {
      auto it = pending_opens.find(key & ~kPendingBit);
      return it != pending_opens.end() && it->second.expiry == expiry;
    }
    auto it = tombstones.find(key);
    return it != tombstones.end() && it->second.expiry == expiry;
  }
  void expire_kept_keys(TimeNs now) {
    while (!kept_keys_expiry.empty() && kept_keys_expiry.front().first <= now) {
      auto [expiry, key] = kept_keys_expiry.front();
      kept_keys_expiry.pop_front();
      if (!expiry_current(expiry, key)) continue;
      if (key & kPendingBit) forget_pending(key & ~kPendingBit);
      else bury(key);
    }
  }
  TimeNs next_kept_keys_expiry() const {
    for (const auto& [expiry, key] : kept_keys_expiry) {
      if (expiry_current(expiry, key)) return expiry;
    }
    return kNever;
  }

  void reply(NodeId peer, std::uint8_t vc, wire::Opcode op, std::uint32_t tx, std::uint32_t rx,
             std::uint16_t epoch, std::uint32_t keys_index = UINT32_MAX, bool pending = false) {
    if (control.size() >= cfg.control_queue_limit) {
      drop(DropReason::kControlQueueFull);
      return;
    }
    control.push_back(ControlReply{peer, vc, op, tx, rx, epoch, keys_index, pending});
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

  // Encodes a frame whole into `buf`. A secured endpoint signs OPEN / OPEN_ACK (their Hello) and
  // seals every other frame with the keys of link `c`; a frame that cannot be sealed (no link key
  // yet) is not sent (returns 0).
  std::size_t write(std::span<std::uint8_t> buf, NodeId peer, std::uint8_t vc,
                    const wire::TtpHeader& h, const wire::Extensions& ext,
                    std::span<const std::uint8_t> payload, Transmit& out, Connection* c = nullptr) {
    if (secure && h.opcode != wire::Opcode::kOpen && h.opcode != wire::Opcode::kOpenAck) {
      if (!keyed(c)) return 0;
      return write_protected(buf, peer, vc, h, ext, payload, out, keys(*c), &c->stats);
    }
    const std::size_t n = wire::encode(cfg.encapsulation, cfg.node_id, peer, h, ext, payload, buf);
    if (n > 0 && ext.has_hello) {
      hs->authenticate(buf.first(n), cfg.encapsulation, wire::header_bytes(cfg.encapsulation, ext));
    }
    return written(n, peer, vc, h, {}, nullptr, out);
  }

  std::size_t write_protected(std::span<std::uint8_t> buf, NodeId peer, std::uint8_t vc, const wire::TtpHeader& h,
                              const wire::Extensions& ext, std::span<const std::uint8_t> payload, Transmit& out,
                              crypto::LinkKeys& k, LinkStats* stats) {
    wire::SecurityHeader sec;
    bool rotated = false;
    if (!prot->next_header(k, tx_now, sec, rotated)) return 0;
    if (rotated && stats != nullptr) ++stats->key_rotations_sent;
    wire::ProtectedLayout layout;
    const std::size_t n =
        wire::encode_protected(cfg.encapsulation, cfg.node_id, peer, h, ext, sec, payload.size(), buf, layout);
    if (n == 0) return 0;
    prot->seal(k, sec, buf.first(n), layout, payload);
    return written(n, peer, vc, h, {}, nullptr, out);
  }

  // The Hello of our OPEN (answering == false) or of the OPEN_ACK answering the peer's OPEN.
  void hello(const Connection& c, bool answering, wire::Extensions& ext) const { hello(keys(c), answering, ext); }
  void hello(const crypto::LinkKeys& k, bool answering, wire::Extensions& ext) const {
    crypto::PublicKey mine;
    std::memcpy(mine.data(), k.my_ephemeral, mine.size());
    wire::Hello peer_open;
    peer_open.issued = k.peer_open_issued;
    std::memcpy(peer_open.ephemeral.data(), k.peer_ephemeral, 32);
    ext.has_hello = true;
    hs->fill(ext.hello, k.my_issued, mine, answering ? &peer_open : nullptr);
  }

  // A PAYLOAD by reference: headers in `buf`, the payload named in `out` (poll_transmit_gather).
  std::size_t write_gather(std::span<std::uint8_t> buf, NodeId peer, std::uint8_t vc, const wire::TtpHeader& h,
                           std::span<const std::uint8_t> payload, const std::shared_ptr<const void>& owner,
                           Transmit& out) {
    const std::size_t n = wire::encode_headers(cfg.encapsulation, cfg.node_id, peer, h, {}, payload.size(), buf);
    return written(n, peer, vc, h, payload, &owner, out);
  }

  wire::Features features(const Connection& c) const { return features(c.epoch); }
  wire::Features features(std::uint16_t epoch) const {
    wire::Features f;
    f.epoch = epoch;
    f.max_frame_bytes = static_cast<std::uint16_t>(std::min<std::uint32_t>(cfg.max_frame_bytes, 0xFFFF));
    f.recv_window_bytes = cfg.recv_buffer_bytes;
    f.feature_bits = wire::kFeatureSack | wire::kFeatureEcn | wire::kFeatureEntropy | wire::kFeatureMessages;
    return f;
  }

  // Produces at most one frame for link `c`.
  // `gather`: a large PAYLOAD goes by reference (poll_transmit_gather).
  bool produce(Connection* c, std::span<std::uint8_t> buf, TimeNs now, bool gather, Transmit& out) {
    if (secure && keyed(c) && keys(*c).tx_counter == UINT64_MAX) {
      fail(c, Error::kKeyExhausted,
           "the link's 64-bit transmission counter is exhausted; it never wraps (a nonce would repeat): "
           "open the link again");
      return false;
    }
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
      if (secure) hello(*c, /*answering=*/false, ext);
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
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
      if (secure) hello(*c, /*answering=*/true, ext);
      bool ok = write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
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
      bool ok = write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
      if (c->all_acked()) {
        finish_closed(c, /*sent_final_close_ack=*/true);
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
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
    }
    if (c->nack_full_pending) {
      c->nack_full_pending = false;
      ++c->stats.nack_full_sent;
      h.opcode = wire::Opcode::kNackFull;
      h.rx_id = c->nack_full_id;
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
    }
    if (c->nack_pending) {
      c->nack_pending = false;
      h.opcode = wire::Opcode::kNack;
      h.rx_id = c->nack_id();
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
    }
    if (c->ack_due(now) || (c->close_pending && c->ack_owed())) {  // a CLOSE never overtakes an ACK
      c->build_ack(h, ext);
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
    }
    if (c->close_pending) {
      c->close_pending = false;
      c->handshake_sent = now;
      h.opcode = wire::Opcode::kClose;
      h.tx_id = c->close_tx_id;
      h.rx_id = c->rx_last;
      return write(buf, c->peer, vc, h, ext, {}, out, c) > 0;
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
      if (gather && !secure && seg.len >= kGatherMinPayloadBytes) {  // sealing copies anyway
        return write_gather(buf, c->peer, vc, h, {seg.data, seg.len}, *seg.owner, out) > 0;
      }
      return write(buf, c->peer, vc, h, ext, {seg.data, seg.len}, out, c) > 0;
    }
    return false;
  }

  bool poll_transmit(std::span<std::uint8_t> buf, TimeNs now, bool gather, Transmit& out) {
    tx_now = now;
    if (!kept_keys_expiry.empty()) expire_kept_keys(now);
    while (!control.empty()) {
      ControlReply r = control.front();
      control.pop_front();
      wire::TtpHeader h;
      h.opcode = r.opcode;
      h.vc = r.vc;
      h.tx_id = r.tx_id;
      h.rx_id = r.rx_id;
      h.epoch = compat ? 0 : r.epoch;
      if (secure && r.pending) {
        // OPEN_ACK answering a fresh OPEN on a live link (PendingOpen): signed, not sealed.
        auto it = pending_opens.find(link_key(r.peer, static_cast<Vc>(r.vc)));
        if (it == pending_opens.end() || it->second.keys != r.keys) continue;  // confirmed or expired
        const PendingOpen& po = it->second;
        h.tx_id = po.first_data_tx_id;
        h.rx_id = po.peer_open_tx_id;
        h.epoch = po.epoch;
        wire::Extensions ext;
        ext.has_features = true;
        ext.features = features(po.epoch);
        hello(prot->link(po.keys), /*answering=*/true, ext);
        return write(buf, r.peer, r.vc, h, ext, {}, out) > 0;
      }
      if (secure) {
        // A stateless reply is sealed with the link's keys when the link exists and has them
        // (or with a closed link's tombstone keys); otherwise nothing could authenticate it, and
        // the peer would (rightly) drop it.
        Connection* c = find(r.peer, static_cast<Vc>(r.vc));
        crypto::LinkKeys* k = keyed(c) ? &keys(*c) : nullptr;
        if (!k && r.keys != UINT32_MAX) {
          auto it = tombstones.find(link_key(r.peer, static_cast<Vc>(r.vc)));
          if (it != tombstones.end() && it->second.keys == r.keys) k = &prot->link(r.keys);
        }
        if (!k || k->tx_counter == UINT64_MAX) {
          ++ep.stats_.replies_suppressed;
          continue;
        }
        return write_protected(buf, r.peer, r.vc, h, {}, {}, out, *k, c ? &c->stats : nullptr) > 0;
      }
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
    tx_now = now;
    if (!kept_keys_expiry.empty()) expire_kept_keys(now);
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
                 " us (retry_budget_us); is the peer up and reachable" +
                 (secure ? ", and does it accept our keys (same cluster key, or our identity on its allowlist)?"
                         : ", and does it run without keys too?"));
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
    if (f.ttp.epoch == c.epoch || (c.peer_sent_open && f.ttp.epoch == c.peer_open_epoch)) return false;
    // A peer that opened at the same time as we did (passing ships) numbered its OPEN just
    // before the first DATA id its OPEN_ACK announced; a restarted peer draws a new random id.
    return !(f.ttp.opcode == wire::Opcode::kOpen && !c.peer_sent_open && c.opened_by_open_ack &&
             f.ttp.tx_id + 1 == c.peer_first_data_tx_id);
  }

  // OPEN_SENT -> OPEN without our own OPEN_ACK (see the caller in on_frame).
  void establish_passing_ships(Connection* c, TimeNs now) {
    c->state = LinkState::kOpen;
    c->open_pending = false;
    ++ep.stats_.links_opened;
    emit(link_event(EventKind::kOpened, *c));
    maybe_start_close(c, now);
  }

  void accept_open(Connection* c, const wire::Frame& f) {
    c->peer_sent_open = true;
    c->peer_open_tx_id = f.ttp.tx_id;
    c->peer_open_epoch = f.ttp.epoch;
    c->rx_last = f.ttp.tx_id;  // the OPEN consumed its id; the first DATA is OPEN + 1
    c->open_ack_pending = true;
  }

  // ---- security (docs/security.md) ----------------------------------------------------------

  // What the secure receive stage decided about an OPEN / OPEN_ACK.
  struct SecureOpen {
    bool have_secrets = false;  // tx/rx hold the link's generation-0 secrets
    std::uint8_t tx[crypto::kHashBytes] = {};
    std::uint8_t rx[crypto::kHashBytes] = {};
    crypto::Suite suite = crypto::Suite::kAes256Gcm;
    std::uint16_t epoch = 0;   // the link's epoch (passing ships: the winning OPEN's)
    bool late_partner = false; // the peer's own OPEN of a passing-ships pair, arriving after OPEN
    std::string who;           // OPEN: the peer's key for replay records (Handshake::peer_key)
    std::uint64_t issued = 0;  // OPEN: its stamp, recorded once the OPEN made or joined a link
    bool staged = false;       // a PAYLOAD decrypted in place into its link's message (stage())
    ~SecureOpen() {
      sodium_memzero(tx, sizeof tx);
      sodium_memzero(rx, sizeof rx);
    }
  };

  // True for a frame that opened; otherwise drops it, counted by reason (on link `c` when given).
  bool opened(crypto::Protection::Verdict v, Connection* c) {
    switch (v) {
      case crypto::Protection::Verdict::kOk: return true;
      case crypto::Protection::Verdict::kReplay: drop_on_link(c, DropReason::kReplay); return false;
      case crypto::Protection::Verdict::kUnknownKey: drop_on_link(c, DropReason::kUnknownKey); return false;
      case crypto::Protection::Verdict::kBadTag: drop_on_link(c, DropReason::kBadTag); return false;
    }
    return false;
  }

  void drop_on_link(Connection* c, DropReason r) {
    drop(r);
    if (!c) return;
    switch (r) {
      case DropReason::kBadTag: ++c->stats.drops_bad_tag; break;
      case DropReason::kReplay: ++c->stats.drops_replay; break;
      case DropReason::kUnknownKey: ++c->stats.drops_unknown_key; break;
      case DropReason::kMalformed: ++c->stats.drops_malformed; break;
      default: break;
    }
  }

  // Runs before any state changes. Protected frames: opened in place of `f` (its payload then
  // points into `plain`). OPEN / OPEN_ACK: authenticated, checked for replay, and their link
  // secrets derived into `so`. Returns false when the frame was dropped (and counted).
  bool secure_receive(std::span<const std::uint8_t> bytes, wire::Frame& f, NodeId peer, Connection* c,
                      TimeNs now, SecureOpen& so) {
    const wire::Opcode op = f.ttp.opcode;
    if (f.is_protected) {
      if (op == wire::Opcode::kOpen || op == wire::Opcode::kOpenAck) {
        drop_on_link(c, DropReason::kMalformed);  // handshakes are signed, never sealed
        return false;
      }
      if (!keyed(c)) {
        if (!c && answer_from_tombstone(bytes, f, peer)) return false;
        drop_on_link(c, DropReason::kUnknownKey);
        return false;
      }
      // The next in-order PAYLOAD of an open link opens straight into its message.
      const bool in_place = op == wire::Opcode::kPayload && f.ttp.extension == wire::kExtNone &&
                            c->state == LinkState::kOpen && c->can_stage(f.ttp.tx_id, f.sealed.size());
      std::uint8_t* out = in_place ? c->stage(f.sealed.size()) : plain.data();
      bool rotated = false;
      const crypto::Protection::Verdict v = prot->open(keys(*c), bytes, f, out, rotated);
      if (v != crypto::Protection::Verdict::kOk && in_place) c->unstage();
      if (!opened(v, c)) return false;
      if (rotated) ++c->stats.key_rotations_received;
      so.staged = in_place;
      const wire::DecodeError e = wire::decode_body({out, f.sealed.size()}, f);
      if (e != wire::DecodeError::kNone) {
        ++ep.stats_.decode_errors[static_cast<int>(e)];
        drop_on_link(c, DropReason::kMalformed);
        return false;
      }
      return true;
    }
    if ((op != wire::Opcode::kOpen && op != wire::Opcode::kOpenAck) || !f.ext.has_hello || !f.ext.has_features) {
      drop(DropReason::kUnauthenticated);  // after the handshake, nothing travels in the clear
      return false;
    }
    const wire::Hello& h = f.ext.hello;
    const std::size_t ext_end = static_cast<std::size_t>(f.payload.data() - bytes.data());
    if (hs->verify(bytes, cfg.encapsulation, ext_end, h) != crypto::Handshake::Verdict::kOk) {
      drop(DropReason::kUnauthenticated);
      return false;
    }
    crypto::PublicKey mine = hs->ephemeral_public();
    if (h.ephemeral == mine) {
      drop(DropReason::kUnauthenticated);  // our own OPEN / OPEN_ACK reflected back at us
      return false;
    }
    if (c && c->keys != UINT32_MAX && (h.auth & wire::kAuthSignature) != 0) {
      // A link's peer keeps its identity: another member's Hello sent from this peer's address
      // (redirected or spoofed) is not this peer.
      const crypto::LinkKeys& k = keys(*c);
      static constexpr std::uint8_t kZero[32] = {};
      if (std::memcmp(k.peer_identity, kZero, 32) != 0 && std::memcmp(k.peer_identity, h.identity.data(), 32) != 0) {
        drop(DropReason::kUnauthenticated);
        return false;
      }
    }
    std::uint64_t issued = 0;  // stamp of the OPEN that creates the link
    if (op == wire::Opcode::kOpen) {
      so.who = crypto::Handshake::peer_key(h, peer);
      so.issued = h.issued;
      const auto fresh = hs->check_open(so.who, f.ttp.vc, h.issued, handshake_clock(now), cfg.handshake_window_us * 1000);
      const bool same_peer_key = c && c->keys != UINT32_MAX &&
                                 std::memcmp(keys(*c).peer_ephemeral, h.ephemeral.data(), 32) == 0;
      if (fresh == crypto::Handshake::Freshness::kStale) {
        drop(DropReason::kStaleOpen);  // a replayed OPEN: no state is touched
        return false;
      }
      if (fresh == crypto::Handshake::Freshness::kRepeat) {
        // The OPEN we already answered, sent again (our OPEN_ACK was lost): answer it again.
        if (!c || !same_peer_key || keys(*c).peer_open_issued != h.issued) {
          drop(DropReason::kStaleOpen);
          return false;
        }
        so.epoch = c->epoch;
        return true;
      }
      if (c && c->state != LinkState::kOpenSent && c->state != LinkState::kClosed) {
        if (same_peer_key && h.issued <= keys(*c).peer_issued) {
          // The peer's own OPEN of a passing-ships pair, arriving after its OPEN_ACK (stamped the
          // same) established the link: answer it, change nothing.
          so.late_partner = true;
          so.epoch = c->epoch;
          hs->record_open(so.who, f.ttp.vc, h.issued);
          return true;
        }
        // A fresh OPEN on a live link: the peer restarted, or an OPEN was replayed or redirected.
        // Answer it, but replace the link only when the new keys are used (confirm_pending).
        pend_open(f, peer, h, so.who, now);
        return false;
      }
      so.epoch = f.ttp.epoch;
      issued = h.issued;
      if (c && c->state == LinkState::kOpenSent && c->keys != UINT32_MAX) {
        // Passing ships: the OPEN from the side with the lower ephemeral key defines the link.
        if (std::memcmp(mine.data(), h.ephemeral.data(), 32) < 0) {
          so.epoch = c->epoch;
          issued = keys(*c).my_issued;
        }
      }
    } else {  // OPEN_ACK: must answer our OPEN on this link
      if (!c || c->keys == UINT32_MAX || std::memcmp(keys(*c).my_ephemeral, h.echo_ephemeral.data(), 32) != 0 ||
          keys(*c).my_issued != h.echo_issued) {
        drop(DropReason::kStaleOpen);
        return false;
      }
      if (keys(*c).ready) return true;  // passing ships: keys already derived from the OPENs
      so.epoch = c->epoch;
      issued = keys(*c).my_issued;
    }
    so.suite = *hs->negotiate(h.suites);  // verify() checked there is one
    if (!hs->link_secrets(mine, h.ephemeral, h.identity, so.suite, f.ttp.vc, so.epoch, issued,
                          so.tx, so.rx)) {
      drop(DropReason::kUnauthenticated);  // a degenerate (low-order) ephemeral key
      return false;
    }
    ep.stats_.key_exchanges = hs->exchanges();
    so.have_secrets = true;
    return true;
  }

  // A fresh OPEN on a live link (see PendingOpen): derives the new link's keys into a record of
  // their own and answers with OPEN_ACK; the live link is untouched. A repeat of the same OPEN is
  // answered again from the record.
  void pend_open(const wire::Frame& f, NodeId peer, const wire::Hello& h, const std::string& who, TimeNs now) {
    const std::uint64_t key = link_key(peer, static_cast<Vc>(f.ttp.vc));
    auto it = pending_opens.find(key);
    if (it != pending_opens.end() && it->second.issued == h.issued &&
        std::memcmp(prot->link(it->second.keys).peer_ephemeral, h.ephemeral.data(), 32) == 0) {
      reply(peer, f.ttp.vc, wire::Opcode::kOpenAck, 0, 0, it->second.epoch, it->second.keys, /*pending=*/true);
      return;
    }
    forget_pending(key);
    const crypto::Suite suite = *hs->negotiate(h.suites);  // verify() checked there is one
    std::uint8_t tx[crypto::kHashBytes], rx[crypto::kHashBytes];
    const crypto::PublicKey& mine = hs->ephemeral_public();
    const bool ok = hs->link_secrets(mine, h.ephemeral, h.identity, suite, f.ttp.vc, f.ttp.epoch, h.issued, tx, rx);
    ep.stats_.key_exchanges = hs->exchanges();
    if (!ok) {
      drop(DropReason::kUnauthenticated);  // a degenerate (low-order) ephemeral key
      return;
    }
    PendingOpen po;
    po.keys = prot->acquire();
    crypto::LinkKeys& k = prot->link(po.keys);
    std::memcpy(k.my_ephemeral, mine.data(), 32);
    std::memcpy(k.peer_ephemeral, h.ephemeral.data(), 32);
    std::memcpy(k.peer_identity, h.identity.data(), 32);
    k.peer_issued = k.peer_open_issued = h.issued;
    k.my_issued = hs->stamp(now, cfg.wall_clock_offset_ns);
    prot->install(k, suite, tx, rx, now, cfg.initial_tx_counter);
    sodium_memzero(tx, sizeof tx);
    sodium_memzero(rx, sizeof rx);
    po.epoch = f.ttp.epoch;
    po.peer_open_tx_id = f.ttp.tx_id;
    po.first_data_tx_id = cfg.fixed_initial_tx_id != 0 ? cfg.fixed_initial_tx_id : static_cast<std::uint32_t>(random());
    po.issued = h.issued;
    po.who = who;
    po.expiry = now + us_to_ns(cfg.retry_budget_us);
    kept_keys_expiry.emplace_back(po.expiry, key | kPendingBit);
    reply(peer, f.ttp.vc, wire::Opcode::kOpenAck, 0, 0, po.epoch, po.keys, /*pending=*/true);
    pending_opens[key] = std::move(po);
    count_key_records();
  }

  // A sealed frame under a pending OPEN's epoch: if it opens with the pending keys, the OPEN's
  // sender holds them, so it is the peer, restarted: the old link fails (kPeerRestarted) and the
  // new one opens. Returns 1 when it did (`f` is opened, its body decoded), -1 when the frame was
  // dropped, 0 when there is no such pending OPEN.
  int confirm_pending(std::span<const std::uint8_t> bytes, wire::Frame& f, NodeId peer, Connection* old, TimeNs now) {
    const Vc vc = static_cast<Vc>(f.ttp.vc);
    auto it = pending_opens.find(link_key(peer, vc));
    if (it == pending_opens.end() || it->second.epoch != f.ttp.epoch || (old && old->epoch == f.ttp.epoch)) return 0;
    bool rotated = false;
    if (!opened(prot->open(prot->link(it->second.keys), bytes, f, plain.data(), rotated), nullptr)) return -1;
    const PendingOpen po = std::move(it->second);
    pending_opens.erase(it);  // its keys move to the new link
    if (old) {
      fail(old, Error::kPeerRestarted,
           "the peer opened the link again with a new epoch and keys, and sent under them: it restarted");
    }
    Connection* c = create(peer, vc);
    if (!c) {
      prot->release(po.keys);
      reply(peer, f.ttp.vc, wire::Opcode::kOpenNack, 0, po.peer_open_tx_id, po.epoch);
      return -1;
    }
    prot->release(c->keys);
    c->keys = po.keys;
    c->state = LinkState::kOpen;
    c->epoch = po.epoch;
    c->peer_sent_open = true;
    c->peer_open_tx_id = po.peer_open_tx_id;
    c->peer_open_epoch = po.epoch;
    c->rx_last = po.peer_open_tx_id;
    c->next_tx_id = c->snd_una = c->first_data_tx_id = po.first_data_tx_id;
    c->open_ack_sent = now;
    if (rotated) ++c->stats.key_rotations_received;
    ++ep.stats_.links_opened;
    emit(link_event(EventKind::kOpened, *c));
    hs->record_open(po.who, f.ttp.vc, po.issued);
    count_key_records();
    const wire::DecodeError e = wire::decode_body({plain.data(), f.sealed.size()}, f);
    if (e != wire::DecodeError::kNone) {
      ++ep.stats_.decode_errors[static_cast<int>(e)];
      drop_on_link(c, DropReason::kMalformed);
      return -1;
    }
    return 1;
  }

  // A sealed CLOSE for a link that closed by our final CLOSE_ACK: that CLOSE_ACK was lost. Opens
  // it with the tombstone's keys and answers with a sealed CLOSE_ACK. True when handled.
  bool answer_from_tombstone(std::span<const std::uint8_t> bytes, wire::Frame& f, NodeId peer) {
    if (tombstones.empty()) return false;
    expire_kept_keys(tx_now);
    auto it = tombstones.find(link_key(peer, static_cast<Vc>(f.ttp.vc)));
    if (it == tombstones.end() || it->second.epoch != f.ttp.epoch || f.ttp.opcode != wire::Opcode::kClose) {
      return false;
    }
    bool rotated = false;
    if (!opened(prot->open(prot->link(it->second.keys), bytes, f, plain.data(), rotated), nullptr)) return true;
    reply(peer, f.ttp.vc, wire::Opcode::kCloseAck, 0, f.ttp.tx_id, it->second.epoch, it->second.keys);
    return true;
  }

  // Records the peer's Hello on link `c` and installs the secrets secure_receive derived.
  void install_keys(Connection* c, const wire::Frame& f, const SecureOpen& so, TimeNs now) {
    crypto::LinkKeys& k = keys(*c);
    const wire::Hello& h = f.ext.hello;
    std::memcpy(k.peer_ephemeral, h.ephemeral.data(), 32);
    std::memcpy(k.peer_identity, h.identity.data(), 32);
    k.peer_issued = std::max(k.peer_issued, h.issued);
    if (f.ttp.opcode == wire::Opcode::kOpen) {
      k.peer_open_issued = h.issued;
      if (k.my_issued == 0) k.my_issued = hs->stamp(now, cfg.wall_clock_offset_ns);  // our OPEN_ACK's
      if (!so.who.empty()) hs->record_open(so.who, f.ttp.vc, so.issued);  // the OPEN made a link
    }
    if (so.have_secrets && !k.ready) {
      prot->install(k, so.suite, so.tx, so.rx, now, cfg.initial_tx_counter);
    }
  }

  void on_frame(std::span<const std::uint8_t> bytes, TimeNs now, NodeId udp_peer) {
    tx_now = now;
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
    bool opened = false;  // a restarted peer's first frame confirmed its pending OPEN
    if (secure && f.is_protected && !pending_opens.empty()) {
      const int r = confirm_pending(bytes, f, peer, c, now);
      if (r < 0) return;
      if (r > 0) {
        c = find(peer, vc);
        opened = true;
      }
    }
    if (c && !compat && op != wire::Opcode::kOpen && f.ttp.epoch != c->epoch) {
      drop(DropReason::kStaleEpoch);
      ++c->stats.drops_stale_epoch;
      return;
    }
    SecureOpen so;
    if (secure && !opened && !secure_receive(bytes, f, peer, c, now, so)) return;
    if (!secure && !compat) {
      if (f.is_protected) {  // sealed by a peer that has keys; this endpoint has none
        drop(DropReason::kUnknownKey);
        return;
      }
      if (op == wire::Opcode::kOpen && f.ext.has_hello) {  // the peer requires encryption
        drop(DropReason::kProfileMismatch);
        return;
      }
    }
    // (Secured endpoints replace a restarted peer's link in confirm_pending, not here.)
    const bool restarted = c != nullptr && !secure && peer_restarted(*c, f);
    if (c && op == wire::Opcode::kOpen && c->state != LinkState::kOpenSent && restarted) {
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
    LinkState state = c ? c->state : LinkState::kClosed;
    const std::uint16_t echo = f.ttp.epoch;
    if (c && state == LinkState::kOpen &&
        (op == wire::Opcode::kPayload || op == wire::Opcode::kAck || op == wire::Opcode::kNack ||
         op == wire::Opcode::kNackFull || op == wire::Opcode::kClose)) {
      if (!c->peer_confirmed) c->confirm_peer(now);  // the peer is past OPEN_SENT
    }
    if (c && !compat && state == LinkState::kOpenSent && c->peer_sent_open &&
        (op == wire::Opcode::kPayload || op == wire::Opcode::kAck || op == wire::Opcode::kNack ||
         op == wire::Opcode::kNackFull)) {
      // Passing ships in which our own OPEN (or the OPEN_ACK answering it) was lost: the peer took
      // the OPEN_ACK we answered its OPEN with, so the link is open on its side, and a frame of
      // this link (its epoch; authenticated when secure) proves it. Waiting for our own OPEN_ACK
      // would answer this frame with NACK_NOLINK and fail the peer's link.
      establish_passing_ships(c, now);
      state = c->state;
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
        if (secure) install_keys(c, f, so, now);
        break;
      }
      case fsm::RxAction::kOpenAnswer:
        if (c->state == LinkState::kOpenSent) {  // passing ships: answer, stay until OPEN_ACK
          if (secure) {
            c->epoch = so.epoch;  // both sides pick the same OPEN (docs/security.md)
          } else if (!compat && peer < cfg.node_id) {
            c->epoch = f.ttp.epoch;
          }
          accept_open(c, f);
          if (secure) install_keys(c, f, so, now);
        } else {
          c->open_ack_pending = true;  // duplicate OPEN (our OPEN_ACK was lost): answer again
          if (!secure && !compat && !c->peer_sent_open) {
            // The peer's own OPEN of a passing-ships pair, arriving after its OPEN_ACK opened the
            // link here (peer_restarted() told it from a restart): answer it, echoing its id.
            c->peer_sent_open = true;
            c->peer_open_tx_id = f.ttp.tx_id;
            c->peer_open_epoch = f.ttp.epoch;
          }
          if (secure && so.late_partner) {
            keys(*c).peer_open_issued = f.ext.hello.issued;  // answer that OPEN, echoing it
            c->peer_open_tx_id = f.ttp.tx_id;
          }
        }
        break;
      case fsm::RxAction::kOpenAckEstablish:
        if (f.ttp.rx_id != c->open_tx_id) {
          drop(DropReason::kStaleId);
          return;
        }
        if (secure) {
          if (!keys(*c).ready) install_keys(c, f, so, now);
          keys(*c).peer_issued = std::max(keys(*c).peer_issued, f.ext.hello.issued);
        }
        c->rx_last = f.ttp.tx_id - 1;  // OPEN_ACK's TxID is the peer's first DATA id
        c->opened_by_open_ack = true;
        c->peer_first_data_tx_id = f.ttp.tx_id;
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
            if (so.staged) c->unstage();
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
  if (impl_->secure) impl_->keys(*c).my_issued = impl_->hs->stamp(now, config_.wall_clock_offset_ns);
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
  const TimeNs tomb = impl_->kept_keys_expiry.empty() ? kNever : impl_->next_kept_keys_expiry();
  while (!t.empty()) {
    const TimerEntry& top = t.top();
    Connection* c = impl_->lookup(top.slot, top.generation);
    if (c && c->armed == top.deadline) return std::min(top.deadline, tomb);
    t.pop();
  }
  return tomb;
}

void Endpoint::on_timer(TimeNs now) { impl_->on_timer(now); }

void Endpoint::set_message_sink(MessageSink* sink) {
  impl_->sink = sink;
  for (auto& c : impl_->slots) {
    if (c) c->sink = sink;
  }
}

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
  if (impl_->keyed(c)) {
    const crypto::LinkKeys& k = impl_->keys(*c);
    i.encrypted = true;
    i.suite = crypto::suite_name(k.suite);
    i.provider = impl_->prot->provider(k.suite)->name();
    i.tx_key_generation = k.tx_generation;
    i.rx_key_generation = k.rx_generation;
    i.tx_counter = k.tx_counter;
    std::memcpy(i.peer_identity.data(), k.peer_identity, i.peer_identity.size());
  }
  i.stats = Impl::final_stats(*c);
  return i;
}

std::size_t Endpoint::link_count() const { return impl_->index.size(); }

bool Endpoint::wants_to_transmit() const { return !impl_->control.empty() || !impl_->ready.empty(); }

}  // namespace weft::transport
