// The scenario runner behind `weft sim` (weft_sim_runner.h): JSON in, a WeftFabric of collective
// hosts and switches in ns-3, JSON/CSV out.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ns3/simulator.h"
#include "sim/facade/weft_ns3_facade.h"
#include "sim/runner/weft_sim_runner.h"
#include "weft-fabric.h"
#include "weft-replay-host.h"

namespace weft::ns3sim {
namespace {

using Json = nlohmann::ordered_json;

// Reads fields of one JSON object, naming each by its path, and rejects fields it never read.
class Fields {
 public:
  Fields(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw ScenarioError(where() + "must be a JSON object");
  }
  bool has(const std::string& k) const { return j_.contains(k); }
  const Json& object(const std::string& k) {
    seen_.insert(k);
    if (!j_.contains(k)) throw ScenarioError(where(k) + "missing");
    return j_.at(k);
  }
  double number(const std::string& k, double def, double lo, double hi) {
    seen_.insert(k);
    if (!j_.contains(k)) return def;
    const Json& v = j_.at(k);
    if (!v.is_number()) throw ScenarioError(where(k) + "must be a number, not " + v.dump());
    const double d = v.get<double>();
    if (!(d >= lo && d <= hi)) {
      throw ScenarioError(where(k) + num(d) + " is out of range [" + num(lo) + ", " + num(hi) + "]");
    }
    return d;
  }
  long long integer(const std::string& k, long long def, long long lo, long long hi) {
    seen_.insert(k);
    if (!j_.contains(k)) return def;
    const Json& v = j_.at(k);
    if (!v.is_number_integer()) throw ScenarioError(where(k) + "must be an integer, not " + v.dump());
    const long long i = v.get<long long>();
    if (i < lo || i > hi) {
      throw ScenarioError(where(k) + std::to_string(i) + " is out of range [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
    }
    return i;
  }
  bool boolean(const std::string& k, bool def) {
    seen_.insert(k);
    if (!j_.contains(k)) return def;
    if (!j_.at(k).is_boolean()) throw ScenarioError(where(k) + "must be true or false, not " + j_.at(k).dump());
    return j_.at(k).get<bool>();
  }
  std::string choice(const std::string& k, const std::string& def, const std::vector<std::string>& allowed) {
    seen_.insert(k);
    if (!j_.contains(k)) {
      if (def.empty()) throw ScenarioError(where(k) + "missing (one of " + list(allowed) + ")");
      return def;
    }
    const Json& v = j_.at(k);
    if (!v.is_string()) throw ScenarioError(where(k) + "must be a string (one of " + list(allowed) + ")");
    const std::string s = v.get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      throw ScenarioError(where(k) + "'" + s + "' is not one of " + list(allowed));
    }
    return s;
  }
  std::string text(const std::string& k, const std::string& def) {
    seen_.insert(k);
    if (!j_.contains(k)) return def;
    if (!j_.at(k).is_string()) throw ScenarioError(where(k) + "must be a string");
    return j_.at(k).get<std::string>();
  }
  // Every field present must have been read.
  void done() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (seen_.count(it.key()) == 0) {
        std::vector<std::string> known(seen_.begin(), seen_.end());
        throw ScenarioError(where(it.key()) + "unknown field (known here: " + list(known) + ")");
      }
    }
  }

