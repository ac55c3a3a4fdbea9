#include "weft-ethernet-channel.h"

#include "weft-ethernet-net-device.h"

#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(WeftEthernetChannel);

TypeId WeftEthernetChannel::GetTypeId() {
  static TypeId tid = TypeId("ns3::WeftEthernetChannel")
                          .SetParent<Channel>()
                          .SetGroupName("Weft")
                          .AddConstructor<WeftEthernetChannel>()
                          .AddAttribute("Delay", "Propagation delay of each direction", TimeValue(NanoSeconds(2000)),
                                        MakeTimeAccessor(&WeftEthernetChannel::m_delay), MakeTimeChecker());
  return tid;
}

void WeftEthernetChannel::Attach(Ptr<WeftEthernetNetDevice> device) {
  if (m_count == 2) NS_FATAL_ERROR("WeftEthernetChannel: a cable has two ends; both are taken");
  m_devices[m_count++] = device;
}

void WeftEthernetChannel::Transmit(Ptr<Packet> packet, const WeftEthernetNetDevice* from, Time wire_time) {
  if (m_count != 2) return;  // an unconnected end: the frame goes nowhere
  Ptr<WeftEthernetNetDevice> to = PeekPointer(m_devices[0]) == from ? m_devices[1] : m_devices[0];
  Simulator::ScheduleWithContext(to->GetNode()->GetId(), wire_time + m_delay, &WeftEthernetNetDevice::Receive, to,
                                 packet);
}

void WeftEthernetChannel::Pause(const WeftEthernetNetDevice* from, bool on) {
  if (m_count != 2) return;
  Ptr<WeftEthernetNetDevice> to = PeekPointer(m_devices[0]) == from ? m_devices[1] : m_devices[0];
  Simulator::ScheduleWithContext(to->GetNode()->GetId(), m_delay, &WeftEthernetNetDevice::PeerPause, to, on);
}

std::size_t WeftEthernetChannel::GetNDevices() const { return m_count; }

Ptr<NetDevice> WeftEthernetChannel::GetDevice(std::size_t i) const {
  return i < m_count ? Ptr<NetDevice>(m_devices[i]) : Ptr<NetDevice>();
}

}  // namespace ns3
