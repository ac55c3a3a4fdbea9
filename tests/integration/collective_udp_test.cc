// Collectives between real processes over UDP loopback: correctness (plaintext and encrypted), 5 %
// send loss, a rank killed with SIGKILL, a rank that sleeps through an operation, abort() during
// an operation, and a rank holding the wrong cluster key. Every rank must either succeed or fail
// with an error that names the cause, within its timeout; nothing may hang.
//
// Built twice more, with WEFT_TEST_SHM (collective_shm_test) and WEFT_TEST_MEMIF
// (collective_memif_test): the same scenarios with every rank on a shared-memory mesh
// (shm_mesh.h) or a DPDK memif mesh (memif_mesh.h) instead of UDP, minus the harness's own test and
// the stalled-rank cases (which test the abort channel's timing, not the datapath), plus ranks
// that disagree on the datapath (and, for memif, a second mesh in one process).
//
// Harness: the test process forks one child per rank (no exec). Each child builds a Communicator
// over a file store in a fresh temporary directory, runs the scenario, and writes one line to its
// pipe:
//   rank R ok <ms> [note]
//   rank R error <kind> <ms> <what>      kind: an OpError name (CollectiveError), "setup"
//                                        (Communicator::create threw) or "exception"
// then _exits. <ms> is wall-clock time from the scenario's clock start (usually just before the
// operation is posted) to its end or failure. The parent collects the lines and exit statuses and
// kills every child still running after a guard time, so a hang fails the test instead of
// blocking it (CTest's TIMEOUT bounds the whole binary too). Every line is printed.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "weft/collectives/communicator.h"
#include "weft/collectives/verify.h"
#if defined(WEFT_TEST_MEMIF)
#include "weft/collectives/memif_mesh.h"
#define WEFT_SUITE CollectiveMemif
#define WEFT_TEST_MESH 1
#define WEFT_MESH_NAME "memif"
#elif defined(WEFT_TEST_SHM)
#include "weft/collectives/shm_mesh.h"
#define WEFT_SUITE CollectiveShm
#define WEFT_TEST_MESH 1
#define WEFT_MESH_NAME "shm"
#else
#define WEFT_SUITE CollectiveUdp
#endif
#include "weft/crypto/credentials.h"
#include "weft/transport/datapath.h"

namespace weft::collectives {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---- harness ----------------------------------------------------------------------------------

// Communicator::create threw: reported as "setup".
struct SetupFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a scenario sees, in the child process of one rank.
struct RankContext {
  int rank = 0;
  int size = 1;
  CommOptions options;
  Clock::time_point t0 = Clock::now();
  std::optional<double> elapsed_ms;  // set by stop_clock(); else the time at the scenario's end
  std::string note;                  // appended to an "ok" line

