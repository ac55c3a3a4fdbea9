// EndpointBinding: joins a collective Engine to a transport Endpoint. Every driver (the in-memory
// simulator's hosts, the UDP and DPDK communicators, the ns-3 application) uses it, so the glue
// between ranks and links exists once.
//
// Ranks map to transport node ids one to one (`node_of_rank[r]`; this rank's own entry is
// ignored). Engine messages travel on VC 2 (data) as whole transport messages, sent by reference
// (Endpoint::send_shared: the engine's pooled staging buffer is the transport's send buffer);
// abort notices on VC 1, so they never wait behind data. Links open on first use (both sides
// opening at once is the transport's passing-ships case); a data link that failed is not opened
// again (the peer would take that for a restart of this node).
//
// Threading: as the Engine and the Endpoint: one driver thread.
#pragma once

#include <deque>
#include <unordered_map>
#include <vector>

#include "weft/collectives/engine.h"
#include "weft/transport/endpoint.h"

namespace weft::collectives {

// Incoming messages stream from the transport straight into the engine (transport::MessageSink:
// the binding installs itself on the endpoint), so received bytes are copied or reduced into
// place once, from the frame.
class EndpointBinding final : public transport::MessageSink {
 public:
  EndpointBinding(Engine& engine, transport::Endpoint& endpoint, std::vector<transport::NodeId> node_of_rank);
  ~EndpointBinding() override;
  EndpointBinding(const EndpointBinding&) = delete;
  EndpointBinding& operator=(const EndpointBinding&) = delete;
  void on_message_data(transport::NodeId peer, transport::Vc vc, std::span<const std::uint8_t> bytes, bool first,
                       bool last, TimeNs now) override;

  // Hands the engine's messages to the endpoint. Call it after every batch of on_frame/on_timer
  // calls (received bytes reach the engine during on_frame, and its replies wait for this) and
  // after posting operations. A message the endpoint refuses for a full send buffer waits here
  // for the next call (in order per peer); any other refusal (the link failed) is reported to the
  // engine as a failed peer.
  void pump(TimeNs now);
  // Routes one endpoint event: a data link's error to Engine::on_peer_failed (messages never come
  // as events: they stream through on_message_data). Returns false for events of nodes that are
  // not ranks (ignored).
  bool on_event(transport::Event& ev, TimeNs now);

  int rank_of(transport::NodeId node) const;  // -1 when `node` is not a rank
  bool idle() const;  // nothing waits to be handed to the endpoint

 private:
  bool send_one(Outgoing& out, TimeNs now);
  Engine& engine_;
  transport::Endpoint& endpoint_;
  std::vector<transport::NodeId> nodes_;
  std::unordered_map<transport::NodeId, int> ranks_;
  std::vector<std::deque<Outgoing>> held_;  // per rank: refused for a full send buffer; retried first
  std::vector<bool> failed_;   // per rank: its data link failed (never reopened from here)
  std::vector<std::vector<std::uint8_t>> urgent_in_;  // per rank: abort notice being received
};

}  // namespace weft::collectives
