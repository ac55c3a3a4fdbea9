#include "transport/core/connection.h"

#include <algorithm>
#include <cstring>

namespace weft::transport {
namespace {
// Reorder slots a weft receiver keeps ahead of the cumulative point; PAYLOADs further ahead are
// dropped (kOutOfWindow) and recovered by the sender's loss detection.
constexpr std::size_t kMaxReorderSlots = 1u << 16;
constexpr TimeNs kMinReorderWindow = 1000;  // 1 µs
constexpr std::uint32_t kReorderPersist = 16;  // loss detections a widened reorder window lasts
constexpr TimeNs kMaxNackFullBackoff = 10'000'000;  // 10 ms
constexpr std::uint32_t kPaceBurstBytes = 64u << 10;  // one GSO send of jumbo frames
}  // namespace

Connection::Connection(const EndpointConfig& config, NodeId peer_id, Vc link_vc)
    : peer(peer_id),
      vc(link_vc),
      rtt(us_to_ns(config.rto_initial_us), us_to_ns(config.rto_min_us), us_to_ns(config.rto_max_us)),
      cc(config),
      config_(config),
      mss_(max_payload_bytes(config)),
      compat_(config.profile == Profile::kTtpoeCompat) {}

std::uint64_t Connection::window() const {
  return compat_ ? std::uint64_t{config_.window_bytes} : cc.cwnd();
}

Status Connection::send_buffer_full(std::uint64_t send_buffer_bytes) const {
  return Status(Error::kSendBufferFull, "send buffer full: " + std::to_string(queued_bytes_) +
                                           " B queued and unacknowledged (limit " +
                                           std::to_string(send_buffer_bytes) +
                                           " B); retry after the peer acknowledges");
}

Status Connection::enqueue(SharedBytes message, std::uint64_t send_buffer_bytes) {
  const std::size_t size = message.bytes.size();
  if (!send_buffer_has_room(size, send_buffer_bytes)) return send_buffer_full(send_buffer_bytes);
  OutMessage m;
  m.data = std::move(message);
  queued_bytes_ += size;
  msgs_.push_back(std::move(m));
  return Ok{};
}

bool Connection::has_unsent_data() const { return cursor_msg_ < msgs_.size(); }

bool Connection::id_in_flight_range(std::uint32_t id) const {
  return !wire::id_before(id, snd_una) && wire::id_before(id, next_tx_id);
}

const Segment* Connection::next_lost() const {
  for (std::size_t i = 0; i < lost_.size(); ++i) {
    const std::uint32_t id = lost_[i];
    if (wire::id_before(id, snd_una)) continue;  // acknowledged since it was queued
    const Segment& s = segs_[id - snd_una];
    if (!s.sacked && s.lost != LossCause::kNone) return &s;
  }
  return nullptr;
}

// weft: a NACK_FULL pause holds back everything but the oldest unacknowledged segment when it is
// to be resent — the segment the receiver always takes, and the one whose absence keeps its
// buffer full of data it cannot deliver.
bool Connection::hole_resend_due() const {
  if (compat_ || segs_.empty()) return false;
  const Segment* s = next_lost();
  return s == &segs_[0];
}

TimeNs Connection::data_ready_time() const {
  if (lost_.empty() && !has_unsent_data()) return kNever;
  const TimeNs pause = paused_until_ > next_send_time_ && hole_resend_due() ? next_send_time_ : paused_until_;
  return std::max({next_send_time_, pause, nolink_until_});
}

bool Connection::data_sendable(TimeNs now) const {
  if (state != LinkState::kOpen && state != LinkState::kCloseRecd) return false;
  if (lost_.empty() && !has_unsent_data()) return false;
  if (now < next_send_time_ || now < nolink_until_) return false;
  if (now < paused_until_ && !hole_resend_due()) return false;
  std::uint32_t len;
  if (const Segment* s = next_lost()) {
    len = s->len;
  } else {
    if (!has_unsent_data()) return false;
    const OutMessage& m = msgs_[cursor_msg_];
    len = static_cast<std::uint32_t>(std::min<std::size_t>(mss_, m.data.bytes.size() - cursor_offset_));
    if (segs_.size() >= kMaxReorderSlots) return false;  // receiver could not buffer further ahead
  }
  return in_flight_packets_ == 0 || in_flight_bytes_ + len <= window();
}

bool Connection::next_segment(TimeNs now, OutSegment& out) {
  // Retransmissions first; entries acknowledged since they were queued are skipped.
  while (!lost_.empty()) {
    std::uint32_t id = lost_.front();
    lost_.pop_front();
    if (wire::id_before(id, snd_una)) continue;
    Segment& s = segs_[id - snd_una];
    if (s.sacked || s.lost == LossCause::kNone) continue;
    switch (s.lost) {
      case LossCause::kRto: ++stats.retransmits_rto; break;
      case LossCause::kFast: ++stats.retransmits_fast; break;
      case LossCause::kNack: ++stats.retransmits_nack; break;
      case LossCause::kNackFull: ++stats.retransmits_nack_full; break;
      case LossCause::kNone: break;
    }
    ++stats.retransmits;
    s.resent_by_rack = s.lost == LossCause::kFast;
    s.sent_unconfirmed |= !peer_confirmed;
    s.lost = LossCause::kNone;
    s.sent_time = now;
    s.in_flight = true;
    if (in_flight_packets_ == 0) rto_anchor_ = now;
    in_flight_bytes_ += s.len;
    ++in_flight_packets_;
    if (s.transmissions < 255) ++s.transmissions;
    const OutMessage& m = msgs_[s.msg_seq - msgs_base_seq_];
    out = OutSegment{id, &m.data.owner, m.data.bytes.data() + s.offset, s.len, s.eom, s.transmissions};
    pace(now, s.len);
    return true;
  }
  if (!has_unsent_data()) return false;
  OutMessage& m = msgs_[cursor_msg_];
  const std::uint32_t len =
      static_cast<std::uint32_t>(std::min<std::size_t>(mss_, m.data.bytes.size() - cursor_offset_));
  Segment s;
  s.msg_seq = msgs_base_seq_ + cursor_msg_;
  s.offset = cursor_offset_;
  s.len = len;
  s.eom = cursor_offset_ + len == m.data.bytes.size();
  s.sent_time = now;
  s.transmissions = 1;
  s.sent_unconfirmed = !peer_confirmed;
  s.in_flight = true;
  const std::uint32_t id = next_tx_id++;
  if (in_flight_packets_ == 0) rto_anchor_ = now;
  if (segs_.empty()) last_progress_ = now;
  in_flight_bytes_ += len;
  ++in_flight_packets_;
  segs_.push_back(s);
  out = OutSegment{id, &m.data.owner, m.data.bytes.data() + cursor_offset_, len, s.eom, 1};
  if (s.eom) {
    m.fully_segmented = true;
    m.last_tx_id = id;
    ++cursor_msg_;
    cursor_offset_ = 0;
  } else {
    cursor_offset_ += len;
  }
  pace(now, len);
  return true;
}

void Connection::pace(TimeNs now, std::uint32_t bytes) {
  // A token bucket: the schedule may lag `now` by one burst, so a driver that wakes late (or sends
  // in GSO batches) may send up to kPaceBurstBytes back to back, and is paced beyond that.
  const TimeNs gap = cc.pacing_gap(bytes, rtt.srtt());
  if (gap == 0) {
    next_send_time_ = 0;
    return;
  }
  next_send_time_ = std::max(next_send_time_, now - cc.pacing_gap(kPaceBurstBytes, rtt.srtt())) + gap;
}

void Connection::take_off_flight(Segment& s) {
  if (s.in_flight) {
    in_flight_bytes_ -= s.len;
    --in_flight_packets_;
    s.in_flight = false;
  }
}

void Connection::mark_lost(std::uint32_t index, LossCause cause) {
  Segment& s = segs_[index];
  if (s.sacked || s.lost != LossCause::kNone) return;
  take_off_flight(s);
  s.lost = cause;
  lost_.push_back(snd_una + static_cast<std::uint32_t>(index));
}

void Connection::go_back_n(std::uint32_t from, LossCause cause, TimeNs now) {
  if (gbn_time_ >= 0 && gbn_from_ == from && now - gbn_time_ < std::max<TimeNs>(rtt.srtt(), 1)) return;
  gbn_from_ = from;
  gbn_time_ = now;
  // Replay in TxID order: drop queued retransmissions and requeue the whole tail.
  lost_ = Ring<std::uint32_t>();
  for (std::size_t i = 0; i < segs_.size(); ++i) {
    Segment& s = segs_[i];
    if (wire::id_before(snd_una + static_cast<std::uint32_t>(i), from)) continue;
    take_off_flight(s);
    s.lost = LossCause::kNone;
    mark_lost(i, cause);
  }
}

void Connection::release_completed_messages() {
  while (!msgs_.empty() && msgs_.front().fully_segmented &&
         wire::id_before(msgs_.front().last_tx_id, snd_una)) {
    queued_bytes_ -= msgs_.front().data.bytes.size();
    ++stats.messages_sent;
    msgs_.pop_front();
    ++msgs_base_seq_;
    --cursor_msg_;
  }
  if (msgs_.empty()) msgs_.clear_and_release();
  if (segs_.empty()) {
    segs_.clear_and_release();
    lost_.clear_and_release();
  }
}

bool Connection::on_ack(std::uint32_t rx_id, const wire::Extensions& ext, std::uint8_t ce_count,
                        TimeNs now) {
  ++stats.acks_received;
  if (wire::id_after(rx_id, next_tx_id - 1)) return false;  // acknowledges an id never sent
  std::uint64_t newly_bytes = 0;
  std::uint32_t newly_packets = 0;
  TimeNs sample_sent = -1;
  auto delivered = [&](Segment& s) {
    newly_bytes += s.len;
    ++newly_packets;
    take_off_flight(s);
    if (s.transmissions == 1 && s.sent_time > sample_sent) sample_sent = s.sent_time;
    // A segment RACK resent, acknowledged sooner than any round trip since the resend: the ACK is
    // for the original, which was late, not lost (RFC 8985 §6.2). Its resend time says nothing of
    // what was delivered, and the reorder window was too narrow for this path: widen it.
    if (s.resent_by_rack && now - s.sent_time < rtt.min_rtt()) {
      ++stats.spurious_retransmits;
      if (reo_widened_at_ < 0 || now - reo_widened_at_ >= rtt.srtt()) {
        reo_widened_at_ = now;
        if (reo_mult_ < 64) ++reo_mult_;
        reo_persist_ = kReorderPersist;
      }
      return;
    }
    if (s.sent_time > rack_sent_time_) rack_sent_time_ = s.sent_time;
  };
  while (!segs_.empty() && wire::id_at_or_before(snd_una, rx_id)) {
    Segment& s = segs_.front();
    if (!s.sacked) delivered(s);
    segs_.pop_front();
    ++snd_una;
  }
  if (wire::id_after(snd_una, next_tx_id)) snd_una = next_tx_id;  // ACK of the CLOSE id
  // SACK ranges as offsets into segs_: a range is clamped to what is in flight, and one that
  // reaches beyond it (or is wider than the flight) only covers the segments that exist.
  for (std::size_t r = 0; r < ext.sack_count && !segs_.empty(); ++r) {
    const std::uint32_t first = ext.sack[r].first, last = ext.sack[r].last;
    if (last - first >= 0x80000000u) continue;  // not a range in serial arithmetic
    if (wire::id_before(last, snd_una) || !wire::id_before(first, next_tx_id)) continue;
    const std::size_t lo = wire::id_before(first, snd_una) ? 0 : first - snd_una;
    const std::size_t hi = std::min<std::size_t>(last - snd_una, segs_.size() - 1);
    for (std::size_t i = lo; i <= hi; ++i) {
      Segment& s = segs_[i];
      if (s.sacked) continue;
      s.sacked = true;
      if (s.lost != LossCause::kNone) s.lost = LossCause::kNone;  // no need to resend
      delivered(s);
    }
  }
  if (newly_packets > 0) {
    last_progress_ = now;
    rto_anchor_ = now;
    nack_full_backoff_ = 0;
    rtt.reset_backoff();
  }
  if (sample_sent >= 0) {
    rtt.on_sample(now - sample_sent);
    cc.on_rtt(now - sample_sent, rtt.min_rtt(), rtt.srtt(), now);
  }
  if (!cc_window_started_) {  // the first observation window ends with what is in flight now
    cc_window_started_ = true;
    cc_window_end_ = next_tx_id - 1;
  }
  bool window_done = wire::id_after(snd_una, cc_window_end_);
  if (window_done) cc_window_end_ = next_tx_id;
  if (newly_packets > 0 || ce_count > 0) {
    cc.on_ack(newly_bytes, newly_packets, ce_count, window_done, mss_);
  }
  if (!compat_) detect_lost(now);
  release_completed_messages();
  return true;
}

void Connection::detect_lost(TimeNs now) {
  rack_deadline_ = kNever;
  if (rack_sent_time_ < 0 || segs_.empty()) return;
  // The reorder window: a quarter of the minimum RTT, times reo_mult_ (raised by each round trip
  // that revealed a spurious retransmission), never more than SRTT.
  const TimeNs reo =
      std::min(std::max(kMinReorderWindow, rtt.min_rtt() / 4) * reo_mult_, std::max(rtt.srtt(), kMinReorderWindow));
  const TimeNs wait = rtt.srtt() + reo;
  bool marked = false;
  for (std::size_t i = 0; i < segs_.size(); ++i) {
    Segment& s = segs_[i];
    if (s.sacked || !s.in_flight) continue;
    if (s.sent_time >= rack_sent_time_) break;  // sent after the newest delivered: not yet judged
    TimeNs deadline = s.sent_time + wait;
    if (now >= deadline) {
      mark_lost(i, LossCause::kFast);
      marked = true;
    } else {
      rack_deadline_ = std::min(rack_deadline_, deadline);
    }
  }
  // A widened window narrows again after kReorderPersist loss detections with no spurious resend.
  if (marked && reo_mult_ > 1 && --reo_persist_ == 0) reo_mult_ = 1;
}

bool Connection::on_nack(std::uint32_t rx_id, TimeNs now) {
  if (wire::id_before(rx_id, snd_una) || !wire::id_before(rx_id, next_tx_id)) return false;
  wire::Extensions none;
  if (rx_id != snd_una && !on_ack(rx_id - 1, none, 0, now)) return false;
  if (segs_.empty()) return true;
  if (compat_) {
    go_back_n(rx_id, LossCause::kNack, now);
  } else {
    mark_lost(rx_id - snd_una, LossCause::kNack);
  }
  return true;
}

bool Connection::on_nack_full(std::uint32_t rx_id, TimeNs now) {
  ++stats.nack_full_received;
  const bool known = id_in_flight_range(rx_id);
  // One pause per episode: the segments already in flight when the first NACK_FULL came are
  // refused too, and their NACK_FULLs say nothing new. The pause doubles only when a segment sent
  // after the last pause began is refused (the receiver is still full after the wait).
  const bool new_episode =
      nack_full_backoff_ == 0 || (known && segs_[rx_id - snd_una].sent_time >= nack_full_paused_at_);
  if (new_episode) {
    nack_full_backoff_ = nack_full_backoff_ == 0 ? us_to_ns(config_.nack_full_backoff_us)
                                                 : std::min(2 * nack_full_backoff_, kMaxNackFullBackoff);
    nack_full_paused_at_ = now;
    paused_until_ = std::max(paused_until_, now + nack_full_backoff_);
  }
  if (segs_.empty()) return true;
  if (compat_) {
    // TTPoE: NACK_FULL behaves like NACK; its RxID "loses meaning", so an unknown one replays
    // from the oldest unacknowledged segment.
    std::uint32_t from = known ? rx_id : snd_una;
    if (from != snd_una) {
      wire::Extensions none;
      (void)on_ack(from - 1, none, 0, now);
    }
    gbn_time_ = -1;  // a NACK_FULL always replays
    if (!segs_.empty()) go_back_n(from, LossCause::kNackFull, now);
  } else if (known) {
    mark_lost(rx_id - snd_una, LossCause::kNackFull);
  }
  return true;
}

bool Connection::nolink_before_confirmation(std::uint32_t rx_id) const {
  if (!peer_confirmed) return true;
  if (!id_in_flight_range(rx_id)) return false;
  // A transmission before confirmation may be answered late (its NACK_NOLINK overtaken by the
  // peer's confirming frames, duplicated, or arriving after the segment was resent). Such a
  // segment is resent on each; a peer that really lost the link refuses the segments sent after
  // confirmation too (and the retry budget bounds the rest).
  return segs_[rx_id - snd_una].sent_unconfirmed;
}

void Connection::note_nolink(std::uint32_t rx_id, TimeNs now) {
  if (peer_confirmed) {
    // A late answer to a transmission from before confirmation: resend just that segment.
    if (id_in_flight_range(rx_id)) mark_lost(rx_id - snd_una, LossCause::kNack);
    return;
  }
  // The peer refused this segment while in OPEN_SENT (our OPEN_ACK is late or lost: on a
  // multipath fabric a PAYLOAD can overtake it). It is resent; data waits until the peer shows it
  // reached OPEN (confirm_peer lifts the wait) or, at the latest, the RTO — so the peer is not
  // flooded with PAYLOADs it must refuse.
  if (id_in_flight_range(rx_id)) mark_lost(rx_id - snd_una, LossCause::kNack);
  nolink_until_ = std::max(nolink_until_, now + rtt.rto());
}

TimeNs Connection::data_deadline() const {
  TimeNs d = rack_deadline_;
  if (in_flight_packets_ > 0) d = std::min(d, rto_anchor_ + rtt.rto());
  return d;
}

bool Connection::on_data_timer(TimeNs now) {
  if (rack_deadline_ != kNever && now >= rack_deadline_) detect_lost(now);
  if (in_flight_packets_ > 0 && now >= rto_anchor_ + rtt.rto()) {
    if (now - last_progress_ >= us_to_ns(config_.retry_budget_us)) return false;
    ++stats.rto_expirations;
    rtt.backoff();
    rto_anchor_ = now;
    if (compat_) {
      gbn_time_ = -1;
      go_back_n(snd_una, LossCause::kRto, now);
    } else {
      // Resend only the oldest segment in flight. Most RTOs on a host are stalls, not a lost
      // flight: when the probe is acknowledged, RACK marks whatever really was lost (everything
      // sent before it and still unacknowledged a reorder window later).
      for (std::size_t i = 0; i < segs_.size(); ++i) {
        if (segs_[i].in_flight) {
          mark_lost(i, LossCause::kRto);
          break;
        }
      }
    }
  }
  return true;
}

// ---- receive -----------------------------------------------------------------------------------

std::uint8_t* Connection::stage(std::size_t len) {
  if (sink != nullptr) {  // streaming: decrypt into a frame-sized scratch, handed to the sink as is
    if (stream_scratch_.size() < len) stream_scratch_.resize(std::max<std::size_t>(len, mss_));
    staged_ = len;
    return stream_scratch_.data();
  }
  if (partial_.empty() && last_message_bytes_ > len) partial_.reserve(last_message_bytes_);
  partial_.resize(partial_.size() + len);
  staged_ = len;
  return partial_.data() + partial_.size() - len;
}

void Connection::unstage() {
  if (sink == nullptr) partial_.resize(partial_.size() - staged_);
  staged_ = 0;
}

void Connection::deliver_in_order(std::span<const std::uint8_t> data, bool eom,
                                  std::vector<std::vector<std::uint8_t>>& delivered, TimeNs now) {
  ++rx_last;
  if (sink != nullptr) {
    // Streaming: the bytes go to the application now, from the frame (or the decrypt scratch, or a
    // reorder slot); nothing is reassembled or counted against the receive buffer.
    const bool first = !streaming_;
    streaming_ = !eom;
    staged_ = 0;
    stats.bytes_delivered += data.size();
    if (eom) ++stats.messages_received;
    sink->on_message_data(peer, vc, data, first, eom, now);
    return;
  }
  // Appended straight from the frame (or reorder slot) into the message being reassembled: one
  // copy per byte on the receive path. Messages on a link tend to repeat their size, so a new one
  // starts with the previous one's capacity instead of growing (and copying) by doubling.
  if (staged_ != 0 && data.size() == staged_ && data.data() == partial_.data() + partial_.size() - staged_) {
    staged_ = 0;  // decrypted in place by stage()
  } else {
    if (partial_.empty() && !eom && last_message_bytes_ > data.size()) partial_.reserve(last_message_bytes_);
    partial_.insert(partial_.end(), data.begin(), data.end());
  }
  if (eom) {
    last_message_bytes_ = partial_.size();
    stats.bytes_delivered += partial_.size();
    ++stats.messages_received;
    undelivered_bytes += partial_.size();
    delivered.push_back(std::move(partial_));
    partial_ = {};
  }
}

void Connection::on_payload(const wire::Frame& f, TimeNs now,
                            std::vector<std::vector<std::uint8_t>>& delivered, EndpointStats& ep) {
  const std::uint32_t id = f.ttp.tx_id;
  const std::size_t len = f.payload.size();
  if (f.ttp.ce) {
    ++ce_since_ack_;
    ++stats.ce_marked_received;
  }
  if (wire::id_at_or_before(id, rx_last)) {  // duplicate: re-ACK (spec assumption 6)
    ++stats.duplicate_payloads;
    ack_now_ = true;
    return;
  }
  const std::uint32_t expected = rx_last + 1;
  const bool full = rx_full(len);
  if (compat_) {
    if (id != expected) {
      if (gbn_waiting_) {
        ++ep.drops[static_cast<int>(DropReason::kGoBackNIgnored)];
        return;
      }
      gbn_waiting_ = true;
      nack_id_ = expected;
      nack_pending = true;
      ++stats.nacks_sent;
      return;
    }
    if (full) {
      ++ep.drops[static_cast<int>(DropReason::kRecvBufferFull)];
      if (!config_.nack_full) return;  // no backpressure: the sender's timer finds the loss
      gbn_waiting_ = true;
      nack_full_pending = true;
      nack_full_id = id;
      return;
    }
    gbn_waiting_ = false;
    deliver_in_order(f.payload, true, delivered, now);
    ack_now_ = true;
    ++ack_owed_;
    return;
  }
  // weft
  const std::size_t index = id - expected;
  if (index >= kMaxReorderSlots) {
    ++ep.drops[static_cast<int>(DropReason::kOutOfWindow)];
    ack_now_ = true;
    return;
  }
  // The next in-order segment is taken even when the buffer is full if out-of-order data is held:
  // only it can let that data go (refusing it deadlocked a receiver with NACK_FULL off, whose
  // sender's retransmissions of the gap were refused forever). The buffer may then exceed its
  // limit by one segment.
  if (full && !(index == 0 && reorder_bytes_ > 0)) {
    ++ep.drops[static_cast<int>(DropReason::kRecvBufferFull)];
    if (!config_.nack_full) return;  // no backpressure: the sender's timer finds the loss
    if (!nack_full_pending) {
      nack_full_pending = true;
      nack_full_id = id;
    }
    return;
  }
  const bool eom = (f.ttp.flags & wire::kFlagEndOfMessage) != 0;
  if (index > 0) {
    reorder_.resize_at_least(index + 1);
    RxSlot& held = reorder_[index];
    if (held.present) {
      ++stats.duplicate_payloads;
    } else {
      held.present = true;
      held.eom = eom;
      held.data.assign(f.payload.begin(), f.payload.end());
      reorder_bytes_ += len;
      ++stats.out_of_order_payloads;
    }
    ack_now_ = true;  // a hole: tell the sender at once (SACK)
    return;
  }
  deliver_in_order(f.payload, eom, delivered, now);
  if (!reorder_.empty()) reorder_.pop_front();
  while (!reorder_.empty() && reorder_.front().present) {
    RxSlot next = std::move(reorder_.front());
    reorder_.pop_front();
    reorder_bytes_ -= next.data.size();
    deliver_in_order(next.data, next.eom, delivered, now);
  }
  if (reorder_.empty()) reorder_.clear_and_release();
  if (ack_owed_++ == 0) ack_deadline_ = now + us_to_ns(config_.ack_delay_us);
  if (ack_owed_ >= config_.ack_every_packets) ack_now_ = true;
}

bool Connection::ack_due(TimeNs now) const {
  return ack_now_ || (ack_owed_ > 0 && now >= ack_deadline_);
}

bool Connection::piggyback_ack(wire::TtpHeader& h) {
  // Only a plain cumulative ACK rides on a PAYLOAD: with holes to report (SACK) the ACK goes
  // alone, so the extension block stays off data frames.
  if (compat_ || !ack_owed() || !reorder_.empty()) return false;
  h.rx_id = rx_last;
  h.congestion = static_cast<std::uint8_t>(std::min<std::uint32_t>(ce_since_ack_, 255));
  h.flags |= wire::kFlagAckPiggyback;
  ce_since_ack_ = 0;
  ack_owed_ = 0;
  ack_now_ = false;
  ack_deadline_ = kNever;
  ++stats.acks_piggybacked;
  return true;
}

void Connection::build_ack(wire::TtpHeader& h, wire::Extensions& ext) {
  h.opcode = wire::Opcode::kAck;
  h.rx_id = rx_last;
  if (!compat_) {
    h.congestion = static_cast<std::uint8_t>(std::min<std::uint32_t>(ce_since_ack_, 255));
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < reorder_.size() && n < wire::kMaxSackRanges) {
      if (!reorder_[i].present) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j + 1 < reorder_.size() && reorder_[j + 1].present) ++j;
      ext.sack[n].first = rx_last + 1 + static_cast<std::uint32_t>(i);
      ext.sack[n].last = rx_last + 1 + static_cast<std::uint32_t>(j);
      ++n;
      i = j + 1;
    }
    ext.sack_count = static_cast<std::uint8_t>(n);
  }
  ce_since_ack_ = 0;
  ack_owed_ = 0;
  ack_now_ = false;
  ack_deadline_ = kNever;
  ++stats.acks_sent;
}

}  // namespace weft::transport
