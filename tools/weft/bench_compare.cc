// `weft bench compare`: weft's collectives beside Open MPI's and Gloo's, measured the same way on
// the same machine in the same run.
//
// Every measurement is a child process measuring one size: `weft bench <collective> --ranks N
// --json [--datapath memif]` (weft forks one process per rank), or mpirun starting weft_peer_mpi or weft_peer_gloo
// (bench/peers: the same command line, the same measurement, the same JSON line). Runs are
// interleaved so that drift on the machine (clock frequency, other load) lands on every
// implementation alike:
//
//   for round in 1..R: for collective: for ranks: for size: for impl: one run
//
// A cell (collective, ranks, size, impl) keeps its R samples; the table shows the median, --json
// all of them. A run that fails (exit status, signal, timeout, no readable line) or reports wrong
// elements makes its cell FAIL, is reported with the command line that reproduces it, and makes
// the exit status 1. The targets (ratios against Open MPI over TCP and Gloo, the AEAD ceiling) are
// the collectives issue's acceptance criteria: printed, not enforced.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "tools/weft/bench_compare.h"
#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/crypto/aead.h"

extern char** environ;

namespace weft::tools {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const std::string kHelpFor = "weft bench compare";

// Sizes from here up are compared by busbw; below, by time per operation.
constexpr std::uint64_t kBusbwFromBytes = 64u << 10;
// The acceptance sizes for busbw (bytes), and the latency size.
constexpr std::array<std::uint64_t, 3> kTargetBusbwBytes = {1u << 20, 16u << 20, 64u << 20};
constexpr std::uint64_t kTargetLatencyBytes = 8;
// weft-encrypted busbw / AEAD ceiling at or above this passes.
constexpr double kTargetCeilingRatio = 0.7;
// A child that has exited but whose output is still held open (by something it started) after
// this long has its process group ended.
constexpr auto kLingerAfterExit = std::chrono::seconds(10);
// Between SIGTERM and SIGKILL to a child's process group.
constexpr auto kTermGrace = std::chrono::seconds(5);

enum class Impl : std::uint8_t {
  kWeft, kWeftEncrypted, kWeftShm, kWeftShmEncrypted, kWeftMemif, kWeftMemifEncrypted, kOpenMpiTcp, kOpenMpiShm, kGloo
};
constexpr std::array<Impl, 9> kAllImpls = {Impl::kWeft,       Impl::kWeftEncrypted, Impl::kWeftShm,
                                           Impl::kWeftShmEncrypted, Impl::kWeftMemif, Impl::kWeftMemifEncrypted,
                                           Impl::kOpenMpiTcp, Impl::kOpenMpiShm, Impl::kGloo};

bool is_encrypted_weft(Impl i) {
  return i == Impl::kWeftEncrypted || i == Impl::kWeftShmEncrypted || i == Impl::kWeftMemifEncrypted;
}
bool is_weft(Impl i) { return is_encrypted_weft(i) || i == Impl::kWeft || i == Impl::kWeftShm || i == Impl::kWeftMemif; }
// The weft datapath an implementation runs over.
std::string datapath_of(Impl i) {
  if (i == Impl::kWeftShm || i == Impl::kWeftShmEncrypted) return "shm";
  if (i == Impl::kWeftMemif || i == Impl::kWeftMemifEncrypted) return "memif";
  return "udp";
}

std::string impl_name(Impl i) {
  switch (i) {
    case Impl::kWeft: return "weft";
    case Impl::kWeftEncrypted: return "weft-encrypted";
    case Impl::kWeftShm: return "weft-shm";
    case Impl::kWeftShmEncrypted: return "weft-shm-encrypted";
    case Impl::kWeftMemif: return "weft-memif";
    case Impl::kWeftMemifEncrypted: return "weft-memif-encrypted";
    case Impl::kOpenMpiTcp: return "openmpi-tcp";
    case Impl::kOpenMpiShm: return "openmpi-shm";
    case Impl::kGloo: return "gloo";
  }
  return "?";
}

std::optional<Impl> parse_impl(std::string_view s) {
  for (Impl i : kAllImpls) {
    if (impl_name(i) == s) return i;
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 5> kCollectives = {"allreduce", "allgather", "reducescatter", "broadcast",
                                                         "alltoall"};

struct Options {
  std::vector<std::string> collectives = {"allreduce"};
  std::vector<int> ranks = {2, 4};
  std::vector<std::string> sizes = {"8", "1M", "16M", "64M"};  // K, M, G suffixes (powers of 1024)
  int rounds = 5;                  // runs per cell; the table shows their median
  std::vector<std::string> impls;  // empty: every implementation available here
  double seconds = 0.2;            // timed duration per run (the benchmarks' --seconds), seconds
  double run_timeout_s = 300;      // a run still going after this long is killed and FAILs, seconds
  std::string peers_dir;           // empty: <dir of this program>/../bench/peers
  std::string mpirun;              // empty: mpirun.openmpi or mpirun on PATH
  bool json = false;               // one JSON object per table row on stdout instead of the table
};

// "8", "64K", "16M", "1G" (powers of 1024); nullopt if malformed or zero.
std::optional<std::uint64_t> parse_size(const std::string& text) {
  std::size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (text[0] == '-' || v == 0) return std::nullopt;
  const std::string suffix = text.substr(pos);
  unsigned long long mult = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mult = 1ull << 10;
  else if (suffix == "M" || suffix == "MiB") mult = 1ull << 20;
  else if (suffix == "G" || suffix == "GiB") mult = 1ull << 30;
  else if (!suffix.empty()) return std::nullopt;
  if (v > (1ull << 40) / mult) return std::nullopt;
  return v * mult;
}

// `s` quoted for a POSIX shell where it needs to be.
std::string shell_quote(const std::string& s) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string fixed(double v, int decimals) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

// ---- child processes ------------------------------------------------------------------------

// What one child process did.
struct ChildOutcome {
  std::string out, err;     // everything it wrote on stdout and stderr
  int exit_code = -1;       // its exit status; -1 when it did not exit normally
  int signal = 0;           // the signal that ended it, else 0
  bool timed_out = false;   // it ran past the run timeout and was killed
  std::string spawn_error;  // non-empty: it could not be started (why)

  bool exited_ok() const { return spawn_error.empty() && !timed_out && exit_code == 0; }
  std::string failure_text() const {
    if (!spawn_error.empty()) return "could not start: " + spawn_error;
    if (timed_out) return "timed out (killed)";
    if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exit status " + std::to_string(exit_code);
  }
};

// The process group of the running child: SIGINT/SIGTERM to `weft bench compare` are passed on to
// it (it runs in a group of its own, so that a timeout can end everything it started).
volatile sig_atomic_t g_child_group = 0;

void pass_signal_on(int sig) {
  const pid_t group = g_child_group;
  if (group > 0) ::kill(-group, SIGTERM);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Runs `path` (argv[0] when empty) with `argv`, stdin from /dev/null, capturing stdout and
// stderr, for at most `timeout_s` seconds.
ChildOutcome run_child(const std::vector<std::string>& argv, double timeout_s, const std::string& path = "") {
  ChildOutcome o;
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    o.spawn_error = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return o;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, path.empty() ? args[0] : path.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    o.spawn_error = argv[0] + ": " + std::strerror(rc);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return o;
  }
  g_child_group = pid;

  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
  std::array<int, 2> fds = {out_pipe[0], err_pipe[0]};
  std::array<std::string*, 2> sinks = {&o.out, &o.err};
  bool reaped = false;
  int status = 0;
  auto exited_at = Clock::time_point::max();
  auto term_at = Clock::time_point::max();  // when SIGTERM went to the group
  bool killed = false;
  while (fds[0] >= 0 || fds[1] >= 0 || !reaped) {
    if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) {
      reaped = true;
      exited_at = Clock::now();
    }
    std::array<pollfd, 2> p{};
    nfds_t n = 0;
    std::array<int, 2> which{};
    for (int k = 0; k < 2; ++k) {
      if (fds[k] < 0) continue;
      p[n] = pollfd{fds[k], POLLIN, 0};
      which[n++] = k;
    }
    const int ready = ::poll(p.data(), n, 50);
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const int k = which[i];
      char buf[65536];
      const ssize_t got = ::read(fds[k], buf, sizeof buf);
      if (got > 0) {
        sinks[k]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[k]);
        fds[k] = -1;
      }
    }
    const auto now = Clock::now();
    const bool lingering = reaped && now - exited_at > kLingerAfterExit;
    if (term_at == Clock::time_point::max() && (now >= deadline || lingering)) {
      o.timed_out = !reaped;
      ::kill(-pid, SIGTERM);
      term_at = now;
    }
    if (!killed && term_at != Clock::time_point::max() && now - term_at > kTermGrace) {
      ::kill(-pid, SIGKILL);
      killed = true;
    }
    if (killed && now - term_at > 2 * kTermGrace) {
      // Something left the group and still holds the output open: stop reading it.
      for (int& fd : fds) {
        if (fd >= 0) ::close(fd);
        fd = -1;
      }
      if (!reaped && ::waitpid(pid, &status, 0) == pid) reaped = true;
      break;
    }
  }
  g_child_group = 0;
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  return o;
}

