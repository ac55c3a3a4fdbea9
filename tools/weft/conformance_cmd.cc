// `weft conformance`: run the TTPoE conformance clauses against an implementation over UDP.
//
// Each clause gets a fresh UDP socket (so a fresh tester address: the implementation sees a new
// node with no link) and a RemoteTarget over it, and runs as in the unit suite, in real time. An
// outside implementation offers no host control (open/send/close on its side, link state,
// received messages), so the clauses that need it report "skipped" rather than pass; the framing
// clauses that check raw Ethernet bytes skip over UDP. Before the clauses a probe (a PAYLOAD for
// no link, which any TTP implementation answers with NACK_NOLINK) checks that something answers.
//
// The tester speaks plaintext and takes no keys, on purpose: it builds every frame byte by byte to
// check the TTPoE clauses (Rev 2.0 has no security) and the weft profile's protocol beneath the
// encryption layer, and it constructs no Endpoint whose handshake could carry keys. A weft peer
// with keys drops every unauthenticated frame without answering, so the target runs with
// --insecure; encrypted links are checked by tests/unit/security_test.cc and the udp_integration
// modes instead.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/conformance/conformance.h"
#include "weft/transport/udp_datapath.h"
#if defined(WEFT_HAVE_DPDK)
#include "weft/transport/dpdk_datapath.h"
#endif

namespace weft::tools {
namespace {

namespace conf = weft::conformance;
using transport::NodeId;
using transport::TimeNs;
namespace wire = transport::wire;
using Json = nlohmann::ordered_json;

constexpr const char* kHelpFor = "weft conformance";
constexpr TimeNs kProbeWaitNs = 1'000'000'000;
constexpr std::uint32_t kProbeTxId = 0x5EED0F00;  // an id that belongs to no link

struct ConformanceOptions {
  std::string target;
  std::string profile = "weft";
  bool json = false;
  bool list = false;
  bool verbose = false;
  std::vector<std::string> only;
  double reply_window_ms = 50;
  double replay_deadline_ms = 500;
  std::string bind;
  std::string eal = kDefaultEal;   // dpdk: EAL options
  std::uint32_t target_node = 1;   // dpdk: the implementation's node id
};

struct Row {
  const conf::Clause* clause = nullptr;
  bool applicable = true;
  conf::Outcome outcome;
  double seconds = 0;
};

bool selected(const conf::Clause& c, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  for (const std::string& s : only) {
    if (c.id.find(s) != std::string::npos) return true;
  }
  return false;
}

// The first line of an outcome's detail (the rest is the frame trace).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string indent(const std::string& s, const std::string& pad) {
  std::string out = pad;
  for (char ch : s) {
    out += ch;
    if (ch == '\n') out += pad;
  }
  return out;
}

int list_clauses(const ConformanceOptions& o) {
  if (o.json) {
    Json arr = Json::array();
    for (const conf::Clause& c : conf::clauses()) {
      if (!selected(c, o.only)) continue;
      arr.push_back({{"id", c.id},
                     {"spec_ref", c.spec_ref},
                     {"text", c.text},
                     {"profiles", std::string(conf::profile_mask_name(c.profiles))}});
    }
    std::cout << Json{{"command", "conformance --list"}, {"clauses", arr}}.dump(2) << "\n";
    return kExitOk;
  }
  std::size_t n = 0;
  for (const conf::Clause& c : conf::clauses()) {
    if (!selected(c, o.only)) continue;
    ++n;
    std::cout << c.id << "  [" << conf::profile_mask_name(c.profiles) << "]  " << c.spec_ref << "\n    " << c.text
              << "\n";
  }
  std::cout << n << " clause(s). Against an outside target the clauses that need control of its side are\n"
               "skipped, and over UDP those that check raw Ethernet framing.\n";
  return kExitOk;
}

// Builds a fresh tester identity per clause: over UDP a new socket (a new source address), over
// DPDK (one device per process: the EAL starts once) a new tester node id on the same device.
class Runner {
 public:
  explicit Runner(const ConformanceOptions& o) : o_(o) {
    ro_.profile = parse_profile(o.profile);
    ro_.reply_window_ns = static_cast<TimeNs>(o.reply_window_ms * 1e6);
    ro_.replay_deadline_ns = static_cast<TimeNs>(o.replay_deadline_ms * 1e6);
    if (is_dpdk_url(o.target)) {
#if defined(WEFT_HAVE_DPDK)
      if (o.target_node == 0 || o.target_node > transport::kNodeIdMask) {
        throw UsageError("--target-node must be 1..0xFFFFFF", kHelpFor);
      }
      transport::DpdkOptions dopt;
      dopt.eal_args = dpdk_eal_args(o.target, o.eal, "--target", kHelpFor);
      ro_.implementation_node = o.target_node;
      char node[16];
      std::snprintf(node, sizeof node, "0x%06x", o.target_node);
      url_ = o.target + " node " + node;
      dpdk_ = std::make_unique<transport::DpdkDatapath>(dopt);  // throws with DPDK's reason
#else
      (void)parse_udp_url(o.target, "--target", kHelpFor, false);  // throws: not in this build
#endif
    } else {
      to_ = parse_udp_url(o.target, "--target", kHelpFor, false);
      url_ = udp_url(to_);
    }
  }

