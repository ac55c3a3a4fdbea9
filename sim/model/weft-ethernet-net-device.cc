#include "weft-ethernet-net-device.h"

#include <algorithm>

#include "weft-ethernet-channel.h"

#include "ns3/double.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"
#include "sim/facade/weft_ns3_facade.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(WeftEthernetNetDevice);

TypeId WeftEthernetNetDevice::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::WeftEthernetNetDevice")
          .SetParent<NetDevice>()
          .SetGroupName("Weft")
          .AddConstructor<WeftEthernetNetDevice>()
          .AddAttribute("DataRateGbps", "Serialization rate of this port, Gb/s", DoubleValue(100.0),
                        MakeDoubleAccessor(&WeftEthernetNetDevice::m_rateGbps), MakeDoubleChecker<double>(0.001))
          .AddAttribute("Mtu", "Largest frame this port carries, bytes (Ethernet header included)",
                        UintegerValue(9000), MakeUintegerAccessor(&WeftEthernetNetDevice::m_mtu),
                        MakeUintegerChecker<uint16_t>(64));
  return tid;
}

void WeftEthernetNetDevice::Attach(Ptr<WeftEthernetChannel> channel) {
  m_channel = channel;
  channel->Attach(this);
}

void WeftEthernetNetDevice::SetDropFrames(std::vector<std::uint64_t> indices) {
  std::sort(indices.begin(), indices.end());
  m_dropFrames = std::move(indices);
}

void WeftEthernetNetDevice::SetLoss(double p, std::uint64_t seed) {
  m_loss = p;
  m_lossState = seed;
}

Ptr<Channel> WeftEthernetNetDevice::GetChannel() const { return m_channel; }

bool WeftEthernetNetDevice::SetMtu(const uint16_t mtu) {
  if (mtu < 64) return false;
  m_mtu = mtu;
  return true;
}

bool WeftEthernetNetDevice::IsLinkUp() const { return m_channel && m_channel->GetNDevices() == 2; }

void WeftEthernetNetDevice::StartTransmit(const std::uint8_t* frame, std::size_t len) {
  NS_ASSERT(!m_busy);
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  const Time wire = NanoSeconds(weft::ns3sim::serialization_ns(len, m_rateGbps));
  m_busy = true;
  Simulator::Schedule(wire, &WeftEthernetNetDevice::TransmitComplete, this);
  ++m_stats.frames_sent;
  m_stats.bytes_sent += len;
  const std::uint64_t index = m_txIndex++;
  bool dropped = std::binary_search(m_dropFrames.begin(), m_dropFrames.end(), index);
  if (m_loss > 0) {  // splitmix64: a uniform draw in [0, 1) per frame, from this port's own seed
    std::uint64_t z = (m_lossState += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    dropped = dropped || static_cast<double>(z >> 11) * 0x1.0p-53 < m_loss;
  }
  if (m_trace) m_trace(now, frame, len, dropped);
  if (dropped) {
    ++m_stats.dropped_loss;
    return;
  }
  if (m_channel) m_channel->Transmit(Create<Packet>(frame, static_cast<uint32_t>(len)), this, wire);
}

void WeftEthernetNetDevice::TraceDrop(const std::uint8_t* frame, std::size_t len) {
  if (m_trace) m_trace(Simulator::Now().GetNanoSeconds(), frame, len, true);
}

void WeftEthernetNetDevice::SendPause(bool on) {
  if (m_channel) m_channel->Pause(this, on);
}

void WeftEthernetNetDevice::PeerPause(bool on) {
  if (on == m_paused) return;
  const std::int64_t now = Simulator::Now().GetNanoSeconds();
  m_paused = on;
  if (on) {
    ++m_stats.pauses_received;
    m_pausedSince = now;
    return;
  }
  m_stats.paused_ns += now - m_pausedSince;
  if (!m_busy && m_owner != nullptr) m_owner->PortTransmitComplete(this);
}

void WeftEthernetNetDevice::TransmitComplete() {
  m_busy = false;
  if (m_owner != nullptr) m_owner->PortTransmitComplete(this);
}

void WeftEthernetNetDevice::Receive(Ptr<Packet> packet) {
  ++m_stats.frames_received;
  m_rxScratch.resize(packet->GetSize());
  packet->CopyData(m_rxScratch.data(), packet->GetSize());
  if (m_owner != nullptr) m_owner->PortReceive(this, m_rxScratch.data(), m_rxScratch.size());
}

void WeftEthernetNetDevice::DoDispose() {
  m_node = nullptr;
  m_channel = nullptr;
  m_owner = nullptr;
  NetDevice::DoDispose();
}

}  // namespace ns3
