// weft_peer_gloo: Gloo's collectives over its TCP transport, measured exactly as
// `weft bench allreduce` measures weft's, for `weft bench compare`.
//
// mpirun only launches the processes: rank and size come from OMPI_COMM_WORLD_RANK/_SIZE, the
// ranks meet through a gloo::rendezvous::FileStore in --store-dir (keys prefixed with mpirun's
// job id, so a directory can be reused), and everything after that is Gloo's own TCP
// (gloo::transport::tcp, one socket per pair, an epoll thread per process). MPI is not linked.
//
// Algorithms, as the Debian 2022 snapshot (libgloo-dev 0.0~git20220518) implements them:
//   allreduce      gloo::allreduce (new-style options), ring: reduce-scatter then allgather in
//                  segments of up to 1 MiB, two in flight
//   allgather      gloo::allgather, ring, each block in two halves
//   reducescatter  no new-style reduce-scatter in this snapshot: the old-style
//                  gloo::ReduceScatterHalvingDoubling<T> (recursive halving, then a bit-reversal
//                  redistribution); in place, so the timed runs reduce the previous run's output
//   broadcast      gloo::broadcast, binomial tree from rank 0
//   alltoall       gloo::alltoall, every send and receive posted at once (pairwise)
// Reductions are gloo::sum/product/min/max<T> (gloo/math.h), as torch.distributed's gloo backend
// uses them; half is gloo::float16 (through float). Gloo has no bfloat16 and no avg.
#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/alltoall.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/config.h>
#include <gloo/math.h>
#include <gloo/reduce_scatter.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/types.h>

#include <CLI/CLI.hpp>

#include <malloc.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "bench/peers/peer_common.h"

#ifndef WEFT_GLOO_PACKAGE
#define WEFT_GLOO_PACKAGE "unknown package"
#endif

namespace {

using namespace weft::bench::peers;

constexpr const char* kProgram = "weft_peer_gloo";

// Longest a single collective (or the rendezvous) may take before Gloo gives up with an
// IoException: oversubscribed ranks moving hundreds of MiB over loopback take seconds.
constexpr std::chrono::seconds kTimeout{120};

// Tags keep the benchmark's operations apart from the control ones (barrier, sums, the iteration
// count), although they never overlap.
constexpr std::uint32_t kBenchTag = 1;
constexpr std::uint32_t kControlTag = 2;

constexpr const char* kFooter = R"(Ranks are processes started by mpirun (as a launcher only: rank and size come from
OMPI_COMM_WORLD_RANK/_SIZE; Gloo does not use MPI). They meet in --store-dir, a directory all of
them can read and write (created if missing). As root, mpirun also needs --allow-run-as-root;
more ranks than cores need --oversubscribe.

Examples:
  # Gloo's TCP transport over loopback (its only transport here)
  d=$(mktemp -d); mpirun -np 4 weft_peer_gloo allreduce --store-dir $d --max-bytes 64M; rm -rf $d
  # one JSON line per size, for weft bench compare
  d=$(mktemp -d); mpirun -np 2 weft_peer_gloo allgather --store-dir $d --json; rm -rf $d
  # between hosts: a shared directory, and each rank's own address
  mpirun -np 8 --host a,b weft_peer_gloo allreduce --store-dir /shared/gloo --hostname $(hostname -i)

Algorithms: allreduce ring, allgather ring, reducescatter halving-doubling (old-style API: this
Gloo has no new-style reduce-scatter), broadcast binomial-tree, alltoall pairwise.
Not available in Gloo: --dtype bfloat16 (no such type in this Gloo), --op avg.
Exit status: 0 every size ran and was right, 1 an element was wrong or a run failed, 2 usage error.)";

std::optional<std::string> unsupported(const Options& o) {
  if (o.dtype == DataType::kBF16) {
    return "--dtype bfloat16: this Gloo (libgloo-dev 2022) has no bfloat16 type (use float, double, half, or an "
           "integer type)";
  }
  if (collective_reduces(o.collective) && o.op == ReduceOp::kAvg) {
    return "--op avg: Gloo has no avg reduction (use sum prod min max)";
  }
  return std::nullopt;
}

using ReduceFn = void (*)(void*, const void*, const void*, std::size_t);

template <class T>
ReduceFn reduce_fn(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return &gloo::sum<T>;
    case ReduceOp::kProd:
      return &gloo::product<T>;
    case ReduceOp::kMin:
      return &gloo::min<T>;
    case ReduceOp::kMax:
      return &gloo::max<T>;
    case ReduceOp::kAvg:
      break;
  }
  throw std::logic_error("gloo peer: op has no Gloo reduction");
}

