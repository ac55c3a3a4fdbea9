// `weft bench transport`: goodput of the weft and TTPoE-compat profiles against random loss.
//
// For every (loss rate, profile) cell it runs sim::run_transfer K times (seeds seed..seed+K-1):
// host A sends bytes_per_run of messages to host B over one simulated link, loss applied to each
// direction independently (data and ACKs). Every run is checked (all messages delivered once,
// in order, byte-identical, links closed) before its figures are used; a failed run prints its
// failure and a command line that reproduces it, and the command exits 1.
//
// Goodput is virtual-time goodput (message bytes / virtual time from start to last delivery), so
// it is deterministic and does not depend on the machine. Simulator speed (events per wall second,
// measured here around run_transfer with steady_clock) does.
//
// Reported against "line rate after headers": rate × payload/frame for full frames, the best a
// profile could do on that link. The acceptance targets of the transport milestone are printed
// as PASS/FAIL; they are informational and do not change the exit code.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tools/weft/bench_transport_net.h"
#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/transport/config.h"
#include "weft/transport/scenario.h"
#include "weft/transport/wire.h"

namespace weft::tools {
namespace {

namespace sim = weft::transport::sim;
using transport::Profile;
using Json = nlohmann::ordered_json;

constexpr std::uint64_t kMiB = 1u << 20;
constexpr const char* kHelpFor = "weft bench transport";

struct Options {
  std::string datapath = "memory";
  std::string profile = "both";
  std::vector<double> loss = {0, 0.001, 0.01, 0.05, 0.1};
  double rate_gbps = 100;
  double delay_us = 2;
  std::uint32_t message_bytes = 1u << 20;
  std::uint64_t bytes_per_run = 64 * kMiB;
  std::uint64_t compat_bytes_per_run = 0;  // 0: the same as bytes_per_run
  std::uint64_t seed = 1;
  int repeat = 3;
  bool json = false;
  bool quiet = false;
  bool repeat_set = false;         // --repeat given (udp/dpdk default to 5 rounds)
  bool bytes_per_run_set = false;  // --bytes-per-run given (udp/dpdk default to 2 GiB)
};

// What one profile sends per run, and the best it could do on the link.
struct ProfilePlan {
  Profile profile = Profile::kWeft;
  std::string name;
  transport::EndpointConfig endpoint;
  std::uint32_t message_bytes = 0;
  std::uint64_t bytes_per_run = 0;
  std::uint32_t payload_bytes = 0;  // per full frame
  std::uint32_t frame_bytes = 0;    // full frame, headers included
  double line_rate_gbps = 0;        // rate × payload / frame
};

struct RunRecord {
  std::uint64_t seed = 0;
  bool ok = false;
  std::string failure;
  double goodput_gbps = 0;
  std::uint64_t bytes_delivered = 0;
  double virtual_us = 0;  // virtual time from start to last delivery
  transport::LinkStats sender;  // A's link counters (A sends all the data)
  std::uint64_t events = 0;
  double wall_s = 0;
  double events_per_s() const { return wall_s > 0 ? static_cast<double>(events) / wall_s : 0; }
};

struct Cell {
  const ProfilePlan* plan = nullptr;
  double loss = 0;
  std::vector<RunRecord> runs;
  bool ok = true;                  // every run ok
  std::optional<double> goodput;   // median over the runs that succeeded
  std::optional<double> retransmits;
  double wall_s = 0;
};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Shortest decimal that round-trips well enough to paste back into --loss.
std::string loss_arg(double loss) {
  std::ostringstream s;
  s.precision(12);
  s << loss;
  return s.str();
}

std::string bytes_text(std::uint64_t b) {
  if (b % kMiB == 0) return std::to_string(b / kMiB) + " MiB";
  if (b % 1024 == 0) return std::to_string(b / 1024) + " KiB";
  return std::to_string(b) + " B";
}

// Column label: "weft" or "compat".
std::string short_name(const ProfilePlan& p) { return p.profile == Profile::kWeft ? "weft" : "compat"; }

bool same_loss(double a, double b) { return std::abs(a - b) < 1e-12; }

// A right-aligned text table; the first column is the row label.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const {
    std::vector<std::size_t> width(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    };
    widen(header_);
    for (const auto& r : rows_) widen(r);
    auto line = [&](const std::vector<std::string>& r) {
      std::string s;
      for (std::size_t i = 0; i < width.size(); ++i) {
        const std::string& cell = i < r.size() ? r[i] : std::string();
        s += (i == 0 ? "" : "  ") + std::string(width[i] - cell.size(), ' ') + cell;
      }
      out << s << "\n";
    };
    line(header_);
    for (const auto& r : rows_) line(r);
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

ProfilePlan make_plan(Profile profile, const Options& o) {
  ProfilePlan p;
  p.profile = profile;
  p.name = std::string(transport::profile_name(profile));
  p.endpoint.profile = profile;
  if (profile == Profile::kTtpoeCompat) {
    // TTPoE Rev 2.0 messages are one PAYLOAD each, 1..1024 B.
    p.endpoint.max_frame_bytes = static_cast<std::uint32_t>(transport::wire::kCompatMaxFrameBytes);
    p.message_bytes = std::min<std::uint32_t>(o.message_bytes,
                                              static_cast<std::uint32_t>(transport::wire::kCompatMaxPayloadBytes));
    p.bytes_per_run = o.compat_bytes_per_run != 0 ? o.compat_bytes_per_run : o.bytes_per_run;
  } else {
    p.endpoint.max_frame_bytes = static_cast<std::uint32_t>(transport::wire::kWeftMaxFrameBytes);
    p.message_bytes = o.message_bytes;
    p.bytes_per_run = o.bytes_per_run;
  }
  p.payload_bytes = transport::max_payload_bytes(p.endpoint);
  p.frame_bytes = p.payload_bytes +
                  static_cast<std::uint32_t>(transport::wire::header_bytes(p.endpoint.encapsulation, {}));
  p.line_rate_gbps = o.rate_gbps * p.payload_bytes / p.frame_bytes;
  return p;
}

RunRecord run_once(const ProfilePlan& plan, const Options& o, double loss, std::uint64_t seed) {
  sim::TransferSpec spec;
  spec.endpoint = plan.endpoint;
  spec.seed = seed;
  spec.link.rate_gbps = o.rate_gbps;
  spec.link.delay_us = o.delay_us;
  spec.link.a_to_b.loss = loss;
  spec.link.b_to_a.loss = loss;
  for (std::uint64_t left = plan.bytes_per_run; left > 0;) {
    const auto size = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, plan.message_bytes));
    spec.a_to_b.push_back(size);
    left -= size;
  }