// The last `lines` lines of `text`, each indented.
std::string tail_lines(const std::string& text, std::size_t lines) {
  std::vector<std::string> all;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    all.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += "    " + all[i] + "\n";
  return out;
}

// ---- the programs compared --------------------------------------------------------------------

std::optional<fs::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::string_view rest(path);
  while (true) {
    const std::size_t colon = rest.find(':');
    const fs::path dir(std::string(rest.substr(0, colon)));
    if (!dir.empty()) {
      const fs::path candidate = dir / name;
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(colon + 1);
  }
}

bool executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Where the programs are, and why one is missing.
struct Programs {
  fs::path self;        // this weft binary
  fs::path mpirun;      // empty when not found
  fs::path peer_mpi;    // weft_peer_mpi, empty when not found
  fs::path peer_gloo;   // weft_peer_gloo, empty when not found
  std::string mpi_missing, gloo_missing;  // why openmpi-* / gloo cannot run ("" when they can)
  std::string mpi_version = "Open MPI";   // "Open MPI 4.1.4"
  std::string aead_suite;                 // what weft-encrypted's links use, e.g. "aes-256-gcm"
};

Programs find_programs(const Options& o) {
  Programs p;
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw std::runtime_error("cannot read /proc/self/exe: " + ec.message());
  constexpr std::string_view kDeleted = " (deleted)";  // the binary was replaced since it started
  if (self.ends_with(kDeleted)) self.resize(self.size() - kDeleted.size());
  p.self = self;
  const fs::path peers_dir = o.peers_dir.empty() ? (p.self.parent_path() / ".." / "bench" / "peers").lexically_normal()
                                                 : fs::path(o.peers_dir);
  if (!o.peers_dir.empty() && !fs::is_directory(peers_dir, ec)) {
    throw UsageError("--peers-dir '" + o.peers_dir + "' is not a directory", kHelpFor);
  }
  if (!o.mpirun.empty()) {
    if (!executable(o.mpirun)) throw UsageError("--mpirun '" + o.mpirun + "' is not an executable file", kHelpFor);
    p.mpirun = fs::absolute(o.mpirun);
  } else if (auto m = find_on_path("mpirun.openmpi")) {
    p.mpirun = *m;
  } else if (auto m2 = find_on_path("mpirun")) {
    p.mpirun = *m2;
  }
  const std::string no_mpirun = "mpirun not found on PATH (apt-get install openmpi-bin, or --mpirun PATH)";
  auto peer = [&](const std::string& name, fs::path& out, std::string& missing) {
    const fs::path candidate = peers_dir / name;
    if (executable(candidate)) out = candidate;
    if (p.mpirun.empty()) missing = no_mpirun;
    else if (out.empty()) {
      missing = "no " + name + " in " + peers_dir.string() + " (build it: cmake --build build/default --target " + name +
                "; or point --peers-dir at it)";
    }
  };
  peer("weft_peer_mpi", p.peer_mpi, p.mpi_missing);
  peer("weft_peer_gloo", p.peer_gloo, p.gloo_missing);
  p.aead_suite = std::string(crypto::suite_name(crypto::libsodium_aes256gcm() != nullptr
                                                    ? crypto::Suite::kAes256Gcm
                                                    : crypto::Suite::kChaCha20Poly1305));
  return p;
}

