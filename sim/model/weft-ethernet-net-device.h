// WeftEthernetNetDevice: one port of a simulated host or switch, on a WeftEthernetChannel. It
// carries whole Ethernet frames of any EtherType up to its MTU.
//
// A port does not take frames pushed by a protocol stack: like a NIC whose transmit ring pushes
// back on its driver, it tells its owner (WeftPortOwner: a host application or a switch) each
// time the wire is free, and the owner hands it the next frame (the in-memory simulator's rule,
// so both simulators time every frame alike). It serializes at DataRateGbps, applies its loss
// model (an explicit list of transmit indices to drop, and/or a seeded loss probability), and the
// channel adds the propagation delay.
//
// PFC: the port's peer may pause it (PeerPause, after the cable's delay); a paused port is not
// idle — it starts no frame (the one on the wire finishes) — and tells its owner the wire is free
// when the pause ends. All of a port's traffic pauses together (one lossless class).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "ns3/mac48-address.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
#include "ns3/packet.h"

namespace ns3 {

class WeftEthernetChannel;
class WeftEthernetNetDevice;

// What owns a port and is told about it: a host (WeftHostApplication) or a switch (WeftSwitch).
class WeftPortOwner {
 public:
  virtual ~WeftPortOwner() = default;
  // A frame arrived on `port` (valid during the call).
  virtual void PortReceive(WeftEthernetNetDevice* port, const std::uint8_t* frame, std::size_t len) = 0;
  // `port`'s wire is free again.
  virtual void PortTransmitComplete(WeftEthernetNetDevice* port) = 0;
};

class WeftEthernetNetDevice : public NetDevice {
 public:
  static TypeId GetTypeId();
  WeftEthernetNetDevice() = default;

  // Counters of this port's transmit direction.
  struct Stats {
    std::uint64_t frames_sent = 0;    // put on the wire (dropped ones included)
    std::uint64_t bytes_sent = 0;
    std::uint64_t dropped_loss = 0;   // lost on the wire (loss model)
    std::uint64_t frames_received = 0;  // delivered by the channel to this port
    std::uint64_t pauses_received = 0;  // PFC pauses from the peer
    std::int64_t paused_ns = 0;         // time spent paused (to the last resume)
  };
  // Called for every frame put on the wire: time (ns), the frame, whether the wire lost it.
  using TraceHook = std::function<void(std::int64_t, const std::uint8_t*, std::size_t, bool)>;

  void Attach(Ptr<WeftEthernetChannel> channel);
  void SetOwner(WeftPortOwner* owner) { m_owner = owner; }
  void SetDropFrames(std::vector<std::uint64_t> indices);  // transmit indices (from 0) to lose
  // Loses each frame with probability `p`, drawn from a generator seeded with `seed` (the same
  // seed gives the same losses).
  void SetLoss(double p, std::uint64_t seed);
  void SetTraceHook(TraceHook hook) { m_trace = std::move(hook); }
  double GetDataRateGbps() const { return m_rateGbps; }

  bool IsIdle() const { return !m_busy && !m_paused; }
  bool IsPaused() const { return m_paused; }
  // PFC: asks the peer to stop sending (on) or to go on (off).
  void SendPause(bool on);
  // The channel's delivery of the peer's pause or resume.
  void PeerPause(bool on);
  // Puts a frame on the (idle) wire now.
  void StartTransmit(const std::uint8_t* frame, std::size_t len);
  // Reports a frame dropped before this port's wire (a full switch queue) to the trace hook.
  void TraceDrop(const std::uint8_t* frame, std::size_t len);
  // The channel's delivery of a frame from the other end.
  void Receive(Ptr<Packet> packet);
  const Stats& GetStats() const { return m_stats; }

  // NetDevice
  void SetIfIndex(const uint32_t index) override { m_ifIndex = index; }
  uint32_t GetIfIndex() const override { return m_ifIndex; }
  Ptr<Channel> GetChannel() const override;
  void SetAddress(Address address) override { m_address = Mac48Address::ConvertFrom(address); }
  Address GetAddress() const override { return m_address; }
  bool SetMtu(const uint16_t mtu) override;
  uint16_t GetMtu() const override { return m_mtu; }
  bool IsLinkUp() const override;
  void AddLinkChangeCallback(Callback<void>) override {}
  bool IsBroadcast() const override { return true; }
  Address GetBroadcast() const override { return Mac48Address("ff:ff:ff:ff:ff:ff"); }
  bool IsMulticast() const override { return false; }
  Address GetMulticast(Ipv4Address) const override { return GetBroadcast(); }
  Address GetMulticast(Ipv6Address) const override { return GetBroadcast(); }
  bool IsBridge() const override { return false; }
  bool IsPointToPoint() const override { return true; }
  // A host's frames come from its WeftHostApplication, not from a protocol stack: refused.
  bool Send(Ptr<Packet>, const Address&, uint16_t) override { return false; }
  bool SendFrom(Ptr<Packet>, const Address&, const Address&, uint16_t) override { return false; }
  Ptr<Node> GetNode() const override { return m_node; }
  void SetNode(Ptr<Node> node) override { m_node = node; }
  bool NeedsArp() const override { return false; }
  void SetReceiveCallback(ReceiveCallback) override {}
  void SetPromiscReceiveCallback(PromiscReceiveCallback) override {}
  bool SupportsSendFrom() const override { return false; }

 protected:
  void DoDispose() override;

 private:
  void TransmitComplete();

  Ptr<Node> m_node;
  Ptr<WeftEthernetChannel> m_channel;
  WeftPortOwner* m_owner = nullptr;
  uint32_t m_ifIndex = 0;
  Mac48Address m_address;
  uint16_t m_mtu = 9000;
  double m_rateGbps = 100.0;
  bool m_busy = false;
  bool m_paused = false;
  std::int64_t m_pausedSince = 0;
  std::uint64_t m_txIndex = 0;
  std::vector<std::uint64_t> m_dropFrames;  // sorted
  double m_loss = 0.0;
  std::uint64_t m_lossState = 0;
  std::vector<std::uint8_t> m_rxScratch;
  TraceHook m_trace;
  Stats m_stats;
};

}  // namespace ns3
