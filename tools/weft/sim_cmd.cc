// `weft sim --scenario FILE.json [--json] [--out FILE.json] [--csv FILE.csv] [--seed N]`: runs a
// scenario on the ns-3 model (sim/runner/weft_sim_runner.h) and prints its results.
#include "tools/weft/sim_cmd.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#ifdef WEFT_HAVE_NS3
#include "sim/runner/weft_sim_runner.h"
#endif

namespace weft::tools {
namespace {

const std::string kHelpFor = "weft sim";

struct Options {
  std::string scenario, out, csv, queues, series;
  double every_us = 10;
  long long seed = -1;
  bool json = false;
  bool baseline = false;
};

int run(const Options& o) {
#ifndef WEFT_HAVE_NS3
  (void)o;
  throw UsageError("this weft was built without the ns-3 model (WEFT_NS3=OFF)", kHelpFor);
#else
  std::ifstream in(o.scenario);
  if (!in) throw UsageError("cannot read the scenario file '" + o.scenario + "'", kHelpFor);
  std::stringstream text;
  text << in.rdbuf();
  weft::ns3sim::SimRun r;
  try {
    r = weft::ns3sim::run_scenario(text.str(), o.seed, o.baseline, o.series.empty() ? 0.0 : o.every_us);
  } catch (const weft::ns3sim::ScenarioError& e) {
    throw UsageError(o.scenario + ": " + e.what(), kHelpFor);
  }
  if (o.json) std::cout << r.json << "\n";
  else std::cout << r.table;
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    f << r.json << "\n";
    if (!f) throw UsageError("cannot write '" + o.out + "'", kHelpFor);
  }
  if (!o.queues.empty()) {
    std::ofstream f(o.queues);
    f << r.ports_csv;
    if (!f) throw UsageError("cannot write '" + o.queues + "'", kHelpFor);
  }
  if (!o.series.empty()) {
    std::ofstream f(o.series);
    f << r.queue_series_csv;
    if (!f) throw UsageError("cannot write '" + o.series + "'", kHelpFor);
  }
  if (!o.csv.empty()) {
    std::ofstream f(o.csv);
    f << r.csv_header << "\n" << r.csv_row << "\n";
    if (!f) throw UsageError("cannot write '" + o.csv + "'", kHelpFor);
  }
  return r.ok ? kExitOk : kExitFailed;
#endif
}

}  // namespace

void register_sim(CLI::App& app, Action& action) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "sim", "simulate a scenario (JSON) on the ns-3 model: weft's transport and collectives on a lossy Ethernet "
             "fabric, in virtual time");
  cmd->add_option("--scenario", o->scenario, "the scenario file (JSON; see docs/sim.md)")->required();
  cmd->add_option("--seed", o->seed, "replace the scenario's seed (same seed, same run)");
  cmd->add_flag("--json", o->json, "print the results as one JSON object instead of the table");
  cmd->add_flag("--baseline", o->baseline,
                "then replay the frames every host sent on the same topology with no protocol (bare ns-3 "
                "forwarding) and compare packet-hops per second");
  cmd->add_option("--out", o->out, "also write the results as JSON to this file");
  cmd->add_option("--csv", o->csv, "also write the results as CSV (a header line and one row) to this file");
  cmd->add_option("--queues", o->queues,
                  "write one CSV row per switch port (traffic, drops, ECN marks, deepest and time-averaged queue) "
                  "to this file");
  cmd->add_option("--queue-series", o->series,
                  "write switch queue occupancy over time to this CSV file: every --every microseconds of "
                  "virtual time, a row per port holding bytes (plot: scripts/sim-plot-queues)");
  cmd->add_option("--every", o->every_us, "queue sampling interval for --queue-series, microseconds")
      ->default_val(10)
      ->check(CLI::Range(0.001, 1e6));
  cmd->footer(
      "A scenario names a topology (pod: hosts on one switch; leaf-spine: leaves, spines, hosts per\n"
      "leaf, uplink rate; fat-tree: k; combined: pods of accelerators with a scale-up and a scale-out\n"
      "port, on one network or apart), the switch (queue bytes or a shared buffer, PFC, ECN threshold,\n"
      "VC priority, path: ecmp, spray, adaptive, first), a loss rate, a workload (a collective: bytes,\n"
      "dtype, op, algorithm, on every host or per pod / per rail, or one per pod and one per rail at\n"
      "once; or incast / permutation flows in the weft or ttpoe-compat profile) and, optionally, the\n"
      "transport's timers (initial and minimum RTO). Every host runs weft's real transport (and\n"
      "collective engine); every result element is checked (#wrong) and every frame accounted for. A\n"
      "field with an error is named in the message. Studies: scripts/sim-study.\n\n"
      "Examples:\n"
      "  weft sim --scenario sim/scenarios/pod8-allreduce.json\n"
      "  weft sim --scenario sim/scenarios/leafspine-allreduce.json --seed 7 --csv /tmp/r.csv\n"
      "  weft sim --scenario sim/scenarios/incast.json --json\n"
      "  weft sim --scenario sim/scenarios/leafspine64-allreduce.json --baseline\n"
      "  weft sim --scenario sim/scenarios/interference.json --queue-series /tmp/q.csv --every 5\n\n"
      "Exit status: 0 every rank finished with correct results, 1 a rank failed or was wrong, 2 usage or\n"
      "scenario error.");
  cmd->callback([&action, o]() { action = [o]() { return run(*o); }; });
}

}  // namespace weft::tools
