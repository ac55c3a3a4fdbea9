// `weft bench compare` (bench_compare.cc): weft beside Open MPI and Gloo, one run.
#pragma once

#include "tools/weft/cli.h"

namespace weft::tools {

// Adds `compare` under `bench`: runs `weft bench <collective>`, weft_peer_mpi and weft_peer_gloo
// as child processes, interleaved round by round, and prints the medians side by side with the
// collectives issue's acceptance targets (informational: they do not change the exit status).
void register_bench_compare(CLI::App& bench, Action& action);

}  // namespace weft::tools
