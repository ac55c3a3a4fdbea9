// weft::conformance — a packet-level conformance suite for TTP (TTPoE Rev 2.0) implementations.
//
// A scripted tester node (node 0x000002) exchanges frames with the implementation under test
// (node 0x000001) and checks, clause by clause, what the implementation sends back. Each clause
// names the spec text it checks (research/ttpoe.md §2, §3, §12; docs/conformance.md lists all of
// them) and the profiles it applies to.
//
//   LocalTarget target(LocalTarget::config_for(Profile::kTtpoeCompat, clause.hints));
//   Outcome o = run_clause(clause, target);   // kPass, kFail (o.detail says what), kSkipped
//
// The implementation sits behind a Target: frames in (inject), frames out (collect), time
// (advance), and optional host-side actions (open/send/close a link, read what the application
// received, the link state). LocalTarget wraps weft's own Endpoint; a target for an outside
// implementation (UDP, raw Ethernet) implements the same interface, leaves out what it cannot do,
// and the clauses that need it report kSkipped rather than pass.
//
// Threading: none of these types is thread-safe; a clause runs on one thread.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "weft/transport/config.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::conformance {

namespace wire = transport::wire;
using transport::LinkState;
using transport::NodeId;
using transport::Profile;
using transport::TimeNs;
using transport::Vc;
using Bytes = std::vector<std::uint8_t>;

inline constexpr NodeId kTesterNode = 0x000002;          // the scripted tester's node id
inline constexpr NodeId kImplementationNode = 0x000001;  // the implementation's node id

// ---- what a clause wants from the target ------------------------------------------------------

// Configuration a clause would like the implementation to run with. A target that can be
// configured (LocalTarget::config_for) applies them; one that cannot ignores them and reports what
// it has in TargetInfo, and the clauses that depend on a value skip when it is unknown.
struct TargetHints {
  std::optional<std::uint32_t> initial_tx_id = {};      // TxID of every link's OPEN (wrap tests)
  std::optional<std::uint32_t> recv_buffer_bytes = {};  // receive buffer per link (NACK_FULL tests)
  std::optional<std::uint32_t> link_limit = {};         // links held at once (OPEN_NACK tests)
};

// What the tester knows about the implementation under test.
struct TargetInfo {
  Profile profile = Profile::kTtpoeCompat;
  wire::Encapsulation encapsulation = wire::Encapsulation::kEthernet;
  NodeId implementation_node = kImplementationNode;
  NodeId tester_node = kTesterNode;
  // Longest the implementation may take to answer a frame, ACK coalescing delay included, in ns
  // of the target's time. Silence checks wait this long.
  TimeNs reply_window_ns = 10'000;
  // Time within which the implementation replays an unanswered OPEN, CLOSE or PAYLOAD at least
  // once, in ns. "No replay" checks wait this long.
  TimeNs replay_deadline_ns = 5'000'000;
  bool host_control = false;   // host_open/send/close/hold_delivery/received work
  bool atomic_bursts = false;  // inject_burst delivers every frame before the implementation answers
  bool reports_state = false;  // state() returns the link state
  std::optional<std::uint32_t> initial_tx_id;      // every link's OPEN TxID, when fixed and known
  std::optional<std::uint32_t> recv_buffer_bytes;  // receive buffer per link, when known
  std::optional<std::uint32_t> link_limit;         // links held at once, when known
};

// Result of a host-side action.
struct HostStatus {
  enum Code : std::uint8_t {
    kOk,
    kUnsupported,  // the target cannot do this (an outside implementation without a control channel)
    kRejected,     // the implementation refused; `detail` says why
  };
  Code code = kOk;
  std::string detail;
  bool ok() const { return code == kOk; }
};

// ---- the implementation under test -----------------------------------------------------------

class Target {
 public:
  virtual ~Target() = default;

  virtual Profile profile() const = 0;
  virtual TargetInfo info() const = 0;

  // A frame from the tester to the implementation (encoded in info().encapsulation).
  virtual void inject(std::span<const std::uint8_t> frame) = 0;
  // Several frames back to back. When info().atomic_bursts, the implementation receives all of
  // them before it sends anything; otherwise this is inject() in a loop.
  virtual void inject_burst(const std::vector<Bytes>& frames);
  // Frames the implementation sent since the previous call, oldest first. A local target lets the
  // implementation run (drain its transmit queue) first; it never advances time.
  virtual std::vector<Bytes> collect() = 0;
  // Moves the implementation's time forward by `dt_ns` (>= 0), firing every timer that falls due,
  // in order, at its own deadline.
  virtual void advance(TimeNs dt_ns) = 0;

