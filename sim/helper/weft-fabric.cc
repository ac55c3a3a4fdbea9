#include "weft-fabric.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "ns3/double.h"
#include "ns3/mac48-address.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "weft-ethernet-channel.h"

namespace ns3 {

std::string WeftFabric::Conservation::ToString() const {
  return "originated " + std::to_string(originated) + " = delivered " + std::to_string(delivered) +
         " + lost on wire " + std::to_string(lost_on_wire) + " + dropped (queue full) " +
         std::to_string(dropped_queue) + " + dropped (no route) " + std::to_string(dropped_no_route) +
         " + on wires " + std::to_string(on_wires) + " + in queues " + std::to_string(in_queues) +
         (Holds() ? "" : "  (DOES NOT HOLD)");
}

int WeftFabric::AddHost(std::unique_ptr<weft::ns3sim::HostCore> core, std::uint32_t node_id) {
  const int index = static_cast<int>(m_kinds.size());
  m_nodes.Create(1);
  Ptr<Node> node = m_nodes.Get(static_cast<uint32_t>(index));
  Ptr<WeftHostApplication> app = CreateObject<WeftHostApplication>();
  app->SetCore(std::move(core));
  node->AddApplication(app);
  m_kinds.push_back(Kind{app, nullptr, node_id, {}});
  m_hosts.push_back(index);
  return index;
}

int WeftFabric::AddSwitch(const WeftSwitch::Options& options) {
  const int index = static_cast<int>(m_kinds.size());
  m_nodes.Create(1);
  Ptr<WeftSwitch> sw = CreateObject<WeftSwitch>();
  sw->SetOptions(options);
  m_nodes.Get(static_cast<uint32_t>(index))->AggregateObject(sw);
  m_kinds.push_back(Kind{nullptr, sw, 0, {}});
  return index;
}

void WeftFabric::Connect(int a, int b, const LinkOptions& link) {
  const int n = static_cast<int>(m_kinds.size());
  if (a < 0 || b < 0 || a >= n || b >= n || a == b) {
    throw std::invalid_argument("WeftFabric::Connect: nodes " + std::to_string(a) + " and " + std::to_string(b) +
                                " (there are " + std::to_string(n) + ")");
  }
  Ptr<WeftEthernetChannel> cable = CreateObject<WeftEthernetChannel>();
  cable->SetAttribute("Delay", TimeValue(NanoSeconds(weft::ns3sim::us_to_ns_rounded(link.delay_us))));
  const int ends[2] = {a, b};
  for (int e = 0; e < 2; ++e) {
    const int me = ends[e], peer = ends[1 - e];
    Kind& k = m_kinds[static_cast<std::size_t>(me)];
    Ptr<WeftEthernetNetDevice> dev = CreateObject<WeftEthernetNetDevice>();
    dev->SetAttribute("DataRateGbps", DoubleValue(link.rate_gbps));
    dev->SetAddress(Mac48Address::Allocate());
    m_nodes.Get(static_cast<uint32_t>(me))->AddDevice(dev);
    dev->Attach(cable);
    dev->SetDropFrames(e == 0 ? link.drop_a_to_b : link.drop_b_to_a);
    if (link.loss > 0) {
      dev->SetLoss(link.loss, link.loss_seed * 1000003u + static_cast<std::uint64_t>(me) * 7919u +
                                  static_cast<std::uint64_t>(peer));
    }
    dev->SetTraceHook([this, me, peer](std::int64_t t, const std::uint8_t* f, std::size_t len, bool dropped) {
      if (m_tracing) m_trace.push_back(weft::ns3sim::format_trace_line(t, me, peer, f, len, dropped));
      if (m_pcap) m_pcap->write(t, f, len);
      if (m_recording && IsHost(me)) {
        if (m_records.size() < m_kinds.size()) m_records.resize(m_kinds.size());
        Recorded r{};
        std::memcpy(r.head, f, std::min(len, kHeadBytes));
        r.len = static_cast<std::uint16_t>(len);
        m_records[static_cast<std::size_t>(me)].push_back(r);
      }
    });
    if (k.host) k.host->AddDevice(dev);
    else k.sw->AddPort(dev);
    k.ports.emplace_back(dev, peer);
  }
}

void WeftFabric::BuildRoutes(bool host_multipath) {
  const std::size_t n = m_kinds.size();
  std::vector<int> dist(n);
  for (int target : m_hosts) {
    std::fill(dist.begin(), dist.end(), -1);
    dist[static_cast<std::size_t>(target)] = 0;
    std::vector<int> frontier{target};
    for (std::size_t head = 0; head < frontier.size(); ++head) {
      const int u = frontier[head];
      if (u != target && IsHost(u)) continue;  // hosts do not forward
      for (const auto& [dev, v] : m_kinds[static_cast<std::size_t>(u)].ports) {
        if (dist[static_cast<std::size_t>(v)] < 0) {
          dist[static_cast<std::size_t>(v)] = dist[static_cast<std::size_t>(u)] + 1;
          frontier.push_back(v);
        }
      }
    }
    for (std::size_t s = 0; s < n; ++s) {
      const Kind& k = m_kinds[s];
      if (k.host && dist[s] > 0 && k.ports.size() > 1) {
        // A host with several ports: the first port on a shortest path to the target, or all.
        std::vector<int> mine;
        for (std::size_t pi = 0; pi < k.ports.size(); ++pi) {
          const int v = k.ports[pi].second;
          if (dist[static_cast<std::size_t>(v)] == dist[s] - 1 && (v == target || !IsHost(v))) {
            mine.push_back(static_cast<int>(pi));
            if (!host_multipath) break;
          }
        }
        if (!mine.empty()) k.host->SetRoute(m_kinds[static_cast<std::size_t>(target)].node_id, std::move(mine));
      }
      if (!k.sw || dist[s] <= 0) continue;
      std::vector<int> next;
      for (std::size_t pi = 0; pi < k.ports.size(); ++pi) {
        const int v = k.ports[pi].second;
        const bool transit = v == target || !IsHost(v);
        if (transit && dist[static_cast<std::size_t>(v)] == dist[s] - 1) next.push_back(static_cast<int>(pi));
      }
      k.sw->SetRoute(m_kinds[static_cast<std::size_t>(target)].node_id, std::move(next));
    }
  }
}

void WeftFabric::ActivityAll() {
  for (int h : m_hosts) m_kinds[static_cast<std::size_t>(h)].host->Activity();
}

std::int64_t WeftFabric::PausedNs() const {
  std::int64_t ns = 0;
  for (const Kind& k : m_kinds) {
    for (const auto& port : k.ports) ns += port.first->GetStats().paused_ns;
  }
  return ns;
}

WeftFabric::Conservation WeftFabric::Count() const {
  Conservation c;
  std::uint64_t put_on_wires = 0, arrived = 0;
  for (const Kind& k : m_kinds) {
    for (const auto& [dev, peer] : k.ports) {
      const WeftEthernetNetDevice::Stats& s = dev->GetStats();
      put_on_wires += s.frames_sent - s.dropped_loss;
      arrived += s.frames_received;
      c.lost_on_wire += s.dropped_loss;
      if (k.host) {
        c.originated += s.frames_sent;
        c.delivered += s.frames_received;
      }
    }
    if (k.sw) {
      const WeftSwitch::Stats& st = k.sw->GetStats();
      c.dropped_no_route += st.dropped_no_route + st.dropped_malformed;
      for (std::size_t i = 0; i < k.sw->GetNPorts(); ++i) {
        c.dropped_queue += k.sw->GetPortStats(static_cast<int>(i)).dropped_queue;
        c.in_queues += k.sw->GetPortStats(static_cast<int>(i)).queued_frames;
      }
    }
  }
  c.on_wires = put_on_wires - arrived;
  return c;
}

}  // namespace ns3
