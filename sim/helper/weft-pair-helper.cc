#include "weft-pair-helper.h"

#include <memory>

#include "ns3/double.h"
#include "ns3/mac48-address.h"
#include "ns3/nstime.h"
#include "weft-ethernet-channel.h"

namespace ns3 {

WeftPairHelper::WeftPairHelper(const Link& link, std::uint64_t seed, bool compat) {
  m_nodes.Create(2);
  Ptr<WeftEthernetChannel> cable = CreateObject<WeftEthernetChannel>();
  cable->SetAttribute("Delay", TimeValue(NanoSeconds(weft::ns3sim::us_to_ns_rounded(link.delay_us))));
  for (int i = 0; i < 2; ++i) {
    Ptr<Node> node = m_nodes.Get(static_cast<uint32_t>(i));
    Ptr<WeftEthernetNetDevice> dev = CreateObject<WeftEthernetNetDevice>();
    dev->SetAttribute("DataRateGbps", DoubleValue(link.rate_gbps));
    dev->SetAddress(Mac48Address::Allocate());
    node->AddDevice(dev);
    dev->Attach(cable);
    dev->SetDropFrames(i == 0 ? link.drop_a_to_b : link.drop_b_to_a);
    const int from = static_cast<int>(node->GetId()), to = 1 - from;
    dev->SetTraceHook([this, from, to](std::int64_t t, const std::uint8_t* f, std::size_t len, bool dropped) {
      m_trace.push_back(weft::ns3sim::format_trace_line(t, from, to, f, len, dropped));
    });
    weft::ns3sim::TransportHostOptions o;
    o.node_id = static_cast<std::uint32_t>(i + 1);
    o.seed = seed + static_cast<std::uint64_t>(i);
    o.compat = compat;
    std::unique_ptr<weft::ns3sim::TransportHost> core = weft::ns3sim::TransportHost::create(o);
    m_transports[i] = core.get();
    Ptr<WeftHostApplication> app = CreateObject<WeftHostApplication>();
    app->SetCore(std::move(core));
    app->SetDevice(dev);
    node->AddApplication(app);
    m_devices[i] = dev;
    m_apps[i] = app;
  }
}

weft::ns3sim::TransportHost& WeftPairHelper::Transport(int i) const { return *m_transports[i]; }

}  // namespace ns3