// "Open MPI 4.1.4" from `mpirun --version` ("mpirun (Open MPI) 4.1.4", or "(OpenRTE)" when called
// as mpirun.openmpi), or "Open MPI" when it does not say.
std::string mpi_version(const fs::path& mpirun) {
  const ChildOutcome v = run_child({mpirun.string(), "--version"}, 20);
  const std::string first = v.out.substr(0, v.out.find('\n'));
  const std::size_t at = first.find(") ");
  if (!v.exited_ok() || at == std::string::npos) return "Open MPI";
  return "Open MPI " + first.substr(at + 2);
}

std::string impl_description(Impl i, const Programs& p) {
  switch (i) {
    case Impl::kWeft: return "plaintext (--insecure); UDP on loopback, one process per rank";
    case Impl::kWeftEncrypted:
      return p.aead_suite + " via libsodium (--aead-provider libsodium); UDP on loopback, one process per rank";
    case Impl::kWeftShm: return "plaintext (--insecure); weft's shared-memory link per pair of ranks (--datapath shm), polled";
    case Impl::kWeftShmEncrypted:
      return p.aead_suite + " via libsodium; weft's shared-memory link per pair of ranks (--datapath shm), polled";
    case Impl::kWeftMemif: return "plaintext (--insecure); DPDK memif per pair of ranks (--datapath memif), polled";
    case Impl::kWeftMemifEncrypted:
      return p.aead_suite + " via libsodium; DPDK memif per pair of ranks (--datapath memif), polled";
    case Impl::kOpenMpiTcp:
      return p.mpi_version + " over TCP on lo (--mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo)";
    case Impl::kOpenMpiShm: return p.mpi_version + ", its default transports (shared memory between local ranks)";
    case Impl::kGloo: return "Gloo over TCP on 127.0.0.1 (mpirun only starts the processes)";
  }
  return "?";
}

// One run's command line. `store_dir`: Gloo's rendezvous directory (created and removed by the
// caller), else empty.
struct Command {
  std::vector<std::string> argv;
  std::string exec_path;  // what is executed: /proc/self/exe for weft (this very binary, even if
                          // rebuilt meanwhile), else empty: argv[0]
  std::string shown;      // argv for a shell, Gloo's store as a fresh mktemp -d
};

Command command_for(Impl impl, const Programs& p, const std::string& collective, int ranks, std::uint64_t bytes,
                    double seconds, const fs::path& store_dir) {
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%g", seconds);
  const std::string size = std::to_string(bytes);
  const std::vector<std::string> common = {collective, "--json", "--min-bytes", size, "--max-bytes", size,
                                           "--seconds", seconds_text};
  Command c;
  auto add = [&c](const std::vector<std::string>& v) { c.argv.insert(c.argv.end(), v.begin(), v.end()); };
  if (is_weft(impl)) {
    add({p.self.string(), "bench", collective, "--ranks", std::to_string(ranks), "--json", "--min-bytes", size,
         "--max-bytes", size, "--seconds", seconds_text});
    c.exec_path = "/proc/self/exe";
    if (datapath_of(impl) != "udp") add({"--datapath", datapath_of(impl)});
    if (is_encrypted_weft(impl)) add({"--aead-provider", "libsodium"});
    else add({"--insecure"});
  } else {
    add({p.mpirun.string(), "--allow-run-as-root", "--oversubscribe", "-np", std::to_string(ranks)});
    if (impl == Impl::kOpenMpiTcp) add({"--mca", "pml", "ob1", "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"});
    add({impl == Impl::kGloo ? p.peer_gloo.string() : p.peer_mpi.string()});
    add(common);
    add({"--label", impl_name(impl)});
    if (impl == Impl::kGloo) add({"--store-dir", store_dir.string()});
  }
  for (const std::string& a : c.argv) {
    if (!c.shown.empty()) c.shown += " ";
    c.shown += !store_dir.empty() && a == store_dir.string() ? std::string("\"$(mktemp -d)\"") : shell_quote(a);
  }
  return c;
}

// ---- measurements -----------------------------------------------------------------------------

// The samples of one cell (collective, ranks, size, impl), one per successful run.
struct Cell {
  std::vector<double> time_us, busbw_gbps, ceiling_gbps;
  int failed = 0;   // runs that failed or reported wrong elements
  int skipped = 0;  // runs that printed no row: the size leaves no element per rank
};

using CellKey = std::tuple<std::string, int, std::uint64_t, Impl>;

