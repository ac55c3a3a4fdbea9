// transport::Endpoint — the sans-I/O TTP protocol core.
//
// An Endpoint holds every link ("connection": one per peer per VC) of one node. It never reads a
// clock, sleeps, or does I/O: a driver feeds it received frames and the current time, pulls
// frames to send, and calls it back when its timer expires:
//
//   ep.on_frame(bytes, now);                 // a frame arrived
//   while (ep.poll_transmit(buf, now, tx))   // frames to put on the wire, one per call
//     send(buf.first(tx.bytes), tx.peer);
//   deadline = ep.next_timer();              // kNever when nothing is armed
//   ep.on_timer(now);                        // at or after that deadline
//   while (auto ev = ep.poll_event()) ...    // links opened, messages, closes, errors
//
// Threading: an Endpoint is not thread-safe; one driver thread owns it.
// Allocation: per-link state is allocated when a link is created; idle links hold no buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "weft/transport/config.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::transport {

// TTP link states (TTPoE Rev 2.0 §1).
enum class LinkState : std::uint8_t { kClosed, kOpenSent, kOpenRecd, kOpen, kCloseSent, kCloseRecd };
inline constexpr int kLinkStateCount = 6;
std::string_view link_state_name(LinkState s);

// Why an endpoint dropped a received frame. Every drop is counted by reason; none changes link
// state.
enum class DropReason : std::uint8_t {
  kMalformed,          // the codec rejected it (see EndpointStats::decode_errors)
  kNotForUs,           // TSH dst node is not ours
  kStaleEpoch,         // weft: epoch does not match the link's
  kIllegalForState,    // the spec calls this opcode illegal in the link's state
  kNoLink,             // ACK-class frame for a link that does not exist (spec: discard)
  kStaleId,            // ACK/NACK/NACK_NOLINK naming an id that is not in flight
  kProfileMismatch,    // weft feature block missing in OPEN (a compat peer never reaches weft)
  kControlQueueFull,   // stateless reply could not be queued
  kRecvBufferFull,     // PAYLOAD dropped and answered with NACK_FULL
  kOutOfWindow,        // PAYLOAD too far ahead of the receive point to buffer
  kGoBackNIgnored,     // compat: younger PAYLOAD ignored after a NACK until the failed id returns
  // Secured endpoints (docs/security.md):
  kBadTag,             // the AEAD tag did not verify (forged, corrupted, or the wrong key)
  kReplay,             // transmission counter already seen, or older than the replay window
  kUnknownKey,         // protected frame for a link without keys, or an unknown key generation
  kUnauthenticated,    // plaintext frame where protection is required, or an OPEN/OPEN_ACK that
                       // failed authentication (not allowlisted, bad signature or MAC, no suite)
  kStaleOpen,          // OPEN replayed (stamp not newer than the last one seen) or outside the
                       // handshake window; OPEN_ACK that answers no OPEN of ours
  kCount,
};
std::string_view drop_reason_name(DropReason r);

struct EndpointStats {
  std::uint64_t frames_received = 0;
  std::uint64_t frames_sent = 0;
  std::uint64_t drops[static_cast<int>(DropReason::kCount)] = {};
  std::uint64_t decode_errors[wire::kDecodeErrorCount] = {};
  std::uint64_t links_opened = 0;
  std::uint64_t links_closed = 0;
  std::uint64_t link_errors = 0;
  // Secured endpoints: stateless replies (NACK_NOLINK, CLOSE_ACK, OPEN_NACK) not sent because no
  // link key could authenticate them.
  std::uint64_t replies_suppressed = 0;
  std::uint64_t key_exchanges = 0;  // X25519 computations (one per peer ephemeral key)
  std::uint64_t key_records = 0;    // link key records in the guarded slab (links + tombstones)
  std::uint64_t key_slab_bytes = 0; // guarded memory holding keys (sodium_malloc, not in malloc's totals)
  std::uint64_t drops_total() const;
};

