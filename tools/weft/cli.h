// Shared plumbing of the `weft` program's subcommands.
//
// Each subcommand lives in its own file and exposes one register_* function that adds itself to
// the CLI11 tree and, when the user selects it, stores the code to run in `Action`. main.cc parses,
// then runs the selected action; a subcommand never calls exit().
//
// Exit codes (all subcommands): 0 success, 1 the command ran and something failed (a run did not
// complete, a check did not hold), 2 usage error (bad arguments, unknown subcommand, or an option
// value that names something not built yet).
#pragma once

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace weft::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// The work of the selected subcommand; returns the process exit code.
using Action = std::function<int()>;

// Thrown by an action when the arguments parse but cannot be honoured (e.g. `--datapath udp`
// before that datapath exists). main.cc prints it like a parse error and exits with kExitUsage.
// `help_for` is the command whose --help the message points to (e.g. "weft bench transport").
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& what, std::string help_for)
      : std::runtime_error(what), help_for_(std::move(help_for)) {}
  const std::string& help_for() const { return help_for_; }

 private:
  std::string help_for_;
};

// `weft bench transport`: goodput of the weft and TTPoE-compat profiles against loss.
void register_bench_transport(CLI::App& bench, Action& action);

// Median of benchmark samples (the mean of the middle two for an even count; 0 when empty).
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace weft::tools
