// `weft send`: open a TTP link to a peer over UDP, send messages, optionally check the echo, close.
//
// The run is one Endpoint under the generic poll Driver, in four phases: OPEN (answered or timed
// out), transfer (messages handed to the endpoint as its send buffer allows), wait (every message
// acknowledged and, with --verify, echoed back and compared byte for byte, in order), CLOSE. Any
// link error ends the run with exit 1 and a message naming the peer, the phase and the cause.
//
// Time limits: --timeout-s is the endpoint's retry budget (OPEN unanswered, or data without
// progress, for that long fails the link), so an unreachable or dead peer is reported within about
// that time instead of hanging. With --verify a peer that acknowledges but never echoes is caught
// by the same limit on the receive side (no frame from the peer for --timeout-s).
//
// Security (weft profile): keys from --identity/--allow and/or --cluster-key(-fd), or --insecure
// for plaintext; without either it refuses to start, before any socket is opened (net.h,
// apply_security). The link's security is shown once it opens and in the summary / --json.
//
// Message contents: --bytes N sends N-byte messages filled from a seeded generator (message i uses
// stream i, so a reordered or mixed-up echo is caught); --file sends the file as every message.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/transport/mix.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"
#include "weft/transport/udp_datapath.h"

namespace weft::tools {
namespace {

using transport::mix64;

using transport::Endpoint;
using transport::Event;
using transport::EventKind;
using transport::NodeId;
using transport::TimeNs;
using transport::Vc;
using Json = nlohmann::ordered_json;

constexpr const char* kHelpFor = "weft send";
constexpr Vc kVc = Vc::kData;
constexpr TimeNs kProgressEveryNs = 500'000'000;
constexpr std::uint64_t kProgressMinBytes = 16u << 20;  // smaller runs finish before a line matters
constexpr std::uint64_t kAheadBytes = 32u << 20;        // message bytes queued ahead of the ACKs

struct SendOptions {
  std::string to;
  std::optional<std::uint64_t> bytes;
  std::string file;
  std::uint64_t messages = 1;
  bool verify = false;
  std::string profile = "weft";
  double loss = 0;
  std::uint64_t seed = 1;
  double timeout_s = 10;
  std::string pcap;
  std::string bind;
  bool json = false;
  bool quiet = false;
  bool busy_poll = false;
  SecurityOptions security;
};

// ---- message contents --------------------------------------------------------------------------

// Byte `i` of generated message `index` comes from word i / 8 of stream `index`.
class Contents {
 public:
  Contents(std::uint64_t message_bytes, std::vector<std::uint8_t> file)
      : size_(file.empty() ? message_bytes : file.size()), file_(std::move(file)) {}

  std::uint64_t size() const { return size_; }

  void fill(std::uint64_t index, std::vector<std::uint8_t>& out) const {
    if (!file_.empty()) {
      out = file_;
      return;
    }
    out.resize(size_);
    const std::uint64_t stream = mix64(index + 0x5EED);
    for (std::uint64_t w = 0; w * 8 < size_; ++w) {
      const std::array<std::uint8_t, 8> bytes = word(stream, w);
      std::memcpy(out.data() + w * 8, bytes.data(), std::min<std::uint64_t>(8, size_ - w * 8));
    }
  }

  // Where `got` first differs from message `index`, or nullopt when identical.
  std::optional<std::uint64_t> first_difference(std::uint64_t index, const std::vector<std::uint8_t>& got) const {
    if (!file_.empty()) {
      const auto m = std::mismatch(got.begin(), got.end(), file_.begin(), file_.end());
      if (m.first == got.end() && m.second == file_.end()) return std::nullopt;
      return static_cast<std::uint64_t>(m.first - got.begin());
    }
    const std::uint64_t stream = mix64(index + 0x5EED);
    const std::uint64_t n = std::min<std::uint64_t>(got.size(), size_);
    for (std::uint64_t w = 0; w * 8 < n; ++w) {
      const std::array<std::uint8_t, 8> bytes = word(stream, w);
      const std::uint64_t len = std::min<std::uint64_t>(8, n - w * 8);
      if (std::memcmp(got.data() + w * 8, bytes.data(), len) != 0) {
        for (std::uint64_t b = 0; b < len; ++b) {
          if (got[w * 8 + b] != bytes[b]) return w * 8 + b;
        }
      }
    }
    if (got.size() != size_) return n;
    return std::nullopt;
  }