  const std::string& url() const { return url_; }

  std::set<std::uint16_t> used_ports_;  // UDP source ports clauses used in this run

  struct Attempt {
    std::unique_ptr<transport::UdpDatapath> udp;  // UDP: this attempt's own socket
    transport::Datapath* datapath = nullptr;
    NodeId implementation = 0;  // the datapath's id of the implementation (DPDK: 0, from the TSH)
    conf::RemoteTarget::Options options;
  };

  Attempt fresh() {
    Attempt a;
    a.options = ro_;
    if (dpdk_) {
      a.datapath = dpdk_.get();
      a.options.tester_node = next_tester_node_++;
      return a;
    }
    transport::UdpOptions uo;
    uo.bind = o_.bind.empty() ? client_bind_for(to_) : o_.bind;
    a.udp = std::make_unique<transport::UdpDatapath>(uo);
    // The kernel may hand out a port an earlier clause used, and the implementation may still hold
    // that address's links (a clause need not close them): the next clause would then be talking
    // to an old link (seen as a rare failure of the stray-PAYLOAD clause). Never reuse a port in a
    // run: hold a reused one open while asking for another. (With --bind HOST:PORT the port is the
    // user's choice.)
    const bool ephemeral = o_.bind.empty() || o_.bind.ends_with(":0");
    std::vector<std::unique_ptr<transport::UdpDatapath>> held;
    while (ephemeral && !used_ports_.insert(a.udp->local_address().port).second && held.size() < 64) {
      held.push_back(std::move(a.udp));
      a.udp = std::make_unique<transport::UdpDatapath>(uo);
    }
    a.datapath = a.udp.get();
    a.implementation = a.udp->add_peer(to_);
    return a;
  }

  // True when the implementation answers a PAYLOAD for no link within a second.
  bool probe() {
    Attempt a = fresh();
    conf::RemoteTarget target(*a.datapath, a.implementation, a.options);
    conf::Tester t(target);
    t.send(t.payload(transport::Vc::kData, kProbeTxId));
    for (TimeNs waited = 0; waited < kProbeWaitNs; waited += 10'000'000) {
      if (!target.collect().empty()) return true;
      target.advance(10'000'000);
    }
    return !target.collect().empty();
  }

  // True when the implementation answers an OPEN of the chosen profile with OPEN_ACK within a
  // second (a weft endpoint drops a ttpoe-compat OPEN and the other way round).
  bool probe_open() {
    Attempt a = fresh();
    conf::RemoteTarget target(*a.datapath, a.implementation, a.options);
    conf::Tester t(target);
    t.send(t.open(transport::Vc::kData, kProbeTxId));
    wire::DecodeOptions opt;
    opt.encapsulation = a.datapath->encapsulation();
    opt.parse_extensions = t.weft();
    for (TimeNs waited = 0; waited <= kProbeWaitNs; waited += 10'000'000) {
      for (const conf::Bytes& f : target.collect()) {
        wire::Frame frame;
        if (wire::decode(f, opt, frame) == wire::DecodeError::kNone && frame.ttp.opcode == wire::Opcode::kOpenAck) {
          return true;
        }
      }
      target.advance(10'000'000);
    }
    return false;
  }

  Row run(const conf::Clause& c) {
    Row row;
    row.clause = &c;
    row.applicable = conf::applies(c.profiles, ro_.profile);
    if (!row.applicable) return row;
    const auto t0 = std::chrono::steady_clock::now();
    Attempt a = fresh();
    conf::RemoteTarget target(*a.datapath, a.implementation, a.options);
    row.outcome = conf::run_clause(c, target);
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return row;
  }