  const auto t0 = std::chrono::steady_clock::now();
  const sim::TransferResult r = sim::run_transfer(spec);
  const auto t1 = std::chrono::steady_clock::now();

  RunRecord rec;
  rec.seed = seed;
  rec.ok = r.ok;
  rec.failure = r.failure;
  rec.goodput_gbps = r.goodput_gbps;
  rec.bytes_delivered = r.bytes_delivered;
  rec.virtual_us = static_cast<double>(r.last_delivery - r.start) / 1000.0;
  rec.sender = r.a_link.stats;
  rec.events = r.events;
  rec.wall_s = std::chrono::duration<double>(t1 - t0).count();
  return rec;
}

std::string reproduce_command(const ProfilePlan& plan, const Options& o, double loss, std::uint64_t seed) {
  std::ostringstream s;
  s << "weft bench transport --datapath memory --profile " << plan.name << " --loss " << loss_arg(loss)
    << " --seed " << seed << " --repeat 1 --rate-gbps " << o.rate_gbps << " --delay-us " << o.delay_us
    << " --message-bytes " << o.message_bytes << " --bytes-per-run " << o.bytes_per_run;
  if (plan.profile == Profile::kTtpoeCompat && plan.bytes_per_run != o.bytes_per_run) {
    s << " --compat-bytes-per-run " << plan.bytes_per_run;
  }
  return s.str();
}

// One acceptance target of the transport milestone (weft profile).
struct Target {
  std::string name;
  std::string measured;   // human-readable value
  std::optional<bool> pass;  // empty when the cell was not measured or failed
  double value = 0;
  double threshold = 0;
};

std::string verdict(const std::optional<bool>& pass) {
  return !pass ? "n/a" : (*pass ? "PASS" : "FAIL");
}

