// fuzz_endpoint: libFuzzer target for the sans-I/O protocol core (weft::transport::Endpoint).
//
// Input format: endpoint_input.h (an options byte, then length-prefixed frames from node 2).
//
// Two endpoints with node id 1, one per profile, receive every frame in turn, with virtual time
// advancing 1 us per frame (an empty frame waits for the next timer). After each frame a due timer fires and everything the endpoints want
// to send and report is drained; at the end the timers run on for a few more expiries. The
// properties: no crash, no sanitizer report, every frame an endpoint sends decodes under its own
// profile (within its frame limit), and poll_transmit / poll_event eventually run dry.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <vector>

#include "endpoint_input.h"
#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace {

namespace transport = weft::transport;
namespace wire = weft::transport::wire;
namespace fuzz = weft::fuzz;

constexpr int kTimerRunsAtEnd = 16;
// More frames or events than this from one drain means poll_* never runs dry: a livelock.
constexpr int kDrainLimit = 1 << 16;

// A violated property: trap, so libFuzzer reports the input as a crash, saves and minimises it.
// The stack trace names the failing line (the caller's frame).
[[gnu::noinline]] void require(bool property_holds) {
  if (!property_holds) __builtin_trap();
}

struct Subject {
  std::unique_ptr<transport::Endpoint> ep;
  wire::DecodeOptions decode_sent;  // how frames this endpoint sends must decode
};

Subject make_subject(transport::Profile profile, wire::Encapsulation enc) {
  Subject s;
  s.decode_sent.encapsulation = enc;
  s.decode_sent.parse_extensions = profile == transport::Profile::kWeft;
  s.decode_sent.max_frame_bytes = profile == transport::Profile::kWeft ? wire::kWeftMaxFrameBytes
                                                                       : wire::kCompatMaxFrameBytes;
  try {
    s.ep = std::make_unique<transport::Endpoint>(fuzz::endpoint_config(profile, enc));
  } catch (const std::exception&) {
    // A configuration the endpoint refuses at setup (exceptions are for setup failures only):
    // this subject sits the input out.
  }
  return s;
}

void drain(Subject& s, transport::TimeNs now) {
  static std::uint8_t buf[wire::kWeftMaxFrameBytes + 1024];
  const std::span<std::uint8_t> out(buf, sizeof(buf));
  transport::Transmit tx;
  int frames = 0;
  while (s.ep->poll_transmit(out, now, tx)) {
    require(++frames < kDrainLimit);
    require(tx.bytes > 0 && tx.bytes <= s.ep->config().max_frame_bytes);
    // Decoding checks the profile's frame limit too (compat: 1536 B).
    wire::Frame f;
    require(wire::decode(out.first(tx.bytes), s.decode_sent, f) == wire::DecodeError::kNone);
    require(f.ttp.opcode == tx.opcode);
    tx = transport::Transmit{};
  }
  int events = 0;
  while (s.ep->poll_event()) require(++events < kDrainLimit);
}

transport::TimeNs earliest_timer(std::span<const Subject> subjects) {
  transport::TimeNs next = transport::kNever;
  for (const Subject& s : subjects) {
    if (s.ep && s.ep->next_timer() < next) next = s.ep->next_timer();
  }
  return next;
}

void step(Subject& s, transport::TimeNs now) {
  if (!s.ep) return;
  if (s.ep->next_timer() <= now) s.ep->on_timer(now);
  drain(s, now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t options = data[0];
  const wire::Encapsulation enc = fuzz::option_encapsulation(options);
  const transport::Vc vc = fuzz::option_vc(options);
  Subject subjects[] = {make_subject(transport::Profile::kWeft, enc),
                        make_subject(transport::Profile::kTtpoeCompat, enc)};
  const std::uint8_t open_bits[] = {fuzz::kOptOpenWeft, fuzz::kOptOpenCompat};

  transport::TimeNs now = fuzz::kStartNs;
  static const std::vector<std::uint8_t> message(
      fuzz::message_bytes(transport::Profile::kWeft), fuzz::kMessageByte);
  for (int i = 0; i < 2; ++i) {
    Subject& s = subjects[i];
    if (!s.ep || (options & open_bits[i]) == 0) continue;
    if (!s.ep->open(fuzz::kPeerNode, vc, now).ok()) continue;
    if ((options & fuzz::kOptSend) != 0) {
      // A refused send is fine; a crash is not.
      const auto bytes = std::span<const std::uint8_t>(message).first(
          fuzz::message_bytes(s.ep->config().profile));
      static_cast<void>(s.ep->send(fuzz::kPeerNode, vc, bytes, now).ok());
    }
    step(s, now);
  }

  std::span<const std::uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    std::size_t len = rest.size() >= 2 ? (std::size_t{rest[0]} << 8 | rest[1]) : 0;
    rest = rest.subspan(rest.size() >= 2 ? 2 : rest.size());
    if (len > rest.size()) len = rest.size();
    const std::span<const std::uint8_t> frame = rest.first(len);
    rest = rest.subspan(len);
    now = fuzz::next_input_time(now, frame.empty(), earliest_timer(subjects));
    for (Subject& s : subjects) {
      if (!s.ep) continue;
      if (!frame.empty()) s.ep->on_frame(frame, now, fuzz::kPeerNode);
      step(s, now);
    }
  }

  // Let retransmission and close timers run for a few expiries.
  for (int i = 0; i < kTimerRunsAtEnd; ++i) {
    const transport::TimeNs next = earliest_timer(subjects);
    if (next == transport::kNever) break;
    if (next > now) now = next;
    for (Subject& s : subjects) step(s, now);
  }
  return 0;
}
