// What the comparison peers share: the command line, the sizes, the inputs and their expected
// results, the measurement loop and the output. Each peer (mpi_peer.cc, gloo_peer.cc) supplies
// only a Peer: its library's collectives and three small control operations.
//
// The command line and the measurement are those of `weft bench allreduce`, so that
// `weft bench compare` can run weft, Open MPI and Gloo interleaved and print them side by side.
// Conventions are nccl-tests' (shared/research/collectives-anchors.md §1):
//   S (bytes)      allreduce, broadcast: the buffer; allgather, reducescatter: the whole array
//                  (n ranks x per-rank block); alltoall: each rank's whole send buffer.
//   count          allreduce, broadcast: elements of the buffer; allgather, reducescatter,
//                  alltoall: elements of one rank's block (S / sizeof(T) / n, rounded down; a
//                  size that leaves no element per rank is skipped).
//   time           elapsed / iters on each rank, averaged over ranks (nccl-tests' -a 1).
//   algbw          S / time, GB/s with 1e9.
//   busbw          algbw x F: allreduce 2(n-1)/n; allgather, reducescatter, alltoall (n-1)/n;
//                  broadcast 1.
//   #wrong         elements that differ (exactly, 0 ULP) from the result computed locally,
//                  summed over ranks.
// Per size: buffers are allocated and filled once; one checked run; --warmup runs; then --iters
// timed runs back to back after one barrier (auto: rank 0 sizes them to about --seconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/collectives/types.h"

namespace CLI {
class App;
}

namespace weft::bench::peers {

using collectives::DataType;
using collectives::ReduceOp;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // a wrong element, or a run failed
inline constexpr int kExitUsage = 2;   // bad command line, or a dtype/op the library lacks

enum class Collective : std::uint8_t { kAllreduce, kAllgather, kReduceScatter, kBroadcast, kAlltoall };

// allreduce allgather reducescatter broadcast alltoall.
std::string_view collective_name(Collective c);
std::optional<Collective> parse_collective(std::string_view s);
// True for allreduce and reducescatter (the collectives that apply --op).
bool collective_reduces(Collective c);
// nccl-tests' bus-bandwidth factor F for n ranks (see above).
double busbw_factor(Collective c, int ranks);

struct Options {
  Collective collective = Collective::kAllreduce;
  std::uint64_t min_bytes = 8;           // first S, bytes
  std::uint64_t max_bytes = 256u << 20;  // last S, bytes (inclusive)
  std::uint64_t step_factor = 2;         // S *= step_factor between sizes
  DataType dtype = DataType::kF32;
  ReduceOp op = ReduceOp::kSum;
  std::uint64_t iters = 0;  // timed runs per size; 0: auto (about `seconds`, at least kMinAutoIters)
  double seconds = 0.2;     // auto iters: target timed duration per size, seconds
  std::uint64_t warmup = 2; // untimed runs per size, after the check
  bool json = false;        // one JSON object per size and line instead of the table
  std::string label;        // "impl" column; empty: the peer's default
  bool check = true;        // run and compare once per size before timing
};

inline constexpr std::uint64_t kMinAutoIters = 5;

// Buffers of one size, in elements of the dtype (nccl-tests' conventions, see above).
struct SizeLayout {
  std::uint64_t bytes = 0;       // S: what algbw divides
  std::uint64_t count = 0;       // the "count" column
  std::uint64_t send_count = 0;  // elements of the send buffer
  std::uint64_t recv_count = 0;  // elements of the receive buffer
};

// nullopt when `requested_bytes` leaves no element (per rank, for the block collectives).
std::optional<SizeLayout> layout_for(Collective c, std::uint64_t requested_bytes, std::size_t element_bytes,
                                     int ranks);

// min_bytes, min_bytes * step_factor, ... up to max_bytes.
std::vector<std::uint64_t> size_sweep(const Options& o);

// Parses "8", "64K", "256M", "1G" (K, M, G = powers of 1024, either case). nullopt if malformed
// or above 2^40.
std::optional<std::uint64_t> parse_bytes(std::string_view s);

// One prepared collective: where its result lands and what the library calls its algorithm.
struct Prepared {
  std::string algorithm;           // table column, e.g. "ompi-tuned", "ring"
  const void* result = nullptr;    // the buffer the check reads (recv, or send for in-place ones)
};

// A library's side of the benchmark. One object per process; every call is collective (all ranks
// make it, in the same order) unless it says otherwise. Failures throw std::runtime_error with
// the library's own message.
class Peer {
 public:
  virtual ~Peer() = default;
  virtual int rank() const = 0;
  virtual int ranks() const = 0;
  virtual void barrier() = 0;
  // Element-wise sum over ranks, in place; every rank receives the result.
  virtual void sum_over_ranks(std::vector<double>& values) = 0;
  // Rank 0's `value`, returned on every rank.
  virtual std::uint64_t from_rank0(std::uint64_t value) = 0;
  // Sets up options.collective on buffers of `layout` (send holds send_count elements, recv
  // recv_count; the inputs are already in place). Called once per size, outside timing.
  virtual Prepared prepare(const Options& options, const SizeLayout& layout, void* send, void* recv) = 0;
  // Runs the prepared collective once.
  virtual void run() = 0;
  // Ends every rank's process after a failed run (the others may be blocked in the library).
  [[noreturn]] virtual void abort_all() = 0;
};

// What differs between the peer programs on the command line and in the header.
struct ProgramInfo {
  std::string program;        // "weft_peer_mpi"
  std::string summary;        // first line of --help
  std::string footer;         // --help's end: examples of mpirun lines
  // Adds library-specific options (may be empty).
  std::function<void(CLI::App&)> add_options;
  // After parsing: a message if the library cannot do options' dtype/op/collective, else nullopt.
  std::function<std::optional<std::string>(const Options&)> unsupported;
};

// Parses argv into `out`. Returns nullopt to go on, or the exit status to end with (0 after
// --help). Messages go to stderr (help to stdout) only when `speak` (rank 0), so that a bad
// argument under mpirun -np 4 prints once.
std::optional<int> parse_command_line(int argc, char** argv, const ProgramInfo& info, bool speak, Options& out);

// Prints a usage error the way parse_command_line does and returns kExitUsage.
int usage_error(const ProgramInfo& info, bool speak, const std::string& message);

// What the table's header says about the run.
struct RunInfo {
  std::string program;    // "weft_peer_mpi"
  std::string impl;       // the label
  std::string transport;  // e.g. "btl=tcp,self pml=ob1" or "tcp 127.0.0.1"
  std::string library;    // e.g. MPI_Get_library_version's first line
};

// The sweep: for every size, check, warm up, time, print (rank 0). Returns kExitOk, or
// kExitFailed if any element was wrong. A run that throws is reported on stderr naming the size
// and the cause, then peer.abort_all().
int run_sweep(Peer& peer, const Options& options, const RunInfo& info);

// Reads an integer environment variable; nullopt when unset or not a whole number.
std::optional<long> env_long(const char* name);

}  // namespace weft::bench::peers