int run_bench(Options o) {
  if (o.datapath != "memory") {
    NetBenchOptions n;
    n.repeat = o.repeat_set ? o.repeat : 5;
    if (o.bytes_per_run_set) n.bytes_per_run = o.bytes_per_run;
    n.message_bytes = o.message_bytes;
    n.json = o.json;
    n.quiet = o.quiet;
    return o.datapath == "udp" ? run_bench_udp(n) : run_bench_dpdk(n);
  }
  std::ostream& report = o.json ? std::cerr : std::cout;  // the human-readable table
  const bool show_report = !(o.json && o.quiet);
  const bool show_progress = !o.quiet;

  // The lossless run is every row's baseline.
  if (std::none_of(o.loss.begin(), o.loss.end(), [](double l) { return l == 0; })) {
    o.loss.insert(o.loss.begin(), 0.0);
    if (show_progress) std::cerr << "note: loss 0 added: it is the baseline of the '% lossless' columns\n";
  }

  std::vector<ProfilePlan> plans;
  if (o.profile == "weft" || o.profile == "both") plans.push_back(make_plan(Profile::kWeft, o));
  if (o.profile == "ttpoe-compat" || o.profile == "both") plans.push_back(make_plan(Profile::kTtpoeCompat, o));
  const ProfilePlan* weft_plan = nullptr;
  const ProfilePlan* compat_plan = nullptr;
  for (const auto& p : plans) (p.profile == Profile::kWeft ? weft_plan : compat_plan) = &p;

  const std::size_t total_cells = o.loss.size() * plans.size();
  if (show_progress) {
    std::cerr << "weft bench transport: " << total_cells << " cells x " << o.repeat << " run(s), seeds "
              << o.seed << ".." << o.seed + static_cast<std::uint64_t>(o.repeat) - 1
              << "; one line per completed cell\n";
  }

  // ---- run every cell -----------------------------------------------------------------------
  const auto bench_start = std::chrono::steady_clock::now();
  std::vector<Cell> cells;
  bool all_ok = true;
  for (double loss : o.loss) {
    for (const auto& plan : plans) {
      Cell cell;
      cell.plan = &plan;
      cell.loss = loss;
      std::vector<double> goodputs, retransmits;
      for (int k = 0; k < o.repeat; ++k) {
        const std::uint64_t seed = o.seed + static_cast<std::uint64_t>(k);
        RunRecord rec = run_once(plan, o, loss, seed);
        cell.wall_s += rec.wall_s;
        if (rec.ok) {
          goodputs.push_back(rec.goodput_gbps);
          retransmits.push_back(static_cast<double>(rec.sender.retransmits));
        } else {
          cell.ok = false;
          all_ok = false;
          std::cerr << "FAILED: profile " << plan.name << ", loss " << loss_arg(loss) << ": " << rec.failure
                    << "\n  reproduce: " << reproduce_command(plan, o, loss, seed) << "\n";
        }
        cell.runs.push_back(std::move(rec));
      }
      if (!goodputs.empty()) {
        cell.goodput = median(goodputs);
        cell.retransmits = median(retransmits);
      }
      cells.push_back(std::move(cell));
      if (show_progress) {
        const Cell& c = cells.back();
        std::vector<double> eps;
        for (const auto& r : c.runs) eps.push_back(r.events_per_s());
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - bench_start).count();
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "[%2zu/%zu] %-12s loss %6.3f%%  %s  rtx %s  %d run(s) in %.2f s wall, %.2f M events/s; "
                      "elapsed %.1f s\n",
                      cells.size(), total_cells, plan.name.c_str(), loss * 100,
                      c.goodput ? (fixed(*c.goodput, 2) + " Gb/s").c_str() : "FAILED",
                      c.retransmits ? fixed(*c.retransmits, 0).c_str() : "-", o.repeat, c.wall_s,
                      median(eps) / 1e6, elapsed);
        std::cerr << buf;
      }
    }
  }
  const double total_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - bench_start).count();

  auto find = [&](const ProfilePlan* plan, double loss) -> const Cell* {
    if (plan == nullptr) return nullptr;
    for (const auto& c : cells) {
      if (c.plan == plan && same_loss(c.loss, loss)) return &c;
    }
    return nullptr;
  };
  auto goodput_of = [&](const ProfilePlan* plan, double loss) -> std::optional<double> {
    const Cell* c = find(plan, loss);
    return c != nullptr ? c->goodput : std::nullopt;
  };
  auto fraction_of_lossless = [&](const ProfilePlan* plan, double loss) -> std::optional<double> {
    auto g = goodput_of(plan, loss);
    auto base = goodput_of(plan, 0);
    if (!g || !base || *base <= 0) return std::nullopt;
    return *g / *base;
  };

  // ---- acceptance targets (weft) -----------------------------------------------------------
  std::vector<Target> targets;
  if (weft_plan != nullptr) {
    Target t{"weft lossless goodput >= 0.9 x line rate after headers", "", std::nullopt, 0,
             0.9 * weft_plan->line_rate_gbps};
    if (auto g = goodput_of(weft_plan, 0)) {
      t.value = *g;
      t.pass = *g >= t.threshold;
      t.measured = fixed(*g, 2) + " Gb/s vs " + fixed(t.threshold, 2) + " Gb/s";
    } else {
      t.measured = "not measured";
    }
    targets.push_back(t);
    const std::pair<double, double> at[] = {{0.01, 0.90}, {0.10, 0.50}};
    for (auto [loss, need] : at) {
      Target u{"weft at " + fixed(loss * 100, 0) + "% loss >= " + fixed(need * 100, 0) + "% of lossless", "",
               std::nullopt, 0, need};
      if (auto f = fraction_of_lossless(weft_plan, loss)) {
        u.value = *f;
        u.pass = *f >= need;
        u.measured = fixed(*f * 100, 1) + "% of lossless";
      } else {
        u.measured = "not measured (add " + loss_arg(loss) + " to --loss)";
      }
      targets.push_back(u);
    }
  }
  auto row_target = [&](double loss) -> std::string {
    if (weft_plan == nullptr || targets.size() < 3) return "-";
    if (same_loss(loss, 0)) return ">=0.9x line " + verdict(targets[0].pass);
    if (same_loss(loss, 0.01)) return ">=90% " + verdict(targets[1].pass);
    if (same_loss(loss, 0.10)) return ">=50% " + verdict(targets[2].pass);
    return "";
  };

  // ---- simulator speed ----------------------------------------------------------------------
  auto eps_median = [&](const ProfilePlan* plan) {
    std::vector<double> v;
    for (const auto& c : cells) {
      if (c.plan != plan) continue;
      for (const auto& r : c.runs) v.push_back(r.events_per_s());
    }
    return median(v);
  };

  // ---- human-readable report ----------------------------------------------------------------
  if (show_report) {
    std::ostream& out = report;
    out << "weft bench transport --datapath memory (deterministic simulator; goodput in virtual time)\n"
        << "link: " << o.rate_gbps << " Gb/s, " << o.delay_us
        << " us propagation, loss applied to each direction independently (data and ACKs)\n";
    for (const auto& p : plans) {
      out << p.name << ": " << (p.message_bytes % kMiB == 0 ? bytes_text(p.message_bytes)
                                                             : std::to_string(p.message_bytes) + " B")
          << " messages, " << bytes_text(p.bytes_per_run) << " per run";
      if (p.profile == Profile::kTtpoeCompat) {
        out << " (compat messages are limited to 1..1024 B, one frame each)";
      }
      out << "\n";
    }
    out << "seeds " << o.seed << ".." << o.seed + static_cast<std::uint64_t>(o.repeat) - 1
        << " (--seed " << o.seed << " --repeat " << o.repeat << "): goodput and retransmits are medians of "
        << o.repeat << " run(s)\n\n";

    std::vector<std::string> header = {"loss %"};
    for (const auto& p : plans) {
      header.push_back(short_name(p) + " Gb/s");
      header.push_back("% lossless");
    }
    if (weft_plan != nullptr && compat_plan != nullptr) header.push_back("weft/compat");
    for (const auto& p : plans) header.push_back(short_name(p) + " rtx");
    if (weft_plan != nullptr) header.push_back("weft target");
    Table table(header);
    for (double loss : o.loss) {
      std::vector<std::string> row = {fixed(loss * 100, 3)};
      for (const auto& p : plans) {
        auto g = goodput_of(&p, loss);
        auto f = fraction_of_lossless(&p, loss);
        row.push_back(g ? fixed(*g, 2) : "FAILED");
        row.push_back(f ? fixed(*f * 100, 1) + "%" : "-");
      }
      if (weft_plan != nullptr && compat_plan != nullptr) {
        auto w = goodput_of(weft_plan, loss);
        auto c = goodput_of(compat_plan, loss);
        row.push_back(w && c && *c > 0 ? fixed(*w / *c, 2) + "x" : "-");
      }
      for (const auto& p : plans) {
        const Cell* c = find(&p, loss);
        row.push_back(c != nullptr && c->retransmits ? fixed(*c->retransmits, 0) : "-");
      }
      if (weft_plan != nullptr) row.push_back(row_target(loss));
      table.add(std::move(row));
    }
    table.print(out);

    out << "\nline rate after headers (" << o.rate_gbps << " Gb/s x payload/frame):\n";
    for (const auto& p : plans) {
      char buf[256];
      auto g = goodput_of(&p, 0);
      std::snprintf(buf, sizeof buf, "  %-12s %5u B frames carry %4u B: %6.2f Gb/s; lossless goodput %s\n",
                    p.name.c_str(), p.frame_bytes, p.payload_bytes, p.line_rate_gbps,
                    g ? (fixed(*g, 2) + " Gb/s = " + fixed(*g / p.line_rate_gbps, 3) + " of it").c_str()
                      : "n/a");
      out << buf;
    }
    if (!targets.empty()) {
      out << "\nacceptance targets (informational; they do not change the exit code):\n";
      for (const auto& t : targets) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "  %-4s  %-56s %s\n", verdict(t.pass).c_str(), t.name.c_str(),
                      t.measured.c_str());
        out << buf;
      }
    }
    out << "\nsimulator speed (wall clock; depends on the machine and its load, goodput does not):\n";
    for (const auto& p : plans) {
      std::vector<double> wall;
      for (const auto& c : cells) {
        if (c.plan != &p) continue;
        for (const auto& r : c.runs) wall.push_back(r.wall_s);
      }
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "  %-12s %6.2f M events/s (median over runs of events / wall time of run_transfer); "
                    "median run %.3f s wall\n",
                    p.name.c_str(), eps_median(&p) / 1e6, median(wall));
      out << buf;
    }
    out << "total wall time: " << fixed(total_wall_s, 1) << " s\n";
    if (!all_ok) out << "\nFAILED: at least one run did not complete correctly (see above); exit 1\n";
  }

  // ---- JSON ---------------------------------------------------------------------------------
  if (o.json) {
    Json j;
    j["command"] = "bench transport";
    j["datapath"] = o.datapath;
    j["ok"] = all_ok;
    j["link"] = {{"rate_gbps", o.rate_gbps}, {"delay_us", o.delay_us}, {"loss_both_directions", true}};
    j["seed"] = o.seed;
    j["repeat"] = o.repeat;
    Json profiles = Json::object();
    for (const auto& p : plans) {
      Json pj = {{"message_bytes", p.message_bytes},
                 {"bytes_per_run", p.bytes_per_run},
                 {"frame_bytes", p.frame_bytes},
                 {"payload_bytes_per_frame", p.payload_bytes},
                 {"line_rate_after_headers_gbps", p.line_rate_gbps},
                 {"events_per_second_median", eps_median(&p)}};
      auto g = goodput_of(&p, 0);
      pj["lossless_goodput_gbps"] = g ? Json(*g) : Json(nullptr);
      pj["lossless_fraction_of_line_rate"] = g ? Json(*g / p.line_rate_gbps) : Json(nullptr);
      profiles[p.name] = pj;
    }
    j["profiles"] = profiles;
    Json cj = Json::array();
    for (const auto& c : cells) {
      auto f = fraction_of_lossless(c.plan, c.loss);
      Json runs = Json::array();
      for (const auto& r : c.runs) {
        runs.push_back({{"seed", r.seed},
                        {"ok", r.ok},
                        {"failure", r.failure},
                        {"goodput_gbps", r.goodput_gbps},
                        {"bytes_delivered", r.bytes_delivered},
                        {"virtual_us", r.virtual_us},
                        {"retransmits", r.sender.retransmits},
                        {"retransmits_rto", r.sender.retransmits_rto},
                        {"retransmits_fast", r.sender.retransmits_fast},
                        {"retransmits_nack", r.sender.retransmits_nack},
                        {"rto_expirations", r.sender.rto_expirations},
                        {"payloads_sent", r.sender.payloads_sent},
                        {"events", r.events},
                        {"wall_s", r.wall_s},
                        {"events_per_second", r.events_per_s()}});
      }
      cj.push_back({{"profile", c.plan->name},
                    {"loss", c.loss},
                    {"ok", c.ok},
                    {"goodput_gbps_median", c.goodput ? Json(*c.goodput) : Json(nullptr)},
                    {"fraction_of_lossless", f ? Json(*f) : Json(nullptr)},
                    {"retransmits_median", c.retransmits ? Json(*c.retransmits) : Json(nullptr)},
                    {"runs", runs}});
    }
    j["cells"] = cj;
    Json tj = Json::array();
    for (const auto& t : targets) {
      tj.push_back({{"name", t.name},
                    {"value", t.pass ? Json(t.value) : Json(nullptr)},
                    {"threshold", t.threshold},
                    {"pass", t.pass ? Json(*t.pass) : Json(nullptr)}});
    }
    j["targets"] = tj;
    j["wall_seconds_total"] = total_wall_s;
    std::cout << j.dump(2) << "\n";
  }
  return all_ok ? kExitOk : kExitFailed;
}

