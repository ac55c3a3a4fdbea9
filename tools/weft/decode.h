// `weft decode FILE.pcap`: TTP frames of a classic pcap file as text or JSON (tools/weft/decode.cc).
#pragma once

#include "tools/weft/cli.h"

namespace weft::tools {

void register_decode(CLI::App& app, Action& action);

}  // namespace weft::tools
