// Connection: the state of one TTP link (peer, VC) and its reliability engine.
//
// Essay. A link has two independent directions.
//
// Sending. send() puts a message in `msgs_`: a copy, or (zero-copy send) a reference to the
// application's buffer that is dropped when the message is acknowledged. Messages are cut into segments of at most one
// frame's payload; each new segment takes the next TxID, and a retransmission reuses its TxID
// (as the spec requires). `segs_[i]` is the segment with TxID snd_una + i. A segment is in flight
// from its (re)transmission until it is acknowledged (cumulatively or selectively) or declared
// lost; `in_flight_bytes_` sums exactly those, and the window (cwnd in weft, the fixed
// window_bytes in compat) bounds it. Lost segments wait in `lost_` and are sent before new ones.
// A message is complete, and its bytes released, when the cumulative ACK passes its last segment.
//   - compat (go-back-N): a NACK(X), a NACK_FULL(X) or the RTO marks every segment from X (or
//     snd_una) lost: the whole tail is replayed in order, as TTPoE specifies.
//   - weft (SACK + RACK): ACKs carry up to 16 SACK ranges. A segment is lost when a segment sent
//     after it was delivered and more than SRTT + a reorder window has passed since it was sent
//     (RACK, time-based, so reordering from multipath spraying is tolerated; a resent segment
//     acknowledged sooner than a round trip after the resend was late, not lost: the reorder
//     window widens, as RFC 8985 does on DSACK); the RTO remains the
//     backstop for tail losses and lost retransmissions: it resends the oldest segment in flight
//     as a probe, and RACK judges the rest when the probe is acknowledged (on a host, most RTOs
//     are scheduling stalls, not a lost flight). Only holes are resent.
// The RTO is SRTT + 4 RTTVAR, doubled on each expiry. The retry budget is time-based: if data is
// outstanding and nothing new was acknowledged for retry_budget_us, the link fails and the
// application is told how many messages were not acknowledged. Nothing is dropped silently.
//
// Receiving. compat accepts only the next TxID in order; a younger one is answered with one NACK
// for the missing id and then ignored until that id arrives (go-back-N). weft buffers out-of-order
// segments in `reorder_` (slot i holds TxID rx_last + 1 + i) and reassembles messages in order.
// When the buffered bytes would exceed recv_buffer_bytes the segment is dropped and answered with
// NACK_FULL; the sender pauses and backs off. ACKs are cumulative (RxID = last in-order TxID),
// coalesced in weft (every ack_every_packets or ack_delay_us, immediately on reordering or
// duplicates), one per PAYLOAD in compat.
#pragma once

#include <cstdint>
#include <vector>

#include "transport/core/congestion.h"
#include "transport/core/ring.h"
#include "transport/core/rtt_estimator.h"
#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace weft::transport {

enum class LossCause : std::uint8_t { kNone, kRto, kFast, kNack, kNackFull };

struct Segment {
  std::uint64_t msg_seq = 0;   // message this segment belongs to
  std::uint32_t offset = 0;    // byte offset in the message
  std::uint32_t len = 0;       // payload bytes
  TimeNs sent_time = 0;        // time of the latest transmission
  std::uint8_t transmissions = 0;
  bool eom = false;
  bool sacked = false;         // selectively acknowledged
  bool in_flight = false;      // counted in in_flight_bytes_
  LossCause lost = LossCause::kNone;  // queued for retransmission, and why
  bool resent_by_rack = false; // the latest transmission was RACK's (judged by the reorder window)
  bool sent_unconfirmed = false;  // a transmission went out before the peer confirmed the link
};

struct OutMessage {
  SharedBytes data;              // the message (a copy, or the application's buffer by reference)
  std::uint32_t last_tx_id = 0;  // valid once fully segmented
  bool fully_segmented = false;
};

struct RxSlot {
  bool present = false;
  bool eom = false;
  std::vector<std::uint8_t> data;
};

// A segment chosen for transmission.
struct OutSegment {
  std::uint32_t tx_id = 0;
  const std::shared_ptr<const void>* owner = nullptr;  // keeps `data` alive
  const std::uint8_t* data = nullptr;
  std::uint32_t len = 0;
  bool eom = false;
  std::uint8_t transmissions = 0;
};