struct Failure {
  std::string where;    // "round 2/5, allreduce, 4 ranks, 16 MiB, gloo"
  std::string why;      // "exit status 1", "3 wrong elements"
  std::string command;  // reproduces it
};

enum class RunResult : std::uint8_t { kOk, kSkipped, kFailed };

// Reads one run's JSON line into `cell`. Returns the outcome and, on failure, why.
RunResult record_run(const ChildOutcome& child, Impl impl, Cell& cell, std::string& why) {
  std::optional<Json> row;
  std::size_t start = 0;
  while (start < child.out.size() && !row) {
    std::size_t end = child.out.find('\n', start);
    if (end == std::string::npos) end = child.out.size();
    const std::string line = child.out.substr(start, end - start);
    start = end + 1;
    if (!line.starts_with("{")) continue;
    try {
      Json j = Json::parse(line);
      if (j.contains("busbw_gbps") && j.contains("time_us")) row = std::move(j);
    } catch (const Json::exception& e) {
      why = "unreadable JSON line (" + std::string(e.what()) + "): " + line;
      return RunResult::kFailed;
    }
  }
  if (!child.exited_ok()) {
    why = child.failure_text();
    if (row && row->value("wrong", Json()).is_number() && row->at("wrong").get<std::uint64_t>() != 0) {
      why += ", " + std::to_string(row->at("wrong").get<std::uint64_t>()) + " wrong elements";
    }
    return RunResult::kFailed;
  }
  if (!row) return RunResult::kSkipped;
  try {
    const Json& wrong = row->at("wrong");
    if (wrong.is_number() && wrong.get<std::uint64_t>() != 0) {
      why = std::to_string(wrong.get<std::uint64_t>()) + " wrong elements (\"wrong\" in its JSON line)";
      return RunResult::kFailed;
    }
    if (is_weft(impl)) {
      const bool want = is_encrypted_weft(impl);
      if (row->value("encrypted", !want) != want) {
        why = std::string("its JSON line says \"encrypted\": ") + (want ? "false" : "true");
        return RunResult::kFailed;
      }
    }
    cell.time_us.push_back(row->at("time_us").get<double>());
    cell.busbw_gbps.push_back(row->at("busbw_gbps").get<double>());
    if (row->contains("aead_ceiling_gbps")) cell.ceiling_gbps.push_back(row->at("aead_ceiling_gbps").get<double>());
  } catch (const Json::exception& e) {
    why = "unexpected JSON line (" + std::string(e.what()) + "): " + row->dump();
    return RunResult::kFailed;
  }
  return RunResult::kOk;
}

// ---- the table --------------------------------------------------------------------------------

bool busbw_row(std::uint64_t bytes) { return bytes >= kBusbwFromBytes; }

bool busbw_target_size(std::uint64_t bytes) {
  return std::find(kTargetBusbwBytes.begin(), kTargetBusbwBytes.end(), bytes) != kTargetBusbwBytes.end();
}

// The value a row compares, for a cell that has samples.
std::optional<double> cell_median(const Cell* c, std::uint64_t bytes) {
  if (c == nullptr || c->failed > 0) return std::nullopt;
  const std::vector<double>& v = busbw_row(bytes) ? c->busbw_gbps : c->time_us;
  if (v.empty()) return std::nullopt;
  return median(v);
}

std::string cell_text(const Cell* c, std::uint64_t bytes) {
  if (c == nullptr) return "-";
  if (c->failed > 0) return "FAIL";
  if (auto m = cell_median(c, bytes)) return busbw_row(bytes) ? fixed(*m, 3) : fixed(*m, 1);
  return "n/a";
}

// "> 1 means weft is better": weft/other for busbw, other/weft for time.
std::optional<double> weft_ratio(std::optional<double> weft, std::optional<double> other, std::uint64_t bytes) {
  if (!weft || !other || *weft <= 0 || *other <= 0) return std::nullopt;
  return busbw_row(bytes) ? *weft / *other : *other / *weft;
}

Json stats_json(const std::vector<double>& v) {
  Json j;
  if (v.empty()) return j;
  j["median"] = median(v);
  j["min"] = *std::min_element(v.begin(), v.end());
  j["max"] = *std::max_element(v.begin(), v.end());
  j["samples"] = v;
  return j;
}

struct Plan {
  std::vector<std::string> collectives;
  std::vector<int> ranks;
  std::vector<std::uint64_t> sizes;
  std::vector<Impl> impls;
  int rounds = 0;
};

// An encrypted weft cell against the AEAD ceiling it printed.
struct CeilingVerdict {
  std::optional<double> ceiling, ratio;
  std::string target = "-";
};

// One table row's derived values.
struct RowVerdict {
  std::optional<double> vs_tcp, vs_gloo;
  std::string target = "-";
  std::map<Impl, CeilingVerdict> ceilings;            // per encrypted weft implementation
  std::map<Impl, std::optional<double>> vs_mpi_shm;  // weft-shm, weft-memif against openmpi-shm
};

// The short name of an encrypted weft implementation's target column ("enc-target", ...).
std::string ceiling_target_name(Impl i) {
  const std::string d = datapath_of(i);
  return d == "udp" ? "enc-target" : d + "-enc-target";
}

CeilingVerdict judge_ceiling(const Cell* enc, std::uint64_t bytes) {
  CeilingVerdict v;
  if (enc == nullptr || !busbw_row(bytes)) return v;
  if (!enc->ceiling_gbps.empty()) v.ceiling = median(enc->ceiling_gbps);
  const std::optional<double> e = cell_median(enc, bytes);
  if (e && v.ceiling && *v.ceiling > 0) v.ratio = *e / *v.ceiling;
  if (busbw_target_size(bytes)) {
    if (enc->failed > 0) v.target = "FAIL";
    else if (!v.ratio) v.target = "n/a";
    else v.target = *v.ratio >= kTargetCeilingRatio ? "PASS" : "FAIL";
  }
  return v;
}

