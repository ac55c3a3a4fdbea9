// `weft bench allreduce|allgather|reducescatter|broadcast|reduce|alltoall`: nccl-tests' table
// for weft's collectives over UDP (or shared memory: --datapath shm|memif), one process per rank.
//
// Two ways to start it:
//   weft bench allreduce --ranks 4 ...           spawns 4 local rank processes itself (fork), with a
//                                                file store in a fresh temporary directory and, unless
//                                                --insecure, an ephemeral cluster key handed over a pipe
//   mpirun -np 4 weft bench allreduce ...        one rank per process, rank and size from the launcher
//                                                (torchrun, Slurm and WEFT_RANK work the same way)
//
// Per size (nccl-tests conventions, ../shared/research/collectives-anchors.md §1): the result is
// checked first (verifiable inputs, every element compared; #wrong summed over ranks), then warm-up
// iterations, then timed iterations back to back; time = mean per operation, averaged over ranks;
// algbw = S / time, busbw = algbw × the collective's bus factor. Encrypted runs also print the AEAD
// ceiling: each busbw byte of a ring all-reduce costs each rank about two bytes of AEAD work, so
// busbw <= AEAD GB/s per core × cores / ranks / 2, measured in the same run.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tools/weft/bench_collective.h"
#include "tools/weft/cli.h"
#include "tools/weft/net.h"
#include "weft/collectives/communicator.h"
#include "weft/collectives/cost_model.h"
#include "weft/collectives/shm_mesh.h"
#include "weft/collectives/verify.h"
#include "weft/crypto/credentials.h"
#include "weft/crypto/select.h"
#include "weft/transport/config.h"
#include "weft/transport/datapath.h"
#ifdef WEFT_HAVE_DPDK
#include "weft/collectives/memif_mesh.h"
#endif

