#include "weft/transport/port_set.h"

#include <algorithm>
#include <stdexcept>

namespace weft::transport {

int PortSet::add_port(Datapath& port) {
  if (!ports_.empty() && port.encapsulation() != ports_.front()->encapsulation()) {
    throw std::invalid_argument("PortSet: port '" + port.describe() +
                                "' has another encapsulation than the ports already added");
  }
  ports_.push_back(&port);
  return static_cast<int>(ports_.size() - 1);
}

void PortSet::route(NodeId peer, int port) {
  if (port < 0 || static_cast<std::size_t>(port) >= ports_.size()) {
    throw std::out_of_range("PortSet: no port " + std::to_string(port) + " (there are " +
                            std::to_string(ports_.size()) + ")");
  }
  routes_[peer] = port;
}

wire::Encapsulation PortSet::encapsulation() const {
  return ports_.empty() ? wire::Encapsulation::kEthernet : ports_.front()->encapsulation();
}

std::size_t PortSet::max_frame_bytes() const {
  std::size_t m = 0;
  for (const Datapath* p : ports_) m = m == 0 ? p->max_frame_bytes() : std::min(m, p->max_frame_bytes());
  return m == 0 ? wire::kWeftMaxFrameBytes : m;
}

bool PortSet::gathers() const {
  return !ports_.empty() && std::all_of(ports_.begin(), ports_.end(), [](const Datapath* p) { return p->gathers(); });
}

int PortSet::wait_fd() const { return ports_.size() == 1 ? ports_.front()->wait_fd() : -1; }

void PortSet::set_pcap(PcapWriter* pcap) {
  pcap_ = pcap;
  for (Datapath* p : ports_) p->set_pcap(pcap);
}

std::string PortSet::describe() const {
  std::string s = "ports:";
  for (const Datapath* p : ports_) s += " [" + p->describe() + "]";
  return s;
}

std::size_t PortSet::tx_burst(std::span<const TxFrame> frames) {
  std::size_t done = 0;
  while (done < frames.size()) {
    // The run of consecutive frames that leave through one port (or have no route).
    auto port_of = [&](const TxFrame& f) {
      auto it = routes_.find(f.peer);
      return it == routes_.end() ? -1 : it->second;
    };
    const int port = port_of(frames[done]);
    std::size_t end = done + 1;
    while (end < frames.size() && port_of(frames[end]) == port) ++end;
    if (port < 0) {
      unrouted_ += end - done;
      done = end;
      continue;
    }
    const std::size_t want = end - done;
    const std::size_t sent = ports_[static_cast<std::size_t>(port)]->tx_burst(frames.subspan(done, want));
    done += sent;
    if (sent < want) return done;  // the port pushed back: the rest waits, in order
  }
  return done;
}

std::size_t PortSet::rx_burst(std::span<RxFrame> out) {
  std::size_t n = 0;
  const std::size_t count = ports_.size();
  for (std::size_t i = 0; i < count && n < out.size(); ++i) {
    const std::size_t p = (next_rx_ + i) % count;
    n += ports_[p]->rx_burst(out.subspan(n));
  }
  if (count > 0) next_rx_ = (next_rx_ + 1) % count;
  return n;
}

}  // namespace weft::transport