  // Host-side actions, on the implementation's side of the link to `peer`. Default: kUnsupported.
  virtual HostStatus host_open(NodeId peer, Vc vc);
  virtual HostStatus host_send(NodeId peer, Vc vc, std::span<const std::uint8_t> message);
  virtual HostStatus host_close(NodeId peer, Vc vc);
  // While held, the application reads nothing: received messages stay in the implementation's
  // receive buffer (NACK_FULL tests). Releasing lets it read everything pending.
  virtual HostStatus host_hold_delivery(bool hold);
  // Messages the application received on (peer, vc) since the previous call; nullopt when the
  // target cannot tell.
  virtual std::optional<std::vector<Bytes>> host_received(NodeId peer, Vc vc);
  // The link's state; nullopt when the target cannot tell (CLOSED when no link exists).
  virtual std::optional<LinkState> state(NodeId peer, Vc vc) const;
};

// weft's own Endpoint as the implementation under test: Ethernet encapsulation, node 0x000001,
// virtual time starting at 1 ms. After every inject, host action and timer it drains
// poll_transmit into the outbox (as a driver would, at that instant) and, unless delivery is held,
// reads every application event.
class LocalTarget final : public Target {
 public:
  // `config.node_id` and `config.encapsulation` are overridden (node 0x000001, Ethernet).
  explicit LocalTarget(const transport::EndpointConfig& config);

  // The default EndpointConfig for `profile` with `hints` applied.
  static transport::EndpointConfig config_for(Profile profile, const TargetHints& hints = {});

  Profile profile() const override;
  TargetInfo info() const override;
  void inject(std::span<const std::uint8_t> frame) override;
  void inject_burst(const std::vector<Bytes>& frames) override;
  std::vector<Bytes> collect() override;
  void advance(TimeNs dt_ns) override;
  HostStatus host_open(NodeId peer, Vc vc) override;
  HostStatus host_send(NodeId peer, Vc vc, std::span<const std::uint8_t> message) override;
  HostStatus host_close(NodeId peer, Vc vc) override;
  HostStatus host_hold_delivery(bool hold) override;
  std::optional<std::vector<Bytes>> host_received(NodeId peer, Vc vc) override;
  std::optional<LinkState> state(NodeId peer, Vc vc) const override;

  transport::Endpoint& endpoint() { return endpoint_; }
  TimeNs now() const { return now_; }

 private:
  void run();  // drain transmit, then events (unless held)
  HostStatus status(const transport::Status& s) const;

  transport::Endpoint endpoint_;
  TimeNs now_;
  bool hold_ = false;
  Bytes buf_;
  std::vector<Bytes> outbox_;
  struct Inbox {
    NodeId peer;
    Vc vc;
    std::vector<Bytes> messages;
  };
  std::vector<Inbox> received_;
};

// An outside implementation reached through a real Datapath: over UDP, a UdpDatapath and the node
// id it gave the implementation's address (add_peer); the tester is this datapath's own address.
// Time is real: advance() waits on the datapath for `dt_ns`, keeping what arrives, and collect()
// returns it without waiting. Frames from any other source are ignored (foreign_frames()).
// There is no control channel to the implementation: host actions report kUnsupported, state and
// received messages are unknown, and bursts are not atomic, so the clauses that need them skip.
// Use one target (and one fresh datapath, so a fresh tester address) per clause: a clause assumes
// the implementation holds no link to the tester when it starts.
class RemoteTarget final : public Target {
 public:
  struct Options {
    Profile profile = Profile::kWeft;              // the profile the implementation runs
    TimeNs reply_window_ns = 50'000'000;           // longest wait for a reply; silence checks wait this long
    TimeNs replay_deadline_ns = 500'000'000;       // longest wait for a timer-driven replay
    TimeNs send_retry_ns = 100'000'000;            // how long inject() retries a datagram the datapath refuses
    NodeId implementation_node = kImplementationNode;  // raw Ethernet only: the TSH node ids on the wire
    NodeId tester_node = kTesterNode;
  };
  // `datapath` must outlive the target; `implementation` is the datapath's node id of the peer.
  RemoteTarget(transport::Datapath& datapath, NodeId implementation, const Options& options);

  Profile profile() const override;
  TargetInfo info() const override;
  // Sends `frame` to the implementation; throws std::runtime_error if the datapath refuses it for
  // longer than send_retry_ns.
  void inject(std::span<const std::uint8_t> frame) override;
  // One tx_burst (one sendmmsg over UDP), so the frames leave back to back; not atomic: the
  // implementation may answer the first before the last arrives.
  void inject_burst(const std::vector<Bytes>& frames) override;
  std::vector<Bytes> collect() override;
  void advance(TimeNs dt_ns) override;

