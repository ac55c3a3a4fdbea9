// shm_mesh(): a Communicator datapath of weft's own shared-memory links (transport/shm_datapath.h),
// one per pair of ranks, for ranks that share a host. Part of libweft: no DPDK, no kernel on the
// data path.
//
//   CommOptions o = CommOptions::from_environment();
//   o.datapath = shm_mesh();              // every rank must choose the same datapath
//   auto comm = Communicator::create(o);
//
// For each pair the lower rank creates the POSIX shared-memory object /weft-shm-JOB-LOW-HIGH (JOB:
// a random token rank 0 draws for the job) and the higher rank attaches to it; the ranks meet at
// the rendezvous store in between, and once every rank is attached the names are removed, so a
// killed job leaves nothing in /dev/shm. Frames are TTP over Ethernet framing, rank r is node
// r + 1, and a transport::PortSet routes each frame to the link that reaches its peer.
//
// Memory: each pair maps 2 x slots x (max frame + 4 B, rounded to 64) — about 19 MB with the
// defaults — so N ranks map (N - 1) x 19 MB each. Ranks poll (there is no descriptor to sleep
// on), yielding their CPU between polls; each rank's thread is pinned to CPU rank % CPUs unless
// ShmMeshOptions::pin is false.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/collectives/communicator.h"

namespace weft::collectives {

struct ShmMeshOptions {
  std::uint32_t slots = 1024;          // frames per direction per pair (a power of two)
  std::size_t max_frame_bytes = 9000;  // largest Ethernet frame (jumbo)
  bool pin = true;                     // pin the calling thread to CPU rank % online CPUs
};

// The factory for CommOptions::datapath (name "shm").
CommDatapathFactory shm_mesh(ShmMeshOptions options = {});

}  // namespace weft::collectives