RowVerdict judge_row(const Plan& plan, const std::map<CellKey, Cell>& cells, const std::string& coll, int ranks,
                     std::uint64_t bytes) {
  auto find = [&](Impl i) -> const Cell* {
    if (std::find(plan.impls.begin(), plan.impls.end(), i) == plan.impls.end()) return nullptr;
    auto it = cells.find(CellKey{coll, ranks, bytes, i});
    return it == cells.end() ? nullptr : &it->second;
  };
  const Cell* weft = find(Impl::kWeft);
  const Cell* tcp = find(Impl::kOpenMpiTcp);
  const Cell* gloo = find(Impl::kGloo);
  RowVerdict v;
  v.vs_tcp = weft_ratio(cell_median(weft, bytes), cell_median(tcp, bytes), bytes);
  v.vs_gloo = weft_ratio(cell_median(weft, bytes), cell_median(gloo, bytes), bytes);
  for (Impl i : {Impl::kWeftShm, Impl::kWeftMemif}) {
    if (find(i) != nullptr && find(Impl::kOpenMpiShm) != nullptr) {
      v.vs_mpi_shm[i] = weft_ratio(cell_median(find(i), bytes), cell_median(find(Impl::kOpenMpiShm), bytes), bytes);
    }
  }
  // Plaintext target: weft against each comparison present in this run.
  std::vector<std::pair<const Cell*, std::optional<double>>> against;
  if (busbw_row(bytes) && busbw_target_size(bytes)) {
    if (tcp != nullptr) against.emplace_back(tcp, v.vs_tcp);
    if (gloo != nullptr) against.emplace_back(gloo, v.vs_gloo);
  } else if (bytes == kTargetLatencyBytes && coll == "allreduce" && tcp != nullptr) {
    against.emplace_back(tcp, v.vs_tcp);
  }
  // FAIL when a run failed or weft misses the target; n/a when a size left no element per rank.
  if (weft != nullptr && !against.empty()) {
    bool failed = weft->failed > 0, missing = false, pass = true;
    for (const auto& [cell, ratio] : against) {
      failed = failed || cell->failed > 0;
      missing = missing || !ratio;
      pass = pass && ratio && *ratio >= 1.0;
    }
    v.target = failed ? "FAIL" : missing ? "n/a" : pass ? "PASS" : "FAIL";
  }
  for (Impl i : plan.impls) {
    if (is_encrypted_weft(i)) v.ceilings[i] = judge_ceiling(find(i), bytes);
  }
  return v;
}

std::string ratio_text(std::optional<double> r) { return r ? fixed(*r, 2) : "-"; }

