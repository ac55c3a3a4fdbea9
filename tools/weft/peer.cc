// `weft peer`: a TTP responder over UDP.
//
// It binds a UdpDatapath (wrapped in a FaultShim when --loss asks for loss), runs an Endpoint with
// UDP encapsulation under the generic poll Driver, and accepts links from anyone: every datagram
// source is a node, and every OPEN from it is answered. Each message received is dropped (--sink,
// the default, which is also what `weft conformance` expects of a peer) or sent back on the link
// it came on (--echo, what `weft send --verify` expects). A message the link's send buffer cannot
// take yet waits in a per-link queue and is retried after progress, so echoes keep their order.
//
// Opens, closes and errors are logged to stderr with UTC timestamps, each open with the link's
// security ("encrypted aes-256-gcm (openssl)" or "PLAINTEXT"); frames the endpoint drops (a wrong
// key, a peer not on the allowlist, a forged or replayed frame) are logged by reason, at most once
// a second. SIGINT or SIGTERM closes every link gracefully (CLOSE/CLOSE_ACK), waiting at most
// --close-timeout-s, and exits 0; with --json a report (endpoint drops by reason, every link's
// security and drop counters) is printed on stdout then.
//
// Security (weft profile): keys from --identity/--allow and/or --cluster-key(-fd), or --insecure
// for plaintext; without either it refuses to start (net.h, apply_security).
//
// --broken-mode is for tests only: a Datapath decorator damages what this peer sends (drops its
// ACKs, or answers OPEN with the wrong RxID) so that `weft conformance` can be shown to fail.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"
#include "weft/transport/udp_datapath.h"
#if defined(WEFT_HAVE_DPDK)
#include "weft/transport/dpdk_datapath.h"
#endif

namespace weft::tools {
namespace {

using transport::Datapath;
using transport::Endpoint;
using transport::Event;
using transport::EventKind;
using transport::NodeId;
using transport::TimeNs;
using transport::Vc;
namespace wire = transport::wire;
using Json = nlohmann::ordered_json;

constexpr const char* kHelpFor = "weft peer";
constexpr TimeNs kStepWaitNs = 200'000'000;  // longest idle sleep; signals interrupt it anyway
constexpr TimeNs kDropLogEveryNs = 1'000'000'000;  // drop log lines: at most one a second
constexpr std::size_t kMaxJsonLinks = 10000;       // --json: links reported at most (newest dropped)

struct PeerOptions {
  std::string listen;
  std::string profile = "weft";
  bool echo = false;
  bool sink = false;
  double loss = 0;
  std::uint64_t seed = 1;
  std::string pcap;
  std::string port_file;
  std::string broken_mode;
  double close_timeout_s = 2;
  bool quiet = false;
  bool json = false;
  bool busy_poll = false;
  SecurityOptions security;
  std::string eal = kDefaultEal;  // dpdk: EAL options
  std::uint32_t node_id = 1;      // dpdk: this peer's 24-bit node id (MAC low bits)
};

// ---- test-only: a peer that breaks the protocol on purpose ------------------------------------

enum class BrokenMode : std::uint8_t {
  kDropAcks,         // every ACK this peer sends is dropped: senders never see data acknowledged
  kWrongOpenAckRx,   // OPEN_ACK carries RxID = the OPEN's TxID + 1 instead of the OPEN's TxID
};

constexpr std::pair<const char*, BrokenMode> kBrokenModes[] = {
    {"drop-acks", BrokenMode::kDropAcks},
    {"wrong-open-ack-rx", BrokenMode::kWrongOpenAckRx},
};

// Offsets inside the 18 B TTP header (weft/transport/wire.h draws it): opcode, then RxID.
constexpr std::size_t kTtpOpcode = 0;
constexpr std::size_t kTtpRxId = 14;

// Damages outgoing frames as `mode` says; everything else passes through to `inner`.
class BrokenDatapath final : public Datapath {
 public:
  BrokenDatapath(Datapath& inner, BrokenMode mode)
      : inner_(inner), mode_(mode), ttp_offset_(wire::ce_byte_offset(inner.encapsulation()) - 8) {}
  wire::Encapsulation encapsulation() const override { return inner_.encapsulation(); }
  std::size_t max_frame_bytes() const override { return inner_.max_frame_bytes(); }
  std::size_t rx_burst(std::span<transport::RxFrame> out) override { return inner_.rx_burst(out); }
  int wait_fd() const override { return inner_.wait_fd(); }
  void set_pcap(transport::PcapWriter* pcap) override { inner_.set_pcap(pcap); }
  std::string describe() const override { return inner_.describe() + " + BROKEN (test only)"; }
  std::uint64_t damaged() const { return damaged_; }