class Connection {
 public:
  Connection(const EndpointConfig& config, NodeId peer, Vc vc);

  // ---- identity and handshake --------------------------------------------------------------
  NodeId peer;
  Vc vc;
  LinkState state = LinkState::kClosed;
  std::uint16_t epoch = 0;            // link epoch carried by every frame (weft)
  std::uint16_t peer_open_epoch = 0;  // epoch of the peer's own OPEN, if it sent one
  bool peer_sent_open = false;
  bool peer_confirmed = false;        // a frame showed the peer reached OPEN (see NACK_NOLINK)
  std::uint32_t open_tx_id = 0;       // our OPEN's TxID (initiator)
  std::uint32_t first_data_tx_id = 0; // our first DATA TxID, announced in OPEN_ACK
  std::uint32_t peer_open_tx_id = 0;  // the peer's OPEN TxID, echoed in OPEN_ACK's RxID
  bool opened_by_open_ack = false;    // initiator: OPEN_ACK (not a passing-ships frame) opened it
  std::uint32_t peer_first_data_tx_id = 0;  // initiator: the first DATA id the OPEN_ACK announced
  std::uint64_t entropy_seed = 0;
  TimeNs handshake_started = 0;       // first OPEN / CLOSE
  TimeNs handshake_sent = 0;          // latest OPEN / CLOSE transmission
  TimeNs open_ack_sent = 0;           // responder: when OPEN_ACK moved the link to OPEN
  bool close_requested = false;       // close() called; CLOSE follows once quiesced
  std::uint32_t close_tx_id = 0;      // our CLOSE's TxID
  std::uint32_t peer_close_tx_id = 0; // the peer's CLOSE TxID
  bool close_held = false;            // CLOSE_NACK received: replay only after close_hold_id
  std::uint32_t close_hold_id = 0;    // the peer's next TxID declared by its CLOSE_NACK
  TimeNs close_recd_deadline = kNever;
  // The peer's closing id: its CLOSE's TxID, or the next TxID its CLOSE_NACK declared. A PAYLOAD
  // at or after it is answered with NACK_NOLINK (spec: "TxID > local closing ID").
  bool peer_final_known = false;
  std::uint32_t peer_final_tx_id = 0;
  void set_peer_final(std::uint32_t id) {
    peer_final_known = true;
    peer_final_tx_id = id;
  }

  // ---- pending control frames (sent before data, in this order) ----------------------------
  bool open_pending = false;
  bool open_ack_pending = false;
  bool close_ack_pending = false;     // finishing CLOSE_ACK: the link closes once it is sent
  bool close_nack_pending = false;
  bool nack_full_pending = false;
  std::uint32_t nack_full_id = 0;
  bool nack_pending = false;          // compat go-back-N NACK
  bool close_pending = false;

  // ---- send side ----------------------------------------------------------------------------
  bool send_buffer_has_room(std::size_t size, std::uint64_t send_buffer_bytes) const {
    return queued_bytes_ == 0 || queued_bytes_ + size <= send_buffer_bytes;
  }
  Status send_buffer_full(std::uint64_t send_buffer_bytes) const;
  // Takes the message by reference (SharedBytes::copy_of for a copying send).
  Status enqueue(SharedBytes message, std::uint64_t send_buffer_bytes);
  // True when a data segment may be sent at `now` (window, pacing, pause).
  bool data_sendable(TimeNs now) const;
  // Earliest time a waiting data segment may be sent (pacing / pause), or kNever.
  TimeNs data_ready_time() const;
  // Picks the next segment (retransmission first) and records its transmission.
  bool next_segment(TimeNs now, OutSegment& out);
  bool has_unsent_data() const;
  bool all_acked() const { return msgs_.empty() && segs_.empty(); }
  std::uint64_t unacked_messages() const { return msgs_.size(); }

