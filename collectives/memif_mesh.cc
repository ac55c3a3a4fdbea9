// memif_mesh: one DPDK memif per pair of ranks, joined by a PortSet (see memif_mesh.h).
#include "weft/collectives/memif_mesh.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "weft/collectives/port_mesh.h"
#include "weft/collectives/store.h"
#include "weft/transport/dpdk_datapath.h"

namespace weft::collectives {
namespace {

// DPDK's EAL comes up once per process: so does a mesh.
std::atomic<bool> g_mesh_made{false};

std::string rank_text(int r) { return "rank " + std::to_string(r); }

class MemifMesh final : public PortMesh {
 public:
  MemifMesh(const MemifMeshOptions& o, const CommDatapathContext& ctx)
      : PortMesh("memif", ctx.rank) {
    if (ctx.size == 1) return;  // no peers, no ports: the EAL is not needed
    try {
      build(o, ctx);
    } catch (...) {
      park_ports();
      remove_socket_files();
      throw;
    }
  }

  void build(const MemifMeshOptions& o, const CommDatapathContext& ctx) {
    if (ctx.store == nullptr) throw std::runtime_error("memif mesh: no rendezvous store for " + std::to_string(ctx.size) + " ranks");
    if (g_mesh_made.exchange(true) || transport::dpdk_eal_up()) {
      throw std::runtime_error(
          "memif mesh: this process has already brought DPDK's EAL up, and DPDK cannot bring it up twice; "
          "run one memif Communicator per process (or use the UDP datapath)");
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(o.socket_dir, ec) || ::access(o.socket_dir.c_str(), W_OK) != 0) {
      throw std::runtime_error("memif mesh: the socket directory '" + o.socket_dir +
                               "' does not exist or is not writable");
    }
    // One vdev per peer, in peer order; the lower rank of each pair serves the socket.
    std::vector<std::string> eal = {"--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
                                    "--log-level=lib.eal:warning", "--log-level=pmd.net.memif:error"};
    const long online = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    // One lcore, on CPU rank % CPUs unless told otherwise: polling ranks that share a CPU take
    // turns by yielding, and measured steadier than ranks left to wander (4 ranks on 2 CPUs,
    // encrypted: 0.63-0.66 of the AEAD ceiling pinned, 0.53-0.65 not).
    const std::string cpus = o.cpus.empty() ? std::to_string(rank() % online) : o.cpus;
    eal.push_back("--lcores=0@(" + cpus + ")");
    const std::size_t per_port_mb = (static_cast<std::size_t>(o.pool_mbufs_per_port) * 10816 >> 20) + 8;
    const std::size_t memory_mb = o.eal_memory_mb != 0 ? o.eal_memory_mb : 128 + per_port_mb * static_cast<std::size_t>(ctx.size - 1);
    eal.insert(eal.end(), {"-m", std::to_string(memory_mb)});
    for (int p = 0; p < ctx.size; ++p) {
      if (p == rank()) continue;
      const int low = std::min(p, rank()), high = std::max(p, rank());
      const std::string socket = o.socket_dir + "/weft-memif-" + ctx.job + "-" + std::to_string(low) + "-" +
                                 std::to_string(high) + ".sock";
      if (rank() == low) {
        (void)std::filesystem::remove(socket, ec);  // a server cannot listen on a path that exists
        served_.push_back(socket);
      }
      peers_.push_back(p);
      names_.push_back("net_memif" + std::to_string(p));
      eal.push_back("--vdev=" + names_.back() + ",role=" + (rank() == low ? "server" : "client") + ",socket=" +
                    socket + ",socket-abstract=no,bsize=10240");
    }
    socket_hint_ = o.socket_dir + "/weft-memif-" + ctx.job + "-*.sock";
    try {
      transport::init_dpdk_eal(eal);
    } catch (const std::exception& e) {
      throw std::runtime_error("memif mesh, " + rank_text(rank()) + ": " + e.what());
    }
    // Every server listens once its EAL has probed its vdevs; clients connect when their port starts.
    ctx.store->barrier("weft/memif/probed", ctx.timeout);
    ports_.resize(peers_.size());
    auto start_port = [&](std::size_t i) {
      transport::DpdkOptions d;
      d.port_id = transport::dpdk_port_by_name(names_[i]);
      d.max_frame_bytes = o.max_frame_bytes;
      d.pool_mbufs = o.pool_mbufs_per_port;
      d.link_timeout_ms = 0;  // not awaited here: the Communicator's OPENs wait for the links
      try {
        ports_[i] = std::make_unique<transport::DpdkDatapath>(d);
      } catch (const std::exception& e) {
        throw std::runtime_error("memif mesh, " + rank_text(rank()) + ", port to " + rank_text(peers_[i]) + ": " + e.what());
      }
    };
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i] > rank()) start_port(i);
    }
    ctx.store->barrier("weft/memif/servers", ctx.timeout);
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i] < rank()) start_port(i);
    }
    // Every client has connected its control socket (in its port's start); the links come up as
    // the PMDs finish their handshake, and the transport's OPENs (retransmitted while a link is
    // down, whose frames the port drops) find out when. No clock or sleep here: the Communicator
    // waits for its links and names the ranks it cannot reach.
    ctx.store->barrier("weft/memif/clients", ctx.timeout);
    for (std::size_t i = 0; i < peers_.size(); ++i) add(peers_[i], *ports_[i]);
    set_where("sockets " + socket_hint_);
    // The socket files have done their job (the listening sockets stay open in the PMD). Removing
    // them now leaves nothing behind even if this process is killed.
    remove_socket_files();
  }

  void remove_socket_files() {
    std::error_code ec;
    for (const std::string& s : served_) (void)std::filesystem::remove(s, ec);
    served_.clear();
  }

  ~MemifMesh() override {
    park_ports();
    remove_socket_files();
  }

  // The ports are not closed: DPDK 22.11's memif frees a port's control channel and rings from
  // its interrupt thread when the peer disconnects, and closing the port from this thread at the
  // same moment frees them twice (seen here as crashes in 4-rank teardowns, and "EAL: Error:
  // Invalid memory" with 2). The EAL cannot come up again in this process anyway, so the ports
  // stay parked, unused, until the process exits.
  void park_ports() {
    static auto* parked = new std::vector<std::unique_ptr<transport::DpdkDatapath>>();  // never freed
    for (auto& p : ports_) {
      if (p) parked->push_back(std::move(p));
    }
    ports_.clear();
  }

  MemifMesh(const MemifMesh&) = delete;
  MemifMesh& operator=(const MemifMesh&) = delete;

 private:
  std::vector<int> peers_;          // the rank each port reaches
  std::vector<std::string> names_;  // their vdev names
  std::vector<std::string> served_;  // socket files this rank serves (removed at the end)
  std::string socket_hint_;
  std::vector<std::unique_ptr<transport::DpdkDatapath>> ports_;  // parked, never freed (see above)
};

}  // namespace

CommDatapathFactory memif_mesh(MemifMeshOptions options) {
  CommDatapathFactory f;
  f.name = "memif";
  f.make = [options = std::move(options)](const CommDatapathContext& ctx) -> std::unique_ptr<CommDatapath> {
    return std::make_unique<MemifMesh>(options, ctx);
  };
  return f;
}

}  // namespace weft::collectives