 private:
  // Bytes 8w..8w+7 of a stream: the generator's word, least significant byte first.
  static std::array<std::uint8_t, 8> word(std::uint64_t stream, std::uint64_t w) {
    const std::uint64_t v = mix64(stream ^ w);
    std::array<std::uint8_t, 8> b{};
    for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
  }

  std::uint64_t size_;
  std::vector<std::uint8_t> file_;
};

// ---- the run -------------------------------------------------------------------------------------

enum class Phase : std::uint8_t { kOpening, kTransfer, kClosing, kDone };

struct Report {
  bool ok = false;
  std::string error;             // what failed, when !ok
  std::string phase = "open";    // where it stopped
  std::uint64_t submitted = 0;   // messages handed to the endpoint
  std::uint64_t acknowledged = 0;
  std::uint64_t echoed = 0;      // echoes received and verified
  double open_s = 0;             // OPEN -> OPEN_ACK
  double transfer_s = 0;         // first message handed over -> last acknowledged (and echoed)
  double total_s = 0;            // start -> end (close included)
  double silent_s = 0;           // on failure: time since the last frame from the peer
  transport::LinkStats stats;
  std::optional<transport::LinkInfo> info;  // the link's last info (security: suite, provider, keys)
};

class Sender {
 public:
  Sender(const SendOptions& o, transport::UdpAddress to, const Contents& contents, transport::UdpDatapath& udp,
         transport::Datapath& dp, Endpoint& ep)
      : o_(o), to_(to), contents_(contents), udp_(udp), ep_(ep),
        driver_(ep, dp, transport::Driver::Options{.busy_poll = o.busy_poll}) {}

  Report run() {
    contents_.fill(0, message_);  // the first message is ready before any clock starts
    filled_ = 0;
    start_ = now();
    run_phases();
    if (progress_shown_) std::cerr << "\n";
    r_.total_s = seconds(now() - start_);
    r_.ok = r_.error.empty();
    return r_;
  }

 private:
  // OPEN, transfer, CLOSE; returns when the link closed or r_.error says what failed.
  void run_phases() {
    const TimeNs start = start_;
    last_rx_ = start;
    const bool show_progress = !o_.json && !o_.quiet && ::isatty(2) != 0 &&
                               contents_.size() * o_.messages >= kProgressMinBytes;
    peer_ = udp_.add_peer(to_);
    if (const transport::Status s = ep_.open(peer_, kVc, start); !s.ok()) return fail("open: " + s.detail());
    TimeNs next_progress = start + kProgressEveryNs;
    const TimeNs budget_ns = static_cast<TimeNs>(o_.timeout_s * 1e9);
    while (phase_ != Phase::kDone && r_.error.empty()) {
      driver_.step(50'000'000);
      const TimeNs t = now();
      if (driver_.frames_received() != frames_seen_) {
        frames_seen_ = driver_.frames_received();
        last_rx_ = t;
      }
      while (auto ev = ep_.poll_event()) handle(*ev, t);
      if (!r_.error.empty()) break;
      if (phase_ == Phase::kTransfer) {
        if (const auto info = ep_.link_info(peer_, kVc)) {
          r_.acknowledged = info->stats.messages_sent;
          r_.stats = info->stats;
          r_.info = info;
        }
        submit(t);
        if (r_.submitted == o_.messages && r_.acknowledged == o_.messages && (!o_.verify || r_.echoed == o_.messages)) {
          r_.transfer_s = seconds(t - transfer_start_);
          if (const transport::Status s = ep_.close(peer_, kVc, t); !s.ok()) return fail("close: " + s.detail());
          phase_ = Phase::kClosing;
          r_.phase = "close";
        } else if (t - last_rx_ > budget_ns + 1'000'000'000) {
          // The retry budget covers unacknowledged data; this covers an echo that never comes
          // while nothing is left in flight to time out.
          r_.silent_s = seconds(t - last_rx_);
          std::string what = url() + ": no frame from the peer for " + fixed(r_.silent_s, 1) + " s";
          if (o_.verify && r_.acknowledged == o_.messages) {
            what += " while waiting for " + std::to_string(o_.messages - r_.echoed) +
                    " echo(es) (was the peer killed? does it run without --echo?)";
          }
          return fail(what);
        }
      }
      if (stop_requested()) return fail("interrupted by " + stop_signal_name());
      if (show_progress && t >= next_progress) {
        next_progress = t + kProgressEveryNs;
        progress(t);
        progress_shown_ = true;
      }
    }
  }