// CLI11 validator for one loss probability of the --loss list.
std::string check_loss(const std::string& text) {
  const std::string why = check_probability(text);
  return why.empty() ? why : "loss " + why + " (--loss takes a comma list such as 0,0.001,0.01)";
}

}  // namespace

void register_bench_transport(CLI::App& bench, Action& action) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "transport", "goodput of the weft and TTPoE-compat profiles against random loss");
  cmd->footer(
      "Examples:\n"
      "  weft bench transport --datapath memory\n"
      "  weft bench transport --datapath memory --profile weft --loss 0,0.01 --repeat 1 --json\n"
      "  weft bench transport --datapath udp        (weft vs raw UDP GSO/GRO, ping-pong, TCP)\n"
      "  weft bench transport --datapath dpdk       (weft vs raw memif)\n\n"
      "Goodput is measured in the simulator's virtual time (machine-independent); events/s is wall\n"
      "clock. Exit status: 0 every run completed (targets are informational), 1 a run failed, 2 usage.");

  cmd->add_option("--datapath", o->datapath,
                  "memory (simulator, virtual time); udp or dpdk (two real processes, beside raw baselines)")
      ->check(CLI::IsMember({"memory", "udp", "dpdk"}))
      ->capture_default_str();
  cmd->add_option("--profile", o->profile, "weft, ttpoe-compat or both")
      ->check(CLI::IsMember({"weft", "ttpoe-compat", "both"}))
      ->capture_default_str();
  cmd->add_option("--loss", o->loss, "comma list of per-frame loss probabilities, each direction")
      ->delimiter(',')
      ->check(CLI::Validator(check_loss, "LOSS,...", "loss"))
      ->default_str("0,0.001,0.01,0.05,0.1");
  cmd->add_option("--rate-gbps", o->rate_gbps, "link rate, Gb/s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--delay-us", o->delay_us, "link propagation delay each way, microseconds")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--message-bytes", o->message_bytes,
                  "weft message size in bytes (compat uses min(this, 1024): its limit is 1..1024 B)")
      ->check(CLI::Range(1u, 1u << 30))
      ->capture_default_str();
  cmd->add_option("--bytes-per-run", o->bytes_per_run,
                  "message bytes A sends to B in each run (udp/dpdk: default 2 GiB, about as long as their 1 s baselines)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--compat-bytes-per-run", o->compat_bytes_per_run,
                  "message bytes per ttpoe-compat run [default: --bytes-per-run]")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_option("--seed", o->seed, "first seed (runs use seed..seed+repeat-1)")
      ->check(CLI::Validator(
          [](const std::string& text) {
            return text.starts_with("-") ? "seed must be a non-negative integer" : std::string();
          },
          "", "seed"))
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "runs per cell; the median is reported")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print a JSON result on stdout; the table and progress go to stderr");
  cmd->add_flag("--quiet", o->quiet, "no progress lines (and, with --json, no table on stderr)");

  cmd->callback([o, &action, cmd]() {
    o->repeat_set = cmd->count("--repeat") > 0;
    o->bytes_per_run_set = cmd->count("--bytes-per-run") > 0;
    action = [o]() { return run_bench(*o); };
  });
}

}  // namespace weft::tools