  // One frame at a time (this is a test tool; batching does not matter here).
  std::size_t tx_burst(std::span<const transport::TxFrame> frames) override {
    std::size_t accepted = 0;
    for (const transport::TxFrame& f : frames) {
      transport::TxFrame out = f;
      if (f.bytes.size() >= ttp_offset_ + wire::kTtpBytes) {
        const auto op = static_cast<wire::Opcode>(f.bytes[ttp_offset_ + kTtpOpcode]);
        if (mode_ == BrokenMode::kDropAcks && op == wire::Opcode::kAck) {
          ++damaged_;
          ++accepted;
          continue;
        }
        if (mode_ == BrokenMode::kWrongOpenAckRx && op == wire::Opcode::kOpenAck) {
          scratch_.assign(f.bytes.begin(), f.bytes.end());
          std::uint32_t rx = 0;
          for (std::size_t i = 0; i < 4; ++i) rx = (rx << 8) | scratch_[ttp_offset_ + kTtpRxId + i];
          ++rx;
          for (std::size_t i = 0; i < 4; ++i) {
            scratch_[ttp_offset_ + kTtpRxId + i] = static_cast<std::uint8_t>(rx >> (8 * (3 - i)));
          }
          out.bytes = scratch_;
          ++damaged_;
        }
      }
      if (inner_.tx_burst({&out, 1}) != 1) return accepted;
      ++accepted;
    }
    return accepted;
  }

 private:
  Datapath& inner_;
  BrokenMode mode_;
  std::size_t ttp_offset_;
  std::vector<std::uint8_t> scratch_;
  std::uint64_t damaged_ = 0;
};

// ---- the responder ---------------------------------------------------------------------------------

struct LinkRecord {
  std::string name;  // "udp://127.0.0.1:40000 vc2"
  TimeNs opened_ns = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::deque<transport::SharedBytes> echo_queue;  // echoes the send buffer could not take yet
  std::optional<transport::LinkInfo> info;        // at open: the link's security (suite, provider)
};

// " drops: bad-tag 2, replay 1" for a link's non-zero security drop counters, or "".
std::string link_drops_text(const transport::LinkStats& st) {
  const std::pair<const char*, std::uint64_t> counters[] = {{"bad-tag", st.drops_bad_tag},
                                                            {"replay", st.drops_replay},
                                                            {"stale-epoch", st.drops_stale_epoch},
                                                            {"unknown-key", st.drops_unknown_key},
                                                            {"malformed", st.drops_malformed}};
  std::string out;
  for (const auto& [name, n] : counters) {
    if (n > 0) out += (out.empty() ? "; drops: " : ", ") + std::string(name) + " " + std::to_string(n);
  }
  if (st.key_rotations_sent + st.key_rotations_received > 0) {
    out += "; key rotations " + std::to_string(st.key_rotations_sent) + " sent, " +
           std::to_string(st.key_rotations_received) + " received";
  }
  return out;
}

class Peer {
 public:
  // `name_of` names a peer node in log lines (its UDP address, or its node id on Ethernet).
  Peer(const PeerOptions& o, std::function<std::string(NodeId)> name_of, Datapath& dp, Endpoint& ep,
       transport::Driver::Options driver_options)
      : o_(o), name_of_(std::move(name_of)), ep_(ep), driver_(ep, dp, driver_options) {}

  void log(const std::string& line) const {
    if (!o_.quiet) std::cerr << utc_timestamp() << " weft peer: " << line << "\n";
  }

