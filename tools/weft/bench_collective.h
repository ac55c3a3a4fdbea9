// `weft bench allreduce|allgather|reducescatter|broadcast|reduce|alltoall` (bench_collective.cc).
#pragma once

#include "tools/weft/cli.h"

namespace weft::tools {

// Adds one subcommand per benchmarked collective under `bench`.
void register_bench_collectives(CLI::App& bench, Action& action);

}  // namespace weft::tools
