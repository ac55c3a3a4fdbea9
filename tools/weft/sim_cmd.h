// `weft sim --scenario FILE.json` (tools/weft/sim_cmd.cc): a scenario on the ns-3 model.
#pragma once

#include "tools/weft/cli.h"

namespace weft::tools {

void register_sim(CLI::App& app, Action& action);

}  // namespace weft::tools