namespace weft::tools {
namespace {

using namespace weft::collectives;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

struct Options {
  Collective collective = Collective::kAllReduce;
  int ranks = 0;  // 0: from the launcher's environment, else 4
  std::string min_bytes = "8", max_bytes = "256M";
  double step_factor = 2;
  std::string dtype = "float", op = "sum", algorithm = "auto";
  int root = 0;
  int iters = 0;
  int warmup = 2;
  double seconds = 0.2;
  bool check = true;
  bool json = false;
  std::string label;
  double timeout_s = 60;
  std::string segment = "256K";
  int ranks_per_pod = 0;
  double loss = 0;
  bool busy_poll = false;
  bool stats = false;
  std::string datapath = "udp";
  SecurityOptions security;
};

std::string help_for(const Options& o) { return "weft bench " + std::string(collective_name(o.collective)); }

// "8", "64K", "16M", "1G" (powers of 1024).
std::size_t parse_size(const std::string& text, const std::string& option, const std::string& help) {
  std::size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (const std::exception&) {
    throw UsageError(option + " '" + text + "' is not a size (e.g. 8, 64K, 16M, 1G)", help);
  }
  const std::string suffix = text.substr(pos);
  unsigned long long mult = 1;
  if (suffix == "K" || suffix == "k" || suffix == "KiB") mult = 1ull << 10;
  else if (suffix == "M" || suffix == "MiB") mult = 1ull << 20;
  else if (suffix == "G" || suffix == "GiB") mult = 1ull << 30;
  else if (!suffix.empty()) throw UsageError(option + " '" + text + "': unknown suffix '" + suffix + "' (K, M, G)", help);
  return static_cast<std::size_t>(v * mult);
}

struct Setup {
  DataType dtype = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  Algorithm algorithm = Algorithm::kAuto;
  std::size_t min_bytes = 8, max_bytes = 256u << 20, segment = 256u << 10;
  transport::EndpointConfig endpoint;
  SecuritySetup security;
  double aead_gbytes_per_core = 0;  // min(seal, open) of the chosen provider; 0 when plaintext
  std::string aead_name;
  int cores = 1;
};

// Elements per rank for a table size S (0 when S is too small).
std::size_t count_for(Collective c, std::size_t bytes, DataType dt, int ranks) {
  const std::size_t es = dtype_size(dt);
  const bool whole = c == Collective::kAllGather || c == Collective::kReduceScatter || c == Collective::kAllToAll;
  return whole ? bytes / es / static_cast<std::size_t>(ranks) : bytes / es;
}

struct Row {
  std::size_t bytes = 0, count = 0;
  Algorithm algorithm = Algorithm::kAuto;
  double time_us = 0, algbw = 0, busbw = 0;
  std::uint64_t wrong = 0;
  int iters = 0;
};

// One rank's whole benchmark. Returns the exit code.
int run_rank(const Options& o, const Setup& s, const LaunchInfo& launch) {
  const std::string who = "weft bench: rank " + std::to_string(launch.rank);
  CommOptions co;
  co.launch = launch;
  co.endpoint = s.endpoint;
  co.segment_bytes = s.segment;
  co.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
  co.topology.ranks_per_pod = o.ranks_per_pod;
  co.busy_poll = o.busy_poll;
  co.send_loss = o.loss;
  if (const char* h = std::getenv("WEFT_BIND_HOST")) co.bind_host = h;
  if (o.datapath == "shm") co.datapath = shm_mesh();
#ifdef WEFT_HAVE_DPDK
  if (o.datapath == "memif") co.datapath = memif_mesh();
#endif
  std::unique_ptr<Communicator> comm;
  try {
    comm = Communicator::create(co);
  } catch (const std::exception& e) {
    std::cerr << who << ": start-up failed: " << e.what() << "\n";
    return kExitFailed;
  }
  const int p = comm->size(), r = comm->rank();
  const bool lead = r == 0;
  const Collective c = o.collective;
  const std::size_t es = dtype_size(s.dtype);
  if (lead && !o.json) {
    const LinkParams& lp = comm->link_params();
    std::printf("# weft bench %s: %d ranks (%s), %s; dtype %s, op %s, algorithm %s, segment %s\n",
                std::string(collective_name(c)).c_str(), p, launch.launcher.c_str(), comm->describe().c_str(),
                std::string(dtype_name(s.dtype)).c_str(), std::string(reduce_op_name(s.op)).c_str(),
                std::string(algorithm_name(s.algorithm)).c_str(), bytes_text(s.segment).c_str());
    std::printf("# link parameters (measured, max over ranks): alpha %.1f us, beta %.3f ns/B (%.2f GB/s), "
                "gamma %.3f ns/B; ranks per pod %d\n",
                lp.alpha_us, lp.beta_us_per_byte * 1e3, 1e-3 / lp.beta_us_per_byte, lp.gamma_us_per_byte * 1e3,
                comm->topology().ranks_per_pod);
    if (s.aead_gbytes_per_core > 0) {
      std::printf("# AEAD ceiling: %s %.2f GB/s per core (min of seal, open; measured now) x %d cores / %d ranks / 2 "
                  "= %.3f GB/s busbw\n",
                  s.aead_name.c_str(), s.aead_gbytes_per_core, s.cores, p,
                  s.aead_gbytes_per_core * s.cores / p / 2);
    }
    std::printf("#%11s %12s %9s %6s %19s %11s %12s %12s %7s%s\n", "size", "count", "type", "redop", "algorithm",
                "time(us)", "algbw(GB/s)", "busbw(GB/s)", "#wrong", s.aead_gbytes_per_core > 0 ? "  ceiling  ratio" : "");
    std::fflush(stdout);
  }
  // Buffers for the largest size, allocated and touched once.
  const std::size_t max_count = count_for(c, s.max_bytes, s.dtype, p);
  const bool whole_in = c == Collective::kReduceScatter || c == Collective::kAllToAll;
  const bool whole_out = c == Collective::kAllGather || c == Collective::kAllToAll;
  std::vector<std::uint8_t> send((whole_in ? max_count * static_cast<std::size_t>(p) : max_count) * es + 64, 1);
  std::vector<std::uint8_t> recv((whole_out ? max_count * static_cast<std::size_t>(p) : max_count) * es + 64, 0);
  auto run_once = [&](std::size_t count, Algorithm* ran) {
    OpArgs a;
    a.collective = c;
    a.send = send.data();
    a.recv = recv.data();
    a.count = count;
    a.dtype = s.dtype;
    a.op = s.op;
    a.root = o.root;
    a.algorithm = s.algorithm;
    Request req = comm->post(a);
    const Algorithm alg = comm->wait(req);
    if (ran != nullptr) *ran = alg;
  };
  auto sum_u64 = [&](std::uint64_t v) {
    std::uint64_t out = 0;
    Request q = comm->all_reduce(&v, &out, 1, DataType::kU64, ReduceOp::kSum, Algorithm::kRing);
    comm->wait(q);
    return out;
  };
  auto sum_f64 = [&](double v) {
    double out = 0;
    Request q = comm->all_reduce(&v, &out, 1, DataType::kF64, ReduceOp::kSum, Algorithm::kRing);
    comm->wait(q);
    return out;
  };
  int rc = kExitOk;
  std::uint32_t salt = 1;
  try {
    for (std::size_t bytes = s.min_bytes; bytes <= s.max_bytes;
         bytes = std::max(bytes + 1, static_cast<std::size_t>(static_cast<double>(bytes) * o.step_factor))) {
      const std::size_t count = count_for(c, bytes, s.dtype, p);
      if (count == 0) continue;
      Row row;
      row.count = count;
      row.bytes = collective_bytes(c, count, s.dtype, p);
      // 1. Check.
      if (o.check) {
        fill_verifiable_input(c, s.dtype, s.op, count, r, p, ++salt, send.data());
        run_once(count, &row.algorithm);
        const std::size_t mine = count_wrong_elements(c, s.dtype, s.op, count, o.root, r, p, salt, recv.data());
        row.wrong = sum_u64(mine);
      }
      // 2. Warm-up, and the iteration count (rank 0 decides, everyone agrees).
      const auto w0 = Clock::now();
      for (int i = 0; i < o.warmup; ++i) run_once(count, &row.algorithm);
      const double warm_us = std::chrono::duration<double, std::micro>(Clock::now() - w0).count() / std::max(1, o.warmup);
      std::uint64_t iters = static_cast<std::uint64_t>(o.iters);
      if (iters == 0) {
        const double want = lead ? std::clamp(std::ceil(o.seconds * 1e6 / std::max(warm_us, 1.0)), 5.0, 20000.0) : 0;
        iters = sum_u64(static_cast<std::uint64_t>(want));
      }
      // 3. Time.
      Request b = comm->barrier();
      comm->wait(b);
      const auto t0 = Clock::now();
      for (std::uint64_t i = 0; i < iters; ++i) run_once(count, i == 0 ? &row.algorithm : nullptr);
      const double mine_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / static_cast<double>(iters);
      row.time_us = sum_f64(mine_us) / p;
      row.iters = static_cast<int>(iters);
      row.algbw = static_cast<double>(row.bytes) / (row.time_us * 1e3);
      row.busbw = row.algbw * busbw_factor(c, p);
      if (row.wrong != 0) rc = kExitFailed;
      if (!lead) continue;
      const double ceiling = s.aead_gbytes_per_core > 0 ? s.aead_gbytes_per_core * s.cores / p / 2 : 0;
      if (o.json) {
        Json j;
        j["impl"] = o.label;
        j["collective"] = std::string(collective_name(c));
        j["ranks"] = p;
        j["bytes"] = row.bytes;
        j["count"] = row.count;
        j["dtype"] = std::string(dtype_name(s.dtype));
        j["op"] = std::string(reduce_op_name(s.op));
        j["algorithm"] = std::string(algorithm_name(row.algorithm));
        j["time_us"] = row.time_us;
        j["algbw_gbps"] = row.algbw;
        j["busbw_gbps"] = row.busbw;
        j["wrong"] = row.wrong;
        j["iters"] = row.iters;
        j["encrypted"] = comm->encrypted();
        if (ceiling > 0) j["aead_ceiling_gbps"] = ceiling;
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("%12zu %12zu %9s %6s %19s %11.2f %12.3f %12.3f %7llu", row.bytes, row.count,
                    std::string(dtype_name(s.dtype)).c_str(),
                    c == Collective::kAllReduce || c == Collective::kReduce || c == Collective::kReduceScatter
                        ? std::string(reduce_op_name(s.op)).c_str()
                        : "none",
                    std::string(algorithm_name(row.algorithm)).c_str(), row.time_us, row.algbw, row.busbw,
                    static_cast<unsigned long long>(row.wrong));
        if (ceiling > 0) std::printf("  %7.3f  %5.2f", ceiling, row.busbw / ceiling);
        std::printf("\n");
      }
      std::fflush(stdout);
    }
  } catch (const CollectiveError& e) {
    std::cerr << who << ": " << e.what() << "\n";
    comm->abort(std::string("benchmark failed on rank ") + std::to_string(r));
    return kExitFailed;
  }
  if (o.stats) {
    const CommStats st = comm->stats();
    std::fprintf(stderr,
                 "# rank %d: staging buffers %llu, scratch buffers %llu, plans %llu, messages parked %llu, "
                 "messages sent %llu, retransmissions %llu\n",
                 r,
                 static_cast<unsigned long long>(st.engine.staging_allocations), static_cast<unsigned long long>(st.engine.scratch_allocations),
                 static_cast<unsigned long long>(st.engine.plans_built), static_cast<unsigned long long>(st.engine.messages_parked),
                 static_cast<unsigned long long>(st.engine.messages_sent), static_cast<unsigned long long>(st.retransmits));
  }
  try {
    comm->finish();
  } catch (const std::exception& e) {
    std::cerr << who << ": finish: " << e.what() << "\n";
  }
  if (lead && !o.json && rc != kExitOk) std::printf("# some results were WRONG (see #wrong)\n");
  return rc;
}

// Spawns `ranks` local rank processes with a file store in a fresh directory. Returns the exit code.
int spawn(const Options& o, const Setup& s) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("weft-bench-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> pids;
  for (int r = 0; r < o.ranks; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "weft bench: fork: " << std::strerror(errno) << "\n";
      for (pid_t q : pids) ::kill(q, SIGKILL);
      return kExitFailed;
    }
    if (pid == 0) {
      LaunchInfo li;
      li.rank = r;
      li.size = o.ranks;
      li.local_rank = r;
      li.local_size = o.ranks;
      li.launcher = "spawned by weft bench";
      li.store.kind = StoreAddress::Kind::kFile;
      li.store.path = dir.string();
      const int code = run_rank(o, s, li);
      std::fflush(stdout);
      std::fflush(stderr);
      ::_exit(code);
    }
    pids.push_back(pid);
  }
  // Wait for every rank; once one fails, the others get the operation timeout plus 10 s to fail
  // on their own (they normally do at once: the failure aborts every rank), then are killed.
  int rc = kExitOk;
  std::size_t left = pids.size();
  auto kill_at = Clock::time_point::max();
  while (left > 0) {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, kill_at == Clock::time_point::max() ? 0 : WNOHANG);
    if (pid > 0) {
      --left;
      const bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
      if (!ok) {
        rc = kExitFailed;
        if (WIFSIGNALED(st)) std::cerr << "weft bench: a rank process died (signal " << WTERMSIG(st) << ")\n";
        if (kill_at == Clock::time_point::max()) {
          kill_at = Clock::now() + std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000) + 10000);
        }
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (Clock::now() >= kill_at) {
      for (pid_t q : pids) ::kill(q, SIGKILL);
      kill_at = Clock::now() + std::chrono::hours(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

int run(Options& o) {
  const std::string help = help_for(o);
  Setup s;
  if (auto d = parse_dtype(o.dtype)) s.dtype = *d;
  else throw UsageError("--dtype '" + o.dtype + "' is not a type (float, double, half, bfloat16, int8..uint64)", help);
  if (auto r = parse_reduce_op(o.op)) s.op = *r;
  else throw UsageError("--op '" + o.op + "' is not a reduction (sum, prod, min, max, avg)", help);
  if (auto a = parse_algorithm(o.algorithm)) s.algorithm = *a;
  else {
    throw UsageError("--algorithm '" + o.algorithm +
                         "' is not an algorithm (auto, ring, rabenseifner, recursive-doubling, bruck, "
                         "double-binary-tree, hierarchical, binomial-tree, chain, pairwise)",
                     help);
  }
  s.min_bytes = parse_size(o.min_bytes, "--min-bytes", help);
  s.max_bytes = parse_size(o.max_bytes, "--max-bytes", help);
  s.segment = parse_size(o.segment, "--segment-bytes", help);
  if (s.max_bytes < s.min_bytes) throw UsageError("--max-bytes is smaller than --min-bytes", help);
  if (s.max_bytes > (std::size_t{4} << 30)) throw UsageError("--max-bytes is larger than 4G", help);
  if (s.segment < 4096 || s.segment > (64u << 20) || s.segment % 8 != 0) {
    throw UsageError("--segment-bytes must be a multiple of 8 between 4K and 64M", help);
  }
  if (o.step_factor <= 1.0) throw UsageError("--step-factor must be greater than 1", help);
  if (o.datapath != "udp" && o.datapath != "shm" && o.datapath != "memif") {
    throw UsageError("--datapath '" + o.datapath + "' is not a datapath (udp, shm, memif)", help);
  }
#ifndef WEFT_HAVE_DPDK
  if (o.datapath == "memif") throw UsageError("--datapath memif: this weft was built without DPDK (WEFT_DPDK=OFF)", help);
#endif

  // Where the ranks come from: --ranks spawns; otherwise a launcher's environment.
  std::optional<LaunchInfo> launched;
  try {
    launched = detect_launch();
  } catch (const std::exception& e) {
    // No launcher at all: this process spawns the ranks. A launcher that is set up wrong is an error.
    if (std::string(e.what()).rfind("no launcher environment", 0) != 0) throw UsageError(e.what(), help);
  }
  if (o.ranks > 0 && launched && launched->size > 1) {
    throw UsageError("--ranks " + std::to_string(o.ranks) + " spawns local ranks, but this process was started by " +
                         launched->launcher + " as rank " + std::to_string(launched->rank) + " of " +
                         std::to_string(launched->size) + ": drop --ranks (or the launcher)",
                     help);
  }
  const bool spawning = !(launched && launched->size > 1);
  if (spawning && o.ranks == 0) o.ranks = 4;
  const int ranks = spawning ? o.ranks : launched->size;
  const int rank = spawning ? 0 : launched->rank;
  if (ranks < 1 || ranks > 256) throw UsageError("--ranks must be between 1 and 256", help);
  if (o.root < 0 || o.root >= ranks) throw UsageError("--root " + std::to_string(o.root) + " is not a rank", help);
  std::string why;
  Topology topo;
  topo.ranks_per_pod = o.ranks_per_pod;
  if (!algorithm_supports(s.algorithm, o.collective, ranks, topo, &why)) throw UsageError(why, help);

  // Keys: spawned runs get an ephemeral cluster key through a pipe unless told otherwise.
  s.endpoint = udp_endpoint_config(transport::Profile::kWeft, s.segment + 64);
  int key_pipe[2] = {-1, -1};
  const bool any_key = !o.security.identity.empty() || !o.security.cluster_key.empty() || o.security.cluster_key_fd >= 0;
  if (spawning && !o.security.insecure && !any_key) {
    crypto::Credentials tmp;
    crypto::generate_cluster_key(tmp);
    const std::string text = crypto::cluster_key_text(tmp);
    if (::pipe(key_pipe) != 0 || ::write(key_pipe[1], text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::cerr << "weft bench: cannot hand over the ephemeral cluster key: " << std::strerror(errno) << "\n";
      return kExitFailed;
    }
    ::close(key_pipe[1]);
    o.security.cluster_key_fd = key_pipe[0];
  }
  if (!apply_security(o.security, help, /*quiet=*/rank != 0 || o.json, 0, s.endpoint, s.security)) return kExitUsage;
  if (o.label.empty()) o.label = "weft-" + o.datapath + (s.security.encrypted ? "-encrypted" : "");
  if (s.security.encrypted && rank == 0) {
    // The AEAD ceiling: the provider links would use for AES-256-GCM (else ChaCha20-Poly1305).
    const crypto::AeadProvider* prov = s.endpoint.credentials->aes256gcm != nullptr
                                           ? s.endpoint.credentials->aes256gcm
                                           : s.endpoint.credentials->chacha20poly1305;
    if (prov != nullptr) {
      const crypto::AeadSpeed sp = crypto::measure_provider(*prov, transport::max_payload_bytes(s.endpoint), 0.2);
      s.aead_gbytes_per_core = sp.min_gbytes_s();
      s.aead_name = std::string(prov->name()) + " " + std::string(crypto::suite_name(prov->suite()));
    }
    s.cores = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  }
  if (!spawning) return run_rank(o, s, *launched);
  return spawn(o, s);
}

}  // namespace

void register_bench_collectives(CLI::App& bench, Action& action) {
  static const std::array<Collective, 6> kBenched = {Collective::kAllReduce, Collective::kAllGather,
                                                      Collective::kReduceScatter, Collective::kBroadcast,
                                                      Collective::kReduce, Collective::kAllToAll};
  for (Collective c : kBenched) {
    auto o = std::make_shared<Options>();
    o->collective = c;
    const std::string name(collective_name(c));
    CLI::App* cmd = bench.add_subcommand(name, name + " over UDP: nccl-tests table, one process per rank");
    cmd->add_option("--ranks", o->ranks,
                    "spawn this many local rank processes (default 4; not with a launcher: under mpirun, torchrun "
                    "or Slurm each process is one rank)");
    cmd->add_option("--min-bytes,-b", o->min_bytes, "smallest size S (nccl-tests' S: the whole array for "
                                                    "allgather/reducescatter/alltoall); K, M, G suffixes")
        ->capture_default_str();
    cmd->add_option("--max-bytes,-e", o->max_bytes, "largest size S")->capture_default_str();
    cmd->add_option("--step-factor,-f", o->step_factor, "multiply the size by this between rows")->capture_default_str();
    cmd->add_option("--dtype,-d", o->dtype, "float double half bfloat16 int8 int16 int32 int64 uint8 .. uint64")
        ->capture_default_str();
    cmd->add_option("--op,-o", o->op, "sum prod min max avg")->capture_default_str();
    cmd->add_option("--root,-r", o->root, "root rank (broadcast, reduce)")->capture_default_str();
    cmd->add_option("--algorithm,-a", o->algorithm,
                    "auto (the cost model picks per size) or ring, rabenseifner, recursive-doubling, bruck, "
                    "double-binary-tree, hierarchical, binomial-tree, chain, pairwise")
        ->capture_default_str();
    cmd->add_option("--iters,-n", o->iters, "timed iterations per size (0: about --seconds worth, at least 5)")
        ->capture_default_str();
    cmd->add_option("--warmup,-w", o->warmup, "untimed iterations per size")->capture_default_str();
    cmd->add_option("--seconds", o->seconds, "target timed duration per size when --iters is 0")->capture_default_str();
    cmd->add_flag("--check,!--no-check", o->check, "check every element before timing (#wrong column)")
        ->capture_default_str();
    cmd->add_option("--timeout", o->timeout_s, "seconds before one operation fails (and aborts every rank)")
        ->capture_default_str();
    cmd->add_option("--segment-bytes", o->segment, "pipelining unit: large transfers are cut into these")
        ->capture_default_str();
    cmd->add_option("--ranks-per-pod", o->ranks_per_pod,
                    "topology for the hierarchical algorithm (0: the launcher's ranks per host when fewer than all)")
        ->capture_default_str();
    cmd->add_option("--loss", o->loss, "drop this fraction of every rank's sent frames (fault injection)")
        ->check([](const std::string& t) { return check_probability(t); });
    cmd->add_option("--datapath", o->datapath,
                    "udp: a UDP socket per rank (any hosts); shm: weft's shared-memory link per pair of ranks "
                    "(one host; every rank polls); memif: a DPDK memif per pair of ranks (one host; polls)")
        ->capture_default_str();
    cmd->add_flag("--busy-poll", o->busy_poll, "spin instead of sleeping while waiting (needs a core per rank)");
    cmd->add_flag("--json", o->json, "one JSON object per size on stdout instead of the table");
    cmd->add_flag("--stats", o->stats, "each rank prints its engine and transport counters on stderr at the end");
    cmd->add_option("--label", o->label, "the impl name in --json output (default weft-DATAPATH[-encrypted])");
    add_security_options(*cmd, o->security);
    cmd->footer(
        "Encryption is on by default. --ranks N generates an ephemeral cluster key and hands it to the\n"
        "rank processes over a pipe (it never touches disk or the rendezvous store); under a launcher\n"
        "give every rank the same --cluster-key FILE (weft keygen cluster --out FILE), or --insecure.\n\n"
        "Examples:\n"
        "  weft bench " + name + " --ranks 4 --min-bytes 8 --max-bytes 64M\n"
        "  weft bench " + name + " --ranks 2 --insecure --algorithm ring -b 1M -e 64M\n"
        "  weft bench " + name + " --ranks 4 --datapath shm -b 1M -e 64M    (ranks on one host, shared memory)\n"
        "  weft keygen cluster --out /tmp/c.key && mpirun --allow-run-as-root --oversubscribe -np 4 \\\n"
        "      -x WEFT_STORE=file:///tmp/weft-store weft bench " + name + " --cluster-key /tmp/c.key\n"
        "  (under mpirun on one host WEFT_STORE may be left out: a file store keyed by the job is used)\n\n"
        "Columns: size S in bytes, count per rank, type, redop, the algorithm that ran, time per\n"
        "operation (us, mean over ranks), algbw = S/time, busbw = algbw x bus factor (allreduce 2(n-1)/n;\n"
        "allgather, reducescatter, alltoall (n-1)/n; broadcast, reduce 1), #wrong elements over ranks.\n"
        "Exit status: 0 all results correct, 1 a wrong result or a failed run, 2 usage error.");
    cmd->callback([&action, o]() { action = [o]() { return run(*o); }; });
  }
}

}  // namespace weft::tools