  std::uint64_t foreign_frames() const { return foreign_frames_; }

 private:
  void receive();  // everything the datapath holds now, from the implementation, into inbox_
  void send(std::span<const transport::TxFrame> frames);  // retries refused frames, then throws
  transport::TxFrame tx_frame(std::span<const std::uint8_t> frame) const;

  transport::Datapath& datapath_;
  NodeId implementation_;
  Options options_;
  std::vector<transport::RxFrame> rx_;
  std::vector<Bytes> inbox_;
  std::uint64_t foreign_frames_ = 0;
};

// ---- outcomes and profiles ----------------------------------------------------------------------

struct Outcome {
  enum Status : std::uint8_t { kPass, kFail, kSkipped };
  Status status = kPass;
  std::string detail;  // kFail: expected vs seen, and the frames exchanged; kSkipped: why
};
std::string_view outcome_status_name(Outcome::Status s);

enum class ProfileMask : std::uint8_t { kCompat = 1, kWeft = 2, kBoth = 3 };
bool applies(ProfileMask mask, Profile profile);
std::string_view profile_mask_name(ProfileMask mask);  // "compat", "weft", "both"

// ---- the scripted tester --------------------------------------------------------------------------

// A frame the implementation sent, decoded.
struct Seen {
  Bytes raw;                // the frame as collected
  NodeId src = 0;           // TSH src node (0 over UDP)
  NodeId dst = 0;           // TSH dst node (0 over UDP)
  wire::TtpHeader ttp;
  wire::Extensions ext;
  Bytes payload;
  std::string describe() const;  // "OPEN_ACK vc2 tx=0x00000065 rx=0x00000064 epoch=0x7e03 ..."
};

// Field checks for an expected frame; unset fields are not checked.
// (Every member has an initializer so that designated initializers may name any subset.)
struct Expect {
  std::optional<std::uint32_t> tx = {};
  std::optional<std::uint32_t> rx = {};
  // weft: when unset, the link's epoch if the tester knows it (every frame but OPEN carries it).
  std::optional<std::uint16_t> epoch = {};
  std::optional<Bytes> payload = {};
  std::optional<NodeId> to = {};  // TSH dst node; default the tester's node
  // Extra check: returns "" when the frame is right, else what is wrong with it.
  std::function<std::string(const Seen&)> check = {};
};

struct Want {
  wire::Opcode opcode = wire::Opcode::kOpen;
  Vc vc = Vc::kData;
  Expect fields = {};
};

// A frame the tester sends. Unset fields take the defaults described.
struct Out {
  wire::Opcode opcode = wire::Opcode::kOpen;
  Vc vc = Vc::kData;
  std::uint32_t tx = 0;
  std::uint32_t rx = 0;
  Bytes payload;
  // weft: OPEN carries the tester's epoch for the VC; every other frame the link's epoch (or the
  // tester's when no link is known). compat: 0.
  std::optional<std::uint16_t> epoch;
  // weft OPEN/OPEN_ACK: carry the feature block (default true). Ignored in compat.
  bool features = true;
  std::vector<wire::SackRange> sack;  // weft ACK only
  NodeId src = 0;                     // 0: the tester's node (other values impersonate a node)
};

// Drives one clause: builds frames as the tester node, decodes what the implementation sends,
// checks it and records a short trace. Checks that fail end the clause by throwing Tester::Stop,
// which run_clause() turns into the Outcome; clause bodies therefore read as straight scripts.
class Tester {
 public:
  struct Stop {
    Outcome outcome;
  };

  explicit Tester(Target& target);

  Target& target() { return target_; }
  const TargetInfo& info() const { return info_; }
  Profile profile() const { return info_.profile; }
  bool weft() const { return info_.profile == Profile::kWeft; }
  bool compat() const { return info_.profile == Profile::kTtpoeCompat; }
  TimeNs reply_window() const { return info_.reply_window_ns; }
  TimeNs replay_deadline() const { return info_.replay_deadline_ns; }

  // ---- ending a clause
  [[noreturn]] void fail(const std::string& what);
  [[noreturn]] void skip(const std::string& why);
  void note(const std::string& text);  // added to a passing outcome's detail
  Outcome pass() const;
  void require_host_control();
  void require_atomic_bursts();
  void require_ethernet();

