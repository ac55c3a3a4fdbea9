// mpi_allreduce: an encrypted all-reduce across ranks started by mpirun (or torchrun, srun, or
// WEFT_RANK/WEFT_WORLD_SIZE/WEFT_STORE set by hand).
//
//   weft keygen cluster --out /tmp/cluster.key
//   mpirun --allow-run-as-root --oversubscribe -np 4 build/default/examples/mpi_allreduce
//       --cluster-key /tmp/cluster.key        (one command line)
//   ... the same with --datapath shm: the ranks talk through shared-memory links (one per pair
//       of ranks) instead of UDP sockets; --datapath memif: through DPDK memif interfaces
//
// What to notice:
//  - mpirun is only the launcher: weft reads the rank and size Open MPI put in the environment
//    (OMPI_COMM_WORLD_RANK/SIZE) and, with every rank on one host and no WEFT_STORE, meets the
//    other ranks through a file store named by the job. Across hosts, set WEFT_STORE.
//  - Every rank loads the same cluster key; the store only carries addresses. Links are
//    authenticated with the key and every frame is sealed (AES-256-GCM where the CPU has it).
//  - all_reduce() returns a Request at once; wait() drives the transport until it completes, and
//    throws CollectiveError naming the rank, the peer and the cause if it cannot (a dead rank, a
//    timeout, an abort on another rank, ranks calling different collectives).
//  - The result is checked on every rank: each element of the sum is known in advance.
//  - The datapath is one line of CommOptions: UDP by default, shm_mesh() for shared memory,
//    memif_mesh() for DPDK memif (libweft-dpdk); the last two need the ranks on one host.
//    Nothing else in the program changes.
//
// Exit status: 0 when every rank got the right sums and averages, 1 otherwise, 2 usage error.

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "weft/collectives/communicator.h"
#include "weft/collectives/shm_mesh.h"
#include "weft/crypto/credentials.h"
#ifdef WEFT_HAVE_DPDK
#include "weft/collectives/memif_mesh.h"
#endif

using namespace weft::collectives;  // a short program; real code would name what it uses

int main(int argc, char** argv) {
  std::string key_file, datapath = "udp";
  std::size_t count = 1 << 20;  // 4 MiB of float
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cluster-key") == 0 && i + 1 < argc) {
      key_file = argv[++i];
    } else if (std::strcmp(argv[i], "--datapath") == 0 && i + 1 < argc) {
      datapath = argv[++i];
    } else if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      count = std::stoul(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: mpirun -np N %s --cluster-key FILE [--datapath udp|shm|memif] [--count ELEMENTS]\n",
                   argv[0]);
      return 2;
    }
  }
  if (datapath != "udp" && datapath != "shm" && datapath != "memif") {
    std::fprintf(stderr, "mpi_allreduce: --datapath '%s' is not udp, shm or memif\n", datapath.c_str());
    return 2;
  }
  if (key_file.empty()) {
    std::fprintf(stderr, "mpi_allreduce: --cluster-key FILE is required (make one with: weft keygen cluster --out FILE)\n");
    return 2;
  }
  try {
    CommOptions options = CommOptions::from_environment();
    auto credentials = std::make_shared<weft::crypto::Credentials>();
    weft::crypto::load_cluster_key(key_file, *credentials);
    options.endpoint.credentials = credentials;
    if (datapath == "shm") options.datapath = shm_mesh();
    if (datapath == "memif") {
#ifdef WEFT_HAVE_DPDK
      options.datapath = memif_mesh();
#else
      std::fprintf(stderr, "mpi_allreduce: --datapath memif needs a weft built with DPDK (WEFT_DPDK=ON)\n");
      return 2;
#endif
    }
    std::unique_ptr<Communicator> comm = Communicator::create(options);
    const int rank = comm->rank(), size = comm->size();

    // A "gradient": element i of rank r is r + 1 + i % 7, so the sum is known everywhere.
    std::vector<float> grad(count), sum(count), avg(count);
    for (std::size_t i = 0; i < count; ++i) grad[i] = static_cast<float>(rank + 1 + static_cast<int>(i % 7));

    const auto t0 = std::chrono::steady_clock::now();
    Request r1 = comm->all_reduce(grad.data(), sum.data(), count, DataType::kF32, ReduceOp::kSum);
    Request r2 = comm->all_reduce(grad.data(), avg.data(), count, DataType::kF32, ReduceOp::kAvg);  // in flight together
    const Algorithm a1 = comm->wait(r1);
    const Algorithm a2 = comm->wait(r2);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const float base = static_cast<float>(size * (size + 1) / 2 + size * static_cast<int>(i % 7));
      if (sum[i] != base) ++wrong;
      if (avg[i] != base / static_cast<float>(size)) ++wrong;
    }
    // Everyone learns how many elements were wrong anywhere.
    unsigned long long mine = wrong, total = 0;
    Request r3 = comm->all_reduce(&mine, &total, 1, DataType::kU64, ReduceOp::kSum);
    comm->wait(r3);
    std::printf("rank %d of %d: %s; sum (%s) and avg (%s) of %zu floats in %.1f ms, %zu wrong here\n", rank, size,
                comm->describe().c_str(), std::string(algorithm_name(a1)).c_str(),
                std::string(algorithm_name(a2)).c_str(), count, ms, wrong);
    comm->finish();
    if (rank == 0) {
      std::printf("mpi_allreduce: %d ranks, %s, %llu wrong elements in total\n", size,
                  comm->encrypted() ? "encrypted" : "PLAINTEXT", total);
    }
    return total == 0 && comm->encrypted() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_allreduce: %s\n", e.what());
    return 1;
  }
}