  static TimeNs now() { return transport::monotonic_now_ns(); }
  static double seconds(TimeNs ns) { return static_cast<double>(ns) / 1e9; }
  static std::string fixed(double v, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
  }
  std::string url() const { return udp_url(to_); }

  void fail(const std::string& what) {
    r_.error = what;
    if (const auto info = ep_.link_info(peer_, kVc)) {
      r_.stats = info->stats;
      r_.info = info;
    }
  }

  // " (this side dropped 3 frame(s) from it: unauthenticated 3)" when the endpoint dropped any.
  std::string drops_note() const {
    const transport::EndpointStats& st = ep_.stats();
    if (st.drops_total() == 0) return {};
    return " (this side dropped " + endpoint_drops_text(st) + " frame(s))";
  }

  void handle(Event& ev, TimeNs t) {
    if (!r_.error.empty()) return;
    switch (ev.kind) {
      case EventKind::kOpened:
        r_.open_s = seconds(t - start_);
        phase_ = Phase::kTransfer;
        r_.phase = "transfer";
        transfer_start_ = t;
        r_.info = ep_.link_info(peer_, kVc);
        if (!o_.quiet && !o_.json) {
          std::cerr << "weft send: " << url() << ": link open in " << fixed(r_.open_s * 1e3, 3) << " ms, "
                    << (r_.info ? link_security_text(r_.info->encrypted, r_.info->suite, r_.info->provider)
                                : std::string("PLAINTEXT"))
                    << "\n";
        }
        return;
      case EventKind::kMessage: {
        if (!o_.verify) return;  // an echoing peer: its messages are not checked without --verify
        if (r_.echoed >= o_.messages) {
          fail(url() + ": the peer sent more messages than were sent to it (" + std::to_string(r_.echoed + 1) + ")");
          return;
        }
        if (const auto diff = contents_.first_difference(r_.echoed, ev.message)) {
          fail(url() + ": verification failed: echo of message " + std::to_string(r_.echoed) + " (" +
               std::to_string(ev.message.size()) + " B, expected " + std::to_string(contents_.size()) +
               " B) differs from what was sent at byte " + std::to_string(*diff));
          return;
        }
        ++r_.echoed;
        return;
      }
      case EventKind::kPeerClosing:
        if (phase_ != Phase::kClosing) {
          fail(url() + ": the peer closed the link during the " + r_.phase + " phase (" + std::to_string(r_.acknowledged) +
               " of " + std::to_string(o_.messages) + " messages acknowledged)");
        }
        return;
      case EventKind::kClosed:
        r_.stats = ev.stats;
        if (phase_ == Phase::kClosing) {
          phase_ = Phase::kDone;
        } else {
          fail(url() + ": the link closed during the " + r_.phase + " phase");
        }
        return;
      case EventKind::kError: {
        r_.stats = ev.stats;
        r_.silent_s = seconds(t - last_rx_);
        const std::string cause = std::string(transport::error_name(ev.error)) + ": " + ev.detail;
        if (ev.error == transport::Error::kOpenTimedOut) {
          const bool secured = ep_.config().credentials != nullptr;
          std::string m = "no answer from " + url() + " within " + fixed(o_.timeout_s, 1) +
                          " s: is `weft peer` running there, with the same --profile" +
                          (secured ? " and keys it accepts (the same --cluster-key, or this node's .pub on its "
                                     "--allow list, and a --cipher in common)? A peer drops a handshake it cannot "
                                     "authenticate without answering (its log counts it as unauthenticated; a peer "
                                     "running --insecure counts it as profile-mismatch)"
                                   : " and --insecure too? A peer with keys drops plaintext frames without "
                                     "answering (its log counts them as unauthenticated)");
          m += drops_note();
          if (udp_.send_errors() > 0) {
            m += " (" + std::to_string(udp_.send_errors()) + " datagram(s) refused by the kernel: address unreachable?)";
          }
          fail(m);
        } else if (ev.error == transport::Error::kOpenRefused) {
          fail(url() + ": the peer refused the link (" + cause + ")" + drops_note());
        } else {
          fail(url() + ": the link failed during the " + r_.phase + " phase after " + std::to_string(r_.acknowledged) +
               " of " + std::to_string(o_.messages) + " message(s) were acknowledged" +
               (o_.verify ? " and " + std::to_string(r_.echoed) + " echoed" : std::string()) + "; nothing from the peer for " +
               fixed(r_.silent_s, 3) + " s (killed? unreachable?): " + cause);
        }
        return;
      }
    }
  }

