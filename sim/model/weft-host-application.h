// WeftHostApplication: a simulated host running weft's real transport (weft::ns3sim::HostCore,
// a weft Endpoint behind the facade) on one or more WeftEthernetNetDevices (an accelerator's
// scale-up and scale-out ports), in ns-3's virtual time.
//
// It follows the in-memory simulator's host rules exactly, so the same scenario gives the same
// frames at the same nanoseconds in both: after every frame received, transmit completed, timer
// or application call (Activity()), it offers the wire the host's next frame if the wire is free
// and re-arms the host's single timer if its deadline moved earlier (a later deadline is caught
// when the armed one fires).
//
// With several ports, each frame leaves through a port routed to its destination node (SetRoute;
// port 0 by default); among several equal ones the host chooses as the fabric's switches do
// (SetPathChoice: the first; an ECMP hash of the flow; round robin; or adaptive: the first idle
// port, else the one whose waiting frames drain soonest at its rate). While any port is idle the host is asked for frames; one whose
// port is busy waits in that port's queue (the transport's windows bound it) and goes first when
// the port frees. With one port this is exactly the single-port rule above.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "sim/facade/weft_ns3_facade.h"
#include "weft-ethernet-net-device.h"
#include "weft-path-choice.h"

namespace ns3 {

class WeftHostApplication : public Application, public WeftPortOwner {
 public:
  static TypeId GetTypeId();
  WeftHostApplication() = default;

  void SetCore(std::unique_ptr<weft::ns3sim::HostCore> core) { m_core = std::move(core); }
  weft::ns3sim::HostCore* GetCore() const { return m_core.get(); }
  // Adds a port; returns its index.
  int AddDevice(Ptr<WeftEthernetNetDevice> device);
  std::size_t GetNDevices() const { return m_devices.size(); }
  // Frames for `dst_node` leave through port `port`, or through any of `ports`.
  void SetRoute(std::uint32_t dst_node, int port) { m_routes[dst_node] = {port}; }
  void SetRoute(std::uint32_t dst_node, std::vector<int> ports) { m_routes[dst_node] = std::move(ports); }
  void SetPathChoice(WeftPathChoice choice) { m_pathChoice = choice; }
  // Called after each event this host handled (for stop conditions and progress).
  void SetAfterEvent(std::function<void()> fn) { m_afterEvent = std::move(fn); }

  // The host may have new work: transmit if the wire is free, re-arm the timer.
  void Activity();
  // WeftPortOwner: a frame arrived; the wire is free again.
  void PortReceive(WeftEthernetNetDevice* port, const std::uint8_t* frame, std::size_t len) override;
  void PortTransmitComplete(WeftEthernetNetDevice* port) override;

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override {}
  void StopApplication() override {}
  void TryTransmit();
  void Rearm();
  void TimerFired(std::uint64_t seq);
  void AfterEvent();

  int PortFor(const std::uint8_t* frame, std::size_t len);

  std::unique_ptr<weft::ns3sim::HostCore> m_core;
  std::vector<Ptr<WeftEthernetNetDevice>> m_devices;
  std::vector<std::deque<std::vector<std::uint8_t>>> m_waiting;  // per port: frames for a busy port
  std::vector<std::uint64_t> m_waitingBytes;                     // per port: their bytes
  std::unordered_map<std::uint32_t, std::vector<int>> m_routes;
  std::vector<std::uint8_t> m_txBuffer = std::vector<std::uint8_t>(16384);
  std::int64_t m_armedTime = weft::ns3sim::kNever;
  std::uint64_t m_armedSeq = 0;
  std::uint64_t m_nextSeq = 0;
  std::function<void()> m_afterEvent;
  WeftPathChoice m_pathChoice = WeftPathChoice::kAdaptive;
  std::uint64_t m_sprayCounter = 0;
};

}  // namespace ns3
