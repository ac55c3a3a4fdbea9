#include "weft-switch.h"

#include <algorithm>

#include "ns3/log.h"
#include "ns3/simulator.h"
#include "sim/facade/weft_ns3_facade.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(WeftSwitch);

namespace {
// Queue of a VC under strict priority: VC 1 (control, abort notices) first, then VC 2 (data),
// then VC 0.
int priority_queue_of(int vc) {
  switch (vc) {
    case 1: return 0;
    case 2: return 1;
    default: return 2;
  }
}

}  // namespace

TypeId WeftSwitch::GetTypeId() {
  static TypeId tid = TypeId("ns3::WeftSwitch").SetParent<Object>().SetGroupName("Weft").AddConstructor<WeftSwitch>();
  return tid;
}

int WeftSwitch::AddPort(Ptr<WeftEthernetNetDevice> port) {
  const int i = static_cast<int>(m_ports.size());
  m_ports.push_back(Port{port, {}, {}});
  m_index[PeekPointer(port)] = i;
  port->SetOwner(this);
  return i;
}

void WeftSwitch::SetRoute(std::uint32_t dst_node, std::vector<int> ports) { m_routes[dst_node] = std::move(ports); }

int WeftSwitch::Choose(const std::vector<int>& ports, std::uint32_t src, std::uint32_t dst, int vc,
                       std::uint16_t entropy) {
  return WeftChoosePort(m_options.path, ports, m_sprayCounter, src, dst, vc, entropy, [this](int p) {
    const Port& port = m_ports[static_cast<std::size_t>(p)];
    if (port.device->IsIdle()) return 0.0;
    return static_cast<double>(port.stats.queue_bytes + 9000) / port.device->GetDataRateGbps();
  });
}

bool WeftSwitch::Admit(const Port& p, std::size_t len) const {
  if (m_options.shared_buffer_bytes == 0) return p.stats.queue_bytes + len <= m_options.queue_limit_bytes;
  if (m_stats.buffer_bytes + len > m_options.shared_buffer_bytes) return false;
  if (m_options.pfc) return true;
  const double free = static_cast<double>(m_options.shared_buffer_bytes - m_stats.buffer_bytes);
  return static_cast<double>(p.stats.queue_bytes + len) <= m_options.dt_alpha * free;
}

void WeftSwitch::PortReceive(WeftEthernetNetDevice* from, const std::uint8_t* frame, std::size_t len) {
  ++m_stats.received;
  const weft::ns3sim::FrameInfo info = weft::ns3sim::peek_frame(frame, len);
  if (!info.ok) {
    ++m_stats.dropped_malformed;
    return;
  }
  const auto it = m_routes.find(info.dst_node);
  if (it == m_routes.end() || it->second.empty()) {
    ++m_stats.dropped_no_route;
    return;
  }
  const int out = Choose(it->second, info.src_node, info.dst_node, info.vc, info.entropy);
  Port& p = m_ports[static_cast<std::size_t>(out)];
  if (p.device->IsIdle()) {
    Send(out, frame, len);
    return;
  }
  if (!Admit(p, len)) {
    ++p.stats.dropped_queue;
    p.device->TraceDrop(frame, len);
    return;
  }
  std::vector<std::uint8_t> copy(frame, frame + len);
  Account(p.stats);
  if (m_options.ecn_threshold_bytes > 0 && p.stats.queue_bytes >= m_options.ecn_threshold_bytes &&
      weft::ns3sim::mark_ce(copy.data(), copy.size())) {
    ++p.stats.ecn_marked;
  }
  const int q = m_options.priority ? priority_queue_of(info.vc) : 0;
  const int in = m_index.at(from);
  p.queue[q].push_back(Queued{std::move(copy), in});
  p.stats.queue_bytes += len;
  ++p.stats.queued_frames;
  p.stats.max_queue_bytes = std::max(p.stats.max_queue_bytes, p.stats.queue_bytes);
  m_stats.buffer_bytes += len;
  m_stats.max_buffer_bytes = std::max(m_stats.max_buffer_bytes, m_stats.buffer_bytes);
  Port& ingress = m_ports[static_cast<std::size_t>(in)];
  ingress.stats.ingress_bytes += len;
  if (m_options.pfc && !ingress.pausing && ingress.stats.ingress_bytes >= m_options.pfc_xoff_bytes) {
    ingress.pausing = true;
    ++ingress.stats.pfc_pauses_sent;
    ingress.device->SendPause(true);
  }
}

void WeftSwitch::PortTransmitComplete(WeftEthernetNetDevice* port) {
  if (!port->IsIdle()) return;  // paused by its peer: the frames wait
  const int i = m_index.at(port);
  Port& p = m_ports[static_cast<std::size_t>(i)];
  for (auto& q : p.queue) {
    if (q.empty()) continue;
    Queued e = std::move(q.front());
    q.pop_front();
    const std::size_t len = e.frame.size();
    Account(p.stats);
    p.stats.queue_bytes -= len;
    --p.stats.queued_frames;
    m_stats.buffer_bytes -= len;
    Port& ingress = m_ports[static_cast<std::size_t>(e.ingress)];
    ingress.stats.ingress_bytes -= len;
    if (ingress.pausing && ingress.stats.ingress_bytes <= m_options.pfc_xon_bytes) {
      ingress.pausing = false;
      ingress.device->SendPause(false);
    }
    Send(i, e.frame.data(), len);
    return;
  }
}

void WeftSwitch::Account(PortStats& s) {
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  s.byte_ns += static_cast<double>(s.queue_bytes) * static_cast<double>(now - s.last_change_ns);
  s.last_change_ns = now;
}

void WeftSwitch::Send(int port, const std::uint8_t* frame, std::size_t len) {
  Port& p = m_ports[static_cast<std::size_t>(port)];
  ++p.stats.forwarded;
  p.device->StartTransmit(frame, len);
}

void WeftSwitch::DoDispose() {
  m_ports.clear();
  m_index.clear();
  Object::DoDispose();
}

}  // namespace ns3