 private:
  static constexpr NodeId kFirstTesterNode = 0x000100;  // DPDK: tester node ids, one per attempt

  const ConformanceOptions& o_;
  conf::RemoteTarget::Options ro_;
  transport::UdpAddress to_;
  std::string url_;
  std::unique_ptr<transport::Datapath> dpdk_;
  NodeId next_tester_node_ = kFirstTesterNode;
};

int run_conformance(const ConformanceOptions& o) {
  if (o.list) return list_clauses(o);
  if (o.target.empty()) throw UsageError("--target udp://HOST:PORT is required (or --list)", kHelpFor);
  std::ostream& out = o.json ? std::cerr : std::cout;

  std::unique_ptr<Runner> made;
  try {
    made = std::make_unique<Runner>(o);
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    std::cerr << "weft conformance: error: cannot open " << o.target << ": " << e.what() << "\n";
    return kExitFailed;
  }
  Runner& runner = *made;
  const std::string url = runner.url();
  try {
    if (!runner.probe()) {
      std::cerr << "weft conformance: error: no answer from " << url
                << " within 1 s (a PAYLOAD for no link must be answered with NACK_NOLINK): is a TTP "
                   "implementation listening there (e.g. `weft peer --listen "
                << url
                << " --insecure`)? The conformance tester sends plaintext frames: a weft peer with keys drops "
                   "them without answering, so run the target with --insecure.\n";
      return kExitFailed;
    }
  } catch (const std::exception& e) {
    std::cerr << "weft conformance: error: " << url << ": " << e.what() << "\n";
    return kExitFailed;
  }

  bool open_answered = true;
  try {
    open_answered = runner.probe_open();
  } catch (const std::exception&) {
    open_answered = false;
  }
  if (!open_answered) {
    std::cerr << "weft conformance: note: " << url << " answers, but not an OPEN of the " << o.profile
              << " profile: if it runs the other profile, pass --profile accordingly\n";
  }

  install_stop_signals();
  out << "weft conformance: " << url << ", profile " << o.profile << " (reply window " << o.reply_window_ms
      << " ms, replay deadline " << o.replay_deadline_ms << " ms)\n";
  std::vector<Row> rows;
  std::size_t passed = 0, failed = 0, skipped = 0, other_profile = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const conf::Clause& c : conf::clauses()) {
    if (!selected(c, o.only)) continue;
    if (stop_requested()) break;
    Row row;
    try {
      row = runner.run(c);
    } catch (const std::exception& e) {  // a socket that could not be opened
      row.clause = &c;
      row.outcome = conf::Outcome{conf::Outcome::kFail, std::string("the tester could not run: ") + e.what()};
    }
    if (!row.applicable) {
      ++other_profile;
      if (o.verbose) out << "n/a   " << c.id << " (" << conf::profile_mask_name(c.profiles) << " profile only)\n";
      rows.push_back(std::move(row));
      continue;
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f s", row.seconds);
    switch (row.outcome.status) {
      case conf::Outcome::kPass:
        ++passed;
        out << "PASS  " << c.id << "  (" << c.spec_ref << "; " << secs << ")\n";
        if (o.verbose && !row.outcome.detail.empty()) out << indent(row.outcome.detail, "      ") << "\n";
        break;
      case conf::Outcome::kFail:
        ++failed;
        out << "FAIL  " << c.id << "  (" << c.spec_ref << ")\n      checks: " << c.text << "\n"
            << indent(row.outcome.detail, "      ") << "\n";
        break;
      case conf::Outcome::kSkipped:
        ++skipped;
        out << "SKIP  " << c.id << "  " << first_line(row.outcome.detail) << "\n";
        break;
    }
    rows.push_back(std::move(row));
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const bool interrupted = stop_requested();

  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%zu passed, %zu failed, %zu skipped (they need control of the target's side, or raw "
                "Ethernet); "
                "%zu for the other profile; %.1f s",
                passed, failed, skipped, other_profile, total_s);
  out << "\n" << (failed == 0 ? "OK: " : "FAILED: ") << summary << "\n";
  if (interrupted) out << "interrupted by " << stop_signal_name() << ": not every clause ran\n";
  if (failed > 0) {
    out << "The failing clauses name the spec text they check (docs/conformance.md); a target must send\n"
           "nothing of its own during a run (`weft peer` in its default --sink mode, not --echo).\n";
  }

  if (o.json) {
    Json arr = Json::array();
    for (const Row& r : rows) {
      if (!r.applicable) continue;
      arr.push_back({{"id", r.clause->id},
                     {"spec_ref", r.clause->spec_ref},
                     {"text", r.clause->text},
                     {"profiles", std::string(conf::profile_mask_name(r.clause->profiles))},
                     {"status", std::string(conf::outcome_status_name(r.outcome.status))},
                     {"detail", r.outcome.detail},
                     {"seconds", r.seconds}});
    }
    Json j;
    j["command"] = "conformance";
    j["target"] = url;
    j["profile"] = o.profile;
    j["ok"] = failed == 0 && !interrupted;
    j["summary"] = {{"passed", passed},
                    {"failed", failed},
                    {"skipped", skipped},
                    {"other_profile", other_profile},
                    {"seconds", total_s},
                    {"interrupted", interrupted}};
    j["clauses"] = arr;
    std::cout << j.dump(2) << "\n";
  }
  return failed == 0 && !interrupted ? kExitOk : kExitFailed;
}

}  // namespace

void register_conformance(CLI::App& app, Action& action) {
  auto o = std::make_shared<ConformanceOptions>();
  CLI::App* cmd = app.add_subcommand("conformance", "run the TTPoE conformance clauses against an implementation");
  cmd->footer(
      "Examples:\n"
      "  weft peer --listen udp://127.0.0.1:7000 --insecure &   # or your own TTP implementation\n"
      "  weft conformance --target udp://127.0.0.1:7000\n"
      "  weft conformance --target udp://10.0.0.2:7000 --profile ttpoe-compat --json\n"
      "  weft conformance --list\n"
      "  weft conformance --target dpdk:net_memif0,role=client,socket=/tmp/w.sock,socket-abstract=no,bsize=10240 \\\n"
      "      --eal \"-l 1 --no-huge --no-pci -m 512 --no-shconf\"   # raw Ethernet, with libweft-dpdk\n\n"
      "Each clause names the spec text it checks. The target must answer from the address given and\n"
      "send nothing of its own; clauses that need control of the target's side are skipped.\n\n"
      "Plaintext only: the tester builds every frame byte by byte to check TTPoE's clauses (Rev 2.0 has\n"
      "no security) and the weft protocol beneath the encryption layer, so it takes no keys, and the\n"
      "target must run in plaintext: `weft peer --insecure`. A weft peer with keys drops unauthenticated\n"
      "frames without answering (conformance then reports no answer). Run it on a trusted network.\n"
      "Exit status: 0 no clause failed, 1 a clause failed (or no answer), 2 usage.");
  cmd->add_option("--target", o->target,
                  "the implementation under test: udp://HOST:PORT, or dpdk:DEVARGS (with libweft-dpdk)");
  cmd->add_option("--profile", o->profile, "the profile the target runs: weft or ttpoe-compat")
      ->check(CLI::IsMember({"weft", "ttpoe-compat"}))
      ->capture_default_str();
  cmd->add_flag("--list", o->list, "list the clauses (id, profiles, spec reference, what is checked) and exit");
  cmd->add_option("--clause", o->only, "run only clauses whose id contains this text (repeatable)");
  cmd->add_option("--reply-window-ms", o->reply_window_ms,
                  "longest the target may take to answer; silence checks wait this long")
      ->check(CLI::Range(0.1, 10000.0))
      ->capture_default_str();
  cmd->add_option("--replay-deadline-ms", o->replay_deadline_ms,
                  "longest the target may take to replay an unanswered OPEN, CLOSE or PAYLOAD")
      ->check(CLI::Range(1.0, 60000.0))
      ->capture_default_str();
  cmd->add_option("--eal", o->eal, "dpdk: EAL options (--vdev comes from --target dpdk:DEVARGS)")->capture_default_str();
  cmd->add_option("--target-node", o->target_node, "dpdk: the implementation's node id (low 24 bits of its MAC)")
      ->capture_default_str();
  cmd->add_option("--bind", o->bind, "local HOST:PORT of the tester [default: loopback or any, port 0]");
  cmd->add_flag("--json", o->json, "print the results as JSON on stdout (the per-clause lines go to stderr)");
  cmd->add_flag("--verbose", o->verbose, "also show notes of passing clauses and clauses of the other profile");

  cmd->callback([o, &action]() { action = [o]() { return run_conformance(*o); }; });
}

}  // namespace weft::tools
