// PortMesh: the shape shared by the Communicator's per-host datapaths (shm_mesh.h, memif_mesh.h):
// one port per peer rank, joined by a transport::PortSet that routes each frame by its TSH node
// id, with rank r as node r + 1. Subclasses make the ports and add() them.
#pragma once

#include <string>
#include <utility>

#include "weft/collectives/communicator.h"
#include "weft/transport/port_set.h"

namespace weft::collectives {

class PortMesh : public CommDatapath {
 public:
  PortMesh(std::string kind, int rank) : kind_(std::move(kind)), rank_(rank) {}

  transport::Datapath& datapath() override { return set_; }
  transport::NodeId node_of(int rank) const override { return static_cast<transport::NodeId>(rank + 1); }
  std::string describe() const override {
    const std::size_t n = set_.ports();
    return kind_ + " mesh: node " + std::to_string(node_of(rank_)) + ", " + std::to_string(n) + " port" +
           (n == 1 ? "" : "s") + (n == 0 || where_.empty() ? "" : ", " + where_);
  }

 protected:
  // Frames for `peer` leave through `port` (which must outlive this object).
  void add(int peer, transport::Datapath& port) { set_.route(node_of(peer), set_.add_port(port)); }
  void set_where(std::string where) { where_ = std::move(where); }
  int rank() const { return rank_; }

 private:
  std::string kind_, where_;
  int rank_ = 0;
  transport::PortSet set_;
};

}  // namespace weft::collectives
