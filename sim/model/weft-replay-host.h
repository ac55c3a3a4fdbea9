// WeftReplayHost: a host that puts a fixed list of frames on its wire as fast as the wire takes
// them — no protocol, no timers, no acknowledgements — and counts what arrives. With the frames a
// weft host sent in a run (WeftFabric::RecordTransmits), it drives the same topology with the
// same traffic through bare ns-3 forwarding: the speed baseline of `weft sim --baseline`.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "sim/facade/weft_ns3_facade.h"
#include "weft-fabric.h"

namespace ns3 {

class WeftReplayHost final : public weft::ns3sim::HostCore {
 public:
  explicit WeftReplayHost(std::vector<WeftFabric::Recorded> frames) : m_frames(std::move(frames)) {}
  void on_frame(const std::uint8_t*, std::size_t, weft::ns3sim::TimeNs) override { ++m_received; }
  std::size_t poll_transmit(std::uint8_t* buf, std::size_t capacity, weft::ns3sim::TimeNs) override {
    if (m_next == m_frames.size()) return 0;
    const WeftFabric::Recorded& f = m_frames[m_next++];
    const std::size_t len = std::min<std::size_t>(f.len, capacity);
    std::memset(buf, 0, len);
    std::memcpy(buf, f.head, std::min(len, WeftFabric::kHeadBytes));
    return len;
  }
  weft::ns3sim::TimeNs next_timer() const override { return weft::ns3sim::kNever; }
  void on_timer(weft::ns3sim::TimeNs) override {}
  std::uint64_t received() const { return m_received; }
  bool done() const { return m_next == m_frames.size(); }

 private:
  std::vector<WeftFabric::Recorded> m_frames;
  std::size_t m_next = 0;
  std::uint64_t m_received = 0;
};

}  // namespace ns3
