// The input format of fuzz_endpoint and the setup it implies. Shared by endpoint_fuzz.cc and
// make_corpus.cc, so that the conversations make_corpus records replay exactly in the fuzzer.
//
//   byte 0   options: bit 0 the weft endpoint opens a link to node 2 first, bit 1 the compat
//            endpoint does, bit 2 both endpoints use UDP encapsulation (frames come from node 2),
//            bit 3 a message is queued on each link opened, bits 4-5 the VC of those links
//            (modulo 3); bits 6-7 are ignored
//   then     frames, each a 2-byte big-endian length and that many bytes (a short final frame
//            takes what is left); an empty frame means "wait": nothing arrives, and time jumps
//            to the endpoints' earliest timer (at least 1 us), so inputs reach retransmission
//            and close timers mid-conversation
#pragma once

#include <cstddef>
#include <cstdint>

#include "weft/transport/config.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::fuzz {

inline constexpr transport::NodeId kLocalNode = 1;  // both endpoints under test
inline constexpr transport::NodeId kPeerNode = 2;   // where every frame comes from

inline constexpr std::uint8_t kOptOpenWeft = 0x01;
inline constexpr std::uint8_t kOptOpenCompat = 0x02;
inline constexpr std::uint8_t kOptUdp = 0x04;
inline constexpr std::uint8_t kOptSend = 0x08;
inline constexpr int kOptVcShift = 4;

inline constexpr std::uint8_t options_with_vc(std::uint8_t options, transport::Vc vc) {
  return static_cast<std::uint8_t>(options | (static_cast<unsigned>(vc) << kOptVcShift));
}
inline constexpr transport::Vc option_vc(std::uint8_t options) {
  return static_cast<transport::Vc>(((options >> kOptVcShift) & 0x03) % transport::kVcCount);
}
inline constexpr transport::wire::Encapsulation option_encapsulation(std::uint8_t options) {
  return (options & kOptUdp) != 0 ? transport::wire::Encapsulation::kUdp
                                  : transport::wire::Encapsulation::kEthernet;
}

// Virtual time: the run starts at kStartNs (opens and sends happen then); each frame arrives
// kFrameStepNs after the previous one.
inline constexpr transport::TimeNs kStartNs = 1'000'000;
inline constexpr transport::TimeNs kFrameStepNs = 1000;

// The time of the next input: a frame arrives kFrameStepNs after `now`; an empty one ("wait")
// moves time to `earliest_timer` (the endpoints' earliest next_timer()) when that is later.
inline constexpr transport::TimeNs next_input_time(transport::TimeNs now, bool empty_frame,
                                                   transport::TimeNs earliest_timer) {
  const transport::TimeNs stepped = now + kFrameStepNs;
  if (!empty_frame || earliest_timer == transport::kNever || earliest_timer <= stepped) return stepped;
  return earliest_timer;
}

// Initial TxID of every local link, so that seeds can name in-flight ids.
inline constexpr std::uint32_t kLocalInitialTxId = 0x00002000;

// The message queued under kOptSend: kMessageByte repeated; weft: three jumbo segments, compat:
// one PAYLOAD (compat messages are 1..1024 B).
inline constexpr std::uint8_t kMessageByte = 0xA5;
inline constexpr std::size_t message_bytes(transport::Profile p) {
  return p == transport::Profile::kWeft ? 20000 : 1000;
}

inline transport::EndpointConfig endpoint_config(transport::Profile profile,
                                                 transport::wire::Encapsulation enc) {
  transport::EndpointConfig c;
  c.profile = profile;
  c.encapsulation = enc;
  c.node_id = kLocalNode;
  c.rng_seed = 1;
  c.fixed_initial_tx_id = kLocalInitialTxId;
  return c;
}

}  // namespace weft::fuzz
