#include "weft/collectives/binding.h"

#include <string>

namespace weft::collectives {

using transport::Error;
using transport::EventKind;
using transport::LinkState;
using transport::Vc;

EndpointBinding::EndpointBinding(Engine& engine, transport::Endpoint& endpoint,
                                 std::vector<transport::NodeId> node_of_rank)
    : engine_(engine), endpoint_(endpoint), nodes_(std::move(node_of_rank)) {
  for (std::size_t r = 0; r < nodes_.size(); ++r) {
    if (static_cast<int>(r) != engine_.rank()) ranks_[nodes_[r]] = static_cast<int>(r);
  }
  failed_.assign(nodes_.size(), false);
  held_.resize(nodes_.size());
  urgent_in_.resize(nodes_.size());
  endpoint_.set_message_sink(this);
}

EndpointBinding::~EndpointBinding() { endpoint_.set_message_sink(nullptr); }

void EndpointBinding::on_message_data(transport::NodeId peer, transport::Vc vc, std::span<const std::uint8_t> bytes,
                                      bool first, bool last, TimeNs now) {
  const int rank = rank_of(peer);
  if (rank < 0) return;
  if (vc == Vc::kData) {
    engine_.on_message_data(rank, bytes, first, last, now);
    return;
  }
  // The abort channel: small messages, handed over whole.
  std::vector<std::uint8_t>& buf = urgent_in_[static_cast<std::size_t>(rank)];
  if (first) buf.clear();
  buf.insert(buf.end(), bytes.begin(), bytes.end());
  if (last) {
    std::vector<std::uint8_t> whole;
    whole.swap(buf);
    engine_.on_urgent_message(rank, std::move(whole), now);
  }
}

int EndpointBinding::rank_of(transport::NodeId node) const {
  auto it = ranks_.find(node);
  return it == ranks_.end() ? -1 : it->second;
}

// True when the message was taken (sent, or dropped because its peer failed). Abort notices
// travel on VC 1 (high priority), a link of their own: on VC 2 they would queue behind data the
// peer has not acknowledged (a stalled peer would never see them).
bool EndpointBinding::send_one(Outgoing& out, TimeNs now) {
  const transport::NodeId node = nodes_[static_cast<std::size_t>(out.peer)];
  const Vc vc = out.urgent ? Vc::kReqHi : Vc::kData;
  // A link that failed is not opened again from here: the peer would take the new OPEN for a
  // restart of this node. The engine has been told; its messages to that peer are dropped.
  if (failed_[static_cast<std::size_t>(out.peer)] && vc == Vc::kData) return true;
  if (endpoint_.state(node, vc) == LinkState::kClosed) {
    if (failed_[static_cast<std::size_t>(out.peer)]) return true;
    if (auto st = endpoint_.open(node, vc, now); !st.ok() && st.error() != Error::kAlreadyExists) {
      if (!out.urgent) engine_.on_peer_failed(out.peer, "cannot open a link: " + st.detail(), now);
      return true;
    }
  }
  auto st = endpoint_.send_shared(node, vc, std::move(out.bytes), now);
  if (st.ok()) return true;
  if (st.error() == Error::kSendBufferFull) return false;
  if (!out.urgent) {
    engine_.on_peer_failed(out.peer, std::string(transport::error_name(st.error())) + ": " + st.detail(), now);
  }
  return true;
}

// Messages a full send buffer refused wait per peer, in order, so one slow peer holds back
// nothing else; abort notices never wait behind data (they have a link of their own), and once
// the engine has aborted the data still waiting is dropped.
void EndpointBinding::pump(TimeNs now) {
  if (engine_.aborted()) {
    for (auto& q : held_) q.clear();
  }
  for (auto& q : held_) {
    while (!q.empty()) {
      Outgoing& out = q.front();
      transport::SharedBytes keep = out.bytes;
      if (!send_one(out, now)) {
        out.bytes = std::move(keep);
        break;
      }
      q.pop_front();
    }
  }
  Outgoing out;
  while (engine_.poll_send(out)) {
    auto& q = held_[static_cast<std::size_t>(out.peer)];
    if (!out.urgent && !q.empty()) {
      q.push_back(std::move(out));  // behind what already waits for this peer
      continue;
    }
    transport::SharedBytes keep = out.bytes;
    if (!send_one(out, now)) {
      out.bytes = std::move(keep);
      q.push_back(std::move(out));
    }
  }
}

bool EndpointBinding::idle() const {
  for (const auto& q : held_) {
    if (!q.empty()) return false;
  }
  return !engine_.wants_to_send();
}

bool EndpointBinding::on_event(transport::Event& ev, TimeNs now) {
  const int rank = rank_of(ev.peer);
  if (rank < 0) return false;
  switch (ev.kind) {
    case EventKind::kError:
      if (ev.vc != Vc::kData) break;  // the abort channel; the data link decides
      failed_[static_cast<std::size_t>(rank)] = true;
      engine_.on_peer_failed(rank,
                             std::string(transport::error_name(ev.error)) + (ev.detail.empty() ? "" : ": " + ev.detail),
                             now);
      break;
    case EventKind::kMessage:  // never with a sink installed (this binding is the endpoint's)
    case EventKind::kOpened:
    case EventKind::kPeerClosing:
    case EventKind::kClosed: break;
  }
  pump(now);
  return true;
}

}  // namespace weft::collectives