  void start_clock() {
    t0 = Clock::now();
    elapsed_ms.reset();
  }
  void stop_clock() {
    if (!elapsed_ms) elapsed_ms = ms_since(t0);
  }
  std::unique_ptr<Communicator> connect() { return connect_with(options); }
  std::unique_ptr<Communicator> connect_with(const CommOptions& o) {
    try {
      return Communicator::create(o);
    } catch (const std::exception& e) {
      stop_clock();
      throw SetupFailed(e.what());
    }
  }
  // wait(), with the clock stopped when it returns or throws.
  Algorithm wait(Communicator& c, Request& r) {
    try {
      const Algorithm a = c.wait(r);
      stop_clock();
      return a;
    } catch (...) {
      stop_clock();
      throw;
    }
  }
};

using Scenario = std::function<void(RankContext&)>;

struct RankReport {
  int rank = 0;
  bool reported = false;  // a line came back
  bool ok = false;
  std::string kind;       // error kind (OpError name, "setup", "exception")
  double ms = -1;
  std::string text;       // "ok": the note; "error": what()
  std::string line;
  bool exited = false;    // exited normally, with `exit_code`
  int exit_code = -1;
  int signal = 0;         // killed by this signal
  bool killed_by_guard = false;
  double closed_ms = -1;  // when its pipe closed (teardown included), from the job's start
};

struct Job {
  std::string name;
  int size = 2;
  CommOptions options;                                // launch.rank/size/store are filled in
  std::function<void(int rank, CommOptions&)> tweak;  // per-rank changes (optional)
  Scenario scenario;
  std::chrono::seconds guard{40};                     // children still running then are killed
  bool expect_hang = false;                           // the harness's own test: the guard must fire
};

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

[[noreturn]] void child_main(const Job& job, int rank, const std::string& dir, int fd) {
  RankContext ctx;
  ctx.rank = rank;
  ctx.size = job.size;
  ctx.options = job.options;
  ctx.options.launch.rank = rank;
  ctx.options.launch.size = job.size;
  ctx.options.launch.launcher = "collective_udp_test";
  ctx.options.launch.store.kind = StoreAddress::Kind::kFile;
  ctx.options.launch.store.path = dir;
  if (job.tweak) job.tweak(rank, ctx.options);
  char ms[32];
  auto elapsed = [&] {
    std::snprintf(ms, sizeof ms, "%.1f", ctx.elapsed_ms ? *ctx.elapsed_ms : ms_since(ctx.t0));
    return std::string(ms);
  };
  const std::string head = "rank " + std::to_string(rank) + " ";
  std::string line;
  try {
    job.scenario(ctx);
    line = head + "ok " + elapsed() + (ctx.note.empty() ? "" : " " + ctx.note);
  } catch (const CollectiveError& e) {
    line = head + "error " + std::string(op_error_name(e.error())) + " " + elapsed() + " " + e.what();
  } catch (const SetupFailed& e) {
    line = head + "error setup " + elapsed() + " " + e.what();
  } catch (const std::exception& e) {
    line = head + "error exception " + elapsed() + " " + e.what();
  }
  line = one_line(line) + "\n";
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

RankReport parse(int rank, const std::string& line) {
  RankReport r;
  r.rank = rank;
  r.line = line;
  std::istringstream in(line);
  std::string word, status;
  int who = -1;
  in >> word >> who >> status;
  if (word != "rank" || who != rank || (status != "ok" && status != "error")) return r;
  r.reported = true;
  r.ok = status == "ok";
  if (!r.ok) in >> r.kind;
  in >> r.ms;
  std::getline(in >> std::ws, r.text);
  return r;
}

// Forks one child per rank, runs `job.scenario` in each, and collects their reports.
std::vector<RankReport> run_job(const Job& job) {
  char tmpl[] = "/tmp/weft-collective-udp-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  const std::string dir = tmpl;
  std::printf("[%s] %d ranks, store file://%s\n", job.name.c_str(), job.size, dir.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  const auto started = Clock::now();
  std::vector<pid_t> pids;
  std::vector<int> fds;
  std::vector<std::string> text(static_cast<std::size_t>(job.size));
  for (int r = 0; r < job.size; ++r) {
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      ::close(p[0]);
      for (int fd : fds) ::close(fd);
      child_main(job, r, dir, p[1]);
    }
    ::close(p[1]);
    pids.push_back(pid);
    fds.push_back(p[0]);
  }
  // Read every pipe to EOF, or until the guard time.
  const auto guard_at = started + job.guard;
  std::vector<bool> open(fds.size(), true);
  std::vector<double> closed_ms(fds.size(), -1);
  bool guard_fired = false;
  while (std::count(open.begin(), open.end(), true) > 0) {
    const auto left = std::chrono::duration_cast<milliseconds>(guard_at - Clock::now()).count();
    if (left <= 0) {
      guard_fired = true;
      break;
    }
    std::vector<pollfd> pf;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (open[i]) {
        pf.push_back({fds[i], POLLIN, 0});
        which.push_back(i);
      }
    }
    const int n = ::poll(pf.data(), pf.size(), static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (std::size_t k = 0; n > 0 && k < pf.size(); ++k) {
      if ((pf[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[4096];
      const ssize_t got = ::read(pf[k].fd, buf, sizeof buf);
      if (got > 0) {
        text[which[k]].append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        open[which[k]] = false;
        closed_ms[which[k]] = ms_since(started);
      }
    }
  }
  // A child still running after the guard time is hung: kill it. Then reap every child.
  std::vector<RankReport> reports;
  for (int r = 0; r < job.size; ++r) {
    const auto i = static_cast<std::size_t>(r);
    int st = 0;
    pid_t got = ::waitpid(pids[i], &st, WNOHANG);
    const bool hung = guard_fired && got == 0;
    if (hung) ::kill(pids[i], SIGKILL);
    while (got == 0 || (got < 0 && errno == EINTR)) got = ::waitpid(pids[i], &st, 0);
    ::close(fds[i]);
    RankReport rep = parse(r, text[i].substr(0, text[i].find('\n')));
    rep.exited = WIFEXITED(st);
    rep.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    rep.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    rep.killed_by_guard = hung;
    rep.closed_ms = closed_ms[i];
    reports.push_back(rep);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  for (const RankReport& rep : reports) {
    if (rep.reported) {
      std::printf("  %s\n    (rank %d done, teardown included, %.0f ms into the job)\n", rep.line.c_str(), rep.rank,
                  rep.closed_ms);
    } else {
      std::printf("  rank %d: no report (%s%s)\n", rep.rank,
                  rep.signal != 0 ? ("signal " + std::to_string(rep.signal)).c_str()
                                  : ("exit " + std::to_string(rep.exit_code)).c_str(),
                  rep.killed_by_guard ? ", killed by the guard" : "");
    }
  }
  std::printf("[%s] finished in %.0f ms%s\n", job.name.c_str(), ms_since(started),
              guard_fired ? " (GUARD FIRED: children killed)" : "");
  std::fflush(stdout);
  EXPECT_EQ(guard_fired, job.expect_hang) << job.name << ": some rank was still running after " << job.guard.count() << " s";
  return reports;
}

CommOptions base_options() {
  CommOptions o;
  o.timeout = milliseconds(20000);
  o.bootstrap_timeout = milliseconds(10000);
  o.endpoint.retry_budget_us = 2'000'000;
  o.measure_links = false;  // the cost model's defaults: the same on every rank
  o.segment_bytes = 256u << 10;
#if defined(WEFT_TEST_MEMIF)
  o.datapath = memif_mesh();
#elif defined(WEFT_TEST_SHM)
  o.datapath = shm_mesh();
#endif
  return o;
}

std::shared_ptr<const crypto::Credentials> new_cluster_key() {
  auto c = std::make_shared<crypto::Credentials>();
  crypto::generate_cluster_key(*c);
  return c;
}

void use_key(CommOptions& o, std::shared_ptr<const crypto::Credentials> key) {
  o.endpoint.credentials = std::move(key);
  o.endpoint.wall_clock_offset_ns = transport::wall_clock_offset_ns();
}

#ifndef WEFT_TEST_MESH
// The harness itself: a rank that hangs is killed at the guard time and reported as such; the
// others' reports still come back.
TEST(WEFT_SUITE, HarnessKillsHungRanks) {
  Job job;
  job.name = "harness: rank 1 hangs";
  job.size = 2;
  job.guard = std::chrono::seconds(1);
  job.expect_hang = true;
  job.scenario = [](RankContext& ctx) {
    if (ctx.rank == 1) std::this_thread::sleep_for(std::chrono::seconds(60));
  };
  const auto t0 = Clock::now();
  const auto reports = run_job(job);
  EXPECT_LT(ms_since(t0), 5000);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_TRUE(reports[0].reported && reports[0].ok) << reports[0].line;
  EXPECT_FALSE(reports[1].reported);
  EXPECT_TRUE(reports[1].killed_by_guard);
  EXPECT_EQ(reports[1].signal, SIGKILL);
}
#endif  // WEFT_TEST_MESH

// ---- (a) correctness --------------------------------------------------------------------------

constexpr std::array<Collective, 6> kOps = {Collective::kAllReduce, Collective::kAllGather,
                                            Collective::kReduceScatter, Collective::kBroadcast,
                                            Collective::kReduce, Collective::kAllToAll};
constexpr std::array<int, 3> kRankCounts = {2, 3, 4};
constexpr int kSizeClasses = 4;  // 0, 1, odd, 1 MiB + odd

bool reduces(Collective c) {
  return c == Collective::kAllReduce || c == Collective::kReduce || c == Collective::kReduceScatter;
}

// One case: indices into kOps, kAllDataTypes, kAllReduceOps, kRankCounts, size class.
using Row = std::array<int, 5>;
constexpr std::array<int, 5> kLevels = {static_cast<int>(kOps.size()), static_cast<int>(kDataTypeCount),
                                        static_cast<int>(kReduceOpCount), static_cast<int>(kRankCounts.size()),
                                        kSizeClasses};

// A reduction other than sum only with a collective that reduces (others ignore the op).
bool allowed(int f1, int v1, int f2, int v2) {
  if (f1 > f2) return allowed(f2, v2, f1, v1);
  if (f1 == 0 && f2 == 2) return v2 == 0 || reduces(kOps[static_cast<std::size_t>(v1)]);
  return true;
}

// A pairwise-covering set of cases (greedy, deterministic): every allowed pair of values of any
// two factors appears in some row.
std::vector<Row> pairwise_cases() {
  std::set<std::tuple<int, int, int, int>> uncovered;
  for (int f1 = 0; f1 < 5; ++f1) {
    for (int f2 = f1 + 1; f2 < 5; ++f2) {
      for (int v1 = 0; v1 < kLevels[static_cast<std::size_t>(f1)]; ++v1) {
        for (int v2 = 0; v2 < kLevels[static_cast<std::size_t>(f2)]; ++v2) {
          if (allowed(f1, v1, f2, v2)) uncovered.insert({f1, v1, f2, v2});
        }
      }
    }
  }
  auto gain = [&](const Row& row, const std::array<bool, 5>& set) {
    int g = 0;
    for (int f1 = 0; f1 < 5; ++f1) {
      for (int f2 = f1 + 1; f2 < 5; ++f2) {
        if (set[static_cast<std::size_t>(f1)] && set[static_cast<std::size_t>(f2)] &&
            uncovered.count({f1, row[static_cast<std::size_t>(f1)], f2, row[static_cast<std::size_t>(f2)]}) != 0) {
          ++g;
        }
      }
    }
    return g;
  };
  std::vector<Row> rows;
  std::array<std::vector<int>, 5> used;  // rows per value: ties go to the least used value
  for (int f = 0; f < 5; ++f) used[static_cast<std::size_t>(f)].assign(static_cast<std::size_t>(kLevels[static_cast<std::size_t>(f)]), 0);
  while (!uncovered.empty()) {
    const auto [f1, v1, f2, v2] = *uncovered.begin();
    Row row{};
    std::array<bool, 5> set{};
    row[static_cast<std::size_t>(f1)] = v1;
    row[static_cast<std::size_t>(f2)] = v2;
    set[static_cast<std::size_t>(f1)] = set[static_cast<std::size_t>(f2)] = true;
    for (int f = 0; f < 5; ++f) {
      if (set[static_cast<std::size_t>(f)]) continue;
      int best = -1, best_gain = -1;
      for (int v = 0; v < kLevels[static_cast<std::size_t>(f)]; ++v) {
        bool ok = true;
        for (int g = 0; g < 5; ++g) {
          if (set[static_cast<std::size_t>(g)] && !allowed(f, v, g, row[static_cast<std::size_t>(g)])) ok = false;
        }
        if (!ok) continue;
        Row trial = row;
        trial[static_cast<std::size_t>(f)] = v;
        std::array<bool, 5> s2 = set;
        s2[static_cast<std::size_t>(f)] = true;
        const int gn = gain(trial, s2);
        if (gn > best_gain || (gn == best_gain && used[static_cast<std::size_t>(f)][static_cast<std::size_t>(v)] <
                                                      used[static_cast<std::size_t>(f)][static_cast<std::size_t>(best)])) {
          best = v;
          best_gain = gn;
        }
      }
      row[static_cast<std::size_t>(f)] = best;
      set[static_cast<std::size_t>(f)] = true;
    }
    for (int a = 0; a < 5; ++a) {
      for (int b = a + 1; b < 5; ++b) {
        uncovered.erase({a, row[static_cast<std::size_t>(a)], b, row[static_cast<std::size_t>(b)]});
      }
    }
    for (int f = 0; f < 5; ++f) ++used[static_cast<std::size_t>(f)][static_cast<std::size_t>(row[static_cast<std::size_t>(f)])];
    rows.push_back(row);
  }
  return rows;
}

struct Case {
  Collective coll;
  DataType dtype;
  ReduceOp op;
  std::size_t count;
  int root;
};

std::size_t count_for(Collective coll, DataType dt, int size_class, int p) {
  const std::size_t es = dtype_size(dt);
  std::size_t count = 0;
  switch (size_class) {
    case 0: return 0;
    case 1: return 1;
    case 2: count = 1001; break;
    default: count = ((std::size_t{1} << 20) + 24) / es + 3; break;  // 1 MiB + odd
  }
  if (coll == Collective::kAllGather || coll == Collective::kReduceScatter || coll == Collective::kAllToAll) {
    count = count / static_cast<std::size_t>(p) + 1;  // the whole array stays about that size
  }
  return count;
}

std::string text(const Case& c) {
  return std::string(collective_name(c.coll)) + " " + std::string(dtype_name(c.dtype)) + " " +
         std::string(reduce_op_name(c.op)) + " count " + std::to_string(c.count) + " root " + std::to_string(c.root);
}

// Runs `cases` in order on this rank; throws naming the first case with a wrong result.
void run_cases(RankContext& ctx, const std::vector<Case>& cases) {
  auto comm = ctx.connect();
  ctx.start_clock();
  std::uint32_t salt = 100;
  std::size_t bytes = 0;
  for (const Case& c : cases) {
    const int p = ctx.size;
    const std::size_t es = dtype_size(c.dtype);
    const std::size_t up = static_cast<std::size_t>(p);
    const std::size_t in_elems =
        c.coll == Collective::kReduceScatter || c.coll == Collective::kAllToAll ? c.count * up : c.count;
    const std::size_t out_elems =
        c.coll == Collective::kAllGather || c.coll == Collective::kAllToAll ? c.count * up : c.count;
    std::vector<std::uint8_t> in(std::max<std::size_t>(in_elems * es, 1)), out(std::max<std::size_t>(out_elems * es, 1), 0xEE);
    ++salt;
    fill_verifiable_input(c.coll, c.dtype, c.op, c.count, ctx.rank, p, salt, in.data());
    OpArgs a;
    a.collective = c.coll;
    a.send = in.data();
    a.recv = out.data();
    a.count = c.count;
    a.dtype = c.dtype;
    a.op = c.op;
    a.root = c.root;
    Request r = comm->post(a);
    comm->wait(r);
    const std::size_t wrong =
        count_wrong_elements(c.coll, c.dtype, c.op, c.count, c.root, ctx.rank, p, salt, out.data());
    if (wrong != 0) {
      throw std::runtime_error(text(c) + ": " + std::to_string(wrong) + " wrong elements on rank " +
                               std::to_string(ctx.rank));
    }
    bytes += collective_bytes(c.coll, c.count, c.dtype, p);
  }
  Request b = comm->barrier();
  comm->wait(b);
  ctx.stop_clock();
  ctx.note = std::to_string(cases.size()) + " cases correct, " + std::to_string(bytes >> 10) + " KiB, " +
             comm->describe();
  comm->finish();
}

void correctness(bool encrypted) {
  const std::vector<Row> rows = pairwise_cases();
  std::printf("%zu pairwise cases over operation x dtype x op x ranks x size\n", rows.size());
  const auto key = encrypted ? new_cluster_key() : nullptr;
  for (std::size_t ri = 0; ri < kRankCounts.size(); ++ri) {
    const int p = kRankCounts[ri];
    std::vector<Case> cases;
    for (const Row& row : rows) {
      if (row[3] != static_cast<int>(ri)) continue;
      Case c;
      c.coll = kOps[static_cast<std::size_t>(row[0])];
      c.dtype = kAllDataTypes[static_cast<std::size_t>(row[1])];
      c.op = kAllReduceOps[static_cast<std::size_t>(row[2])];
      c.count = count_for(c.coll, c.dtype, row[4], p);
      c.root = static_cast<int>(cases.size() % static_cast<std::size_t>(p));
      cases.push_back(c);
    }
    Job job;
    job.name = std::string(encrypted ? "encrypted" : "plaintext") + " correctness, " + std::to_string(p) + " ranks";
    job.size = p;
    job.options = base_options();
    job.options.measure_links = true;  // as in production: measured, then agreed on by every rank
    if (encrypted) use_key(job.options, key);
    job.scenario = [cases](RankContext& ctx) { run_cases(ctx, cases); };
    const auto reports = run_job(job);
    for (const RankReport& r : reports) {
      EXPECT_TRUE(r.reported && r.ok) << job.name << ": " << (r.reported ? r.line : "no report");
      EXPECT_TRUE(r.exited && r.exit_code == 0) << job.name << " rank " << r.rank;
      if (r.reported && r.ok) {
        EXPECT_NE(r.text.find(encrypted ? "encrypted" : "PLAINTEXT"), std::string::npos) << r.text;
      }
    }
  }
}

#ifndef WEFT_TEST_MESH
// The generated set really covers every allowed pair (and is not much larger than it must be).
TEST(WEFT_SUITE, PairwiseCasesCoverEveryPair) {
  const std::vector<Row> rows = pairwise_cases();
  std::set<std::tuple<int, int, int, int>> seen;
  for (const Row& r : rows) {
    for (int a = 0; a < 5; ++a) {
      EXPECT_GE(r[static_cast<std::size_t>(a)], 0);
      for (int b = a + 1; b < 5; ++b) {
        EXPECT_TRUE(allowed(a, r[static_cast<std::size_t>(a)], b, r[static_cast<std::size_t>(b)]));
        seen.insert({a, r[static_cast<std::size_t>(a)], b, r[static_cast<std::size_t>(b)]});
      }
    }
  }
  std::size_t want = 0;
  for (int f1 = 0; f1 < 5; ++f1) {
    for (int f2 = f1 + 1; f2 < 5; ++f2) {
      for (int v1 = 0; v1 < kLevels[static_cast<std::size_t>(f1)]; ++v1) {
        for (int v2 = 0; v2 < kLevels[static_cast<std::size_t>(f2)]; ++v2) {
          if (allowed(f1, v1, f2, v2)) {
            ++want;
            EXPECT_EQ(seen.count({f1, v1, f2, v2}), 1u) << f1 << "=" << v1 << " " << f2 << "=" << v2;
          }
        }
      }
    }
  }
  std::printf("%zu cases cover %zu pairs\n", rows.size(), want);
  EXPECT_LE(rows.size(), 100u);
}
#endif  // WEFT_TEST_MESH

TEST(WEFT_SUITE, CorrectPlaintext) { correctness(false); }
TEST(WEFT_SUITE, CorrectEncrypted) { correctness(true); }

// ---- (b) loss -----------------------------------------------------------------------------------

// Every rank drops 5 % of the frames it sends; a 4 MiB all-reduce on 4 ranks is still exact.
TEST(WEFT_SUITE, FivePercentSendLoss) {
  Job job;
  job.name = "5% send loss";
  job.size = 4;
  job.options = base_options();
  job.options.send_loss = 0.05;
  job.options.fault_seed = 20261201;
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    const std::size_t count = (4u << 20) / 4;
    std::vector<float> in(count), out(count);
    fill_verifiable_input(Collective::kAllReduce, DataType::kF32, ReduceOp::kSum, count, ctx.rank, ctx.size, 5,
                          in.data());
    ctx.start_clock();
    Request r = comm->all_reduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum);
    ctx.wait(*comm, r);
    const std::size_t wrong = count_wrong_elements(Collective::kAllReduce, DataType::kF32, ReduceOp::kSum, count, 0,
                                                   ctx.rank, ctx.size, 5, out.data());
    if (wrong != 0) throw std::runtime_error(std::to_string(wrong) + " wrong elements");
    // Stats before the barrier: CommStats sums the links still open, and a peer that is through
    // the barrier may already have closed its link to this rank in finish().
    const CommStats s = comm->stats();
    Request b = comm->barrier();
    comm->wait(b);
    ctx.note = "dropped " + std::to_string(s.frames_dropped_by_fault_injection) + " of " +
               std::to_string(s.frames_sent) + " frames, " + std::to_string(s.retransmits) + " retransmits";
    comm->finish();
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    EXPECT_TRUE(r.reported && r.ok) << r.line;
    EXPECT_NE(r.text.find("dropped"), std::string::npos);
    EXPECT_EQ(r.text.find("dropped 0 "), std::string::npos) << "no frame was dropped: " << r.text;
    EXPECT_EQ(r.text.find(" 0 retransmits"), std::string::npos) << "frames were lost but not retransmitted? " << r.text;
  }
}

// ---- (c) killed rank ----------------------------------------------------------------------------

// Rank 2 posts an all-reduce and kills itself. The others fail within the operation timeout plus
// slack, naming rank 2 (its link failed after the retry budget) or a timeout.
TEST(WEFT_SUITE, KilledRankFailsTheOthers) {
  constexpr int kDead = 2;
  constexpr double kLimitMs = 6000;  // op timeout 3 s, retry budget 1 s, plus slack
  Job job;
  job.name = "rank 2 killed";
  job.size = 4;
  job.options = base_options();
  job.options.timeout = milliseconds(3000);
  job.options.endpoint.retry_budget_us = 1'000'000;
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    const std::size_t count = (4u << 20) / 4;
    std::vector<float> in(count, 1.0f), out(count);
    ctx.start_clock();
    Request r = comm->all_reduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum);
    if (ctx.rank == kDead) ::raise(SIGKILL);
    ctx.wait(*comm, r);
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    if (r.rank == kDead) {
      EXPECT_FALSE(r.reported);
      EXPECT_EQ(r.signal, SIGKILL);
      continue;
    }
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    EXPECT_TRUE(r.kind == "peer-failed" || r.kind == "aborted" || r.kind == "timed-out") << r.line;
    EXPECT_LT(r.ms, kLimitMs) << r.line;
    EXPECT_TRUE(r.text.find("rank 2") != std::string::npos || r.text.find("timed out") != std::string::npos)
        << r.line;
    EXPECT_TRUE(r.exited && r.exit_code == 0) << "rank " << r.rank;
    std::printf("  measured: rank %d failed after %.0f ms (%s)\n", r.rank, r.ms, r.kind.c_str());
  }
}

#ifndef WEFT_TEST_MESH  // the stalled-rank cases test the abort channel's timing over UDP
// ---- (d) stalled rank ---------------------------------------------------------------------------
//
// Rank 1 sleeps 5 s before posting a 1 MiB ring all-reduce that ranks 0 and 2 posted at once. In
// the ring rank 0 sends to rank 1 (its data to the sleeper is unacknowledged, filling the link's
// window) and rank 2 sends to rank 0 (nothing in flight to the sleeper). Which of the two times
// out first is set by giving them different timeouts, so each run takes the same path.

struct StallSetup {
  milliseconds timeout_rank0;
  milliseconds timeout_rank2;
  std::uint32_t retry_budget_us;
};

Job stall_job(const StallSetup& s) {
  Job job;
  job.name = "rank 1 stalls 5 s; timeouts rank 0 " + std::to_string(s.timeout_rank0.count()) + " ms, rank 2 " +
             std::to_string(s.timeout_rank2.count()) + " ms; retry budget " +
             std::to_string(s.retry_budget_us / 1000) + " ms";
  job.size = 3;
  job.options = base_options();
  job.options.timeout = milliseconds(1500);  // the sleeper's
  job.options.endpoint.retry_budget_us = s.retry_budget_us;
  job.tweak = [s](int rank, CommOptions& o) {
    if (rank == 0) o.timeout = s.timeout_rank0;
    if (rank == 2) o.timeout = s.timeout_rank2;
  };
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    const std::size_t count = (1u << 20) / 4;
    std::vector<float> in(count, 1.0f), out(count);
    if (ctx.rank == 1) std::this_thread::sleep_for(std::chrono::seconds(5));
    ctx.start_clock();
    Request r = comm->all_reduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum, Algorithm::kRing);
    ctx.wait(*comm, r);
  };
  return job;
}

