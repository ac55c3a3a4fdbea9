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

void WeftHostApplication::SetDevice(Ptr<WeftEthernetNetDevice> device) {
  m_device = device;
  device->SetOwner(this);
}

void WeftHostApplication::Activity() {
  TryTransmit();
  Rearm();
}

void WeftHostApplication::TryTransmit() {
  if (!m_core || !m_device || !m_device->IsIdle()) return;
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  const std::size_t len = m_core->poll_transmit(m_txBuffer.data(), m_txBuffer.size(), now);
  if (len == 0) return;
  if (len > m_txBuffer.size()) {
    NS_FATAL_ERROR("WeftHostApplication on node " << GetNode()->GetId() << ": the host returned a frame of " << len
                                                  << " B, larger than the poll buffer");
  }
  m_device->StartTransmit(m_txBuffer.data(), len);
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
  m_device = nullptr;
  m_core.reset();
  Application::DoDispose();
}

}  // namespace ns3
