// encrypted_pair: two processes talking weft over UDP loopback, every frame encrypted.
//
// udp_pair with security turned on. The parent makes a fresh cluster key (generate_cluster_key)
// and forks; the child inherits one end of a pipe and reads the key from it (load_cluster_key_fd),
// the way a launcher hands a key to the processes it spawns: no key file on disk, nothing on the
// command line, nothing in the environment. Both endpoints get the same Credentials, so their
// OPEN/OPEN_ACK handshake is authenticated by the cluster key, an X25519 exchange gives the link
// its own keys, and every later frame is sealed with an AEAD (AES-256-GCM where the CPU has it).
// The child echoes what it receives; the parent checks the echoes and prints the negotiated suite
// and provider, then both print their link's drop counters (all 0 on a clean run: a frame that
// fails authentication, is replayed or arrives under an unknown key would be counted there).
//
// What to notice:
//  - Security is one field: EndpointConfig::credentials. nullptr means plaintext (the library
//    default, as in udp_pair); the `weft` tools refuse that unless --insecure is given.
//  - wall_clock_offset_ns(): OPENs carry a wall-clock stamp so a replayed OPEN is refused; a real
//    process sets the offset from the clock its Driver uses (monotonic by default).
//  - rng_seed comes from the system CSPRNG: initial TxIDs and epochs must differ between runs.
//  - Keys live in guarded memory inside Credentials; the key text that crossed the pipe is wiped.
//
// Usage: encrypted_pair   (exit status 0 when the echo matched, the link was encrypted and both
// sides closed cleanly)

#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "weft/crypto/credentials.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/udp_datapath.h"

using namespace weft::transport;  // a short program; real code would name what it uses
namespace crypto = weft::crypto;