  // Processes a cumulative ACK of `rx_id` with optional SACK ranges. Returns false for an ACK
  // naming an id never sent (dropped as stale).
  bool on_ack(std::uint32_t rx_id, const wire::Extensions& ext, std::uint8_t ce_count, TimeNs now);
  // compat NACK(X) / weft NACK: everything before X arrived; X (and in compat the tail) is lost.
  bool on_nack(std::uint32_t rx_id, TimeNs now);
  bool on_nack_full(std::uint32_t rx_id, TimeNs now);
  // NACK_NOLINK for `rx_id` from a peer that has not yet seen our OPEN_ACK: the segment will be
  // resent once the peer shows it reached OPEN (confirm_peer), or after the RTO, once the
  // repeated OPEN_ACK has had time to arrive.
  void note_nolink(std::uint32_t rx_id, TimeNs now);
  // True when NACK_NOLINK for `rx_id` answers a transmission made before the peer confirmed the
  // link (or it still has not): the peer was in OPEN_SENT, not without a link.
  bool nolink_before_confirmation(std::uint32_t rx_id) const;
  void confirm_peer(TimeNs now) {
    peer_confirmed = true;
    nolink_until_ = 0;  // data refused in OPEN_SENT goes now
    // A responder has no RTT sample yet: OPEN_ACK out to the peer's first frame back is one.
    if (!rtt.has_sample() && open_ack_sent > 0) rtt.on_sample(now - open_ack_sent);
  }
  bool id_in_flight_range(std::uint32_t id) const;
  // Timer work: RTO and RACK. Returns false when the retry budget is exhausted.
  bool on_data_timer(TimeNs now);
  TimeNs data_deadline() const;  // RTO / RACK deadline, or kNever

  // ---- receive side -------------------------------------------------------------------------
  // Where in-order message bytes go when the application streams them (Endpoint::
  // set_message_sink); null: whole messages are reassembled and appended to `delivered`.
  MessageSink* sink = nullptr;
  // A PAYLOAD in OPEN / CLOSE_*. Completed messages are appended to `delivered`.
  void on_payload(const wire::Frame& f, TimeNs now, std::vector<std::vector<std::uint8_t>>& delivered,
                  EndpointStats& ep_stats);
  // Secured links: a PAYLOAD that will be delivered in order is decrypted straight into the
  // message being reassembled instead of a scratch buffer (one pass over the bytes, not two).
  // can_stage: this TxID and length would be appended now (weft, next in order, room to buffer).
  // stage: grows the message by `len` and returns where the bytes go; on_payload then finds them
  // in place. unstage: takes them back (the frame did not authenticate, or was refused).
  bool can_stage(std::uint32_t id, std::size_t len) const {
    return !compat_ && id == rx_last + 1 && !rx_full(len);
  }
  std::uint8_t* stage(std::size_t len);
  void unstage();
  bool ack_due(TimeNs now) const;
  bool ack_owed() const { return ack_owed_ > 0 || ack_now_; }
  TimeNs ack_deadline() const { return ack_owed_ > 0 && !ack_now_ ? ack_deadline_ : kNever; }
  // Fills an ACK's fields (cumulative RxID, SACK, CE echo) and resets the ACK state.
  void build_ack(wire::TtpHeader& h, wire::Extensions& ext);
  // weft: puts an owed cumulative ACK (RxID, CE count) on an outgoing PAYLOAD instead of a frame
  // of its own; true when it did. Request/response traffic then needs no ACK frames or timers.
  bool piggyback_ack(wire::TtpHeader& h);

  // ---- shared -------------------------------------------------------------------------------
  std::uint32_t next_tx_id = 0;  // TxID of the next new segment (or CLOSE)
  std::uint32_t snd_una = 0;     // oldest unacknowledged TxID
  std::uint32_t rx_last = 0;     // last in-order TxID received
  std::uint64_t undelivered_bytes = 0;  // message events not yet polled by the application
  RttEstimator rtt;
  CongestionController cc;
  LinkStats stats;
  std::uint64_t queued_bytes() const { return queued_bytes_; }
  std::uint64_t in_flight_bytes() const { return in_flight_bytes_; }
  std::uint64_t window() const;

