// The `weft` program: one binary, one subcommand per tool (DESIGN.md §7).
//
// main() builds the CLI11 tree, parses, and runs the action the chosen subcommand registered.
// Every usage problem (unknown subcommand, bad option value, missing argument, a datapath not
// built yet) is reported on stderr as one "weft: error: ..." line naming the problem, followed by
// the --help to read, and exits 2.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <malloc.h>

#include "tools/weft/bench_collective.h"
#include "tools/weft/bench_compare.h"
#include "tools/weft/cli.h"
#include "tools/weft/decode.h"
#include "tools/weft/keygen.h"
#include "tools/weft/sim_cmd.h"
#include "tools/weft/net.h"

namespace {

using weft::tools::Action;
using weft::tools::kExitUsage;

constexpr std::string_view kFooter = R"(Examples (links are encrypted and authenticated; make keys first):
  weft keygen cluster --out cluster.key               # one key for every member of the cluster
  weft peer --listen udp://127.0.0.1:7000 --echo --cluster-key cluster.key
  weft send --to udp://127.0.0.1:7000 --bytes 1048576 --messages 8 --verify --cluster-key cluster.key
  weft keygen identity --out keys --name node1        # or: an identity per node and allowlists
  weft peer --listen udp://127.0.0.1:7001 --insecure  # plaintext, for the conformance suite
  weft conformance --target udp://127.0.0.1:7001
  weft bench transport --datapath memory --loss 0,0.01 --repeat 1
  weft bench allreduce --ranks 4 --max-bytes 64M                # encrypted all-reduce, 4 processes
  weft bench compare --ranks 2,4 --sizes 8,1M,16M,64M           # beside Open MPI and Gloo
  weft sim --scenario sim/scenarios/pod8-allreduce.json         # the ns-3 model

Exit status: 0 success, 1 a run failed, 2 usage error.)";

int usage_error(std::string_view message, std::string_view help_for) {
  std::cerr << "weft: error: " << message << "\n"
            << "Run '" << help_for << " --help' for usage.\n";
  return kExitUsage;
}

// The command path of the deepest subcommand CLI11 got to ("weft bench transport").
std::string deepest_command(const CLI::App& app) {
  std::string path = "weft";
  const CLI::App* cur = &app;
  while (!cur->get_subcommands().empty()) {
    cur = cur->get_subcommands().front();
    path += " " + cur->get_name();
  }
  return path;
}

// Names the first token that is neither an option nor a known subcommand, at the level where it
// appears, before CLI11 gets to it: CLI11's own message ("arguments were not expected") does not
// say that a subcommand name was the problem.
int check_subcommand_names(const std::vector<std::string>& args) {
  if (args.empty()) return 0;
  if (args[0].starts_with("-")) {
    if (args[0] == "-h" || args[0] == "--help") return 0;
    return usage_error("unknown option '" + args[0] + "' (weft takes a subcommand first)", "weft");
  }
  if (args[0] == "decode") return 0;
  if (args[0] == "peer" || args[0] == "send" || args[0] == "conformance" || args[0] == "sim") return 0;
  if (args[0] == "keygen") {
    if (args.size() < 2) return usage_error("'weft keygen' needs a key kind: identity or cluster", "weft keygen");
    if (args[1].starts_with("-") || args[1] == "identity" || args[1] == "cluster") return 0;
    return usage_error("unknown key kind '" + args[1] + "' (available: identity, cluster)", "weft keygen");
  }
  if (args[0] != "bench") {
    return usage_error("unknown subcommand '" + args[0] + "'", "weft");
  }
  if (args.size() < 2 || args[1].starts_with("-")) return 0;
  for (const char* known : {"transport", "allreduce", "allgather", "reducescatter", "broadcast", "reduce", "alltoall",
                            "compare"}) {
    if (args[1] == known) return 0;
  }
  return usage_error("unknown benchmark '" + args[1] +
                         "' (available: transport, allreduce, allgather, reducescatter, broadcast, reduce, alltoall, "
                         "compare)",
                     "weft bench");
}

}  // namespace

int main(int argc, char** argv) {
  // Messages are whole buffers of up to hundreds of MiB. With glibc's defaults each one above the
  // (dynamic) mmap threshold is a fresh mapping whose pages fault in on first touch and are
  // returned on free: at tens of Gb/s that is the largest cost of a transfer. Keep freed memory in
  // the heap for reuse instead (inherited by the processes the benchmarks fork).
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"weft: a TTPoE-inspired encrypted transport and collective library. Tools to benchmark and test them.",
               "weft"};
  app.footer(std::string(kFooter));
  app.require_subcommand(1);

  CLI::App* bench = app.add_subcommand(
      "bench", "benchmarks: 'bench transport' (goodput of weft vs TTPoE-compat under loss), 'bench allreduce' "
               "and the other collectives (nccl-tests tables), 'bench compare' (weft beside Open MPI and Gloo)");
  bench->require_subcommand(1);
  bench->footer(
      "Examples:\n  weft bench transport --datapath memory\n  weft bench allreduce --ranks 4 --max-bytes 64M\n"
      "  weft bench compare --ranks 2,4 --sizes 8,1M,16M,64M --rounds 5");

  Action action;
  weft::tools::register_bench_transport(*bench, action);
  weft::tools::register_bench_collectives(*bench, action);
  weft::tools::register_bench_compare(*bench, action);
  weft::tools::register_decode(app, action);
  weft::tools::register_peer(app, action);
  weft::tools::register_send(app, action);
  weft::tools::register_conformance(app, action);
  weft::tools::register_keygen(app, action);
  weft::tools::register_sim(app, action);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (int rc = check_subcommand_names(args); rc != 0) return rc;

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help and friends
    std::string message = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        message.find("ubcommand") != std::string::npos) {
      message = "a subcommand is required";
    } else if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      // CLI11: "The following argument(s) was/were not expected: a b"
      const std::size_t colon = message.find(": ");
      message = "unknown option or argument: " + (colon == std::string::npos ? message : message.substr(colon + 2));
    }
    return usage_error(message, deepest_command(app));
  }

  try {
    return action ? action() : kExitUsage;
  } catch (const weft::tools::UsageError& e) {
    return usage_error(e.what(), e.help_for());
  }
}