// Checks the sleeper (rank 1) failed at once with the abort, and the others at about the first
// timeout (1.5 s), naming a timeout.
void expect_stall_outcome(const std::vector<RankReport>& reports) {
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    if (r.rank == 1) {
      EXPECT_EQ(r.kind, "aborted") << r.line;
      EXPECT_LT(r.ms, 1000) << "the sleeper should fail at once when it posts: " << r.line;
      EXPECT_NE(r.text.find("timed out"), std::string::npos) << r.line;
    } else {
      EXPECT_TRUE(r.kind == "timed-out" || r.kind == "aborted") << r.line;
      EXPECT_GE(r.ms, 1400) << r.line;
      EXPECT_LT(r.ms, 4000) << r.line;
      EXPECT_NE(r.text.find("timed out"), std::string::npos) << r.line;
    }
    std::printf("  measured: rank %d failed after %.0f ms (%s)\n", r.rank, r.ms, r.kind.c_str());
  }
}

// Rank 2 times out first (1.5 s; rank 0 would at 2 s) and tells everyone; its link to the sleeper
// carries no data, so the notice waits in the sleeper's socket, and the sleeper fails at once when
// it wakes and posts.
TEST(WEFT_SUITE, StalledRankTimesOut) {
  expect_stall_outcome(run_job(stall_job({milliseconds(2000), milliseconds(1500), 2'000'000})));
}