namespace {

constexpr Vc kVc = Vc::kData;
constexpr TimeNs kDeadlineNs = 10'000'000'000;  // 10 s for the whole exchange

EndpointConfig secure_udp_config(std::shared_ptr<const crypto::Credentials> creds) {
  EndpointConfig c = with_host_timers(EndpointConfig{});
  c.encapsulation = wire::Encapsulation::kUdp;
  c.retry_budget_us = 3'000'000;                // a silent peer fails the link after 3 s
  c.rng_seed = (std::uint64_t{randombytes_random()} << 32) | randombytes_random();
  c.credentials = std::move(creds);             // authenticated handshake, sealed frames
  c.wall_clock_offset_ns = wall_clock_offset_ns();  // the Driver's clock: monotonic
  return c;
}

void print_drops(const char* who, const LinkStats& s) {
  std::printf("[%s] link drops: bad-tag %llu, replay %llu, stale-epoch %llu, unknown-key %llu, malformed %llu\n",
              who, static_cast<unsigned long long>(s.drops_bad_tag), static_cast<unsigned long long>(s.drops_replay),
              static_cast<unsigned long long>(s.drops_stale_epoch),
              static_cast<unsigned long long>(s.drops_unknown_key),
              static_cast<unsigned long long>(s.drops_malformed));
}

std::uint64_t link_drops(const LinkStats& s) {
  return s.drops_bad_tag + s.drops_replay + s.drops_stale_epoch + s.drops_unknown_key + s.drops_malformed;
}

// The child: read the cluster key from the inherited descriptor, then echo every message on the
// link it arrived on until that link closes.
int responder(int key_fd, int port_pipe) {
  auto creds = std::make_shared<crypto::Credentials>();
  try {
    crypto::load_cluster_key_fd(key_fd, *creds);  // reads to EOF, then closes key_fd
  } catch (const std::exception& e) {
    std::printf("[responder] cannot read the key: %s\n", e.what());
    return 1;
  }
  UdpDatapath udp(UdpOptions{.bind = "127.0.0.1:0"});
  const std::uint16_t port = udp.local_address().port;
  if (write(port_pipe, &port, sizeof port) != sizeof port) return 1;
  close(port_pipe);

  Endpoint ep(secure_udp_config(creds));
  Driver driver(ep, udp);
  bool closed = false;
  driver.run_until(monotonic_now_ns() + kDeadlineNs, [&](Event& ev) {
    if (ev.kind == EventKind::kOpened) {
      const auto info = ep.link_info(ev.peer, ev.vc);
      std::printf("[responder] link from node %u open: %s %.*s (%.*s)\n", ev.peer,
                  info && info->encrypted ? "encrypted" : "PLAINTEXT", info ? static_cast<int>(info->suite.size()) : 0,
                  info ? info->suite.data() : "", info ? static_cast<int>(info->provider.size()) : 0,
                  info ? info->provider.data() : "");
    }
    if (ev.kind == EventKind::kMessage) {
      std::printf("[responder] got %zu B, echoing\n", ev.message.size());
      const SharedBytes echo = SharedBytes::adopt(std::move(ev.message));
      if (!ep.send_shared(ev.peer, ev.vc, echo, monotonic_now_ns()).ok()) return true;
    }
    if (ev.kind == EventKind::kError) std::printf("[responder] link error: %s\n", ev.detail.c_str());
    if (ev.kind == EventKind::kClosed || ev.kind == EventKind::kError) print_drops("responder", ev.stats);
    closed = ev.kind == EventKind::kClosed && link_drops(ev.stats) == 0;
    return ev.kind == EventKind::kClosed || ev.kind == EventKind::kError;
  });
  std::printf("[responder] %s; endpoint dropped %llu frame(s)\n", closed ? "link closed cleanly" : "gave up",
              static_cast<unsigned long long>(ep.stats().drops_total()));
  return closed ? 0 : 1;
}

// The parent: open, send three messages, check the echoes and that the link is encrypted, close.
int sender(std::shared_ptr<const crypto::Credentials> creds, std::uint16_t port) {
  UdpDatapath udp(UdpOptions{.bind = "127.0.0.1:0"});
  const NodeId peer = udp.add_peer(UdpAddress{0x7F000001, port});  // 127.0.0.1
  Endpoint ep(secure_udp_config(std::move(creds)));
  Driver driver(ep, udp);

  const std::string hello = "hello, encrypted", secret = "this text never crosses the wire in the clear";
  std::vector<std::vector<std::uint8_t>> sent = {
      {hello.begin(), hello.end()}, {secret.begin(), secret.end()}, std::vector<std::uint8_t>(256u << 10)};
  for (std::size_t i = 0; i < sent[2].size(); ++i) sent[2][i] = static_cast<std::uint8_t>(i * 131 + 7);

  if (!ep.open(peer, kVc, monotonic_now_ns()).ok()) return 1;
  for (const auto& m : sent) {
    if (!ep.send(peer, kVc, m, monotonic_now_ns()).ok()) return 1;
  }
  std::size_t echoed = 0;
  bool ok = true;
  const TimeNs deadline = monotonic_now_ns() + kDeadlineNs;
  const bool finished = driver.run_until(deadline, [&](Event& ev) {
    switch (ev.kind) {
      case EventKind::kOpened: {
        const auto info = ep.link_info(peer, kVc);
        const bool encrypted = info && info->encrypted;
        ok = ok && encrypted;
        std::printf("[sender] link to 127.0.0.1:%u open: %s %.*s (%.*s), key generation %u\n", port,
                    encrypted ? "encrypted" : "PLAINTEXT (unexpected)", info ? static_cast<int>(info->suite.size()) : 0,
                    info ? info->suite.data() : "", info ? static_cast<int>(info->provider.size()) : 0,
                    info ? info->provider.data() : "", info ? unsigned{info->tx_key_generation} : 0u);
        return false;
      }
      case EventKind::kMessage: {
        const bool same = ev.message == sent[echoed];
        ok = ok && same;
        if (ev.message.size() < 100) {
          std::printf("[sender] echo %zu: \"%.*s\", %s\n", echoed, static_cast<int>(ev.message.size()),
                      reinterpret_cast<const char*>(ev.message.data()), same ? "identical" : "DIFFERENT");
        } else {
          std::printf("[sender] echo %zu: %zu B, %s\n", echoed, ev.message.size(), same ? "identical" : "DIFFERENT");
        }
        if (++echoed == sent.size()) (void)ep.close(peer, kVc, monotonic_now_ns());
        return false;
      }
      case EventKind::kClosed:
        std::printf("[sender] link closed; %llu retransmit(s)\n",
                    static_cast<unsigned long long>(ev.stats.retransmits));
        print_drops("sender", ev.stats);
        ok = ok && link_drops(ev.stats) == 0;
        return true;
      case EventKind::kError:
        std::printf("[sender] link error: %s\n", ev.detail.c_str());
        print_drops("sender", ev.stats);
        ok = false;
        return true;
      case EventKind::kPeerClosing:
        return false;
    }
    return false;
  });
  std::printf("[sender] endpoint dropped %llu frame(s)\n", static_cast<unsigned long long>(ep.stats().drops_total()));
  return finished && ok && echoed == sent.size() ? 0 : 1;
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 1;
  // The cluster key: fresh, in guarded memory. Its text form goes to the child through a pipe.
  auto creds = std::make_shared<crypto::Credentials>();
  crypto::generate_cluster_key(*creds);

  int key_pipe[2], port_pipe[2];
  if (pipe(key_pipe) != 0 || pipe(port_pipe) != 0) return 1;
  std::fflush(stdout);
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    close(key_pipe[1]);
    close(port_pipe[0]);
    const int rc = responder(key_pipe[0], port_pipe[1]);
    std::fflush(stdout);
    _exit(rc);
  }
  close(key_pipe[0]);
  close(port_pipe[1]);
  {
    std::string text = crypto::cluster_key_text(*creds);
    const bool written = write(key_pipe[1], text.data(), text.size()) == static_cast<ssize_t>(text.size());
    sodium_memzero(text.data(), text.size());
    close(key_pipe[1]);  // EOF: the child's load_cluster_key_fd returns
    if (!written) {
      std::printf("could not hand the key to the responder\n");
      return 1;
    }
  }
  std::uint16_t port = 0;
  if (read(port_pipe[0], &port, sizeof port) != sizeof port) {
    std::printf("the responder did not start\n");
    waitpid(child, nullptr, 0);
    return 1;
  }
  int rc = 1;
  try {
    rc = sender(creds, port);
  } catch (const std::exception& e) {
    std::printf("[sender] %s\n", e.what());
  }
  int status = 0;
  waitpid(child, &status, 0);
  const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("%s\n", rc == 0 && child_ok ? "encrypted_pair: OK" : "encrypted_pair: FAILED");
  return rc == 0 && child_ok ? 0 : 1;
}