 private:
  std::string where(const std::string& k = "") const {
    const std::string p = path_.empty() ? k : k.empty() ? path_ : path_ + "." + k;
    return (p.empty() ? std::string("scenario") : p) + ": ";
  }
  static std::string list(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  static std::string num(double d) {
    std::ostringstream o;
    o << d;
    return o.str();
  }
  const Json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

struct Scenario {
  std::string name = "scenario";
  std::uint64_t seed = 1;
  double deadline_ms = 10000;
  std::string kind;
  int hosts = 8, leaves = 0, hosts_per_leaf = 0, spines = 0;
  double link_gbps = 100, link_delay_us = 1, uplink_gbps = 100, uplink_delay_us = 1;
  // combined: pods of accelerators with a scale-up port each, on the same network as their
  // scale-out ports (shared) or on switches of their own (not shared).
  int pods = 0, pod_size = 0;
  int fat_tree_k = 0;  // fat-tree: k-ary (k pods of k/2 edge and k/2 aggregation switches, (k/2)^2 cores)
  double scaleup_gbps = 100;
  bool shared = true;
  ns3::WeftSwitch::Options sw;
  std::string path_name = "ecmp";
  double loss = 0;
  std::string workload = "collective";  // collective, incast, permutation, scaleup+scaleout
  CollectiveSpec work;
  // collective: which ranks form each communicator: all ("world"), each pod ("pods": the hosts
  // under one leaf or edge switch) or each rail ("rails": the hosts at the same place in every pod).
  std::string communicator = "world";
  CollectiveSpec scaleout_work;  // scaleup+scaleout: `work` runs in every pod, this in every rail
  // Point-to-point workloads: flows of `work.bytes` each.
  int senders = 0;          // incast: how many hosts send to `receiver` (0: every other host)
  int receiver = 0;         // incast
  bool compat = false;      // transport profile ttpoe-compat (go-back-N) instead of weft's
  std::uint32_t recv_buffer_bytes = 4u << 20;  // the hosts' receive buffer per link
  bool nack_full = true;    // receivers refuse with NACK_FULL, or drop silently
  TimerOptions timers;      // every host's transport timers
};

Scenario parse(const std::string& text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw ScenarioError(std::string("scenario: not valid JSON: ") + e.what());
  }
  Scenario s;
  Fields top(j, "");
  s.name = top.text("name", s.name);
  s.seed = static_cast<std::uint64_t>(top.integer("seed", 1, 0, (1LL << 62)));
  s.deadline_ms = top.number("deadline_ms", 10000, 1, 3'600'000);
  s.loss = top.number("loss", 0, 0, 0.5);
  if (top.has("transport")) {
    Fields t(top.object("transport"), "transport");
    s.timers.rto_initial_us = static_cast<std::uint32_t>(t.integer("rto_initial_us", 1000, 1, 10'000'000));
    s.timers.rto_min_us = static_cast<std::uint32_t>(t.integer("rto_min_us", 100, 1, 10'000'000));
    t.done();
  }
  {
    Fields t(top.object("topology"), "topology");
    s.kind = t.choice("kind", "", {"pod", "leaf-spine", "combined", "fat-tree"});
    s.link_gbps = t.number("link_gbps", 100, 0.001, 1e5);
    s.link_delay_us = t.number("link_delay_us", 1, 0, 1e6);
    if (s.kind == "pod") {
      s.hosts = static_cast<int>(t.integer("hosts", 8, 2, 4096));
    } else if (s.kind == "fat-tree") {
      s.fat_tree_k = static_cast<int>(t.integer("k", 4, 2, 64));
      if (s.fat_tree_k % 2 != 0) throw ScenarioError("topology.k: " + std::to_string(s.fat_tree_k) + " must be even");
      s.uplink_gbps = t.number("uplink_gbps", s.link_gbps, 0.001, 1e5);
      s.uplink_delay_us = t.number("uplink_delay_us", s.link_delay_us, 0, 1e6);
      const int half = s.fat_tree_k / 2;
      s.hosts = s.fat_tree_k * half * half;  // k pods x k/2 edges x k/2 hosts
      s.hosts_per_leaf = half;              // hosts behind one edge switch
    } else if (s.kind == "combined") {
      s.pods = static_cast<int>(t.integer("pods", 4, 1, 4096));
      s.pod_size = static_cast<int>(t.integer("pod_size", 8, 2, 256));
      s.spines = static_cast<int>(t.integer("spines", 2, 1, 1024));
      s.scaleup_gbps = t.number("scaleup_gbps", s.link_gbps, 0.001, 1e5);
      s.uplink_gbps = t.number("uplink_gbps", s.link_gbps, 0.001, 1e5);
      s.uplink_delay_us = t.number("uplink_delay_us", s.link_delay_us, 0, 1e6);
      s.shared = t.boolean("shared", true);
      s.hosts = s.pods * s.pod_size;
      s.hosts_per_leaf = s.pod_size;  // a pod's scale-out ports share one leaf
      if (s.hosts > 65536) throw ScenarioError("topology: pods x pod_size is more than 65536 accelerators");
    } else {
      s.leaves = static_cast<int>(t.integer("leaves", 4, 2, 1024));
      s.hosts_per_leaf = static_cast<int>(t.integer("hosts_per_leaf", 4, 1, 1024));
      s.spines = static_cast<int>(t.integer("spines", 2, 1, 1024));
      s.uplink_gbps = t.number("uplink_gbps", s.link_gbps, 0.001, 1e5);
      s.uplink_delay_us = t.number("uplink_delay_us", s.link_delay_us, 0, 1e6);
      s.hosts = s.leaves * s.hosts_per_leaf;
      if (s.hosts > 65536) throw ScenarioError("topology: leaves x hosts_per_leaf is more than 65536 hosts");
    }
    if (t.has("switch")) {
      Fields w(t.object("switch"), "topology.switch");
      s.sw.queue_limit_bytes = static_cast<std::uint64_t>(w.integer("queue_bytes", 1 << 20, 9000, 1LL << 34));
      s.sw.ecn_threshold_bytes = static_cast<std::uint64_t>(w.integer("ecn_threshold_bytes", 0, 0, 1LL << 34));
      s.sw.priority = w.boolean("priority", true);
      s.path_name = w.choice("path", "ecmp", {"ecmp", "spray", "adaptive", "first"});
      s.sw.shared_buffer_bytes = static_cast<std::uint64_t>(w.integer("shared_buffer_bytes", 0, 0, 1LL << 36));
      if (s.sw.shared_buffer_bytes > 0 && s.sw.shared_buffer_bytes < 9000) {
        throw ScenarioError("topology.switch.shared_buffer_bytes: " + std::to_string(s.sw.shared_buffer_bytes) +
                            " cannot hold one 9000-byte frame (0: per-port buffers)");
      }
      s.sw.dt_alpha = w.number("dt_alpha", 1.0, 1.0 / 64, 64);
      s.sw.pfc = w.boolean("pfc", false);
      s.sw.pfc_xoff_bytes = static_cast<std::uint64_t>(w.integer("pfc_xoff_bytes", 65536, 9000, 1LL << 34));
      s.sw.pfc_xon_bytes = static_cast<std::uint64_t>(
          w.integer("pfc_xon_bytes", static_cast<long long>(s.sw.pfc_xoff_bytes / 2), 0, 1LL << 34));
      if (s.sw.pfc_xon_bytes >= s.sw.pfc_xoff_bytes) {
        throw ScenarioError("topology.switch.pfc_xon_bytes: " + std::to_string(s.sw.pfc_xon_bytes) +
                            " must be below pfc_xoff_bytes (" + std::to_string(s.sw.pfc_xoff_bytes) + ")");
      }
      w.done();
    }
    s.sw.path = s.path_name == "spray"      ? ns3::WeftSwitch::PathChoice::kSpray
                : s.path_name == "adaptive" ? ns3::WeftSwitch::PathChoice::kAdaptive
                : s.path_name == "first"    ? ns3::WeftSwitch::PathChoice::kFirst
                                         : ns3::WeftSwitch::PathChoice::kEcmp;
    t.done();
  }
  {
    Fields w(top.object("workload"), "workload");
    s.workload = w.choice("kind", "collective", {"collective", "incast", "permutation", "scaleup+scaleout"});
    // A collective's fields, at `f` (workload, or workload.scaleup / .scaleout); `group` ranks.
    auto collective = [](Fields& f, CollectiveSpec& c, int group) {
      c.bytes = static_cast<std::size_t>(f.integer("bytes", 1 << 20, 1, 1LL << 34));
      c.collective = f.choice("collective", "allreduce",
                              {"allreduce", "allgather", "reducescatter", "broadcast", "reduce", "alltoall"});
      c.dtype = f.text("dtype", "float");
      c.op = f.text("op", "sum");
      c.algorithm = f.text("algorithm", "auto");
      c.root = static_cast<int>(f.integer("root", 0, 0, group - 1));
    };
    const int pod = s.hosts_per_leaf;  // 0: no pods (a pod topology is one switch)
    const int pods = pod > 0 ? s.hosts / pod : 0;
    auto need_pods = [&](const std::string& field, const std::string& what) {
      if (pod < 2 || pods < 2) {
        throw ScenarioError(field + what + " needs a topology with at least 2 pods of at least 2 hosts (combined, " +
                            "leaf-spine or fat-tree; this one has " +
                            (pod > 0 ? std::to_string(pods) + " of " + std::to_string(pod) : std::string("none")) + ")");
      }
    };
    if (s.workload == "collective") {
      s.communicator = w.choice("communicator", "world", {"world", "pods", "rails"});
      if (s.communicator != "world") need_pods("workload.communicator: '", s.communicator + "'");
      const int group = s.communicator == "pods" ? pod : s.communicator == "rails" ? pods : s.hosts;
      collective(w, s.work, group);
    } else if (s.workload == "scaleup+scaleout") {
      need_pods("workload.kind: '", "scaleup+scaleout'");
      Fields up(w.object("scaleup"), "workload.scaleup");
      collective(up, s.work, pod);
      up.done();
      Fields out(w.object("scaleout"), "workload.scaleout");
      collective(out, s.scaleout_work, pods);
      out.done();
    } else {
      s.work.bytes = static_cast<std::size_t>(w.integer("bytes", 1 << 20, 1, 1LL << 34));
      s.compat = w.choice("profile", "weft", {"weft", "ttpoe-compat"}) == "ttpoe-compat";
      s.recv_buffer_bytes = static_cast<std::uint32_t>(w.integer("recv_buffer_bytes", 4 << 20, 16384, 1LL << 31));
      s.nack_full = w.boolean("nack_full", true);
      if (s.workload == "incast") {
        s.receiver = static_cast<int>(w.integer("receiver", 0, 0, s.hosts - 1));
        s.senders = static_cast<int>(w.integer("senders", s.hosts - 1, 1, s.hosts - 1));
      }
    }
    w.done();
  }
  top.done();
  return s;
}

// A collective job of a scenario: one communicator index on every host. World jobs report under
// plain keys ("completion_us"), pod and rail jobs under "scaleup_" and "scaleout_".
struct Job {
  std::string prefix;  // "", "scaleup" or "scaleout"
  int comm = 0;        // CollectiveHost communicator index
  CollectiveSpec spec;
  int group = 0;       // ranks per communicator
  double rate_gbps = 0;  // the host port rate its ideal bound assumes
};

bool collective_workload(const Scenario& s) { return s.workload == "collective" || s.workload == "scaleup+scaleout"; }

std::vector<Job> jobs_of(const Scenario& s) {
  const int pod = s.hosts_per_leaf;
  const double scaleup = s.kind == "combined" ? s.scaleup_gbps : s.link_gbps;
  if (s.workload == "scaleup+scaleout") {
    return {Job{"scaleup", 0, s.work, pod, scaleup}, Job{"scaleout", 1, s.scaleout_work, s.hosts / pod, s.link_gbps}};
  }
  if (s.communicator == "pods") return {Job{"scaleup", 0, s.work, pod, scaleup}};
  if (s.communicator == "rails") return {Job{"scaleout", 0, s.work, s.hosts / pod, s.link_gbps}};
  return {Job{"", 0, s.work, s.hosts, s.link_gbps}};
}

std::string key(const std::string& prefix, const std::string& k) { return prefix.empty() ? k : prefix + "_" + k; }

std::string fixed(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// The human-readable summary of a run's results.
std::string table(const Scenario& s, const Json& r) {
  std::ostringstream t;
  char line[512];
  t << "# weft sim: " << s.name << " (seed " << s.seed << "): " << s.kind << ", " << s.hosts << " hosts, "
    << s.link_gbps << " Gb/s, path " << s.path_name << ", loss " << s.loss << "\n";
  const std::string drops = r["dropped_queue"].dump() + "/" + r["dropped_loss"].dump();
  if (collective_workload(s)) {
    std::snprintf(line, sizeof line, "#%13s %12s %19s %12s %12s %7s %12s %7s %8s %14s %8s\n", "collective", "bytes",
                  "algorithm", "time(us)", "ideal(us)", "ratio", "busbw(GB/s)", "#wrong", "retrans", "drops(q/loss)",
                  "wall(s)");
    t << line;
    const std::vector<Job> jobs = jobs_of(s);
    for (const Job& j : jobs) {
      const std::string name = (j.prefix.empty() ? "" : j.prefix + ":") + j.spec.collective;
      std::snprintf(line, sizeof line, "%14s %12s %19s %12.3f %12.3f %7.2f %12.3f %7s %8s %14s %8.3f\n", name.c_str(),
                    r[key(j.prefix, "bytes")].dump().c_str(), r[key(j.prefix, "algorithm")].get<std::string>().c_str(),
                    r[key(j.prefix, "completion_us")].get<double>(), r[key(j.prefix, "ideal_us")].get<double>(),
                    r[key(j.prefix, "ratio_to_ideal")].get<double>(), r[key(j.prefix, "busbw_gbps")].get<double>(),
                    r[key(j.prefix, "wrong")].dump().c_str(), r["retransmissions"].dump().c_str(), drops.c_str(),
                    r["wall_s"].get<double>());
      t << line;
    }
  } else {
    std::snprintf(line, sizeof line, "#%12s %13s %12s %7s %12s %12s %9s %9s %9s %8s %14s %8s\n", "workload", "profile",
                  "flow bytes", "flows", "time(us)", "ideal(us)", "slow-p50", "slow-p99", "slow-p999", "retrans",
                  "drops(q/loss)", "wall(s)");
    t << line;
    std::snprintf(line, sizeof line, "%13s %13s %12s %7s %12.3f %12.3f %9.2f %9.2f %9.2f %8s %14s %8.3f\n",
                  s.workload.c_str(), r["profile"].get<std::string>().c_str(), r["bytes"].dump().c_str(),
                  (r["flows_finished"].dump() + "/" + r["flows"].dump()).c_str(), r["completion_us"].get<double>(),
                  r["ideal_us"].get<double>(), r["slowdown_p50"].get<double>(), r["slowdown_p99"].get<double>(),
                  r["slowdown_p999"].get<double>(), r["retransmissions"].dump().c_str(), drops.c_str(),
                  r["wall_s"].get<double>());
    t << line;
  }
  t << "# frames: originated " << r["frames_originated"].dump() << ", delivered " << r["frames_delivered"].dump()
    << ", ECN-marked " << r["ecn_marked"].dump() << ", max queue " << r["max_queue_bytes"].dump() << " B, "
    << r["events"].dump() << " events, " << fixed(r["packet_hops_per_s"].get<double>() / 1e6, 2)
    << " M packet-hops/s, peak RSS " << fixed(r["peak_rss_mb"].get<double>(), 1) << " MB\n";
  if (r["retransmissions"].get<std::uint64_t>() > 0) {
    t << "# retransmissions by cause: timer " << r["retransmissions_rto"].dump() << ", RACK/SACK "
      << r["retransmissions_fast"].dump() << ", NACK (go-back-N) " << r["retransmissions_nack"].dump()
      << ", NACK_FULL " << r["retransmissions_nack_full"].dump() << "; found spurious "
      << r["retransmissions_spurious"].dump() << "\n";
  }
  if (s.sw.pfc || s.sw.shared_buffer_bytes > 0) {
    t << "# buffers: " << (s.sw.shared_buffer_bytes > 0 ? "shared " + std::to_string(s.sw.shared_buffer_bytes) + " B per switch"
                                                         : "per port " + std::to_string(s.sw.queue_limit_bytes) + " B")
      << ", deepest switch buffer " << r["max_buffer_bytes"].dump() << " B";
    if (s.sw.pfc) {
      t << "; PFC: " << r["pfc_pauses"].dump() << " pauses, ports paused " << fixed(r["paused_us"].get<double>(), 1)
        << " us in all";
    }
    t << "\n";
  }
  if (r.contains("speed_vs_baseline")) {
    t << "# speed: " << fixed(r["packet_hops_per_s"].get<double>() / 1e6, 3) << " M packet-hops/s with weft's hosts vs "
      << fixed(r["baseline_packet_hops_per_s"].get<double>() / 1e6, 3)
      << " M replaying the same frames with no protocol (bare ns-3 forwarding): "
      << fixed(r["speed_vs_baseline"].get<double>(), 2) << "x\n";
  }
  if (r.contains("failure")) t << "# FAILED: " << r["failure"].get<std::string>() << "\n";
  return t.str();
}

}  // namespace

namespace {

// Adds the switches and cables of the scenario's topology to `f`, whose hosts 0..hosts-1 exist,
// and builds the forwarding tables.
void build_topology(ns3::WeftFabric& f, const Scenario& s) {
  ns3::WeftFabric::LinkOptions host_link, up_link;
  host_link.rate_gbps = s.link_gbps;
  host_link.delay_us = s.link_delay_us;
  host_link.loss = s.loss;
  host_link.loss_seed = s.seed;
  up_link = host_link;
  up_link.rate_gbps = s.uplink_gbps;
  up_link.delay_us = s.uplink_delay_us;
  if (s.kind == "pod") {
    const int sw = f.AddSwitch(s.sw);
    for (int r = 0; r < s.hosts; ++r) f.Connect(r, sw, host_link);
  } else if (s.kind == "fat-tree") {
    // k pods, each with k/2 edge and k/2 aggregation switches fully meshed; edge e of a pod serves
    // hosts [pod * k^2/4 + e * k/2, ...); aggregation switch a of every pod links to the k/2 cores
    // a * k/2 .. a * k/2 + k/2 - 1.
    const int k = s.fat_tree_k, half = k / 2;
    std::vector<int> edges, aggs, cores;
    for (int i = 0; i < k * half; ++i) edges.push_back(f.AddSwitch(s.sw));
    for (int i = 0; i < k * half; ++i) aggs.push_back(f.AddSwitch(s.sw));
    for (int i = 0; i < half * half; ++i) cores.push_back(f.AddSwitch(s.sw));
    for (int r = 0; r < s.hosts; ++r) f.Connect(r, edges[static_cast<std::size_t>(r / half)], host_link);
    for (int p = 0; p < k; ++p) {
      for (int e = 0; e < half; ++e) {
        for (int a = 0; a < half; ++a) {
          f.Connect(edges[static_cast<std::size_t>(p * half + e)], aggs[static_cast<std::size_t>(p * half + a)], up_link);
        }
      }
      for (int a = 0; a < half; ++a) {
        for (int c = 0; c < half; ++c) {
          f.Connect(aggs[static_cast<std::size_t>(p * half + a)], cores[static_cast<std::size_t>(a * half + c)], up_link);
        }
      }
    }
  } else if (s.kind == "combined") {
    // Every accelerator: port 0 (scale-up) to its pod's switch, port 1 (scale-out) to its leaf.
    // Shared: the pod's switch is its leaf (one network); else a scale-up switch of its own.
    ns3::WeftFabric::LinkOptions scaleup_link = host_link;
    scaleup_link.rate_gbps = s.scaleup_gbps;
    std::vector<int> spines;
    std::vector<int> leaves, pod_switches;
    for (int p = 0; p < s.pods; ++p) {
      leaves.push_back(f.AddSwitch(s.sw));
      pod_switches.push_back(s.shared ? leaves.back() : f.AddSwitch(s.sw));
    }
    for (int q = 0; q < s.spines && s.pods > 1; ++q) spines.push_back(f.AddSwitch(s.sw));
    for (int r = 0; r < s.hosts; ++r) {
      const std::size_t pod = static_cast<std::size_t>(r / s.pod_size);
      f.Connect(r, pod_switches[pod], scaleup_link);
      f.Connect(r, leaves[pod], host_link);
    }
    for (int l : leaves) {
      for (int q : spines) f.Connect(l, q, up_link);
    }
  } else {
    std::vector<int> leaves, spines;
    for (int l = 0; l < s.leaves; ++l) leaves.push_back(f.AddSwitch(s.sw));
    for (int p = 0; p < s.spines; ++p) spines.push_back(f.AddSwitch(s.sw));
    for (int r = 0; r < s.hosts; ++r) f.Connect(r, leaves[static_cast<std::size_t>(r / s.hosts_per_leaf)], host_link);
    for (int l : leaves) {
      for (int p : spines) f.Connect(l, p, up_link);
    }
  }
  // The combined fabric's shared network: an accelerator sends over both its ports, choosing
  // between them as the switches do.
  f.BuildRoutes(s.kind == "combined" && s.shared);
  for (int r = 0; r < s.hosts; ++r) f.Host(r)->SetPathChoice(s.sw.path);
}

// One-way time of a frame's path with no queueing: its hops' propagation delays.
double path_delay_ns(const Scenario& s, int a, int b) {
  const double host = s.link_delay_us * 1e3;
  if (s.kind == "fat-tree") {
    const int half = s.fat_tree_k / 2;
    if (a / half == b / half) return 2 * host;
    if (a / (half * half) == b / (half * half)) return 2 * host + 2 * s.uplink_delay_us * 1e3;
    return 2 * host + 4 * s.uplink_delay_us * 1e3;
  }
  if (s.kind == "pod" || a / s.hosts_per_leaf == b / s.hosts_per_leaf) return 2 * host;
  return 2 * host + 2 * s.uplink_delay_us * 1e3;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

// Frames put on wires by every port (a frame crossing a switch counts once per hop).
std::uint64_t fabric_hops(const ns3::WeftFabric& f) {
  std::uint64_t hops = f.Count().originated;
  for (std::size_t n = 0; n < f.Nodes(); ++n) {
    if (f.IsHost(static_cast<int>(n))) continue;
    const ns3::Ptr<ns3::WeftSwitch> sw = f.Switch(static_cast<int>(n));
    for (std::size_t p = 0; p < sw->GetNPorts(); ++p) hops += sw->GetPortStats(static_cast<int>(p)).forwarded;
  }
  return hops;
}

// Stops the simulation after the event in which `done` first holds.
void stop_when(ns3::WeftFabric& f, int hosts, const std::function<bool()>& done) {
  for (int r = 0; r < hosts; ++r) {
    f.Host(r)->SetAfterEvent([done] {
      if (done()) ns3::Simulator::Stop();
    });
  }
}

// The speed baseline: the frames each host sent in the weft run, replayed on the same topology by
// hosts with no protocol (WeftReplayHost). Returns packet-hops per second of Simulator::Run().
double replay_hops_per_s(const Scenario& s, std::vector<std::vector<ns3::WeftFabric::Recorded>> records,
                         double* run_s) {
  ns3::WeftFabric f;
  for (int r = 0; r < s.hosts; ++r) {
    std::vector<ns3::WeftFabric::Recorded> mine;
    if (static_cast<std::size_t>(r) < records.size()) mine = std::move(records[static_cast<std::size_t>(r)]);
    f.AddHost(std::make_unique<ns3::WeftReplayHost>(std::move(mine)), static_cast<std::uint32_t>(r + 1));
  }
  build_topology(f, s);
  ns3::Simulator::Schedule(ns3::NanoSeconds(0), [&f] { f.ActivityAll(); });
  ns3::Simulator::Stop(ns3::NanoSeconds(static_cast<std::int64_t>(s.deadline_ms * 1e6)));
  const auto t0 = std::chrono::steady_clock::now();
  ns3::Simulator::Run();
  *run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t hops = fabric_hops(f);
  ns3::Simulator::Destroy();
  return *run_s > 0 ? static_cast<double>(hops) / *run_s : 0.0;
}

}  // namespace

SimRun run_scenario(const std::string& scenario_json, long long seed_override, bool baseline,
                    double queue_sample_us) {
  if (!(queue_sample_us >= 0) || queue_sample_us > 1e9) {
    throw ScenarioError("queue sampling interval " + std::to_string(queue_sample_us) + " us is out of range (0: off)");
  }
  Scenario s = parse(scenario_json);
  if (seed_override >= 0) s.seed = static_cast<std::uint64_t>(seed_override);
  const auto wall0 = std::chrono::steady_clock::now();
  SimRun out;
  Json result;
  result["name"] = s.name;
  result["seed"] = s.seed;
  result["topology"] = s.kind;
  result["hosts"] = s.hosts;
  if (s.kind == "leaf-spine") {
    result["leaves"] = s.leaves;
    result["spines"] = s.spines;
    result["oversubscription"] = (s.hosts_per_leaf * s.link_gbps) / (s.spines * s.uplink_gbps);
  } else if (s.kind == "fat-tree") {
    result["k"] = s.fat_tree_k;
  } else if (s.kind == "combined") {
    result["pods"] = s.pods;
    result["pod_size"] = s.pod_size;
    result["spines"] = s.spines;
    result["shared"] = s.shared;
    result["scaleup_gbps"] = s.scaleup_gbps;
  }
  result["link_gbps"] = s.link_gbps;
  result["path"] = s.path_name;
  result["loss"] = s.loss;
  result["rto_initial_us"] = s.timers.rto_initial_us;
  result["rto_min_us"] = s.timers.rto_min_us;
  result["workload"] = s.workload;
  bool workload_ok = false;
  std::string failure;
  {
    ns3::WeftFabric f;
    std::vector<CollectiveHost*> ranks;
    const std::vector<Job> jobs = collective_workload(s) ? jobs_of(s) : std::vector<Job>{};
    std::vector<TransportHost*> transports;
    for (int r = 0; r < s.hosts; ++r) {
      if (collective_workload(s)) {
        CollectiveHostOptions h;
        h.rank = r;
        h.size = s.hosts;
        h.seed = s.seed;
        h.ranks_per_pod = s.kind == "pod" ? 0 : s.hosts_per_leaf;
        h.alpha_us = 2 * s.link_delay_us + 1;
        h.beta_gbps = (s.kind == "combined" ? s.scaleup_gbps : s.link_gbps) / 8;
        h.inter_alpha_us = 2 * (s.link_delay_us + s.uplink_delay_us) + 1;
        h.inter_beta_gbps = std::min(s.link_gbps, s.uplink_gbps) / 8;
        h.timeout_ns = static_cast<std::uint64_t>(s.deadline_ms * 1e6);
        h.timers = s.timers;
        for (const Job& j : jobs) {
          if (j.prefix.empty()) continue;  // the world: the options above
          const int pod = s.hosts_per_leaf;
          CommunicatorOptions c;
          if (j.prefix == "scaleup") {  // this rank's pod
            for (int q = r / pod * pod; q < (r / pod + 1) * pod; ++q) c.ranks.push_back(q);
            c.alpha_us = h.alpha_us;
            c.beta_gbps = h.beta_gbps;
          } else {  // this rank's rail: the same place in every pod
            for (int q = r % pod; q < s.hosts; q += pod) c.ranks.push_back(q);
            c.alpha_us = h.inter_alpha_us;
            c.beta_gbps = h.inter_beta_gbps;
          }
          c.inter_alpha_us = c.alpha_us;
          c.inter_beta_gbps = c.beta_gbps;
          h.communicators.push_back(std::move(c));
        }
        auto core = CollectiveHost::create(h);
        ranks.push_back(core.get());
        f.AddHost(std::move(core), static_cast<std::uint32_t>(r + 1));
      } else {
        TransportHostOptions t;
        t.node_id = static_cast<std::uint32_t>(r + 1);
        t.seed = s.seed * 1000003u + static_cast<std::uint64_t>(r);
        t.compat = s.compat;
        t.recv_buffer_bytes = s.recv_buffer_bytes;
        t.nack_full = s.nack_full;
        t.timers = s.timers;
        auto core = TransportHost::create(t);
        transports.push_back(core.get());
        f.AddHost(std::move(core), t.node_id);
      }
    }
    build_topology(f, s);

    // The flows of a point-to-point workload: (from, to).
    std::vector<std::pair<int, int>> flows;
    if (s.workload == "incast") {
      for (int k = 0, r = 0; k < s.senders; ++r) {
        if (r == s.receiver) continue;
        flows.emplace_back(r, s.receiver);
        ++k;
      }
    } else if (s.workload == "permutation") {
      const int shift = 1 + static_cast<int>((s.seed * 0x9E3779B97F4A7C15ull >> 33) % static_cast<std::uint64_t>(s.hosts - 1));
      for (int r = 0; r < s.hosts; ++r) flows.emplace_back(r, (r + shift) % s.hosts);
      result["permutation_shift"] = shift;
    }
    auto flows_done = [&] {
      for (const auto& [a, b] : flows) {
        if (transports[static_cast<std::size_t>(b)]->flow_finished_at(static_cast<std::uint32_t>(a + 1)) == kNever) {
          return false;
        }
      }
      return true;
    };
    auto ranks_done = [&ranks, &jobs] {
      for (auto* r : ranks) {
        for (const Job& j : jobs) {
          if (!r->done(j.comm)) return false;
        }
      }
      return true;
    };
    if (collective_workload(s)) stop_when(f, s.hosts, ranks_done);
    else stop_when(f, s.hosts, flows_done);
    std::string start_error;
    // Every rank's inputs are ready before the simulation starts (filling them is not simulating).
    for (auto* r : ranks) {
      for (const Job& j : jobs) {
        if (!r->prepare(j.spec, j.comm) && start_error.empty()) {
          start_error = (j.prefix.empty() ? "" : j.prefix + ": ") + r->error(j.comm);
        }
      }
    }
    if (!start_error.empty()) {
      ns3::Simulator::Destroy();
      throw ScenarioError("workload: " + start_error);
    }
    ns3::Simulator::Schedule(ns3::NanoSeconds(0), [&] {
      for (auto* r : ranks) {
        for (const Job& j : jobs) {
          if (!r->start(j.spec, 0, j.comm) && start_error.empty()) {
            start_error = (j.prefix.empty() ? "" : j.prefix + ": ") + r->error(j.comm);
          }
        }
      }
      for (const auto& [a, b] : flows) {
        transports[static_cast<std::size_t>(b)]->expect_flow(static_cast<std::uint32_t>(a + 1), s.work.bytes);
        if (!transports[static_cast<std::size_t>(a)]->start_flow(static_cast<std::uint32_t>(b + 1), s.work.bytes, 0) &&
            start_error.empty()) {
          start_error = transports[static_cast<std::size_t>(a)]->last_error();
        }
      }
      f.ActivityAll();
    });
    if (baseline) f.RecordTransmits();
    std::ostringstream series;
    std::function<void()> sample;
    if (queue_sample_us > 0) {
      series << "time_us,switch_node,port,peer_node,queue_bytes,switch_buffer_bytes\n";
      const auto every = ns3::NanoSeconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(queue_sample_us * 1e3)));
      sample = [&f, &series, &sample, every] {
        const double t = static_cast<double>(ns3::Simulator::Now().GetNanoSeconds()) / 1e3;
        for (std::size_t n = 0; n < f.Nodes(); ++n) {
          if (f.IsHost(static_cast<int>(n))) continue;
          const ns3::Ptr<ns3::WeftSwitch> sw = f.Switch(static_cast<int>(n));
          for (std::size_t p = 0; p < sw->GetNPorts(); ++p) {
            const std::uint64_t q = sw->GetPortStats(static_cast<int>(p)).queue_bytes;
            if (q == 0) continue;
            series << fixed(t, 3) << "," << n << "," << p << "," << f.PortPeer(static_cast<int>(n), static_cast<int>(p))
                   << "," << q << "," << sw->GetStats().buffer_bytes << "\n";
          }
        }
        ns3::Simulator::Schedule(every, sample);
      };
      ns3::Simulator::Schedule(ns3::NanoSeconds(0), sample);
    }
    ns3::Simulator::Stop(ns3::NanoSeconds(static_cast<std::int64_t>(s.deadline_ms * 1e6)));
    const auto run0 = std::chrono::steady_clock::now();
    ns3::Simulator::Run();
    const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - run0).count();
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (!start_error.empty()) {
      ns3::Simulator::Destroy();
      throw ScenarioError("workload: " + start_error);
    }