struct LinkStats {
  std::uint64_t payloads_sent = 0;         // PAYLOAD frames including retransmissions
  std::uint64_t payload_bytes_sent = 0;
  std::uint64_t retransmits = 0;           // all causes
  std::uint64_t retransmits_rto = 0;       // retransmission timer expired
  std::uint64_t retransmits_fast = 0;      // weft: RACK / SACK loss detection
  std::uint64_t retransmits_nack = 0;      // compat: go-back-N after NACK
  std::uint64_t retransmits_nack_full = 0; // after NACK_FULL backpressure
  std::uint64_t spurious_retransmits = 0;  // weft: resent, then acknowledged too soon for the resend
  std::uint64_t rto_expirations = 0;
  std::uint64_t acks_sent = 0;            // ACK frames
  std::uint64_t acks_piggybacked = 0;     // weft: cumulative ACKs carried by PAYLOADs
  std::uint64_t acks_received = 0;
  std::uint64_t nacks_sent = 0;
  std::uint64_t nack_full_sent = 0;
  std::uint64_t nack_full_received = 0;
  std::uint64_t duplicate_payloads = 0;    // received again after delivery (re-ACKed)
  std::uint64_t out_of_order_payloads = 0; // weft: buffered ahead of a hole
  std::uint64_t ce_marked_received = 0;
  std::uint64_t messages_sent = 0;         // fully acknowledged
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_delivered = 0;       // message bytes handed to the application
  std::uint64_t congestion_decreases = 0;
  // Secured links: frames dropped by reason, and key rotations (docs/security.md).
  std::uint64_t drops_bad_tag = 0;
  std::uint64_t drops_replay = 0;
  std::uint64_t drops_stale_epoch = 0;
  std::uint64_t drops_unknown_key = 0;
  std::uint64_t drops_malformed = 0;   // authenticated, but the decrypted body did not parse
  std::uint64_t key_rotations_sent = 0;
  std::uint64_t key_rotations_received = 0;
};

struct LinkInfo {
  NodeId peer = 0;
  Vc vc = Vc::kData;
  LinkState state = LinkState::kClosed;
  std::uint32_t next_tx_id = 0;     // TxID the next new PAYLOAD takes
  std::uint32_t rx_last_id = 0;     // last in-order TxID received
  std::uint16_t local_epoch = 0;
  std::uint16_t remote_epoch = 0;
  std::uint64_t cwnd_bytes = 0;
  std::uint64_t bytes_in_flight = 0;
  std::uint64_t send_queue_bytes = 0;  // accepted by send() and not yet acknowledged
  TimeNs srtt_ns = 0;
  TimeNs min_rtt_ns = 0;
  TimeNs rto_ns = 0;
  // Security: whether frames are sealed, with which AEAD (and provider), and the key state.
  bool encrypted = false;
  std::string_view suite;     // "aes-256-gcm", "chacha20-poly1305"; empty when plaintext
  std::string_view provider;  // "libsodium", "openssl"
  std::uint8_t tx_key_generation = 0;
  std::uint8_t rx_key_generation = 0;
  std::uint64_t tx_counter = 0;  // next transmission counter value
  // The peer's Ed25519 identity public key from its authenticated Hello (all zero when the
  // peer authenticated with the cluster key alone, or the link is plaintext).
  std::array<std::uint8_t, 32> peer_identity{};
  LinkStats stats;
};

enum class EventKind : std::uint8_t {
  kOpened,       // the link reached OPEN
  kMessage,      // a whole message arrived (`message`)
  kPeerClosing,  // the peer sent CLOSE; the link closes once both sides are quiesced
  kClosed,       // the link closed cleanly (every message sent was acknowledged)
  kError,        // the link failed (`error`, `detail`); undelivered sends are lost *and reported*
};
std::string_view event_kind_name(EventKind k);

struct Event {
  EventKind kind = EventKind::kOpened;
  NodeId peer = 0;
  Vc vc = Vc::kData;
  std::vector<std::uint8_t> message;  // kMessage only
  Error error = Error::kNone;         // kError only
  std::string detail;                 // kError: what failed, where, and what to do
  std::uint64_t unacked_messages = 0; // kError: messages accepted by send() and never acknowledged
  LinkStats stats;                    // kClosed / kError: the link's final counters
};

// A message the endpoint holds by reference instead of copying (zero-copy send). `owner` keeps
// `bytes` alive; the endpoint drops its references once every byte is acknowledged (or the link
// fails), so a custom deleter on `owner` tells the application its buffer is free again. The
// bytes must not change while the endpoint holds them.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::span<const std::uint8_t> bytes;
  // Takes ownership of `v` (no copy).
  static SharedBytes adopt(std::vector<std::uint8_t>&& v);
  // Copies `b` into a new buffer.
  static SharedBytes copy_of(std::span<const std::uint8_t> b);
};

