// Where a rank learns who it is: rank, world size and the rendezvous store's address, read from the
// environment the launcher set (DESIGN.md §5; docs/collectives.md when the communicator lands).
//
// Launchers, in order of precedence (the first one present decides; any other present must agree
// with it, or detection fails naming both):
//   weft       WEFT_RANK, WEFT_WORLD_SIZE           (WEFT_LOCAL_RANK, WEFT_LOCAL_WORLD_SIZE)
//   torchrun   RANK, WORLD_SIZE                     (LOCAL_RANK, LOCAL_WORLD_SIZE)
//   Open MPI   OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE
//                                                   (OMPI_COMM_WORLD_LOCAL_RANK, _LOCAL_SIZE)
//   Slurm      SLURM_PROCID, SLURM_NTASKS           (SLURM_LOCALID, SLURM_NTASKS_PER_NODE)
// The store: WEFT_STORE (tcp://HOST:PORT, served by rank 0, or file:///ABSOLUTE/DIR on a shared
// file system); else, under torchrun, tcp://MASTER_ADDR:PORT with PORT = WEFT_STORE_PORT, or
// MASTER_PORT + 1 (torch's own store holds MASTER_PORT); else, under Open MPI with every rank on
// one host, a file store in /tmp named by the job id. A world of one rank needs no store.
// The store carries addresses only, never keys (docs/security.md).
//
// Detection is a pure function of an environment lookup, so tests pass maps; detect_launch()
// reads the process environment. Every failure throws std::runtime_error with a message naming
// the variables involved and what was expected.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace weft::collectives {

struct StoreAddress {
  enum class Kind : std::uint8_t { kNone, kTcp, kFile };
  Kind kind = Kind::kNone;
  std::string host;       // kTcp: a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 0; // kTcp
  std::string path;       // kFile: an absolute directory
  std::string text() const;  // tcp://host:port, tcp://[v6]:port, file:///dir, or "" for kNone
};

// Parses tcp://HOST:PORT, tcp://[IPV6]:PORT or file:///ABSOLUTE/PATH. `what` names where the text
// came from in error messages (e.g. "WEFT_STORE").
StoreAddress parse_store(std::string_view text, std::string_view what);

struct LaunchInfo {
  int rank = 0;
  int size = 1;
  int local_rank = -1;  // on this host; -1 when the launcher did not say
  int local_size = -1;
  StoreAddress store;
  // The store was made up here, not configured: Open MPI with every rank on one host and no
  // WEFT_STORE gets file:///tmp/weft-store-ompi-JOBID, which rank 0 removes when it finishes.
  bool store_temporary = false;
  std::string launcher;  // "weft", "torchrun", "Open MPI", "Slurm"
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

LaunchInfo detect_launch(const EnvLookup& env);
LaunchInfo detect_launch();  // from getenv

}  // namespace weft::collectives
