// `weft keygen identity|cluster`: writes the key files weft authenticates with (tools/weft/keygen.cc).
#pragma once

#include "tools/weft/cli.h"

namespace weft::tools {

void register_keygen(CLI::App& app, Action& action);

}  // namespace weft::tools