  // Keeps at most kAheadBytes (or one message) accepted but unacknowledged, so generating the
  // contents of many messages never starves the driver loop.
  void submit(TimeNs t) {
    while (r_.submitted < o_.messages &&
           (r_.submitted - r_.acknowledged) * contents_.size() < std::max(kAheadBytes, contents_.size())) {
      if (filled_ != r_.submitted) {
        contents_.fill(r_.submitted, message_);
        filled_ = r_.submitted;
      }
      const transport::Status s = ep_.send(peer_, kVc, message_, t);
      if (s.ok()) {
        ++r_.submitted;
        continue;
      }
      if (s.error() != transport::Error::kSendBufferFull) {
        fail(url() + ": send of message " + std::to_string(r_.submitted) + " refused: " + s.detail());
      }
      return;
    }
  }

  void progress(TimeNs t) {
    const double total = static_cast<double>(contents_.size()) * static_cast<double>(o_.messages);
    const double acked = static_cast<double>(contents_.size()) * static_cast<double>(r_.acknowledged);
    char buf[200];
    std::snprintf(buf, sizeof buf, "\r  %s: %.1f%% acknowledged%s, %.1f s   ", url().c_str(), 100 * acked / total,
                  o_.verify ? (", " + std::to_string(r_.echoed) + " echoed").c_str() : "",
                  seconds(t - transfer_start_));
    std::cerr << buf << std::flush;
  }

