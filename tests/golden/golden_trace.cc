// Golden packet trace: a small deterministic two-host run with an explicit loss mask, printed one
// frame per line (time, direction, opcode, VC, ids, length, flags). CI diffs it against the
// checked-in file, so any change to what goes on the wire is seen and reviewed.
//
//   golden_trace --profile weft|ttpoe-compat              print the trace
//   golden_trace --profile P --check FILE                  exit 1 and show the first difference
//   golden_trace --profile P --write FILE                  regenerate (scripts/regen-golden)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "weft/transport/scenario.h"

using namespace weft::transport;

int main(int argc, char** argv) {
  std::string profile = "weft", check, write;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--profile" && i + 1 < argc) profile = argv[++i];
    else if (a == "--check" && i + 1 < argc) check = argv[++i];
    else if (a == "--write" && i + 1 < argc) write = argv[++i];
    else {
      std::fprintf(stderr, "usage: golden_trace --profile weft|ttpoe-compat [--check FILE | --write FILE]\n");
      return 2;
    }
  }
  sim::TransferSpec spec;
  spec.seed = 7;
  if (profile == "weft") {
    spec.endpoint.profile = Profile::kWeft;
    spec.a_to_b = {1, 20000, 100};
  } else if (profile == "ttpoe-compat") {
    spec.endpoint.profile = Profile::kTtpoeCompat;
    spec.a_to_b = {1024, 1, 500, 700};
  } else {
    std::fprintf(stderr, "golden_trace: unknown profile '%s' (weft or ttpoe-compat)\n", profile.c_str());
    return 2;
  }
  spec.b_to_a = {64};
  spec.endpoint.fixed_initial_tx_id = 0xFFFFFFFE;  // exercise 32-bit wrap in the trace
  spec.link.a_to_b.drop_frames = {2, 4};            // a PAYLOAD, and another after it
  spec.link.b_to_a.drop_frames = {1};               // an ACK
  std::ostringstream trace;
  trace << "# weft golden trace: profile " << profile << ", seed " << spec.seed
        << ", 100 Gb/s 2 us link, drop a->b frames 2,4 and b->a frame 1\n";
  spec.trace = [&](const sim::TraceRecord& t) {
    trace << sim::format_trace_line(t.time, t.from, t.to, t.frame, t.dropped) << '\n';
  };
  sim::TransferResult r = sim::run_transfer(spec);
  if (!r.ok) {
    std::fprintf(stderr, "golden_trace: the scenario failed: %s\n", r.failure.c_str());
    return 1;
  }
  const std::string text = trace.str();
  if (!write.empty()) {
    std::ofstream(write) << text;
    std::printf("wrote %s\n", write.c_str());
    return 0;
  }
  if (check.empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  std::ifstream in(check);
  if (!in) {
    std::fprintf(stderr, "golden_trace: cannot read %s\n", check.c_str());
    return 1;
  }
  std::stringstream want;
  want << in.rdbuf();
  if (want.str() == text) {
    std::printf("golden trace matches %s\n", check.c_str());
    return 0;
  }
  std::istringstream a(want.str()), b(text);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) break;
    if (!ga || !gb || la != lb) {
      std::fprintf(stderr, "golden trace differs from %s at line %d:\n  expected: %s\n  actual:   %s\n"
                           "If the change is intended, run scripts/regen-golden and review the diff.\n",
                   check.c_str(), line, ga ? la.c_str() : "<end>", gb ? lb.c_str() : "<end>");
      break;
    }
  }
  return 1;
}
