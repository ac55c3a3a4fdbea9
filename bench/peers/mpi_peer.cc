// weft_peer_mpi: Open MPI's collectives (MPI_Allreduce, MPI_Allgather, MPI_Reduce_scatter_block,
// MPI_Bcast, MPI_Alltoall) measured exactly as `weft bench allreduce` measures weft's, for
// `weft bench compare`. One rank per process, launched by mpirun; the transport is whatever
// mpirun's --mca options select (shared memory by default on one host, or the TCP BTL).
//
// The library chooses its own algorithm per call (coll/tuned's decision rules): the table says
// "ompi-tuned", or "ompi-tuned/alg=N" when mpirun forced one with
// --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_<collective>_algorithm N.
// Everything but the MPI calls is in peer_common.{h,cc}.
#include <mpi.h>

#include <malloc.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "bench/peers/peer_common.h"

namespace {

using namespace weft::bench::peers;

constexpr const char* kProgram = "weft_peer_mpi";

constexpr const char* kFooter =
    R"(Ranks are processes started by mpirun. As root, mpirun also needs --allow-run-as-root; more
ranks than cores need --oversubscribe.

Examples:
  # shared memory (Open MPI's default between ranks on one host: BTL vader)
  mpirun -np 4 weft_peer_mpi allreduce --min-bytes 8 --max-bytes 64M
  # TCP over loopback
  mpirun -np 4 --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo \
      weft_peer_mpi allreduce --max-bytes 64M
  # one JSON line per size, for weft bench compare
  mpirun -np 2 --mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo \
      weft_peer_mpi allgather --json --label openmpi-tcp
  # a forced algorithm instead of coll/tuned's choice (4 = ring allreduce)
  mpirun -np 4 --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4 \
      weft_peer_mpi allreduce

Not available in MPI: --dtype half and bfloat16 (no MPI datatype), --op avg (no MPI_AVG).
Exit status: 0 every size ran and was right, 1 an element was wrong or a run failed, 2 usage error.)";