  const SendOptions& o_;
  transport::UdpAddress to_;
  const Contents& contents_;
  transport::UdpDatapath& udp_;
  Endpoint& ep_;
  transport::Driver driver_;
  NodeId peer_ = 0;
  Phase phase_ = Phase::kOpening;
  Report r_;
  bool progress_shown_ = false;
  TimeNs start_ = 0;
  TimeNs transfer_start_ = 0;
  TimeNs last_rx_ = 0;
  std::uint64_t frames_seen_ = 0;
  std::vector<std::uint8_t> message_;
  std::uint64_t filled_ = UINT64_MAX;
};

// "1.234 Gb/s", or "12.3 Mb/s" below 1 Gb/s.
std::string rate_text(double gbps) {
  char buf[48];
  if (gbps >= 1) std::snprintf(buf, sizeof buf, "%.3f Gb/s", gbps);
  else std::snprintf(buf, sizeof buf, "%.3f Mb/s", gbps * 1e3);
  return buf;
}

// "1.234 s", or "12.345 ms" below a second.
std::string duration_text(double seconds) {
  char buf[48];
  if (seconds >= 1) std::snprintf(buf, sizeof buf, "%.3f s", seconds);
  else std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  return buf;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UsageError("--file " + path + ": cannot open it for reading", kHelpFor);
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.empty()) throw UsageError("--file " + path + ": the file is empty (messages are at least 1 B)", kHelpFor);
  return data;
}

int run_send(const SendOptions& o) {
  if (o.bytes.has_value() == !o.file.empty()) {
    throw UsageError("give exactly one of --bytes N and --file PATH", kHelpFor);
  }
  const transport::UdpAddress to = parse_udp_url(o.to, "--to", kHelpFor, false);
  const transport::Profile profile = parse_profile(o.profile);
  std::vector<std::uint8_t> file;
  if (!o.file.empty()) file = read_file(o.file);
  const Contents contents(o.bytes.value_or(0), std::move(file));

  transport::EndpointConfig cfg = udp_endpoint_config(profile, o.verify ? contents.size() : 0);
  if (profile == transport::Profile::kTtpoeCompat && contents.size() > transport::wire::kCompatMaxPayloadBytes) {
    throw UsageError("messages of " + std::to_string(contents.size()) +
                         " B: the ttpoe-compat profile carries 1..1024 B per message (use --profile weft)",
                     kHelpFor);
  }
  if (contents.size() > cfg.send_buffer_bytes) {
    throw UsageError("messages of " + bytes_text(contents.size()) + " exceed the link's send buffer (" +
                         bytes_text(cfg.send_buffer_bytes) + "); send more, smaller messages",
                     kHelpFor);
  }
  cfg.retry_budget_us = static_cast<std::uint32_t>(o.timeout_s * 1e6);
  // Keys before any socket is opened: without them (or --insecure) this exits 2. The AEAD is
  // measured at the payload size this run's frames carry.
  SecuritySetup security;
  if (!apply_security(o.security, kHelpFor, o.quiet || o.json, static_cast<std::size_t>(contents.size()), cfg,
                      security)) {
    return kExitUsage;
  }

  transport::UdpOptions uo;
  uo.bind = o.bind.empty() ? client_bind_for(to) : o.bind;
  std::unique_ptr<transport::UdpDatapath> udp;
  try {
    udp = std::make_unique<transport::UdpDatapath>(uo);
  } catch (const std::exception& e) {
    std::cerr << "weft send: error: cannot open a UDP socket on " << uo.bind << ": " << e.what() << "\n";
    return kExitFailed;
  }
  transport::Datapath* dp = udp.get();
  std::unique_ptr<transport::FaultShim> shim;
  if (o.loss > 0) {
    shim = std::make_unique<transport::FaultShim>(*dp, transport::FaultShim::Faults{.loss = o.loss}, o.seed);
    dp = shim.get();
  }
  std::unique_ptr<transport::PcapWriter> pcap;
  if (!o.pcap.empty()) {
    try {
      pcap = std::make_unique<transport::PcapWriter>(o.pcap);
    } catch (const std::exception& e) {
      std::cerr << "weft send: error: --pcap: " << e.what() << "\n";
      return kExitFailed;
    }
    dp->set_pcap(pcap.get());
  }
  install_stop_signals();
  Endpoint ep(cfg);
  Sender sender(o, to, contents, *udp, *dp, ep);
  const Report r = sender.run();
  if (pcap) pcap->flush();

  const std::uint64_t total_bytes = contents.size() * o.messages;
  const double goodput_gbps = r.transfer_s > 0 ? static_cast<double>(total_bytes) * 8 / r.transfer_s / 1e9 : 0;
  if (o.json) {
    Json j;
    j["command"] = "send";
    j["to"] = udp_url(to);
    j["profile"] = std::string(transport::profile_name(profile));
    j["ok"] = r.ok;
    j["auth"] = security.auth;
    j["suites_offered"] = security.offered;
    j["error"] = r.ok ? Json(nullptr) : Json(r.error);
    j["phase"] = r.phase;
    j["messages"] = o.messages;
    j["message_bytes"] = contents.size();
    j["bytes"] = total_bytes;
    j["verify"] = o.verify;
    j["messages_acknowledged"] = r.acknowledged;
    j["messages_echoed"] = r.echoed;
    j["open_seconds"] = r.open_s;
    j["transfer_seconds"] = r.transfer_s;
    j["total_seconds"] = r.total_s;
    j["goodput_gbps"] = r.ok ? Json(goodput_gbps) : Json(nullptr);
    j["peer_silent_seconds"] = r.ok ? Json(nullptr) : Json(r.silent_s);
    j["retransmits"] = r.stats.retransmits;
    j["retransmits_rto"] = r.stats.retransmits_rto;
    j["retransmits_fast"] = r.stats.retransmits_fast;
    j["retransmits_nack"] = r.stats.retransmits_nack;
    j["payloads_sent"] = r.stats.payloads_sent;
    j["loss"] = o.loss;
    j["seed"] = o.seed;
    j["datagrams_sent"] = udp->datagrams_sent();
    j["datagrams_received"] = udp->datagrams_received();
    j["send_errors"] = udp->send_errors();
    // The link's security (encrypted, suite, provider, key generations and rotations, its drops by
    // reason), then what the endpoint dropped outside any link (e.g. unauthenticated handshakes).
    Json sec = link_security_json(r.info ? &*r.info : nullptr, r.stats);
    if (!r.info) sec["encrypted"] = nullptr;  // the link never opened: nothing was negotiated
    j.update(sec);
    j["endpoint_drops"] = endpoint_drops_json(ep.stats());
    std::cout << j.dump(2) << "\n";
  }
  if (!r.ok) {
    std::cerr << "weft send: error: " << r.error << "\n";
    return kExitFailed;
  }
  if (!o.json && !o.quiet) {
    char buf[768];
    std::snprintf(buf, sizeof buf,
                  "weft send: %s: %llu x %s = %s %s in %s (open %.3f ms): goodput %s; "
                  "%llu retransmit(s) (rto %llu, fast %llu, nack %llu) of %llu PAYLOADs%s; %s; closed\n",
                  udp_url(to).c_str(), static_cast<unsigned long long>(o.messages), bytes_text(contents.size()).c_str(),
                  bytes_text(total_bytes).c_str(), o.verify ? "sent, echoed and verified" : "sent and acknowledged",
                  duration_text(r.transfer_s).c_str(), r.open_s * 1e3, rate_text(goodput_gbps).c_str(),
                  static_cast<unsigned long long>(r.stats.retransmits),
                  static_cast<unsigned long long>(r.stats.retransmits_rto),
                  static_cast<unsigned long long>(r.stats.retransmits_fast),
                  static_cast<unsigned long long>(r.stats.retransmits_nack),
                  static_cast<unsigned long long>(r.stats.payloads_sent),
                  o.loss > 0 ? (", local loss " + std::to_string(o.loss)).c_str() : "",
                  (r.info ? link_security_text(r.info->encrypted, r.info->suite, r.info->provider)
                          : std::string("PLAINTEXT"))
                      .c_str());
    std::cout << buf;
  }
  return kExitOk;
}

}  // namespace

