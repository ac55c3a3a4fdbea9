// WeftPairHelper: two hosts running weft's transport, one full-duplex Ethernet cable between them
// — the validation topology (the same scenario runs on weft's in-memory simulator, and the two
// must agree frame for frame). Node i carries TSH node id i + 1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ns3/node-container.h"
#include "ns3/ptr.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-ethernet-net-device.h"
#include "weft-host-application.h"

namespace ns3 {

class WeftPairHelper {
 public:
  struct Link {
    double rate_gbps = 100.0;
    double delay_us = 2.0;
    std::vector<std::uint64_t> drop_a_to_b, drop_b_to_a;  // transmit indices lost on the wire
  };

  // Builds both nodes, their devices, the cable and a host application on each, whose core is a
  // weft transport endpoint (node ids 1 and 2, seeds `seed` and `seed + 1`).
  WeftPairHelper(const Link& link, std::uint64_t seed, bool compat = false);

  Ptr<WeftHostApplication> Host(int i) const { return m_apps[i]; }
  weft::ns3sim::TransportHost& Transport(int i) const;
  Ptr<WeftEthernetNetDevice> Device(int i) const { return m_devices[i]; }
  // Every frame put on a wire, as golden-trace lines (the in-memory simulator's format).
  const std::vector<std::string>& Trace() const { return m_trace; }

 private:
  NodeContainer m_nodes;
  Ptr<WeftEthernetNetDevice> m_devices[2];
  Ptr<WeftHostApplication> m_apps[2];
  weft::ns3sim::TransportHost* m_transports[2] = {nullptr, nullptr};
  std::vector<std::string> m_trace;
};

}  // namespace ns3
