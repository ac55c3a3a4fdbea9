#include "weft-host-application.h"

#include <string>

#include "ns3/log.h"
#include "ns3/simulator.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(WeftHostApplication);

TypeId WeftHostApplication::GetTypeId() {
  static TypeId tid = TypeId("ns3::WeftHostApplication")
                          .SetParent<Application>()
                          .SetGroupName("Weft")
                          .AddConstructor<WeftHostApplication>();
  return tid;
}

int WeftHostApplication::AddDevice(Ptr<WeftEthernetNetDevice> device) {
  m_devices.push_back(device);
  m_waiting.emplace_back();
  m_waitingBytes.push_back(0);
  device->SetOwner(this);
  return static_cast<int>(m_devices.size() - 1);
}

void WeftHostApplication::Activity() {
  TryTransmit();
  Rearm();
}

int WeftHostApplication::PortFor(const std::uint8_t* frame, std::size_t len) {
  if (m_devices.size() == 1) return 0;
  const weft::ns3sim::FrameInfo info = weft::ns3sim::peek_frame(frame, len);
  const auto it = m_routes.find(info.dst_node);
  if (it == m_routes.end() || it->second.empty()) return 0;
  return WeftChoosePort(m_pathChoice, it->second, m_sprayCounter, info.src_node, info.dst_node, info.vc,
                        info.entropy, [this, len](int p) {
                          const auto i = static_cast<std::size_t>(p);
                          if (m_devices[i]->IsIdle()) return 0.0;
                          return static_cast<double>(m_waitingBytes[i] + len) / m_devices[i]->GetDataRateGbps();
                        });
}

void WeftHostApplication::TryTransmit() {
  if (!m_core || m_devices.empty()) return;
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  for (;;) {
    // Idle ports send what waits for them first; the host is asked only while a port is idle with
    // nothing waiting.
    bool idle = false;
    for (std::size_t p = 0; p < m_devices.size(); ++p) {
      if (!m_devices[p]->IsIdle()) continue;
      if (!m_waiting[p].empty()) {
        const std::vector<std::uint8_t> frame = std::move(m_waiting[p].front());
        m_waiting[p].pop_front();
        m_waitingBytes[p] -= frame.size();
        m_devices[p]->StartTransmit(frame.data(), frame.size());
      } else {
        idle = true;
      }
    }
    if (!idle) return;
    const std::size_t len = m_core->poll_transmit(m_txBuffer.data(), m_txBuffer.size(), now);
    if (len == 0) return;
    if (len > m_txBuffer.size()) {
      NS_FATAL_ERROR("WeftHostApplication on node " << GetNode()->GetId() << ": the host returned a frame of " << len
                                                    << " B, larger than the poll buffer");
    }
    const int port = PortFor(m_txBuffer.data(), len);
    Ptr<WeftEthernetNetDevice> dev = m_devices[static_cast<std::size_t>(port)];
    if (dev->IsIdle()) dev->StartTransmit(m_txBuffer.data(), len);
    else {
      m_waiting[static_cast<std::size_t>(port)].emplace_back(m_txBuffer.begin(),
                                                             m_txBuffer.begin() + static_cast<std::ptrdiff_t>(len));
      m_waitingBytes[static_cast<std::size_t>(port)] += len;
    }
  }
}

void WeftHostApplication::Rearm() {
  if (!m_core) return;
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  std::int64_t t = m_core->next_timer();
  if (t < now) t = now;
  if (t >= m_armedTime) return;
  m_armedTime = t;
  m_armedSeq = ++m_nextSeq;
  Simulator::Schedule(NanoSeconds(t - now), &WeftHostApplication::TimerFired, this, m_armedSeq);
}

void WeftHostApplication::TimerFired(std::uint64_t seq) {
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  if (seq != m_armedSeq || now != m_armedTime) return;  // superseded by an earlier deadline
  m_armedTime = weft::ns3sim::kNever;
  if (m_core->next_timer() <= now) m_core->on_timer(now);
  Activity();
  AfterEvent();
}

void WeftHostApplication::PortReceive(WeftEthernetNetDevice*, const std::uint8_t* frame, std::size_t len) {
  if (m_core) m_core->on_frame(frame, len, Simulator::Now().GetNanoSeconds());
  Activity();
  AfterEvent();
}

void WeftHostApplication::PortTransmitComplete(WeftEthernetNetDevice*) {
  Activity();
  AfterEvent();
}

void WeftHostApplication::AfterEvent() {
  if (m_afterEvent) m_afterEvent();
}

void WeftHostApplication::DoDispose() {
  m_devices.clear();
  m_waiting.clear();
  m_waitingBytes.clear();
  m_core.reset();
  Application::DoDispose();
}

}  // namespace ns3
