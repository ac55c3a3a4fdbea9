// WeftSwitch: an output-queued Ethernet switch for TTP frames, the fabric's only forwarding
// element. Each port is a WeftEthernetNetDevice; the switch reads a frame's destination node id
// (the low three bytes of its destination MAC), looks up the equal-cost ports that lead there
// (tables built by WeftFabric), picks one, and sends the frame at once if that port's wire is
// free, else queues it.
//
// Egress queues, per port:
//  - strict priority by VC when Priority is on (VC 1 — abort and control traffic — first, then
//    VC 2 data, then VC 0), one FIFO otherwise;
//  - drop-tail: a frame that would take the port's queued bytes past queue_limit_bytes is dropped
//    and counted (lossy Ethernet, no PFC); or, with shared_buffer_bytes, one buffer for all ports:
//    a frame is dropped when the buffer is full or its port already holds dt_alpha times what is
//    left free (the dynamic threshold of Choudhury and Hahne, as shared-buffer switch chips do);
//  - PFC (optional, off by default): the switch counts the bytes it holds per ingress port; when
//    they reach pfc_xoff_bytes it pauses the sender on that port's cable, and resumes it at
//    pfc_xon_bytes. Drops then happen only when a buffer is full anyway (the dynamic threshold
//    does not apply; pausing the senders is what keeps queues in bounds). Pauses spread upstream as
//    queues fill behind a paused port, as they do in real lossless fabrics.
//  - ECN: a frame enqueued while the port holds at least EcnThresholdBytes gets the TTP header's
//    CE bit (0: off).
// Path choice among equal-cost ports: kFirst (the lowest port, as weft's in-memory simulator does),
// kEcmp (a hash of source, destination, VC and the TTP entropy: one path per flow), kSpray (per
// packet, round robin: weft's multipath entropy changes per packet too), kAdaptive (per packet, the
// port whose queue drains soonest — queued bytes over its rate — as adaptive-routing switches do;
// ties go to the first).
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "ns3/object.h"
#include "ns3/ptr.h"
#include "weft-ethernet-net-device.h"
#include "weft-path-choice.h"

namespace ns3 {

class WeftSwitch : public Object, public WeftPortOwner {
 public:
  using PathChoice = WeftPathChoice;
  struct Options {
    std::uint64_t queue_limit_bytes = 1u << 20;  // per port
    std::uint64_t ecn_threshold_bytes = 0;       // 0: no marking
    bool priority = true;                        // strict priority by VC
    PathChoice path = PathChoice::kEcmp;
    std::uint64_t shared_buffer_bytes = 0;       // 0: per-port buffers of queue_limit_bytes
    double dt_alpha = 1.0;                       // shared buffer: dynamic threshold factor
    bool pfc = false;
    std::uint64_t pfc_xoff_bytes = 65536;        // per ingress port
    std::uint64_t pfc_xon_bytes = 32768;
  };
  struct PortStats {
    std::uint64_t forwarded = 0;       // frames this port put on its wire
    std::uint64_t dropped_queue = 0;   // egress queue full
    std::uint64_t ecn_marked = 0;
    std::uint64_t max_queue_bytes = 0;
    std::uint64_t queue_bytes = 0;     // now
    std::uint64_t queued_frames = 0;   // now
    double byte_ns = 0;                // integral of queue_bytes over time (to the last change)
    std::int64_t last_change_ns = 0;
    std::uint64_t pfc_pauses_sent = 0;  // pauses sent to the sender on this port's cable
    std::uint64_t ingress_bytes = 0;    // now: bytes held by the switch that came in here
    // Time-averaged queue bytes from time 0 to `now_ns`.
    double MeanQueueBytes(std::int64_t now_ns) const {
      const double total = byte_ns + static_cast<double>(queue_bytes) * static_cast<double>(now_ns - last_change_ns);
      return now_ns > 0 ? total / static_cast<double>(now_ns) : 0.0;
    }
  };
  struct Stats {
    std::uint64_t received = 0;          // frames that arrived on any port
    std::uint64_t dropped_no_route = 0;  // no port leads to the destination
    std::uint64_t dropped_malformed = 0; // too short to read
    std::uint64_t buffer_bytes = 0;      // now: bytes in every queue
    std::uint64_t max_buffer_bytes = 0;
  };

  static TypeId GetTypeId();
  WeftSwitch() = default;
  void SetOptions(const Options& o) { m_options = o; }
  const Options& GetOptions() const { return m_options; }

  // Adds a port (the switch becomes its owner); returns its index.
  int AddPort(Ptr<WeftEthernetNetDevice> port);
  std::size_t GetNPorts() const { return m_ports.size(); }
  Ptr<WeftEthernetNetDevice> GetPort(int i) const { return m_ports[static_cast<std::size_t>(i)].device; }
  // Frames for `dst_node` may leave through any of `ports` (equal cost; the first is preferred).
  void SetRoute(std::uint32_t dst_node, std::vector<int> ports);

  const PortStats& GetPortStats(int i) const { return m_ports[static_cast<std::size_t>(i)].stats; }
  const Stats& GetStats() const { return m_stats; }

  void PortReceive(WeftEthernetNetDevice* port, const std::uint8_t* frame, std::size_t len) override;
  void PortTransmitComplete(WeftEthernetNetDevice* port) override;

 protected:
  void DoDispose() override;

 private:
  static constexpr int kQueues = 3;
  struct Queued {
    std::vector<std::uint8_t> frame;
    int ingress;  // the port it came in on
  };
  struct Port {
    Ptr<WeftEthernetNetDevice> device;
    std::deque<Queued> queue[kQueues];  // by priority, highest first
    PortStats stats;
    bool pausing = false;  // PFC: this switch has paused the sender on this port's cable
  };
  bool Admit(const Port& p, std::size_t len) const;
  int Choose(const std::vector<int>& ports, std::uint32_t src, std::uint32_t dst, int vc, std::uint16_t entropy);
  void Send(int port, const std::uint8_t* frame, std::size_t len);
  static void Account(PortStats& s);  // adds the time since the last change to the byte integral

  Options m_options;
  std::vector<Port> m_ports;
  std::unordered_map<const WeftEthernetNetDevice*, int> m_index;
  std::unordered_map<std::uint32_t, std::vector<int>> m_routes;
  std::uint64_t m_sprayCounter = 0;
  Stats m_stats;
};

}  // namespace ns3