  std::string link_name(NodeId peer, Vc vc) const { return name_of_(peer) + " " + std::string(transport::vc_name(vc)); }

  static std::uint32_t key_vc(Vc vc) { return static_cast<std::uint32_t>(vc); }

  LinkRecord& record(NodeId peer, Vc vc) {
    auto [it, fresh] = links_.try_emplace({peer, key_vc(vc)});
    if (fresh) it->second.name = link_name(peer, vc);
    return it->second;
  }

  void handle(Event& ev) {
    const TimeNs now = transport::monotonic_now_ns();
    switch (ev.kind) {
      case EventKind::kOpened: {
        LinkRecord& r = record(ev.peer, ev.vc);
        r.opened_ns = now;
        r.info = ep_.link_info(ev.peer, ev.vc);
        const std::string security =
            r.info ? link_security_text(r.info->encrypted, r.info->suite, r.info->provider) : "PLAINTEXT";
        log("link " + r.name + " opened (" + std::to_string(links_.size()) + " open), " + security);
        return;
      }
      case EventKind::kMessage: {
        LinkRecord& r = record(ev.peer, ev.vc);
        ++r.messages;
        r.bytes += ev.message.size();
        if (o_.echo) {
          r.echo_queue.push_back(transport::SharedBytes::adopt(std::move(ev.message)));  // echoed without a copy
          flush(ev.peer, ev.vc, r, now);
        }
        return;
      }
      case EventKind::kPeerClosing:
        log("link " + link_name(ev.peer, ev.vc) + ": the peer is closing it");
        return;
      case EventKind::kClosed: {
        auto it = links_.find({ev.peer, key_vc(ev.vc)});
        const std::string name = it != links_.end() ? it->second.name : link_name(ev.peer, ev.vc);
        std::string what = "link " + name + " closed";
        if (it != links_.end()) {
          char buf[160];
          std::snprintf(buf, sizeof buf, ": %llu message(s), %s received in %.3f s; %llu retransmit(s)",
                        static_cast<unsigned long long>(it->second.messages), bytes_text(it->second.bytes).c_str(),
                        static_cast<double>(now - it->second.opened_ns) / 1e9,
                        static_cast<unsigned long long>(ev.stats.retransmits));
          what += buf + link_drops_text(ev.stats);
          remember(it->second, ev.stats, "closed");
          links_.erase(it);
        }
        log(what);
        return;
      }
      case EventKind::kError: {
        auto it = links_.find({ev.peer, key_vc(ev.vc)});
        std::string what = "link " + (it != links_.end() ? it->second.name : link_name(ev.peer, ev.vc)) +
                           " failed: " + std::string(transport::error_name(ev.error)) + ": " + ev.detail;
        if (it != links_.end() && !it->second.echo_queue.empty()) {
          what += " (" + std::to_string(it->second.echo_queue.size()) + " echo(es) not sent)";
        }
        if (ev.unacked_messages > 0) what += " (" + std::to_string(ev.unacked_messages) + " echo(es) unacknowledged)";
        what += link_drops_text(ev.stats);
        if (it != links_.end()) {
          remember(it->second, ev.stats, "failed: " + std::string(transport::error_name(ev.error)));
          links_.erase(it);
        }
        log(what);
        return;
      }
    }
  }

  // Hands queued echoes to the endpoint until its send buffer is full.
  void flush(NodeId peer, Vc vc, LinkRecord& r, TimeNs now) {
    while (!r.echo_queue.empty()) {
      const transport::Status s = ep_.send_shared(peer, vc, r.echo_queue.front(), now);
      if (s.ok()) {
        r.echo_queue.pop_front();
        continue;
      }
      if (s.error() == transport::Error::kSendBufferFull) return;  // retried after progress
      log("link " + r.name + ": echo refused: " + std::string(transport::error_name(s.error())) + ": " + s.detail());
      r.echo_queue.clear();
      return;
    }
  }

  void flush_all() {
    if (!o_.echo) return;
    const TimeNs now = transport::monotonic_now_ns();
    for (auto& [key, r] : links_) {
      if (!r.echo_queue.empty()) flush(key.first, static_cast<Vc>(key.second), r, now);
    }
  }