template <class T>
const gloo::ReductionFunction<T>* reduction_function(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return gloo::ReductionFunction<T>::sum;
    case ReduceOp::kProd:
      return gloo::ReductionFunction<T>::product;
    case ReduceOp::kMin:
      return gloo::ReductionFunction<T>::min;
    case ReduceOp::kMax:
      return gloo::ReductionFunction<T>::max;
    case ReduceOp::kAvg:
      break;
  }
  throw std::logic_error("gloo peer: op has no Gloo reduction");
}

// Calls f(T{}) with T the C++ type Gloo uses for `dtype`.
template <class F>
decltype(auto) with_type(DataType dtype, F&& f) {
  switch (dtype) {
    case DataType::kF32:
      return f(float{});
    case DataType::kF64:
      return f(double{});
    case DataType::kF16:
      return f(gloo::float16{});
    case DataType::kI8:
      return f(std::int8_t{});
    case DataType::kI16:
      return f(std::int16_t{});
    case DataType::kI32:
      return f(std::int32_t{});
    case DataType::kI64:
      return f(std::int64_t{});
    case DataType::kU8:
      return f(std::uint8_t{});
    case DataType::kU16:
      return f(std::uint16_t{});
    case DataType::kU32:
      return f(std::uint32_t{});
    case DataType::kU64:
      return f(std::uint64_t{});
    case DataType::kBF16:
      break;
  }
  throw std::logic_error("gloo peer: dtype has no Gloo type");
}

std::size_t checked_size(std::uint64_t count) {
  if (count > static_cast<std::uint64_t>(INT_MAX)) {
    throw std::runtime_error(std::to_string(count) + " elements exceed Gloo's int counts");
  }
  return static_cast<std::size_t>(count);
}

class GlooPeer final : public Peer {
 public:
  GlooPeer(int rank, int ranks, const std::string& store_dir, const std::string& prefix, const std::string& hostname) {
    gloo::transport::tcp::attr attr;
    attr.hostname = hostname;
    std::shared_ptr<gloo::transport::Device> device = gloo::transport::tcp::CreateDevice(attr);
    gloo::rendezvous::FileStore file_store(store_dir);
    gloo::rendezvous::PrefixStore store(prefix, file_store);
    context_ = std::make_shared<gloo::rendezvous::Context>(rank, ranks);
    context_->setTimeout(kTimeout);
    context_->connectFullMesh(store, device);
  }

  int rank() const override { return context_->rank; }
  int ranks() const override { return context_->size; }

  void barrier() override {
    gloo::BarrierOptions opts(context_);
    opts.setTag(kControlTag);
    gloo::barrier(opts);
  }

  void sum_over_ranks(std::vector<double>& values) override {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(values.data(), values.size());
    opts.setReduceFunction(ReduceFn{&gloo::sum<double>});
    opts.setTag(kControlTag);
    gloo::allreduce(opts);
  }

  std::uint64_t from_rank0(std::uint64_t value) override {
    gloo::BroadcastOptions opts(context_);
    opts.setOutput(&value, 1);
    opts.setRoot(0);
    opts.setTag(kControlTag);
    gloo::broadcast(opts);
    return value;
  }

  Prepared prepare(const Options& o, const SizeLayout& l, void* send, void* recv) override {
    return with_type(o.dtype, [&](auto zero) { return prepare_typed<decltype(zero)>(o, l, send, recv); });
  }

  void run() override { run_(); }

  [[noreturn]] void abort_all() override {
    // The other ranks see the sockets close and fail their own pending operations.
    std::fflush(nullptr);
    std::_Exit(kExitFailed);
  }