// What poll_transmit wrote.
struct Transmit {
  NodeId peer = 0;
  Vc vc = Vc::kData;
  std::size_t bytes = 0;      // frame length in the buffer (poll_transmit_gather: headers only)
  std::uint16_t entropy = 0;  // weft multipath entropy (also in the header); 0 in compat
  wire::Opcode opcode = wire::Opcode::kOpen;
  // poll_transmit_gather only: payload bytes that follow the buffer's bytes on the wire, kept
  // alive by `payload_owner` (hold it until the frame is sent). Empty when the frame is whole in
  // the buffer.
  std::span<const std::uint8_t> payload;
  std::shared_ptr<const void> payload_owner;
};

// poll_transmit_gather hands out payloads of at least this many bytes by reference; shorter ones
// are copied behind the headers (an iovec costs more than copying a few hundred bytes).
inline constexpr std::size_t kGatherMinPayloadBytes = 512;

// Receives message bytes as they arrive in order (Endpoint::set_message_sink), instead of whole
// messages as kMessage events: the bytes are valid only during the call (they are the frame's
// payload, decrypted), so a receiver that knows where a message goes copies or reduces it there
// straight from the frame. `first` marks a message's first bytes, `last` its end; a message of
// zero bytes is one call with both set. Called from inside on_frame/on_timer: the sink must not
// call back into the Endpoint (queue work and do it after on_frame returns).
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual void on_message_data(NodeId peer, Vc vc, std::span<const std::uint8_t> bytes, bool first, bool last,
                               TimeNs now) = 0;
};

class Connection;  // internal

class Endpoint {
 public:
  explicit Endpoint(const EndpointConfig& config);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const EndpointConfig& config() const { return config_; }

  // Starts opening the link to (peer, vc): CLOSED -> OPEN_SENT. kOpened follows, or kError.
  Status open(NodeId peer, Vc vc, TimeNs now);
  // Queues one message on an OPEN link (or one still opening; it waits for OPEN). Weft: any size,
  // segmented; compat: 1..1024 B, one PAYLOAD each. Fails with kSendBufferFull when the link's
  // send buffer is full (retry after progress), kInvalidArgument for sizes the profile forbids.
  Status send(NodeId peer, Vc vc, std::span<const std::uint8_t> message, TimeNs now);
  // Zero-copy send: the endpoint keeps a reference to `message` instead of copying it, and
  // releases it when the message is acknowledged (or the link fails). Same rules as above.
  Status send_shared(NodeId peer, Vc vc, SharedBytes message, TimeNs now);
  // Graceful close: queued messages are still delivered, then CLOSE/CLOSE_ACK. kClosed follows.
  Status close(NodeId peer, Vc vc, TimeNs now);

  // A frame arrived. For UDP encapsulation `udp_peer` names the sender (the driver maps its
  // address); on Ethernet the TSH src node is used and `udp_peer` is ignored.
  void on_frame(std::span<const std::uint8_t> frame, TimeNs now, NodeId udp_peer = 0);
  // Writes the next frame to send into `buf` (at least max_frame_bytes long). Returns false when
  // there is nothing to send now; call again after on_frame/on_timer/send.
  bool poll_transmit(std::span<std::uint8_t> buf, TimeNs now, Transmit& out);
  // As poll_transmit, but a PAYLOAD of at least kGatherMinPayloadBytes is not copied: only its
  // headers are written to `buf` and out.payload names the payload bytes (for datapaths that send
  // scatter-gather lists; see Datapath::gathers()).
  bool poll_transmit_gather(std::span<std::uint8_t> buf, TimeNs now, Transmit& out);
  // Earliest time on_timer must be called, or kNever.
  TimeNs next_timer() const;
  void on_timer(TimeNs now);
  // Streams every link's messages to `sink` (null: back to kMessage events). Set it before links
  // carry data: a message already half reassembled is not handed over.
  void set_message_sink(MessageSink* sink);
  // Next application event, if any.
  std::optional<Event> poll_event();
  bool has_events() const { return events_head_ < events_.size(); }

  // Introspection.
  LinkState state(NodeId peer, Vc vc) const;
  std::optional<LinkInfo> link_info(NodeId peer, Vc vc) const;
  std::size_t link_count() const;
  const EndpointStats& stats() const { return stats_; }
  // True when any link has something to transmit right now (the driver may poll_transmit).
  bool wants_to_transmit() const;

 private:
  friend class Connection;
  struct Impl;
  EndpointConfig config_;
  EndpointStats stats_;
  std::unique_ptr<Impl> impl_;
  // Pending events are events_[events_head_..]; the vector is cleared (keeping its capacity)
  // once all are taken, so steady traffic allocates nothing here (a deque of events this size
  // allocated and freed a node per event).
  std::vector<Event> events_;
  std::size_t events_head_ = 0;
};

}  // namespace weft::transport