    Retransmits rtx;
    TimeNs finish = 0;
    if (collective_workload(s)) {
      const auto verify0 = std::chrono::steady_clock::now();
      std::uint64_t wrong_all = 0;
      std::vector<bool> rank_ok(ranks.size(), true);
      for (const Job& j : jobs) {
        std::uint64_t wrong = 0;
        TimeNs job_finish = 0;
        for (std::size_t i = 0; i < ranks.size(); ++i) {
          CollectiveHost* r = ranks[i];
          if (!r->done(j.comm) || r->failed(j.comm)) {
            rank_ok[i] = false;
            if (failure.empty()) {
              failure = (j.prefix.empty() ? "" : j.prefix + ": ") +
                        (r->done(j.comm) ? r->error(j.comm) : std::string("did not finish by deadline_ms"));
            }
          }
          wrong += r->wrong_elements(j.comm);
          if (r->finished_at(j.comm) != kNever) job_finish = std::max(job_finish, r->finished_at(j.comm));
        }
        finish = std::max(finish, job_finish);
        wrong_all += wrong;
        const double factor = busbw_factor(j.spec.collective, j.group);
        const double bytes = static_cast<double>(ranks[0]->bytes(j.comm));
        const double ideal_ns = factor * bytes * 8.0 / j.rate_gbps;
        result[key(j.prefix, "collective")] = j.spec.collective;
        if (!j.prefix.empty()) result[key(j.prefix, "ranks")] = j.group;
        result[key(j.prefix, "bytes")] = ranks[0]->bytes(j.comm);
        result[key(j.prefix, "algorithm")] = ranks[0]->algorithm(j.comm);
        result[key(j.prefix, "completion_us")] = static_cast<double>(job_finish) / 1e3;
        result[key(j.prefix, "ideal_us")] = ideal_ns / 1e3;
        result[key(j.prefix, "ratio_to_ideal")] =
            ideal_ns > 0 && job_finish > 0 ? static_cast<double>(job_finish) / ideal_ns : 0.0;
        result[key(j.prefix, "busbw_gbps")] = job_finish > 0 ? factor * bytes / static_cast<double>(job_finish) : 0.0;
        result[key(j.prefix, "wrong")] = wrong;
      }
      for (auto* r : ranks) rtx += r->retransmissions_by_cause();
      const auto finished = static_cast<std::uint64_t>(std::count(rank_ok.begin(), rank_ok.end(), true));
      result["communicator"] = s.workload == "scaleup+scaleout" ? "pods+rails" : s.communicator;
      result["completed_ranks"] = finished;
      if (!jobs.front().prefix.empty()) {
        result["completion_us"] = static_cast<double>(finish) / 1e3;
        result["wrong"] = wrong_all;
      }
      workload_ok = finished == ranks.size() && wrong_all == 0;
      // Checking every element of every rank's result (after the run; not in wall_s).
      result["verify_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - verify0).count();
    } else {
      std::vector<double> fct_us, slowdown;
      std::uint64_t finished = 0;
      for (const auto& [a, b] : flows) {
        const TimeNs t = transports[static_cast<std::size_t>(b)]->flow_finished_at(static_cast<std::uint32_t>(a + 1));
        if (t == kNever) continue;
        ++finished;
        finish = std::max(finish, t);
        const double ideal = static_cast<double>(s.work.bytes) * 8.0 / s.link_gbps + path_delay_ns(s, a, b);
        fct_us.push_back(static_cast<double>(t) / 1e3);
        slowdown.push_back(static_cast<double>(t) / ideal);
      }
      std::string link_error;
      for (auto* t : transports) {
        rtx += t->retransmissions_by_cause();
        if (link_error.empty() && t->link_errors() > 0) link_error = t->last_error();
      }
      if (finished < flows.size()) {
        failure = std::to_string(flows.size() - finished) + " flow(s) did not finish" +
                  (link_error.empty() ? " by deadline_ms" : ": a link failed: " + link_error);
      }
      result["profile"] = s.compat ? "ttpoe-compat" : "weft";
      result["nack_full"] = s.nack_full;
      result["recv_buffer_bytes"] = s.recv_buffer_bytes;
      result["bytes"] = s.work.bytes;
      result["flows"] = flows.size();
      result["flows_finished"] = finished;
      result["completion_us"] = static_cast<double>(finish) / 1e3;
      result["fct_p50_us"] = percentile(fct_us, 0.50);
      result["fct_p99_us"] = percentile(fct_us, 0.99);
      result["slowdown_p50"] = percentile(slowdown, 0.50);
      result["slowdown_p99"] = percentile(slowdown, 0.99);
      result["slowdown_p999"] = percentile(slowdown, 0.999);
      // The bottleneck's bound: incast funnels every byte through the receiver's link.
      const double bottleneck_ns = static_cast<double>(s.work.bytes) * 8.0 / s.link_gbps *
                                   static_cast<double>(s.workload == "incast" ? flows.size() : 1);
      result["ideal_us"] = bottleneck_ns / 1e3;
      result["ratio_to_ideal"] = finish > 0 ? static_cast<double>(finish) / bottleneck_ns : 0.0;
      workload_ok = finished == flows.size();
    }

    const ns3::WeftFabric::Conservation c = f.Count();
    const std::uint64_t hops = fabric_hops(f);
    std::uint64_t max_queue = 0, ecn = 0, pauses = 0, max_buffer = 0;
    double mean_queue_max = 0, mean_queue_sum = 0;
    int busy_ports = 0;
    const std::int64_t end_ns = ns3::Simulator::Now().GetNanoSeconds();
    std::ostringstream ports;
    ports << "switch_node,port,peer_node,forwarded,dropped_queue,ecn_marked,max_queue_bytes,mean_queue_bytes,"
             "pfc_pauses_sent,paused_us\n";
    for (std::size_t n = 0; n < f.Nodes(); ++n) {
      if (f.IsHost(static_cast<int>(n))) continue;
      const ns3::Ptr<ns3::WeftSwitch> sw = f.Switch(static_cast<int>(n));
      max_buffer = std::max(max_buffer, sw->GetStats().max_buffer_bytes);
      for (std::size_t p = 0; p < sw->GetNPorts(); ++p) {
        const auto& ps = sw->GetPortStats(static_cast<int>(p));
        pauses += ps.pfc_pauses_sent;
        max_queue = std::max(max_queue, ps.max_queue_bytes);
        ecn += ps.ecn_marked;
        const double mean = ps.MeanQueueBytes(end_ns);
        mean_queue_max = std::max(mean_queue_max, mean);
        if (ps.forwarded > 0) {
          mean_queue_sum += mean;
          ++busy_ports;
        }
        ports << n << "," << p << "," << f.PortPeer(static_cast<int>(n), static_cast<int>(p)) << "," << ps.forwarded
              << "," << ps.dropped_queue << "," << ps.ecn_marked << "," << ps.max_queue_bytes << "," << fixed(mean, 1)
              << "," << ps.pfc_pauses_sent << ","
              << fixed(static_cast<double>(sw->GetPort(static_cast<int>(p))->GetStats().paused_ns) / 1e3, 3) << "\n";
      }
    }
    out.ports_csv = ports.str();
    out.queue_series_csv = series.str();
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    out.ok = workload_ok && c.Holds();
    result["frames_originated"] = c.originated;
    result["frames_delivered"] = c.delivered;
    result["dropped_loss"] = c.lost_on_wire;
    result["dropped_queue"] = c.dropped_queue;
    result["dropped_no_route"] = c.dropped_no_route;
    result["conservation_holds"] = c.Holds();
    result["retransmissions"] = rtx.total;
    result["retransmissions_rto"] = rtx.rto;        // by cause: the retransmission timer
    result["retransmissions_fast"] = rtx.fast;      // RACK / SACK loss detection
    result["retransmissions_nack"] = rtx.nack;      // go-back-N after a NACK (ttpoe-compat)
    result["retransmissions_nack_full"] = rtx.nack_full;  // after NACK_FULL backpressure
    result["retransmissions_spurious"] = rtx.spurious;    // of all, found needless by the sender
    result["ecn_marked"] = ecn;
    result["max_queue_bytes"] = max_queue;
    result["max_buffer_bytes"] = max_buffer;  // the fullest switch, all its queues together
    result["pfc_pauses"] = pauses;
    result["paused_us"] = static_cast<double>(f.PausedNs()) / 1e3;  // every port, hosts' too
    result["mean_queue_bytes_busiest_port"] = mean_queue_max;  // time-averaged, the port where it is largest
    result["mean_queue_bytes_avg"] = busy_ports > 0 ? mean_queue_sum / busy_ports : 0.0;  // over ports that forwarded
    result["events"] = ns3::Simulator::GetEventCount();
    result["wall_s"] = wall_s;
    result["run_s"] = run_s;
    result["packet_hops"] = hops;
    result["packet_hops_per_s"] = run_s > 0 ? static_cast<double>(hops) / run_s : 0.0;
    result["peak_rss_mb"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
    result["ok"] = out.ok;
    if (!failure.empty()) result["failure"] = failure;
    std::vector<std::vector<ns3::WeftFabric::Recorded>> records;
    if (baseline) records = f.TakeRecords();
    ns3::Simulator::Destroy();
    if (baseline) {
      double replay_s = 0;
      const double base = replay_hops_per_s(s, std::move(records), &replay_s);
      result["baseline_run_s"] = replay_s;
      result["baseline_packet_hops_per_s"] = base;
      result["speed_vs_baseline"] = base > 0 ? result["packet_hops_per_s"].get<double>() / base : 0.0;
    }
  }
  out.json = result.dump();
  for (auto it = result.begin(); it != result.end(); ++it) {
    out.csv_header += (out.csv_header.empty() ? "" : ",") + it.key();
    const std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    out.csv_row += (out.csv_row.empty() ? "" : ",") + (v.find(',') != std::string::npos ? "\"" + v + "\"" : v);
  }
  out.table = table(s, result);
  return out;
}

}  // namespace weft::ns3sim