  // --json: what a link did, kept once it is gone.
  void remember(const LinkRecord& r, const transport::LinkStats& st, const std::string& end) {
    if (!o_.json) return;
    if (reported_.size() >= kMaxJsonLinks) {
      ++links_omitted_;
      return;
    }
    reported_.push_back(link_json(r, st, end));
  }

  static Json link_json(const LinkRecord& r, const transport::LinkStats& st, const std::string& end) {
    Json j;
    j["link"] = r.name;
    j["end"] = end;
    j["messages_received"] = r.messages;
    j["bytes_received"] = r.bytes;
    j["retransmits"] = st.retransmits;
    j.update(link_security_json(r.info ? &*r.info : nullptr, st));
    return j;
  }

  // Logs frames the endpoint dropped since the last such line, by reason, at most once a second.
  void log_drops(TimeNs now) {
    const transport::EndpointStats& st = ep_.stats();
    if (st.drops_total() == drops_logged_ || now < next_drop_log_) return;
    std::string by_reason;
    for (int r = 0; r < static_cast<int>(transport::DropReason::kCount); ++r) {
      const std::uint64_t d = st.drops[r] - drops_by_reason_logged_[r];
      if (d == 0) continue;
      by_reason += (by_reason.empty() ? "" : ", ") +
                   std::string(transport::drop_reason_name(static_cast<transport::DropReason>(r))) + " " +
                   std::to_string(d);
      drops_by_reason_logged_[r] = st.drops[r];
    }
    const bool secured = ep_.config().credentials != nullptr;
    std::string hint;
    if (by_reason.find("unauthenticated") != std::string::npos) {
      hint += "; unauthenticated: a handshake with another key, from a peer not on the allowlist or with no "
              "--cipher in common, or a plaintext (--insecure) sender";
    }
    if (by_reason.find("profile-mismatch") != std::string::npos) {
      hint += secured ? "; profile-mismatch: an OPEN of the other --profile"
                      : "; profile-mismatch: an OPEN of the other --profile, or from a sender with keys while this "
                        "peer runs --insecure";
    }
    if (!hint.empty()) hint = " (" + hint.substr(2) + ")";
    log("dropped " + std::to_string(st.drops_total() - drops_logged_) + " frame(s): " + by_reason + hint);
    drops_logged_ = st.drops_total();
    next_drop_log_ = now + kDropLogEveryNs;
  }

  void pump(TimeNs max_wait_ns) {
    driver_.step(max_wait_ns);
    while (auto ev = ep_.poll_event()) handle(*ev);
    flush_all();
    if (!o_.quiet) log_drops(transport::monotonic_now_ns());
  }

  int run() {
    while (!stop_requested()) pump(kStepWaitNs);
    shutdown();
    return kExitOk;
  }

  // Closes every open link and waits (bounded) for CLOSE_ACKs.
  void shutdown() {
    const TimeNs now = transport::monotonic_now_ns();
    std::size_t closing = 0;
    for (auto& [key, r] : links_) {
      const transport::Status s = ep_.close(key.first, static_cast<Vc>(key.second), now);
      if (s.ok()) ++closing;
    }
    log(stop_signal_name() + ": closing " + std::to_string(closing) + " link(s), waiting at most " +
        std::to_string(o_.close_timeout_s).substr(0, 4) + " s");
    const TimeNs deadline = now + static_cast<TimeNs>(o_.close_timeout_s * 1e9);
    while (!links_.empty() && transport::monotonic_now_ns() < deadline) pump(10'000'000);
    if (!links_.empty()) {
      log(std::to_string(links_.size()) + " link(s) did not close within the timeout; leaving them");
    }
    const transport::EndpointStats& st = ep_.stats();
    log("stopped: " + std::to_string(st.links_opened) + " link(s) opened, " + std::to_string(st.frames_received) +
        " frames received, " + std::to_string(st.frames_sent) + " sent, " + endpoint_drops_text(st) +
        " dropped" +
        (st.replies_suppressed > 0 ? ", " + std::to_string(st.replies_suppressed) + " replies suppressed"
                                   : std::string()));
  }