  // ---- frames to the implementation
  Out open(Vc vc, std::uint32_t tx) const;
  Out control(wire::Opcode op, Vc vc, std::uint32_t tx, std::uint32_t rx) const;
  Out payload(Vc vc, std::uint32_t tx, std::size_t bytes = 64) const;
  static Bytes pattern(std::uint32_t seed, std::size_t bytes);  // deterministic payload bytes
  // The epoch `out` will carry (0 in compat), without sending it.
  std::uint16_t epoch_for(const Out& out) const;
  Bytes build(const Out& out);  // resolves defaults (may learn the link epoch) and encodes
  void send(const Out& out);
  void send_raw(const Bytes& frame, const std::string& what);  // logged as `what`
  void send_burst(const std::vector<Out>& outs);

  // ---- frames from the implementation
  // The next frame must be `op` on `vc` with `fields`; waits up to the reply window.
  Seen expect(wire::Opcode op, Vc vc, const Expect& fields = {}, const std::string& step = {});
  // As expect(), waiting up to `within_ns` (timer-driven frames).
  Seen await(wire::Opcode op, Vc vc, const Expect& fields, const std::string& step, TimeNs within_ns);
  // The next frame is one of `wants`; returns its index and the frame.
  std::pair<std::size_t, Seen> expect_any(const std::vector<Want>& wants, const std::string& step);
  // The next frames are exactly `wants`, in any order.
  std::vector<Seen> expect_unordered(const std::vector<Want>& wants, const std::string& step);
  // Nothing is sent for `for_ns` (default: the reply window).
  void expect_silence(const std::string& step, TimeNs for_ns = 0);
  // Everything sent within `for_ns`, unchecked.
  std::vector<Seen> drain(TimeNs for_ns);
  void advance(TimeNs dt_ns);
  // "" when `seen` is `op` on `vc` with `fields`, else what differs.
  std::string mismatch(const Seen& seen, wire::Opcode op, Vc vc, const Expect& fields) const;

  // ---- state (checked only where the target reports it)
  bool knows_state() const { return info_.reports_state; }
  void expect_state(Vc vc, LinkState s, const std::string& step, NodeId peer = 0);

  // ---- link epochs (weft)
  std::uint16_t tester_epoch(Vc vc) const { return tester_epoch_[index(vc)]; }
  void new_tester_epoch(Vc vc);  // a restarted tester picks a fresh epoch
  std::optional<std::uint16_t> link_epoch(Vc vc) const { return link_epoch_[index(vc)]; }
  void set_link_epoch(Vc vc, std::uint16_t e) { link_epoch_[index(vc)] = e; }
  void forget_link(Vc vc) { link_epoch_[index(vc)].reset(); }

  // ---- host actions: kUnsupported skips the clause, kRejected fails it
  void host_open(Vc vc);
  void host_send(Vc vc, const Bytes& message);
  void host_close(Vc vc);
  void hold_delivery(bool hold);
  std::optional<std::vector<Bytes>> received(Vc vc);  // nullopt when the target cannot tell

 private:
  static std::size_t index(Vc vc) { return static_cast<std::size_t>(vc); }
  void pull();  // collect and decode into pending_
  std::optional<Seen> next_frame(TimeNs within_ns);
  void check_host(const HostStatus& s, const std::string& action);
  void log(const std::string& line);
  std::string trace() const;
  std::string describe_out(const Out& out, std::size_t bytes) const;
  std::string describe_want(wire::Opcode op, Vc vc, const Expect& fields) const;

  Target& target_;
  TargetInfo info_;
  TimeNs elapsed_ = 0;  // time the tester advanced the target by
  std::deque<Seen> pending_;
  std::vector<std::string> log_;
  std::vector<std::string> notes_;
  std::array<std::uint16_t, transport::kVcCount> tester_epoch_{};
  std::array<std::optional<std::uint16_t>, transport::kVcCount> link_epoch_{};
};

// ---- the clause registry ----------------------------------------------------------------------------

struct Clause {
  std::string id;        // a C identifier, e.g. "S3_2_OPEN_in_CLOSED" (used as the test name)
  std::string spec_ref;  // e.g. "TTPoE §3.2 OPEN row; ttpoe.md §12.2"
  std::string text;      // what is checked, one or two sentences
  ProfileMask profiles = ProfileMask::kBoth;
  std::function<Outcome(Target&, Tester&)> run;
  TargetHints hints;     // configuration the clause would like (LocalTarget::config_for)
};

// Every clause, in docs/conformance.md order: framing, the §3.2 receive table (one clause per
// cell), then the §12 scenarios.
const std::vector<Clause>& clauses();

// Runs `clause` against `target`: kSkipped when the clause does not apply to the target's
// profile or needs an action the target lacks; exceptions from the target become kFail.
Outcome run_clause(const Clause& clause, Target& target);

}  // namespace weft::conformance