// Rank 0 times out first. Its link to the sleeper is full of all-reduce data the sleeper never
// acknowledged; the abort notice travels on the abort channel (VC 1, opened at start-up) instead,
// so it waits in the sleeper's socket, and rank 2 passes it on as well. The sleeper wakes, posts,
// and fails at once with kAborted. (Before the notices had a link of their own, the notice queued
// behind the data and the sleeper waited out its whole timeout.)
TEST(WEFT_SUITE, StalledRankNotToldWhenAbortNoticeIsBlocked) {
  expect_stall_outcome(run_job(stall_job({milliseconds(1500), milliseconds(2000), 2'000'000})));
}

// The stall outlasts the retry budget (1 s < the 1.5 s timeout), so rank 0's data link to the
// sleeper fails first (peer-failed: correct). The binding does not open that link again (the
// sleeper would take a new OPEN for a restart of rank 0); the abort notices reach the sleeper on
// the abort channel, and it fails at once with kAborted naming the real cause, not a restart.
TEST(WEFT_SUITE, StallLongerThanRetryBudget) {
  const auto reports = run_job(stall_job({milliseconds(1500), milliseconds(1500), 1'000'000}));
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    if (r.rank == 1) {
      EXPECT_LT(r.ms, 1000) << "the sleeper should fail at once when it posts: " << r.line;
      EXPECT_EQ(r.kind, "aborted") << r.line;
      EXPECT_EQ(r.text.find("restarted"), std::string::npos) << "no rank restarted: " << r.line;
    } else {
      EXPECT_TRUE(r.kind == "peer-failed" || r.kind == "timed-out" || r.kind == "aborted") << r.line;
      EXPECT_LT(r.ms, 4000) << r.line;
      EXPECT_NE(r.text.find("rank 1"), std::string::npos) << r.line;
    }
    std::printf("  measured: rank %d failed after %.0f ms (%s)\n", r.rank, r.ms, r.kind.c_str());
  }
}

