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
// Memory: each pair maps 2 x slots x (max frame + 4 B, rounded to 64) — 1.2 MB with the
// defaults. The rings are kept small on purpose: slots that stay in the caches make every copy
// and every AEAD pass over them cheaper, and a ring shorter than the transport's window only
// pushes back (the sender offers the frames again), it never drops. Measured here (2 cores,
// all-reduce busbw, 2 ranks at 16 MiB): 1024 slots 3.60 GB/s plaintext and 0.64 of the AEAD
// ceiling encrypted; 64 slots 4.51 GB/s and 0.73; 32 slots 2.37 GB/s and 0.70.
// Ranks poll (there is no descriptor to sleep on), yielding their CPU between polls; each rank's
// thread is pinned to CPU rank % CPUs unless ShmMeshOptions::pin is false.
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/collectives/communicator.h"

namespace weft::collectives {

struct ShmMeshOptions {
  std::uint32_t slots = 64;            // frames per direction per pair (a power of two; see above)
  std::size_t max_frame_bytes = 9000;  // largest Ethernet frame (jumbo)
  bool pin = true;                     // pin the calling thread to CPU rank % online CPUs
};

// The factory for CommOptions::datapath (name "shm").
CommDatapathFactory shm_mesh(ShmMeshOptions options = {});

}  // namespace weft::collectives