  // --json: the run's report (after shutdown()).
  Json report(const std::string& listen, const SecuritySetup& security) const {
    const transport::EndpointStats& st = ep_.stats();
    Json j;
    j["command"] = "peer";
    j["listen"] = listen;
    j["profile"] = std::string(transport::profile_name(ep_.config().profile));
    j["encrypted"] = security.encrypted;
    j["auth"] = security.auth;
    j["suites_offered"] = security.offered;
    j["links_opened"] = st.links_opened;
    j["links_closed"] = st.links_closed;
    j["link_errors"] = st.link_errors;
    j["frames_received"] = st.frames_received;
    j["frames_sent"] = st.frames_sent;
    j["drops_total"] = st.drops_total();
    j["drops"] = endpoint_drops_json(st);
    j["key_exchanges"] = st.key_exchanges;
    Json links = reported_;
    for (const auto& [key, r] : links_) {  // links that did not close in time
      const auto info = ep_.link_info(key.first, static_cast<Vc>(key.second));
      Json l = link_json(r, info ? info->stats : transport::LinkStats{}, "open");
      if (info) {
        l.update(link_security_json(&*info, info->stats));
      }
      links.push_back(std::move(l));
    }
    j["links"] = links;
    j["links_omitted"] = links_omitted_;
    return j;
  }

 private:
  const PeerOptions& o_;
  std::function<std::string(NodeId)> name_of_;
  Endpoint& ep_;
  transport::Driver driver_;
  std::map<std::pair<NodeId, std::uint32_t>, LinkRecord> links_;
  Json reported_ = Json::array();  // --json: links gone, oldest first
  std::uint64_t links_omitted_ = 0;
  std::uint64_t drops_logged_ = 0;
  std::uint64_t drops_by_reason_logged_[static_cast<int>(transport::DropReason::kCount)] = {};
  TimeNs next_drop_log_ = 0;
};

void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << port << "\n";
    if (!f) throw std::runtime_error("cannot write --port-file " + tmp);
  }
  std::filesystem::rename(tmp, path);  // readers never see a half-written file
}