#endif  // WEFT_TEST_MESH

// ---- (e) abort during an operation --------------------------------------------------------------

// Rank 0 posts, stalls 200 ms without progress (so the operation cannot finish), then aborts.
// Every other rank fails within 1 s of posting, with rank 0's reason.
TEST(WEFT_SUITE, AbortDuringOperation) {
  Job job;
  job.name = "rank 0 aborts";
  job.size = 4;
  job.options = base_options();
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    const std::size_t count = (1u << 20) / 4;
    std::vector<float> in(count, 1.0f), out(count);
    ctx.start_clock();
    Request r = comm->all_reduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum);
    if (ctx.rank == 0) {
      std::this_thread::sleep_for(milliseconds(200));
      comm->abort("operator pressed stop");
    }
    ctx.wait(*comm, r);
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    EXPECT_EQ(r.kind, "aborted") << r.line;
    EXPECT_NE(r.text.find("operator pressed stop"), std::string::npos) << r.line;
    if (r.rank != 0) {
      EXPECT_NE(r.text.find("aborted by rank 0"), std::string::npos) << r.line;
      EXPECT_LT(r.ms, 1000) << r.line;
    }
    std::printf("  measured: rank %d failed after %.0f ms\n", r.rank, r.ms);
  }
}

// ---- (f) wrong key ------------------------------------------------------------------------------