void print_table(const Plan& plan, const Programs& progs, const Options& o, const std::map<CellKey, Cell>& cells,
                 const std::string& coll) {
  auto has = [&](Impl i) { return std::find(plan.impls.begin(), plan.impls.end(), i) != plan.impls.end(); };
  std::printf("# weft bench compare: %s (float, sum), medians of %d interleaved run%s per cell, about %g s timed per "
              "run%s\n",
              coll.c_str(), plan.rounds, plan.rounds == 1 ? "" : "s", o.seconds,
              plan.rounds < 5 ? " (the acceptance asks for medians of >= 5)" : "");
  std::size_t w = 0;
  for (Impl i : plan.impls) w = std::max(w, impl_name(i).size());
  for (Impl i : plan.impls) {
    std::printf("# %-*s %s\n", static_cast<int>(w + 1), (impl_name(i) + ":").c_str(), impl_description(i, progs).c_str());
  }
  std::printf("# cells: median busbw in GB/s for sizes >= %s (higher is better), median time per operation in us "
              "below (lower is better)\n",
              bytes_text(kBusbwFromBytes).c_str());
  const bool ratios = has(Impl::kWeft) && (has(Impl::kOpenMpiTcp) || has(Impl::kGloo));
  std::vector<Impl> encrypted, vs_shm;
  for (Impl i : plan.impls) {
    if (is_encrypted_weft(i)) encrypted.push_back(i);
    if ((i == Impl::kWeftShm || i == Impl::kWeftMemif) && has(Impl::kOpenMpiShm)) vs_shm.push_back(i);
  }
  const bool enc = !encrypted.empty();
  if (ratios) {
    std::printf("# weft/openmpi-tcp, weft/gloo: busbw ratio, or for time the other's time / weft's (> 1: weft is "
                "better)\n");
    std::printf("# target (plaintext): busbw ratios >= 1.0 at 1, 16 and 64 MiB; 8 B all-reduce time <= "
                "openmpi-tcp's\n");
  }
  if (!vs_shm.empty()) {
    std::printf("# shm/openmpi-shm, memif/openmpi-shm: weft-shm and weft-memif against Open MPI's shared memory, "
                "the same way (reported, no target)\n");
  }
  if (enc) {
    std::printf("# ceiling: the AEAD ceiling an encrypted weft run prints (AEAD GB/s per core x cores / ranks / 2, "
                "median); enc/ceiling: its busbw over that; enc-target (weft-encrypted), shm-enc-target, "
                "memif-enc-target: >= %.1f x ceiling at 1, 16 and 64 MiB\n",
                kTargetCeilingRatio);
  }
  if (ratios || enc) std::printf("# targets are the collectives issue's acceptance criteria: informational\n");

  std::vector<std::string> header = {"ranks", "size", "unit"};
  for (Impl i : plan.impls) {
    header.push_back(impl_name(i));
    if (is_encrypted_weft(i)) {
      header.emplace_back("ceiling");
      header.emplace_back("enc/ceiling");
    }
  }
  for (Impl i : vs_shm) header.push_back(datapath_of(i) + "/openmpi-shm");
  if (ratios) {
    if (has(Impl::kOpenMpiTcp)) header.emplace_back("weft/openmpi-tcp");
    if (has(Impl::kGloo)) header.emplace_back("weft/gloo");
    header.emplace_back("target");
  }
  for (Impl i : encrypted) header.push_back(ceiling_target_name(i));
  std::vector<std::vector<std::string>> rows = {header};
  for (int ranks : plan.ranks) {
    for (std::uint64_t bytes : plan.sizes) {
      const RowVerdict v = judge_row(plan, cells, coll, ranks, bytes);
      std::vector<std::string> row = {std::to_string(ranks), bytes_text(bytes), busbw_row(bytes) ? "GB/s" : "us"};
      for (Impl i : plan.impls) {
        auto it = cells.find(CellKey{coll, ranks, bytes, i});
        row.push_back(cell_text(it == cells.end() ? nullptr : &it->second, bytes));
        if (is_encrypted_weft(i)) {
          const CeilingVerdict& c = v.ceilings.at(i);
          row.push_back(c.ceiling ? fixed(*c.ceiling, 3) : "-");
          row.push_back(ratio_text(c.ratio));
        }
      }
      for (Impl i : vs_shm) row.push_back(ratio_text(v.vs_mpi_shm.count(i) ? v.vs_mpi_shm.at(i) : std::nullopt));
      if (ratios) {
        if (has(Impl::kOpenMpiTcp)) row.push_back(ratio_text(v.vs_tcp));
        if (has(Impl::kGloo)) row.push_back(ratio_text(v.vs_gloo));
        row.push_back(v.target);
      }
      for (Impl i : encrypted) row.push_back(v.ceilings.at(i).target);
      rows.push_back(std::move(row));
    }
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& r : rows) {
    for (std::size_t k = 0; k < r.size(); ++k) widths[k] = std::max(widths[k], r[k].size());
  }
  for (std::size_t n = 0; n < rows.size(); ++n) {
    std::string line = n == 0 ? "#" : " ";
    for (std::size_t k = 0; k < rows[n].size(); ++k) {
      const std::size_t width = widths[k] + (k == 0 ? 0 : 2);
      line += std::string(width - rows[n][k].size(), ' ') + rows[n][k];
    }
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
}

void print_json_rows(const Plan& plan, const Programs& progs, const std::map<CellKey, Cell>& cells,
                     const std::string& coll) {
  for (int ranks : plan.ranks) {
    for (std::uint64_t bytes : plan.sizes) {
      const RowVerdict v = judge_row(plan, cells, coll, ranks, bytes);
      Json j;
      j["collective"] = coll;
      j["ranks"] = ranks;
      j["bytes"] = bytes;
      j["metric"] = busbw_row(bytes) ? "busbw_gbps" : "time_us";
      j["rounds"] = plan.rounds;
      Json impls = Json::object();
      for (Impl i : plan.impls) {
        const auto it = cells.find(CellKey{coll, ranks, bytes, i});
        const Cell empty;
        const Cell& c = it == cells.end() ? empty : it->second;
        Json x;
        x["setting"] = impl_description(i, progs);
        x["runs_ok"] = c.time_us.size();
        x["failed"] = c.failed;
        x["skipped"] = c.skipped;
        x["busbw_gbps"] = stats_json(c.busbw_gbps);
        x["time_us"] = stats_json(c.time_us);
        if (is_encrypted_weft(i)) x["aead_ceiling_gbps"] = stats_json(c.ceiling_gbps);
        impls[impl_name(i)] = std::move(x);
      }
      j["impls"] = std::move(impls);
      auto opt = [](std::optional<double> d) { return d ? Json(*d) : Json(nullptr); };
      j["weft_vs_openmpi_tcp"] = opt(v.vs_tcp);
      j["weft_vs_gloo"] = opt(v.vs_gloo);
      j["target"] = v.target;
      for (const auto& [i, r] : v.vs_mpi_shm) j[impl_name(i) + "_vs_openmpi_shm"] = opt(r);
      for (const auto& [i, c] : v.ceilings) {
        j[impl_name(i) + "_vs_ceiling"] = opt(c.ratio);
        j[impl_name(i) + "_target"] = c.target;
      }
      std::printf("%s\n", j.dump().c_str());
    }
  }
  std::fflush(stdout);
}

// ---- the run ----------------------------------------------------------------------------------

Plan make_plan(const Options& o, const Programs& progs) {
  Plan plan;
  plan.rounds = o.rounds;
  if (o.rounds < 1 || o.rounds > 1000) throw UsageError("--rounds must be between 1 and 1000", kHelpFor);
  if (!(o.seconds > 0 && o.seconds <= 60)) throw UsageError("--seconds must be more than 0 and at most 60", kHelpFor);
  if (!(o.run_timeout_s > 0)) throw UsageError("--run-timeout must be more than 0", kHelpFor);
  for (const std::string& c : o.collectives) {
    if (std::find(kCollectives.begin(), kCollectives.end(), c) == kCollectives.end()) {
      throw UsageError("--collective '" + c +
                           "' is not a compared collective (allreduce, allgather, reducescatter, broadcast, alltoall)",
                       kHelpFor);
    }
    if (std::find(plan.collectives.begin(), plan.collectives.end(), c) == plan.collectives.end()) {
      plan.collectives.push_back(c);
    }
  }
  for (int r : o.ranks) {
    if (r < 2 || r > 256) throw UsageError("--ranks " + std::to_string(r) + ": must be between 2 and 256", kHelpFor);
    if (std::find(plan.ranks.begin(), plan.ranks.end(), r) == plan.ranks.end()) plan.ranks.push_back(r);
  }
  for (const std::string& s : o.sizes) {
    const std::optional<std::uint64_t> b = parse_size(s);
    if (!b) throw UsageError("--sizes '" + s + "' is not a size (e.g. 8, 64K, 16M, 1G)", kHelpFor);
    if (*b > (std::uint64_t{4} << 30)) throw UsageError("--sizes '" + s + "' is larger than 4G", kHelpFor);
    if (std::find(plan.sizes.begin(), plan.sizes.end(), *b) == plan.sizes.end()) plan.sizes.push_back(*b);
  }
  if (plan.collectives.empty() || plan.ranks.empty() || plan.sizes.empty()) {
    throw UsageError("--collective, --ranks and --sizes each need at least one value", kHelpFor);
  }
  auto missing = [&](Impl i) -> std::string {
    switch (i) {
      case Impl::kWeft:
      case Impl::kWeftEncrypted:
      case Impl::kWeftShm:
      case Impl::kWeftShmEncrypted: return "";
      case Impl::kWeftMemif:
      case Impl::kWeftMemifEncrypted:
#ifdef WEFT_HAVE_DPDK
        return "";
#else
        return "this weft was built without DPDK (WEFT_DPDK=OFF)";
#endif
      case Impl::kOpenMpiTcp:
      case Impl::kOpenMpiShm: return progs.mpi_missing;
      case Impl::kGloo: return progs.gloo_missing;
    }
    return "";
  };
  if (o.impls.empty()) {
    for (Impl i : kAllImpls) {
      const std::string why = missing(i);
      if (why.empty()) plan.impls.push_back(i);
      else std::cerr << "weft bench compare: leaving out " << impl_name(i) << ": " << why << "\n";
    }
  } else {
    for (const std::string& name : o.impls) {
      const std::optional<Impl> i = parse_impl(name);
      if (!i) {
        throw UsageError("--impls '" + name +
                             "' is not an implementation (weft, weft-encrypted, weft-shm, weft-shm-encrypted, weft-memif, "
                             "weft-memif-encrypted, openmpi-tcp, openmpi-shm, gloo)",
                         kHelpFor);
      }
      if (const std::string why = missing(*i); !why.empty()) {
        throw UsageError("--impls " + name + " cannot run here: " + why, kHelpFor);
      }
      if (std::find(plan.impls.begin(), plan.impls.end(), *i) == plan.impls.end()) plan.impls.push_back(*i);
    }
  }
  return plan;
}

int run(const Options& o) {
  Programs progs = find_programs(o);
  const Plan plan = make_plan(o, progs);
  for (Impl i : plan.impls) {
    if (i == Impl::kOpenMpiTcp || i == Impl::kOpenMpiShm) {
      progs.mpi_version = mpi_version(progs.mpirun);
      break;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = pass_signal_on;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);

  const std::size_t total =
      static_cast<std::size_t>(plan.rounds) * plan.collectives.size() * plan.ranks.size() * plan.sizes.size() *
      plan.impls.size();
  std::cerr << "weft bench compare: " << total << " run" << (total == 1 ? "" : "s") << " (" << plan.rounds << " round" << (plan.rounds == 1 ? "" : "s") << " x " << plan.collectives.size()
            << " collective" << (plan.collectives.size() == 1 ? "" : "s") << " x " << plan.ranks.size()
            << " rank count" << (plan.ranks.size() == 1 ? "" : "s") << " x " << plan.sizes.size() << " size"
            << (plan.sizes.size() == 1 ? "" : "s") << " x " << plan.impls.size() << " implementation"
            << (plan.impls.size() == 1 ? "" : "s") << "), interleaved\n";

  std::map<CellKey, Cell> cells;
  std::vector<Failure> failures;
  const auto started = Clock::now();
  for (int round = 1; round <= plan.rounds; ++round) {
    const std::string round_text = "round " + std::to_string(round) + "/" + std::to_string(plan.rounds);
    for (const std::string& coll : plan.collectives) {
      for (int ranks : plan.ranks) {
        for (std::uint64_t bytes : plan.sizes) {
          std::string progress;
          for (Impl impl : plan.impls) {
            fs::path store;
            if (impl == Impl::kGloo) {
              std::string templ = (fs::temp_directory_path() / "weft-compare-gloo-XXXXXX").string();
              if (::mkdtemp(templ.data()) == nullptr) {
                std::cerr << "weft bench compare: cannot create a Gloo store directory: " << std::strerror(errno) << "\n";
                return kExitFailed;
              }
              store = templ;
            }
            const Command cmd = command_for(impl, progs, coll, ranks, bytes, o.seconds, store);
            const ChildOutcome child = run_child(cmd.argv, o.run_timeout_s, cmd.exec_path);
            if (!store.empty()) {
              std::error_code ec;
              fs::remove_all(store, ec);
            }
            Cell& cell = cells[CellKey{coll, ranks, bytes, impl}];
            std::string why;
            const RunResult result = record_run(child, impl, cell, why);
            std::string value;
            if (result == RunResult::kFailed) {
              ++cell.failed;
              value = "FAIL";
              Failure f;
              f.where = round_text + ", " + coll + ", " + std::to_string(ranks) + " ranks, " + bytes_text(bytes) + ", " +
                        impl_name(impl);
              f.why = why;
              f.command = cmd.shown;
              std::cerr << "weft bench compare: FAILED (" << f.where << "): " << f.why << "\n  reproduce: " << f.command
                        << "\n";
              const std::string& said = child.err.empty() ? child.out : child.err;
              if (!said.empty()) {
                std::cerr << "  its " << (child.err.empty() ? "stdout" : "stderr") << " (last lines):\n"
                          << tail_lines(said, 25);
              }
              failures.push_back(std::move(f));
            } else if (result == RunResult::kSkipped) {
              ++cell.skipped;
              value = "n/a";
            } else {
              value = busbw_row(bytes) ? fixed(cell.busbw_gbps.back(), 3) : fixed(cell.time_us.back(), 1);
            }
            progress += (progress.empty() ? "" : ", ") + impl_name(impl) + " " + value;
          }
          std::cerr << "[" << round_text << "] " << coll << " " << ranks << " ranks " << bytes_text(bytes) << ": "
                    << progress << (busbw_row(bytes) ? " (busbw GB/s)" : " (time us)") << "\n";
        }
      }
    }
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();

  for (std::size_t k = 0; k < plan.collectives.size(); ++k) {
    if (o.json) {
      print_json_rows(plan, progs, cells, plan.collectives[k]);
    } else {
      if (k > 0) std::printf("\n");
      print_table(plan, progs, o, cells, plan.collectives[k]);
    }
  }
  if (!failures.empty()) {
    std::FILE* to = o.json ? stderr : stdout;
    std::fprintf(to, "# %zu of %zu run%s FAILED (their cells show FAIL):\n", failures.size(), total,
                 total == 1 ? "" : "s");
    for (const Failure& f : failures) {
      std::fprintf(to, "#   %s: %s\n#     reproduce: %s\n", f.where.c_str(), f.why.c_str(), f.command.c_str());
    }
  }
  std::cerr << "weft bench compare: " << total << " run" << (total == 1 ? "" : "s") << " in " << fixed(elapsed_s, 0) << " s"
            << (failures.empty() ? "" : ", " + std::to_string(failures.size()) + " failed") << "\n";
  return failures.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void register_bench_compare(CLI::App& bench, Action& action) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = bench.add_subcommand(
      "compare", "weft beside Open MPI and Gloo: the collective benchmarks interleaved, medians per cell");
  cmd->add_option("--collective", o->collectives,
                  "collectives to compare, comma-separated: allreduce allgather reducescatter broadcast alltoall")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--ranks", o->ranks, "rank counts, comma-separated (each rank a separate process)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--sizes", o->sizes, "sizes S, comma-separated, K, M, G suffixes (nccl-tests' S)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "runs per cell, interleaved; the table shows their median")
      ->capture_default_str();
  cmd->add_option("--impls", o->impls,
                  "implementations, comma-separated: weft (plaintext, --insecure, UDP), weft-encrypted (--aead-provider "
                  "libsodium, UDP), weft-shm, weft-shm-encrypted (the same over weft's shared-memory links), "
                  "weft-memif, weft-memif-encrypted (over DPDK memif), openmpi-tcp, openmpi-shm, gloo (default: all "
                  "that are available here)")
      ->delimiter(',');
  cmd->add_option("--seconds", o->seconds, "timed duration of each run (per size), seconds")->capture_default_str();
  cmd->add_option("--run-timeout", o->run_timeout_s, "seconds before a run is killed (and FAILs)")
      ->capture_default_str();
  cmd->add_option("--peers-dir", o->peers_dir,
                  "directory of weft_peer_mpi and weft_peer_gloo (default: ../bench/peers from this program's "
                  "directory, i.e. build/<preset>/bench/peers)");
  cmd->add_option("--mpirun", o->mpirun, "the mpirun to start Open MPI and Gloo runs (default: mpirun.openmpi or "
                                         "mpirun on PATH)");
  cmd->add_flag("--json", o->json, "one JSON object per table row on stdout (median, min, max and every sample)");
  cmd->footer(
      "Each run is a child process measuring one size: `weft bench <collective> --ranks N --json`, or\n"
      "mpirun with weft_peer_mpi or weft_peer_gloo (same options, same measurement, same JSON line).\n"
      "Runs are interleaved: for each round, for each collective, rank count and size, every\n"
      "implementation runs once, so the implementations of a cell alternate. The table shows medians;\n"
      "progress and failures (with the command that reproduces them) go to stderr.\n\n"
      "Targets (the collectives issue's acceptance criteria; informational, the exit status ignores\n"
      "them): weft (plaintext) busbw >= openmpi-tcp and >= gloo at 1, 16 and 64 MiB; 8 B all-reduce\n"
      "time <= openmpi-tcp; every encrypted weft busbw >= 0.7 x the AEAD ceiling at 1, 16 and 64 MiB.\n"
      "weft-shm and weft-memif are shown beside openmpi-shm (shm/openmpi-shm, ...), with no target.\n"
      "A cell is FAIL when any of its runs failed or was wrong, n/a when the size leaves no element\n"
      "per rank.\n\n"
      "Examples:\n"
      "  weft bench compare               # allreduce; 2 and 4 ranks; 8 B, 1, 16, 64 MiB; 5 rounds\n"
      "  weft bench compare --ranks 2,4 --sizes 8,1M,16M,64M --rounds 5\n"
      "  weft bench compare --collective allgather,alltoall --ranks 4 --sizes 64K,16M\n"
      "  weft bench compare --impls weft,openmpi-tcp --sizes 8,1M --rounds 9 --json\n"
      "  weft bench compare --impls weft-shm,weft-shm-encrypted,openmpi-shm --ranks 4\n\n"
      "Exit status: 0 every run succeeded with correct results, 1 a run failed or was wrong, 2 usage error.");
  cmd->callback([&action, o]() { action = [o]() { return run(*o); }; });
}

}  // namespace weft::tools