int run_peer(const PeerOptions& o) {
  if (o.echo && o.sink) throw UsageError("--echo and --sink exclude each other", kHelpFor);
  const transport::Profile profile = parse_profile(o.profile);
  std::optional<BrokenMode> broken;
  if (!o.broken_mode.empty()) {
    for (const auto& [name, mode] : kBrokenModes) {
      if (o.broken_mode == name) broken = mode;
    }
  }

  // The peer reassembles whatever arrives: room for messages up to 1 GiB (weft's send buffer
  // default is 256 MiB, so larger single messages cannot be sent anyway).
  transport::EndpointConfig cfg = udp_endpoint_config(profile, 1ull << 30);
  // Keys are loaded once the address is known to be valid and before anything is bound: a peer
  // without them refuses to start (exit 2).
  SecuritySetup security;

  // The datapath: a UDP socket, or (when built with libweft-dpdk) one DPDK device.
  std::unique_ptr<transport::UdpDatapath> udp;
  std::unique_ptr<Datapath> raw;  // the DPDK datapath
  std::function<std::string(NodeId)> name_of;
  transport::Driver::Options driver_options{.busy_poll = o.busy_poll};
  std::string where;
  if (is_dpdk_url(o.listen)) {
#if defined(WEFT_HAVE_DPDK)
    if (!o.port_file.empty()) throw UsageError("--port-file applies to udp:// addresses only", kHelpFor);
    if (o.node_id == 0 || o.node_id > transport::kNodeIdMask) {
      throw UsageError("--node-id must be 1..0xFFFFFF (the low 24 bits of the MAC)", kHelpFor);
    }
    transport::DpdkOptions dopt;
    dopt.eal_args = dpdk_eal_args(o.listen, o.eal, "--listen", kHelpFor);
    if (!apply_security(o.security, kHelpFor, o.quiet, 0, cfg, security)) return kExitUsage;
    try {
      raw = std::make_unique<transport::DpdkDatapath>(dopt);
    } catch (const std::exception& e) {
      std::cerr << "weft peer: error: cannot open " << o.listen << ": " << e.what() << "\n";
      return kExitFailed;
    }
    cfg.encapsulation = wire::Encapsulation::kEthernet;
    cfg.node_id = o.node_id;
    driver_options.busy_poll = true;  // DPDK has no descriptor to sleep on
    driver_options.clock = &transport::tsc_now_ns;
    name_of = [](NodeId n) {
      char b[24];
      std::snprintf(b, sizeof b, "node 0x%06x", n);
      return std::string(b);
    };
    char node[16];
    std::snprintf(node, sizeof node, "0x%06x", o.node_id);
    where = raw->describe() + " as node " + node;
#else
    (void)parse_udp_url(o.listen, "--listen", kHelpFor, true);  // throws: not in this build
#endif
  } else {
    const transport::UdpAddress listen = parse_udp_url(o.listen, "--listen", kHelpFor, true);
    if (!apply_security(o.security, kHelpFor, o.quiet, 0, cfg, security)) return kExitUsage;
    transport::UdpOptions uo;
    uo.bind = transport::format_udp_address(listen);
    try {
      udp = std::make_unique<transport::UdpDatapath>(uo);
    } catch (const std::exception& e) {
      std::cerr << "weft peer: error: cannot listen on " << udp_url(listen) << ": " << e.what() << "\n";
      return kExitFailed;
    }
    transport::UdpDatapath* u = udp.get();
    name_of = [u](NodeId n) {
      const auto a = u->peer_address(n);
      return a ? udp_url(*a) : "node " + std::to_string(n);
    };
    where = udp_url(udp->local_address());
  }
  Datapath* dp = udp ? static_cast<Datapath*>(udp.get()) : raw.get();
  std::unique_ptr<transport::FaultShim> shim;
  if (o.loss > 0) {
    shim = std::make_unique<transport::FaultShim>(*dp, transport::FaultShim::Faults{.loss = o.loss}, o.seed);
    dp = shim.get();
  }
  std::unique_ptr<BrokenDatapath> breaker;
  if (broken) {
    breaker = std::make_unique<BrokenDatapath>(*dp, *broken);
    dp = breaker.get();
  }
  std::unique_ptr<transport::PcapWriter> pcap;
  if (!o.pcap.empty()) {
    try {
      pcap = std::make_unique<transport::PcapWriter>(o.pcap);
    } catch (const std::exception& e) {
      std::cerr << "weft peer: error: --pcap: " << e.what() << "\n";
      return kExitFailed;
    }
    dp->set_pcap(pcap.get());
  }

  if (!security.encrypted) {
    std::cerr << "WARNING: anyone who can reach " << where
              << " can open links to this peer, read and inject data: use it only on a trusted network.\n";
  }
  if (broken) {
    std::cerr << "WARNING: --broken-mode " << o.broken_mode
              << " (TEST ONLY): this peer violates the protocol on purpose.\n";
  }

  install_stop_signals();
  // OPENs are stamped with Unix time read through the clock the driver uses (DPDK: the TSC).
  cfg.wall_clock_offset_ns = transport::wall_clock_offset_ns(driver_options.clock);
  Endpoint ep(cfg);
  Peer peer(o, name_of, *dp, ep, driver_options);
  if (!o.port_file.empty()) {
    try {
      write_port_file(o.port_file, udp->local_address().port);
    } catch (const std::exception& e) {
      std::cerr << "weft peer: error: " << e.what() << "\n";
      return kExitFailed;
    }
  }
  peer.log("listening on " + where + " (profile " + std::string(transport::profile_name(profile)) + ", " +
           (o.echo ? "echo" : "sink") + (o.loss > 0 ? ", loss " + std::to_string(o.loss) + " seed " +
                                                          std::to_string(o.seed)
                                                    : std::string()) +
           (pcap ? ", pcap " + o.pcap : std::string()) + "); " +
           (security.encrypted ? "encrypted, offering " + security.offered + "; authenticating with " + security.auth
                               : std::string("PLAINTEXT")) +
           "; stop with Ctrl-C");
  const int rc = peer.run();
  if (pcap) pcap->flush();
  if (o.json) std::cout << peer.report(where, security).dump(2) << "\n" << std::flush;
  return rc;
}

}  // namespace