  // ---- endpoint bookkeeping -----------------------------------------------------------------
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  std::uint32_t keys = UINT32_MAX;  // secured endpoints: this link's entry in the key slab
  bool in_ready = false;
  TimeNs armed = kNever;

 private:
  void mark_lost(std::uint32_t index, LossCause cause);
  const Segment* next_lost() const;  // first queued retransmission still needed, or null
  void take_off_flight(Segment& s);
  void deliver_in_order(std::span<const std::uint8_t> data, bool eom,
                        std::vector<std::vector<std::uint8_t>>& delivered, TimeNs now);
  void detect_lost(TimeNs now);
  void release_completed_messages();
  // Bytes the receive buffer limit applies to: out-of-order segments and whole messages the
  // application has not taken yet. The message being reassembled in order is not counted: it can
  // only complete by growing, so a message larger than the buffer must still be deliverable.
  std::uint64_t rx_buffered() const { return reorder_bytes_ + undelivered_bytes; }
  // A segment of `len` bytes would exceed recv_buffer_bytes (NACK_FULL); an empty buffer always
  // takes one, so a message larger than the buffer still progresses.
  bool rx_full(std::size_t len) const {
    return rx_buffered() + len > config_.recv_buffer_bytes && rx_buffered() > 0;
  }
  void go_back_n(std::uint32_t from, LossCause cause, TimeNs now);
  void pace(TimeNs now, std::uint32_t bytes);
  bool hole_resend_due() const;

  const EndpointConfig& config_;
  std::uint32_t mss_;
  bool compat_;
  // send
  Ring<OutMessage> msgs_;
  std::uint64_t msgs_base_seq_ = 0;   // sequence number of msgs_[0]
  std::size_t cursor_msg_ = 0;        // index in msgs_ of the next message to segment
  std::uint32_t cursor_offset_ = 0;
  Ring<Segment> segs_;
  Ring<std::uint32_t> lost_;          // TxIDs to retransmit, in detection order
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t in_flight_bytes_ = 0;
  std::uint32_t in_flight_packets_ = 0;  // also counts empty segments (zero-length messages)
  TimeNs rto_anchor_ = 0;
  TimeNs last_progress_ = 0;
  TimeNs next_send_time_ = 0;
  TimeNs paused_until_ = 0;
  TimeNs nack_full_backoff_ = 0;
  TimeNs nack_full_paused_at_ = 0;    // when the current NACK_FULL pause began
  TimeNs nolink_until_ = 0;           // data waits for the peer's confirmation (NACK_NOLINK)
  TimeNs rack_sent_time_ = -1;        // send time of the most recently sent delivered segment
  TimeNs rack_deadline_ = kNever;
  TimeNs reo_mult_ = 1;               // reorder window multiplier (RFC 8985 reo_wnd_mult)
  std::uint32_t reo_persist_ = 0;     // loss detections left before it falls back to 1
  TimeNs reo_widened_at_ = -1;        // once per round trip
  std::uint32_t cc_window_end_ = 0;  // the DCTCP observation window ends when snd_una passes it
  bool cc_window_started_ = false;
  std::uint32_t gbn_from_ = 0;        // compat: last go-back-N start and time (dedupe)
  TimeNs gbn_time_ = -1;
  // receive
  Ring<RxSlot> reorder_;
  std::uint64_t reorder_bytes_ = 0;
  std::vector<std::uint8_t> partial_;
  std::size_t last_message_bytes_ = 0;  // size of the last message reassembled (capacity hint)
  std::size_t staged_ = 0;              // bytes at the end of partial_ written by stage()
  std::vector<std::uint8_t> stream_scratch_;  // streaming: where stage() decrypts one frame
  bool streaming_ = false;              // streaming: inside a message (its first bytes went out)
  std::uint32_t ack_owed_ = 0;
  bool ack_now_ = false;
  TimeNs ack_deadline_ = kNever;
  std::uint32_t ce_since_ack_ = 0;
  bool gbn_waiting_ = false;          // compat receiver: NACK sent, ignoring younger ids
  std::uint32_t nack_id_ = 0;

 public:
  std::uint32_t nack_id() const { return nack_id_; }
};

}  // namespace weft::transport