 private:
  template <class T>
  Prepared prepare_typed(const Options& o, const SizeLayout& l, void* send_bytes, void* recv_bytes) {
    T* send = static_cast<T*>(send_bytes);
    T* recv = static_cast<T*>(recv_bytes);
    const std::size_t count = checked_size(l.count);
    const std::size_t send_count = checked_size(l.send_count);
    const std::size_t recv_count = checked_size(l.recv_count);
    switch (o.collective) {
      case Collective::kAllreduce: {
        auto opts = std::make_shared<gloo::AllreduceOptions>(context_);
        opts->setInput(send, send_count);
        opts->setOutput(recv, recv_count);
        opts->setReduceFunction(reduce_fn<T>(o.op));
        opts->setTag(kBenchTag);
        run_ = [opts] { gloo::allreduce(*opts); };
        return {"ring", recv};
      }
      case Collective::kAllgather: {
        auto opts = std::make_shared<gloo::AllgatherOptions>(context_);
        opts->setInput(send, send_count);
        opts->setOutput(recv, recv_count);
        opts->setTag(kBenchTag);
        run_ = [opts] { gloo::allgather(*opts); };
        return {"ring", recv};
      }
      case Collective::kReduceScatter: {
        // In place on `send`: afterwards this rank's block is at its start.
        checked_size(send_count * sizeof(T));  // the algorithm keeps the byte count in an int
        auto algorithm = std::make_shared<gloo::ReduceScatterHalvingDoubling<T>>(
            context_, std::vector<T*>{send}, static_cast<int>(send_count),
            std::vector<int>(static_cast<std::size_t>(context_->size), static_cast<int>(count)),
            reduction_function<T>(o.op));
        run_ = [algorithm] { algorithm->run(); };
        return {"halving-doubling", send};
      }
      case Collective::kBroadcast: {
        auto opts = std::make_shared<gloo::BroadcastOptions>(context_);
        if (context_->rank == 0) opts->setInput(send, send_count);
        opts->setOutput(recv, recv_count);
        opts->setRoot(0);
        opts->setTag(kBenchTag);
        run_ = [opts] { gloo::broadcast(*opts); };
        return {"binomial-tree", recv};
      }
      case Collective::kAlltoall: {
        auto opts = std::make_shared<gloo::AlltoallOptions>(context_);
        opts->setInput(send, send_count);
        opts->setOutput(recv, recv_count);
        opts->setTag(kBenchTag);
        run_ = [opts] { gloo::alltoall(*opts); };
        return {"pairwise", recv};
      }
    }
    throw std::logic_error("gloo peer: invalid collective");
  }

  std::shared_ptr<gloo::rendezvous::Context> context_;
  std::function<void()> run_ = [] { throw std::logic_error("gloo peer: no collective prepared"); };
};

}  // namespace

int main(int argc, char** argv) {
  // The same allocator settings as the weft program (tools/weft/main.cc); see mpi_peer.cc.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  const std::optional<long> env_rank = env_long("OMPI_COMM_WORLD_RANK");
  const std::optional<long> env_size = env_long("OMPI_COMM_WORLD_SIZE");
  const bool speak = env_rank.value_or(0) == 0;

  std::string store_dir;
  std::string hostname = "127.0.0.1";
  ProgramInfo info;
  info.program = kProgram;
  info.summary = "weft_peer_gloo: Gloo's collectives (TCP transport) measured like `weft bench allreduce` "
                 "(nccl-tests conventions)";
  info.footer = kFooter;
  info.unsupported = unsupported;
  info.add_options = [&](CLI::App& app) {
    app.add_option("--store-dir", store_dir, "rendezvous directory shared by all ranks (gloo FileStore); required")
        ->required();
    app.add_option("--hostname", hostname, "address this rank listens on (gloo tcp attr.hostname)")
        ->capture_default_str();
  };
  Options options;
  if (const std::optional<int> rc = parse_command_line(argc, argv, info, speak, options)) return *rc;

  if (env_rank.has_value() != env_size.has_value() ||
      (env_rank && (*env_size < 1 || *env_rank < 0 || *env_rank >= *env_size || *env_size > INT_MAX))) {
    return usage_error(info, speak,
                       "OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE must both be set, 0 <= rank < size (run it "
                       "under mpirun), or both unset for a single rank");
  }
  const int rank = static_cast<int>(env_rank.value_or(0));
  const int ranks = static_cast<int>(env_size.value_or(1));
  if (::mkdir(store_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "%s: rank %d: cannot create --store-dir '%s': %s\n", kProgram, rank, store_dir.c_str(),
                 std::strerror(errno));
    return kExitFailed;
  }
  // mpirun's job id: a fresh key namespace per run, so stale addresses in a reused directory
  // never match.
  const char* job = std::getenv("OMPI_MCA_ess_base_jobid");
  const std::string prefix = std::string("weft_peer_gloo/") + (job != nullptr ? job : "single");

  std::unique_ptr<GlooPeer> peer;
  try {
    peer = std::make_unique<GlooPeer>(rank, ranks, store_dir, prefix, hostname);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: rank %d of %d: Gloo rendezvous failed (--store-dir %s, --hostname %s): %s\n", kProgram,
                 rank, ranks, store_dir.c_str(), hostname.c_str(), e.what());
    return kExitFailed;
  }
  RunInfo run;
  run.program = kProgram;
  run.impl = options.label.empty() ? "gloo-tcp" : options.label;
  run.transport = "gloo tcp " + hostname + ", FileStore rendezvous";
  run.library = "gloo " + std::to_string(GLOO_VERSION_MAJOR) + "." + std::to_string(GLOO_VERSION_MINOR) + "." +
                std::to_string(GLOO_VERSION_PATCH) + " (" + WEFT_GLOO_PACKAGE + ")";
  const int rc = run_sweep(*peer, options, run);
  try {
    peer->barrier();  // nobody closes its sockets while another rank still reads from them
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: rank %d: final barrier failed: %s\n", kProgram, rank, e.what());
    return kExitFailed;
  }
  return rc;
}
