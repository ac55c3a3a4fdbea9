// Baselines for `weft bench transport --datapath udp`: what the kernel does over loopback without
// weft, measured in the same run so weft's figures are compared on the same machine and load.
//
//   udp_blast       raw UDP goodput: a sender with UDP GSO (UDP_SEGMENT) and a receiver with UDP GRO
//   udp_ping_pong   raw UDP round trip of small datagrams, blocking recv or MSG_DONTWAIT busy-poll
//   tcp_stream      kernel TCP goodput with 128 KiB writes
//
// Each function fork()s its own child process for the receiving / echoing side (the child exits
// with _exit and never returns into the caller), uses plain POSIX sockets on 127.0.0.1 ephemeral
// ports, pins nothing, and bounds every wait: a child that does not answer is killed and the
// result carries an error instead of a hang. Call them from a single-threaded process (fork).
// Throughput is counted by the receiver, between its first and last byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::bench {

struct UdpBlastOptions {
  std::size_t datagram_bytes = 8972;  // UDP payload per datagram (8972 = 9000 MTU - IP - UDP)
  double duration_s = 2.0;            // how long the sender sends
  bool gso = true;                    // sender: UDP_SEGMENT, min(64, 65507 / size) segments a send
  bool gro = true;                    // receiver: UDP_GRO
  int socket_buffer_bytes = 64 << 20; // SO_RCVBUF(FORCE) / SO_SNDBUF(FORCE)
};

struct UdpBlastResult {
  bool ok = false;
  std::string error;               // why !ok
  double gbps = 0;                 // payload bits received per second (receiver's clock)
  double mpps = 0;                 // datagrams received per second, millions
  std::uint64_t datagrams_sent = 0;
  std::uint64_t datagrams_received = 0;
  double loss = 0;                 // 1 - received / sent
  bool gso = false;                // GSO actually used (probe succeeded)
  bool gro = false;                // GRO actually used
  std::size_t segments_per_send = 1;
};

UdpBlastResult udp_blast(const UdpBlastOptions& options);

struct PingPongOptions {
  std::size_t message_bytes = 64;  // UDP payload of each ping and pong
  std::size_t iterations = 50000;  // timed round trips
  std::size_t warmup = 1000;       // untimed round trips first
  bool busy_poll = false;          // both sides spin on recv(MSG_DONTWAIT) instead of blocking
};

struct PingPongResult {
  bool ok = false;
  std::string error;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double mean_us = 0;
  std::uint64_t round_trips = 0;
  std::uint64_t lost = 0;  // pings with no pong within 100 ms (resent; not in the percentiles)
};

PingPongResult udp_ping_pong(const PingPongOptions& options);

struct TcpStreamOptions {
  std::size_t write_bytes = 128 << 10;  // bytes per write()
  double duration_s = 2.0;
};

struct TcpStreamResult {
  bool ok = false;
  std::string error;
  double gbps = 0;  // bytes read by the receiver per second of its clock
  std::uint64_t bytes = 0;
};

TcpStreamResult tcp_stream(const TcpStreamOptions& options);

}  // namespace weft::bench