void register_peer(CLI::App& app, Action& action) {
  auto o = std::make_shared<PeerOptions>();
  CLI::App* cmd = app.add_subcommand("peer", "a responder: accepts TTP links over UDP and sinks or echoes messages");
  cmd->footer(
      "Examples:\n"
      "  weft peer --listen udp://127.0.0.1:7000 --echo --cluster-key cluster.key  # for `weft send --verify`\n"
      "  weft peer --listen udp://127.0.0.1:0 --port-file p --cluster-key cluster.key  # a free port, in p\n"
      "  weft peer --listen udp://127.0.0.1:7000 --insecure  # plaintext sink, for `weft conformance`\n"
      "  weft peer --listen dpdk:net_memif0,role=server,socket=/tmp/w.sock,socket-abstract=no,bsize=10240\n"
      "            # raw Ethernet (with libweft-dpdk): node --node-id, EAL options from --eal\n\n"
      "It accepts links from any address it can authenticate, logs opens (with the link's security:\n"
      "\"encrypted aes-256-gcm (openssl)\" or \"PLAINTEXT\"), closes, errors and dropped frames by reason\n"
      "(e.g. unauthenticated: a sender with another key) to stderr, and runs until SIGINT/SIGTERM, then\n"
      "closes its links gracefully and exits 0 (--json: a report on stdout then). The ttpoe-compat\n"
      "profile is plaintext and unauthenticated, as TTPoE Rev 2.0 defines it.\n\n" +
      security_help_text() +
      "\nExit status: 0 stopped by a signal, 1 could not listen (address in use, ...), 2 usage (no keys,\n"
      "a key file that does not load, ...).");
  cmd->add_option("--listen", o->listen, "address to listen on: udp://HOST:PORT, or dpdk:DEVARGS (with libweft-dpdk)")
      ->required();
  cmd->add_option("--profile", o->profile, "weft or ttpoe-compat")
      ->check(CLI::IsMember({"weft", "ttpoe-compat"}))
      ->capture_default_str();
  cmd->add_flag("--echo", o->echo, "send every message back on the link it arrived on");
  cmd->add_flag("--sink", o->sink, "drop every message after it arrives (the default)");
  cmd->add_option("--loss", o->loss, "drop this fraction of the frames this peer sends (fault shim)")
      ->check(CLI::Validator(check_probability, "P", "loss"))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the fault shim's choices")->capture_default_str();
  cmd->add_option("--pcap", o->pcap, "write every frame sent and received to this pcap file");
  cmd->add_option("--port-file", o->port_file, "write the bound port to this file once listening");
  cmd->add_option("--close-timeout-s", o->close_timeout_s, "on SIGINT/SIGTERM, wait this long for links to close")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "no log lines (warnings and errors still print)");
  cmd->add_flag("--json", o->json,
                "on exit, print a report on stdout: drops by reason, every link's security and drop counters");
  cmd->add_flag("--busy-poll", o->busy_poll, "spin on the socket instead of sleeping in poll(2) (uses a whole core)");
  cmd->add_option("--eal", o->eal, "dpdk: EAL options (--vdev comes from --listen dpdk:DEVARGS)")->capture_default_str();
  cmd->add_option("--node-id", o->node_id, "dpdk: this peer's node id (low 24 bits of its MAC)")->capture_default_str();
  std::vector<std::string> modes;
  for (const auto& m : kBrokenModes) modes.emplace_back(m.first);
  cmd->add_option("--broken-mode", o->broken_mode,
                  "TEST ONLY: violate the protocol on purpose so conformance can be shown to fail")
      ->check(CLI::IsMember(modes))
      ->group("Test-only options");

  add_security_options(*cmd, o->security);

  cmd->callback([o, &action]() { action = [o]() { return run_peer(*o); }; });
}

}  // namespace weft::tools