std::optional<MPI_Datatype> mpi_type(DataType t) {
  switch (t) {
    case DataType::kF32:
      return MPI_FLOAT;
    case DataType::kF64:
      return MPI_DOUBLE;
    case DataType::kI8:
      return MPI_INT8_T;
    case DataType::kI16:
      return MPI_INT16_T;
    case DataType::kI32:
      return MPI_INT32_T;
    case DataType::kI64:
      return MPI_INT64_T;
    case DataType::kU8:
      return MPI_UINT8_T;
    case DataType::kU16:
      return MPI_UINT16_T;
    case DataType::kU32:
      return MPI_UINT32_T;
    case DataType::kU64:
      return MPI_UINT64_T;
    case DataType::kF16:
    case DataType::kBF16:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<MPI_Op> mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kProd:
      return MPI_PROD;
    case ReduceOp::kMin:
      return MPI_MIN;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kAvg:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> unsupported(const Options& o) {
  if (!mpi_type(o.dtype)) {
    return "--dtype " + std::string(weft::collectives::dtype_name(o.dtype)) +
           ": MPI has no such datatype (use float, double, or an integer type)";
  }
  if (collective_reduces(o.collective) && !mpi_op(o.op)) {
    return "--op avg: MPI has no MPI_AVG (use sum and divide, or sum prod min max)";
  }
  return std::nullopt;
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The mpirun options that pick the transport, as the header prints them.
std::string transport_text() {
  return "pml=" + env_or("OMPI_MCA_pml", "default") + " btl=" + env_or("OMPI_MCA_btl", "default");
}

// openmpi-tcp for --mca btl tcp,self; openmpi-shm for the default with every rank on this host.
std::string default_label(int ranks) {
  const std::string pml = env_or("OMPI_MCA_pml", "");
  if (pml == "ucx") return "openmpi-ucx";
  const std::string btl = env_or("OMPI_MCA_btl", "");
  if (btl.empty()) {
    return weft::bench::peers::env_long("OMPI_COMM_WORLD_LOCAL_SIZE") == ranks ? "openmpi-shm" : "openmpi";
  }
  if (btl.starts_with("^")) return "openmpi";
  std::string label = "openmpi";
  std::size_t start = 0;
  while (start <= btl.size()) {
    const std::size_t comma = std::min(btl.find(',', start), btl.size());
    const std::string name = btl.substr(start, comma - start);
    if (!name.empty() && name != "self") label += (label == "openmpi" ? "-" : "+") + name;
    start = comma + 1;
  }
  return label;
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  std::string s(text, static_cast<std::size_t>(length));
  if (const std::size_t nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw std::runtime_error(std::string(call) + ": " + std::string(text, static_cast<std::size_t>(length)));
}

int as_mpi_count(std::uint64_t count) {
  if (count > static_cast<std::uint64_t>(INT_MAX)) {
    throw std::runtime_error(std::to_string(count) + " elements exceed MPI's int count");
  }
  return static_cast<int>(count);
}

class MpiPeer final : public Peer {
 public:
  MpiPeer() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
    // Errors come back as codes (turned into exceptions by check()), not as an abort inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }

  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  void sum_over_ranks(std::vector<double>& values) override {
    check(MPI_Allreduce(MPI_IN_PLACE, values.data(), as_mpi_count(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce (control)");
  }

  std::uint64_t from_rank0(std::uint64_t value) override {
    check(MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast (control)");
    return value;
  }

  Prepared prepare(const Options& o, const SizeLayout& l, void* send, void* recv) override {
    collective_ = o.collective;
    type_ = *mpi_type(o.dtype);
    op_ = collective_reduces(o.collective) ? *mpi_op(o.op) : MPI_OP_NULL;
    count_ = as_mpi_count(l.count);
    as_mpi_count(l.send_count);
    as_mpi_count(l.recv_count);
    send_ = send;
    recv_ = recv;
    if (o.collective == Collective::kBroadcast && rank_ == 0) {
      // MPI_Bcast is in place: the root's buffer is the input.
      std::memcpy(recv, send, l.recv_count * weft::collectives::dtype_size(o.dtype));
    }
    return {algorithm_name(o.collective), recv};
  }

  void run() override {
    switch (collective_) {
      case Collective::kAllreduce:
        check(MPI_Allreduce(send_, recv_, count_, type_, op_, MPI_COMM_WORLD), "MPI_Allreduce");
        return;
      case Collective::kAllgather:
        check(MPI_Allgather(send_, count_, type_, recv_, count_, type_, MPI_COMM_WORLD), "MPI_Allgather");
        return;
      case Collective::kReduceScatter:
        check(MPI_Reduce_scatter_block(send_, recv_, count_, type_, op_, MPI_COMM_WORLD), "MPI_Reduce_scatter_block");
        return;
      case Collective::kBroadcast:
        check(MPI_Bcast(recv_, count_, type_, 0, MPI_COMM_WORLD), "MPI_Bcast");
        return;
      case Collective::kAlltoall:
        check(MPI_Alltoall(send_, count_, type_, recv_, count_, type_, MPI_COMM_WORLD), "MPI_Alltoall");
        return;
    }
    throw std::logic_error("MpiPeer::run: no collective prepared");
  }

  [[noreturn]] void abort_all() override {
    MPI_Abort(MPI_COMM_WORLD, kExitFailed);
    std::_Exit(kExitFailed);
  }

 private:
  // "ompi-tuned", with the algorithm number when mpirun forced one.
  static std::string algorithm_name(Collective c) {
    const char* name = "allreduce";
    switch (c) {
      case Collective::kAllreduce:
        name = "allreduce";
        break;
      case Collective::kAllgather:
        name = "allgather";
        break;
      case Collective::kReduceScatter:
        name = "reduce_scatter_block";
        break;
      case Collective::kBroadcast:
        name = "bcast";
        break;
      case Collective::kAlltoall:
        name = "alltoall";
        break;
    }
    const std::string forced = env_or(("OMPI_MCA_coll_tuned_" + std::string(name) + "_algorithm").c_str(), "0");
    const bool dynamic = env_or("OMPI_MCA_coll_tuned_use_dynamic_rules", "0") != "0";
    return dynamic && forced != "0" ? "ompi-tuned/alg=" + forced : "ompi-tuned";
  }

  int rank_ = 0;
  int ranks_ = 1;
  Collective collective_ = Collective::kAllreduce;
  MPI_Datatype type_ = MPI_DATATYPE_NULL;
  MPI_Op op_ = MPI_OP_NULL;
  int count_ = 0;
  void* send_ = nullptr;
  void* recv_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  // The same allocator settings as the weft program (tools/weft/main.cc), so that the three
  // compared processes differ only in their library: freed large blocks stay in the heap
  // instead of being unmapped and faulted in again on the next call.
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);

  // Parsed before MPI_Init (which a usage error never reaches); only rank 0 prints messages.
  const bool speak = weft::bench::peers::env_long("OMPI_COMM_WORLD_RANK").value_or(0) == 0;
  ProgramInfo info;
  info.program = kProgram;
  info.summary = "weft_peer_mpi: Open MPI's collectives measured like `weft bench allreduce` (nccl-tests "
                 "conventions)";
  info.footer = kFooter;
  info.unsupported = unsupported;
  Options options;
  if (const std::optional<int> rc = parse_command_line(argc, argv, info, speak, options)) return *rc;

  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    std::fprintf(stderr, "%s: MPI_Init failed (run it under mpirun)\n", kProgram);
    return kExitFailed;
  }
  int rc = kExitFailed;
  {
    MpiPeer peer;
    RunInfo run;
    run.program = kProgram;
    run.impl = options.label.empty() ? default_label(peer.ranks()) : options.label;
    run.transport = transport_text();
    run.library = library_version();
    rc = run_sweep(peer, options, run);
  }
  MPI_Finalize();
  return rc;
}
