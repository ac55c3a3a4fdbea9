// memif_mesh(): a Communicator datapath of DPDK memif interfaces, one per pair of ranks, for ranks
// that share a host. In libweft-dpdk (link weft::dpdk), so runtimes that do not ask for it never
// load DPDK.
//
//   CommOptions o = CommOptions::from_environment();
//   o.datapath = memif_mesh();            // every rank must choose the same datapath
//   auto comm = Communicator::create(o);
//
// Each rank brings up its own DPDK EAL (no hugepages, no PCI, --no-shconf) with one memif vdev
// per peer: the lower rank of a pair is the memif server of socket
// SOCKET_DIR/weft-memif-JOB-LOW-HIGH.sock, the higher rank its client (JOB: a random token rank 0
// draws for the job, so jobs never share a socket). Frames are TTP over Ethernet (EtherType
// 0x9AC6), and rank r is node r + 1 in the TSH; a transport::PortSet routes each frame to the
// port that reaches its peer. Start-up goes in three steps met at the rendezvous store (every
// EAL probed, so every server listens; every server port started; every client connected); the
// links then come up as the PMDs finish their handshake, and the Communicator's OPENs (resent while
// a link is down) wait for them, naming the ranks they cannot reach.
//
// Limits (DPDK 22.11, see dpdk_datapath.h):
//  - One memif mesh per process: DPDK's EAL comes up once in a process's life and cannot be
//    brought up again, so a second Communicator over memif in the same process throws.
//  - No descriptor to sleep on: a waiting rank polls, yielding its core between polls (so ranks
//    may outnumber cores, at some cost in latency).
//  - A peer that disconnects while this rank polls, or while this rank closes the same port, can
//    crash it inside the PMD. So finish() meets every rank before any rank lets its ports go, and
//    the ports are never closed: they stay open, unused, until the process exits. (The socket
//    files are removed as soon as every client has connected.) After an abort the meeting is
//    skipped.
//  - Ranks on one host only (memif is shared memory); more ranks than about 60 would exceed the
//    per-process descriptor and memory budget (each port holds a pool of mbufs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "weft/collectives/communicator.h"

namespace weft::collectives {

struct MemifMeshOptions {
  std::string socket_dir = "/tmp";         // where the servers' control sockets go (must exist)
  std::string cpus;                        // CPUs the rank's thread may run on ("0-3"); empty:
                                           // CPU rank % online CPUs (as mpirun binds to a core)
  std::uint32_t pool_mbufs_per_port = 4095;  // receive/transmit mbufs per port (~10.4 KB each)
  std::size_t max_frame_bytes = 9000;      // largest Ethernet frame (jumbo)
  std::size_t eal_memory_mb = 0;           // EAL memory (-m); 0: enough for the pools
};

// The factory for CommOptions::datapath (name "memif").
CommDatapathFactory memif_mesh(MemifMeshOptions options = {});

}  // namespace weft::collectives
