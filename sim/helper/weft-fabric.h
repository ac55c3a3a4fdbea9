// WeftFabric: builds a simulated Ethernet fabric of weft hosts and WeftSwitches in ns-3 — nodes,
// ports, cables, forwarding tables — and counts what happened to every frame.
//
//   ns3::WeftFabric f;
//   int a = f.AddHost(weft::ns3sim::TransportHost::create({1}), 1);   // node id 1
//   int b = f.AddHost(weft::ns3sim::TransportHost::create({2}), 2);
//   int s = f.AddSwitch({});
//   f.Connect(a, s, {}); f.Connect(b, s, {});
//   f.BuildRoutes();
//
// Node indices are ns-3 node ids when the fabric is the only thing in the simulation (they are
// what traces print). A host has one port or several (an accelerator's scale-up and scale-out
// ports); a switch any number. Routes: for every host, every switch gets the ports on its shortest
// paths to it (equal cost, in Connect order), and every host with several ports the first port on
// such a path (or, with BuildRoutes(true), every such port: the host sends on whichever is free);
// hosts never forward.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ns3/node-container.h"
#include "ns3/ptr.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-ethernet-net-device.h"
#include "weft-host-application.h"
#include "weft-switch.h"

namespace ns3 {

class WeftFabric {
 public:
  struct LinkOptions {
    double rate_gbps = 100.0;
    double delay_us = 2.0;
    std::vector<std::uint64_t> drop_a_to_b, drop_b_to_a;  // transmit indices lost on the wire
    double loss = 0.0;                                    // per frame, each direction
    std::uint64_t loss_seed = 1;                          // mixed with the link's ends
  };
  // What became of every frame a host put on a wire, over the whole fabric. `Holds()`: each one
  // is accounted for exactly once.
  struct Conservation {
    std::uint64_t originated = 0;        // frames hosts transmitted
    std::uint64_t delivered = 0;         // frames hosts received
    std::uint64_t lost_on_wire = 0;      // any hop's loss model
    std::uint64_t dropped_queue = 0;     // switch egress queues full
    std::uint64_t dropped_no_route = 0;  // or unreadable, at a switch
    std::uint64_t on_wires = 0;          // in flight at the end
    std::uint64_t in_queues = 0;         // queued in switches at the end
    bool Holds() const {
      return originated == delivered + lost_on_wire + dropped_queue + dropped_no_route + on_wires + in_queues;
    }
    std::string ToString() const;
  };

  WeftFabric() = default;
  int AddHost(std::unique_ptr<weft::ns3sim::HostCore> core, std::uint32_t node_id);
  int AddSwitch(const WeftSwitch::Options& options);
  void Connect(int a, int b, const LinkOptions& link);
  void BuildRoutes(bool host_multipath = false);

  std::size_t Nodes() const { return m_kinds.size(); }
  bool IsHost(int node) const { return m_kinds[static_cast<std::size_t>(node)].host != nullptr; }
  Ptr<WeftHostApplication> Host(int node) const { return m_kinds[static_cast<std::size_t>(node)].host; }
  Ptr<WeftSwitch> Switch(int node) const { return m_kinds[static_cast<std::size_t>(node)].sw; }
  std::uint32_t NodeId(int node) const { return m_kinds[static_cast<std::size_t>(node)].node_id; }
  // The node at the other end of port `port` of `node` (ports in Connect order).
  int PortPeer(int node, int port) const {
    return m_kinds[static_cast<std::size_t>(node)].ports[static_cast<std::size_t>(port)].second;
  }
  // Every host, in AddHost order, may act (after an application call outside a host's events).
  void ActivityAll();

  // Records every frame put on (or dropped before) a wire as a golden-trace line.
  void EnableTrace() { m_tracing = true; }
  // Writes every frame any port puts on its wire (lost ones included: a capture at the sender)
  // into one pcap file, in time order. Throws std::runtime_error naming the path.
  void EnablePcap(const std::string& path) { m_pcap = std::make_unique<weft::ns3sim::PcapSink>(path); }
  const std::vector<std::string>& Trace() const { return m_trace; }
  Conservation Count() const;
  // PFC: time every port (hosts' and switches') spent paused by its peer, summed.
  std::int64_t PausedNs() const;

  // The frames each host transmits, for a replay without the protocol (the speed baseline):
  // their first kHeadBytes bytes (headers: what a switch reads) and their lengths.
  static constexpr std::size_t kHeadBytes = 48;
  struct Recorded {
    std::uint8_t head[kHeadBytes];
    std::uint16_t len;
  };
  void RecordTransmits() { m_recording = true; }
  std::vector<std::vector<Recorded>> TakeRecords() { return std::move(m_records); }

 private:
  struct Kind {
    Ptr<WeftHostApplication> host;
    Ptr<WeftSwitch> sw;
    std::uint32_t node_id = 0;
    std::vector<std::pair<Ptr<WeftEthernetNetDevice>, int>> ports;  // device, peer node
  };
  NodeContainer m_nodes;
  std::vector<Kind> m_kinds;
  std::vector<int> m_hosts;
  bool m_tracing = false;
  bool m_recording = false;
  std::vector<std::vector<Recorded>> m_records;  // by host node
  std::unique_ptr<weft::ns3sim::PcapSink> m_pcap;
  std::vector<std::string> m_trace;
};

}  // namespace ns3