void register_send(CLI::App& app, Action& action) {
  auto o = std::make_shared<SendOptions>();
  CLI::App* cmd = app.add_subcommand("send", "open a TTP link to a peer over UDP, send messages, close");
  cmd->footer(
      "Examples:\n"
      "  weft keygen cluster --out cluster.key\n"
      "  weft peer --listen udp://127.0.0.1:7000 --echo --cluster-key cluster.key &\n"
      "  weft send --to udp://127.0.0.1:7000 --bytes 1048576 --messages 16 --verify --cluster-key cluster.key\n"
      "  weft send --to udp://127.0.0.1:7000 --file data.bin --loss 0.05 --seed 3 --json \\\n"
      "            --cluster-key-fd 3 3<cluster.key   # the key from an inherited descriptor\n\n"
      "--timeout-s bounds every wait: an OPEN unanswered, or data without progress, for that long\n"
      "ends the run. A peer drops a handshake it cannot authenticate (another cluster key, this node\n"
      "not on its allowlist) without answering, so a key mismatch also ends as \"no answer\" after\n"
      "--timeout-s; the peer logs the drop (\"unauthenticated\"). Goodput is message bytes (one\n"
      "direction) over the transfer time. The link's security is shown when it opens, in the summary\n"
      "(\"encrypted aes-256-gcm (openssl)\" or \"PLAINTEXT\") and in --json (encrypted, suite,\n"
      "provider, key generations, drops by reason).\n\n" +
      security_help_text() +
      "\nExit status: 0 success, 1 the transfer failed (no answer, link error, echo mismatch), 2 usage\n"
      "(no keys, a key file that does not load, ...).");
  cmd->add_option("--to", o->to, "the peer: udp://HOST:PORT")->required();
  auto* bytes = cmd->add_option("--bytes", o->bytes, "size of each message in bytes (generated contents)")
                    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
  auto* file = cmd->add_option("--file", o->file, "send this file as each message");
  bytes->excludes(file);
  cmd->add_option("--messages", o->messages, "how many messages to send")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
      ->capture_default_str();
  cmd->add_flag("--verify", o->verify, "expect every message echoed back (weft peer --echo) and compare bytes");
  cmd->add_option("--profile", o->profile, "weft or ttpoe-compat (messages of 1..1024 B)")
      ->check(CLI::IsMember({"weft", "ttpoe-compat"}))
      ->capture_default_str();
  cmd->add_option("--loss", o->loss, "drop this fraction of the frames this side sends (fault shim)")
      ->check(CLI::Validator(check_probability, "P", "loss"))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the fault shim's choices")->capture_default_str();
  cmd->add_option("--timeout-s", o->timeout_s, "give up after this long without an answer or progress")
      ->check(CLI::Range(0.05, 4000.0))
      ->capture_default_str();
  cmd->add_option("--pcap", o->pcap, "write every frame sent and received to this pcap file");
  cmd->add_option("--bind", o->bind, "local HOST:PORT to send from [default: loopback or any, port 0]");
  cmd->add_flag("--busy-poll", o->busy_poll, "spin on the socket instead of sleeping in poll(2) (uses a whole core)");
  cmd->add_flag("--json", o->json, "print the result as JSON on stdout");
  cmd->add_flag("--quiet", o->quiet, "no summary line or progress (errors still print)");
  add_security_options(*cmd, o->security);

  cmd->callback([o, &action]() { action = [o]() { return run_send(*o); }; });
}

}  // namespace weft::tools
