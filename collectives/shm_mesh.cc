// shm_mesh: one ShmDatapath per pair of ranks, joined by a PortSet (see shm_mesh.h).
#include "weft/collectives/shm_mesh.h"

#include <sched.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "weft/collectives/port_mesh.h"
#include "weft/collectives/store.h"
#include "weft/transport/shm_datapath.h"

namespace weft::collectives {
namespace {

class ShmMesh final : public PortMesh {
 public:
  ShmMesh(const ShmMeshOptions& o, const CommDatapathContext& ctx) : PortMesh("shm", ctx.rank) {
    if (ctx.size == 1) return;
    if (ctx.store == nullptr) throw std::runtime_error("shm mesh: no rendezvous store for " + std::to_string(ctx.size) + " ranks");
    if (o.pin) pin_to_cpu(ctx.rank);
    auto link_options = [&](int peer) {
      transport::ShmOptions s;
      const int low = std::min(peer, ctx.rank), high = std::max(peer, ctx.rank);
      s.name = "/weft-shm-" + ctx.job + "-" + std::to_string(low) + "-" + std::to_string(high);
      s.create = ctx.rank == low;
      s.slots = o.slots;
      s.max_frame_bytes = o.max_frame_bytes;
      s.attach_timeout = ctx.timeout;
      return s;
    };
    auto open = [&](int peer) {
      try {
        links_[static_cast<std::size_t>(peer)] = std::make_unique<transport::ShmDatapath>(link_options(peer));
      } catch (const std::exception& e) {
        throw std::runtime_error("shm mesh, rank " + std::to_string(ctx.rank) + ", link to rank " +
                                 std::to_string(peer) + ": " + e.what());
      }
    };
    links_.resize(static_cast<std::size_t>(ctx.size));
    for (int p = ctx.rank + 1; p < ctx.size; ++p) open(p);  // this rank creates the higher pairs
    ctx.store->barrier("weft/shm/created", ctx.timeout);
    for (int p = 0; p < ctx.rank; ++p) open(p);             // and attaches to the lower ones
    ctx.store->barrier("weft/shm/attached", ctx.timeout);
    for (int p = 0; p < ctx.size; ++p) {
      if (p == ctx.rank) continue;
      links_[static_cast<std::size_t>(p)]->unlink();  // everyone is attached: leave nothing behind
      add(p, *links_[static_cast<std::size_t>(p)]);
    }
    set_where("/dev/shm/weft-shm-" + ctx.job + "-* (removed once attached)");
  }

 private:
  static void pin_to_cpu(int rank) {
    const long online = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<int>(rank % online), &set);
    (void)::sched_setaffinity(0, sizeof set, &set);  // best effort: a restricted cpuset may refuse
  }

  std::vector<std::unique_ptr<transport::ShmDatapath>> links_;  // by peer rank; declared after the
                                                                // PortSet (in the base): freed first
};

}  // namespace

CommDatapathFactory shm_mesh(ShmMeshOptions options) {
  CommDatapathFactory f;
  f.name = "shm";
  f.make = [options](const CommDatapathContext& ctx) -> std::unique_ptr<CommDatapath> {
    return std::make_unique<ShmMesh>(options, ctx);
  };
  return f;
}

}  // namespace weft::collectives