// Rank 2 holds a different cluster key: no link to it authenticates, so Communicator::create
// throws on every rank, naming the links that did not open, within the bootstrap timeout.
TEST(WEFT_SUITE, WrongClusterKeyFailsStartup) {
  const auto good = new_cluster_key();
  const auto bad = new_cluster_key();
  Job job;
  job.name = "rank 2 has the wrong key";
  job.size = 3;
  job.options = base_options();
  job.options.bootstrap_timeout = milliseconds(3000);
  job.options.endpoint.retry_budget_us = 1'000'000;
  job.tweak = [good, bad](int rank, CommOptions& o) { use_key(o, rank == 2 ? bad : good); };
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    ctx.note = "started despite the wrong key: " + comm->describe();
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    EXPECT_EQ(r.kind, "setup") << r.line;
    EXPECT_LT(r.ms, 3000 + 1500) << r.line;
    EXPECT_FALSE(r.text.empty());
    std::printf("  measured: rank %d: create threw after %.0f ms: %s\n", r.rank, r.ms, r.text.c_str());
  }
}

#ifdef WEFT_TEST_MESH
// ---- (g) ranks that disagree on the datapath ------------------------------------------------------

// Rank 1 is started on UDP, the others on the mesh: every rank's create() throws at once (the
// settings are compared before any datapath waits for its peers), naming both settings.
TEST(WEFT_SUITE, DifferentDatapathsFailStartup) {
  Job job;
  job.name = std::string("rank 1 on udp, the others on ") + WEFT_MESH_NAME;
  job.size = 3;
  job.options = base_options();
  job.options.bootstrap_timeout = milliseconds(5000);
  job.tweak = [](int rank, CommOptions& o) {
    if (rank == 1) o.datapath = CommDatapathFactory{};
  };
  job.scenario = [](RankContext& ctx) {
    auto comm = ctx.connect();
    ctx.note = "started with mixed datapaths: " + comm->describe();
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    EXPECT_EQ(r.kind, "setup") << r.line;
    EXPECT_NE(r.text.find("datapath=udp"), std::string::npos) << r.line;
    EXPECT_NE(r.text.find(std::string("datapath=") + WEFT_MESH_NAME), std::string::npos) << r.line;
    EXPECT_LT(r.ms, 2000) << "a settings mismatch is found before any wait: " << r.line;
    std::printf("  measured: rank %d: create threw after %.0f ms: %s\n", r.rank, r.ms, r.text.c_str());
  }
}

#endif  // WEFT_TEST_MESH

#ifdef WEFT_TEST_MEMIF
// A second memif Communicator in one process: DPDK cannot bring its EAL up twice, so create()
// says so instead of failing somewhere inside DPDK.
TEST(WEFT_SUITE, SecondMeshInOneProcessIsRefused) {
  Job job;
  job.name = "two memif communicators in one process";
  job.size = 2;
  job.options = base_options();
  job.scenario = [](RankContext& ctx) {
    {
      auto first = ctx.connect();
      Request b = first->barrier();
      first->wait(b);
      first->finish();
    }
    CommOptions again = ctx.options;
    again.launch.store.path += "/again";
    auto second = ctx.connect_with(again);
    ctx.note = "a second mesh came up: " + second->describe();
  };
  const auto reports = run_job(job);
  for (const RankReport& r : reports) {
    ASSERT_TRUE(r.reported) << "rank " << r.rank << " did not report";
    EXPECT_FALSE(r.ok) << r.line;
    EXPECT_EQ(r.kind, "setup") << r.line;
    EXPECT_NE(r.text.find("cannot bring it up twice"), std::string::npos) << r.line;
  }
}
#endif  // WEFT_TEST_MEMIF

}  // namespace
}  // namespace weft::collectives
