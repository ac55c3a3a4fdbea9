// Ready-made SimLoop scenarios shared by the tests, the benchmark (`weft bench transport
// --datapath memory`) and the examples, so every figure comes from the same code.
//
//  - run_transfer: two hosts joined by one link; host A sends a list of messages to host B (and
//    optionally B to A), every message's bytes generated from the seed and checked on arrival;
//    then both close. Reports goodput in virtual time, per-link stats and any failure.
//  - run_incast: N senders and one receiver on a switch; each sender streams for a fixed virtual
//    time; reports per-flow goodput, Jain's fairness index and the bottleneck queue.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/sim_loop.h"

namespace weft::transport::sim {

struct TransferSpec {
  EndpointConfig endpoint;          // both hosts (node ids 1 and 2 are set by the scenario)
  LinkConfig link;                  // the link between them
  std::uint64_t seed = 1;           // drives the link faults, endpoint randomness and message bytes
  std::vector<std::uint32_t> a_to_b;  // message sizes sent by A, in order
  std::vector<std::uint32_t> b_to_a;  // message sizes sent by B, in order
  Vc vc = Vc::kData;
  bool close_at_end = true;         // A closes once all its messages are acknowledged
  TimeNs deadline = us_to_ns(60'000'000);  // virtual-time limit of the run
  std::uint64_t queue_ahead_bytes = 8u << 20;  // each sender keeps up to this much queued
  std::function<void(const TraceRecord&)> trace;  // optional: every frame put on the wire
};

struct TransferResult {
  bool ok = false;                  // everything delivered exactly once, in order, identical, closed
  std::string failure;              // why not, when !ok (includes the seed)
  std::uint64_t messages_expected = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t corrupt_messages = 0;   // wrong size or bytes
  std::vector<std::string> errors;  // kError events, as "node N: detail"
  bool a_closed = false;
  bool b_closed = false;
  TimeNs start = 0;
  TimeNs last_delivery = 0;
  TimeNs end = 0;
  double goodput_gbps = 0;          // A->B message bytes * 8 / (last delivery - start)
  LinkInfo a_link;                  // A's view of the link just before it closed (or at the end)
  LinkInfo b_link;
  PortStats a_port;                 // A's transmit direction
  PortStats b_port;
  std::uint64_t events = 0;
};

TransferResult run_transfer(const TransferSpec& spec);

struct IncastSpec {
  EndpointConfig endpoint;
  int senders = 8;
  LinkConfig link;                  // every host-switch link (queue limit and ECN apply at the switch)
  std::uint64_t seed = 1;
  TimeNs duration = us_to_ns(4000); // each sender streams this long
  TimeNs measure_from = us_to_ns(1000);  // goodput counted after this (skips the start-up)
  std::uint32_t message_bytes = 64u << 10;
  // Each sender opens at a seeded random time in [0, start_jitter) so seeds give different runs.
  TimeNs start_jitter = us_to_ns(20);
};

struct IncastResult {
  std::vector<double> flow_gbps;    // per sender, over [measure_from, duration]
  double total_gbps = 0;
  double jain_index = 0;
  std::uint64_t max_queue_bytes = 0;  // bottleneck (switch port to the receiver)
  std::uint64_t queue_drops = 0;
  std::uint64_t ecn_marked = 0;
  std::uint64_t errors = 0;
  std::uint64_t events = 0;
};

IncastResult run_incast(const IncastSpec& spec);

// Deterministic message bytes: message `index` of `size` B under `seed`.
void fill_message(std::uint64_t seed, std::uint64_t index, std::vector<std::uint8_t>& out,
                  std::uint32_t size);

// Jain's fairness index of x: (sum x)^2 / (n * sum x^2); 1 is perfectly fair.
double jain_index(const std::vector<double>& x);

}  // namespace weft::transport::sim
