// fuzz_secure_endpoint: libFuzzer target for a secured endpoint past authentication.
//
// Setup (every input): two secured endpoints, node 1 (under test) and node 2, complete a real
// handshake over UDP encapsulation (X25519, cluster-key MACs), with the null AEAD of null_aead.h,
// so node 1 holds an OPEN link to node 2 on the DATA VC. Input byte 0: bit 0 node 1 queues a
// 20,000 B message first (so ACK/NACK paths have data in flight); bit 1 keep each frame's own
// epoch (else the link's). Then frames, each a 2-byte big-endian length and that many bytes: the
// *plaintext* of a frame from node 2 (TTP header, then extension block and payload). The harness
// protects it as node 2 would (flag 0x04, a security header with the next counter, a zero tag),
// with tx_id and rx_id read as offsets from the link's receive and send points, and feeds it to
// node 1. Shorter than a TTP header: fed raw. Properties as fuzz_endpoint: no crash or sanitizer
// report, every frame node 1 sends decodes, poll_transmit / poll_event run dry.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "null_aead.h"
#include "weft/crypto/credentials.h"
#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace {

namespace transport = weft::transport;
namespace wire = weft::transport::wire;
namespace crypto = weft::crypto;

constexpr int kDrainLimit = 1 << 16;
constexpr transport::Vc kVc = transport::Vc::kData;

[[gnu::noinline]] void require(bool property_holds) {
  if (!property_holds) __builtin_trap();
}

std::shared_ptr<const crypto::Credentials> credentials() {
  static const weft::fuzz::NullAead null_aes(crypto::Suite::kAes256Gcm);
  static const weft::fuzz::NullAead null_chacha(crypto::Suite::kChaCha20Poly1305);
  static const auto creds = [] {
    auto c = std::make_shared<crypto::Credentials>();
    std::array<std::uint8_t, crypto::kClusterKeyBytes> key{};
    key.fill(0x42);
    c->set_cluster_key(key);
    c->aes256gcm = &null_aes;
    c->chacha20poly1305 = &null_chacha;
    c->deterministic_ephemeral = true;
    return c;
  }();
  return creds;
}

transport::EndpointConfig config(transport::NodeId node) {
  transport::EndpointConfig c;
  c.encapsulation = wire::Encapsulation::kUdp;
  c.node_id = node;
  c.rng_seed = 1;
  c.fixed_initial_tx_id = 0x2000;
  c.credentials = credentials();
  return c;
}

// Drains `from`; frames go to `to` when given (the handshake), else are only checked.
void drain(transport::Endpoint& from, transport::Endpoint* to, transport::TimeNs now) {
  static std::uint8_t buf[wire::kWeftMaxFrameBytes + 1024];
  transport::Transmit tx;
  int frames = 0;
  while (from.poll_transmit(buf, now, tx)) {
    require(++frames < kDrainLimit);
    wire::Frame f;
    wire::DecodeOptions opt;
    opt.encapsulation = wire::Encapsulation::kUdp;
    require(wire::decode({buf, tx.bytes}, opt, f) == wire::DecodeError::kNone);
    if (to != nullptr) to->on_frame({buf, tx.bytes}, now, from.config().node_id);
    tx = transport::Transmit{};
  }
  int events = 0;
  while (from.poll_event()) require(++events < kDrainLimit);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t options = data[0];
  transport::Endpoint a(config(1)), b(config(2));
  transport::TimeNs now = 1'000'000'000;
  require(a.open(2, kVc, now).ok());
  for (int i = 0; i < 4; ++i) {
    drain(a, &b, now);
    drain(b, &a, now);
  }
  require(a.state(2, kVc) == transport::LinkState::kOpen);
  static const std::vector<std::uint8_t> message(20000, 0xA5);
  if (options & 0x01) static_cast<void>(a.send(2, kVc, message, now).ok());
  drain(a, nullptr, now);

  const auto info = *a.link_info(2, kVc);
  std::uint64_t counter = b.link_info(1, kVc)->tx_counter;
  std::vector<std::uint8_t> frame;
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    std::size_t len = rest.size() >= 2 ? (std::size_t{rest[0]} << 8 | rest[1]) : 0;
    rest = rest.subspan(rest.size() >= 2 ? 2 : rest.size());
    if (len > rest.size()) len = rest.size();
    const std::span<const std::uint8_t> plain = rest.first(len);
    rest = rest.subspan(len);
    now += 1000;
    if (plain.size() < wire::kTtpBytes) {
      a.on_frame(plain, now, 2);
    } else {
      // Protect it as node 2 would: header (ids relative to the link), security header, body, tag.
      frame.assign(plain.begin(), plain.begin() + wire::kTtpBytes);
      auto put32 = [&](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) frame[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
      };
      auto get32 = [&](std::size_t at) {
        return std::uint32_t{plain[at]} << 24 | std::uint32_t{plain[at + 1]} << 16 |
               std::uint32_t{plain[at + 2]} << 8 | plain[at + 3];
      };
      put32(10, info.rx_last_id + 1 + get32(10));
      put32(14, info.next_tx_id - 1 + get32(14));
      if (!(options & 0x02)) {
        frame[4] = static_cast<std::uint8_t>(info.local_epoch >> 8);
        frame[5] = static_cast<std::uint8_t>(info.local_epoch);
      }
      frame[7] |= wire::kFlagProtected;
      const std::uint64_t c = counter++;
      frame.insert(frame.end(), {wire::kSecurityVersion, 0, 0, 0});
      for (int i = 7; i >= 0; --i) frame.push_back(static_cast<std::uint8_t>(c >> (8 * i)));
      frame.insert(frame.end(), plain.begin() + wire::kTtpBytes, plain.end());
      frame.insert(frame.end(), wire::kTagBytes, 0);
      a.on_frame(frame, now, 2);
    }
    if (a.next_timer() <= now) a.on_timer(now);
    drain(a, nullptr, now);
  }
  for (int i = 0; i < 16; ++i) {
    const transport::TimeNs next = a.next_timer();
    if (next == transport::kNever) break;
    if (next > now) now = next;
    a.on_timer(now);
    drain(a, nullptr, now);
  }
  return 0;
}
