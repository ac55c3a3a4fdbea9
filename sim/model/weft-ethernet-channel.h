// WeftEthernetChannel: a full-duplex Ethernet cable between two WeftEthernetNetDevices. Unlike
// ns-3's point-to-point channel it carries any EtherType (TTP is 0x9AC6), and unlike CSMA it is
// not a shared half-duplex bus: each direction is its own wire. It only adds the propagation
// delay; the sending device times serialization and applies its loss model.
#pragma once

#include "ns3/channel.h"
#include "ns3/nstime.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"

namespace ns3 {

class WeftEthernetNetDevice;

class WeftEthernetChannel : public Channel {
 public:
  static TypeId GetTypeId();
  WeftEthernetChannel() = default;

  // Attaches a device to one end; a cable has two. Aborts (NS_FATAL_ERROR) on a third.
  void Attach(Ptr<WeftEthernetNetDevice> device);
  // Delivers `packet` to the device at the other end of `from`, `wire_time` (serialization) plus
  // the propagation delay from now.
  void Transmit(Ptr<Packet> packet, const WeftEthernetNetDevice* from, Time wire_time);
  // A PFC pause (on) or resume (off) from `from`, reaching the other end after the propagation
  // delay (the pause frame's own serialization is not modelled).
  void Pause(const WeftEthernetNetDevice* from, bool on);

  std::size_t GetNDevices() const override;
  Ptr<NetDevice> GetDevice(std::size_t i) const override;
  Time GetDelay() const { return m_delay; }

 private:
  Ptr<WeftEthernetNetDevice> m_devices[2];
  std::size_t m_count = 0;
  Time m_delay = NanoSeconds(2000);
};

}  // namespace ns3
