// Plans: what one rank does for one collective, as a list of steps over byte ranges of the
// operation's buffers. Built by the algorithm builders (plan.cc), run by the engine's executor
// (engine.cc). Internal to libweft.
//
// A step is a send of a range to a peer, a receive from a peer into a range (copy, or reduce into
// what the range holds), or a local copy. Steps are listed in program order; finalize() derives
// the dependencies from overlapping ranges: a step waits for every earlier step that writes what
// it touches, or reads what it writes. When both ranges are the very same range the dependency is
// per segment (segment s waits for segment s only), which is what makes rings, chains and trees
// pipeline. The k-th send from rank a to rank b matches the k-th receive at b from a: builders
// emit both sides in the same order, and finalize() numbers them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weft/collectives/engine.h"

namespace weft::collectives::detail {

enum class Buf : std::uint8_t { kInput, kOutput, kScratch, kSync };

struct Range {
  Buf buf = Buf::kOutput;
  std::size_t offset = 0;  // bytes
  std::size_t len = 0;     // bytes
};

// kRecvReduceFrom: dst = src op message (src another range, typically the input): the first
// reduction into a range needs no copy of the input beforehand.
enum class StepKind : std::uint8_t { kSend, kRecvCopy, kRecvReduce, kRecvReduceFrom, kCopy };

struct Dep {
  std::uint32_t step = 0;
  bool per_segment = false;
  // The earlier step is a send and this one writes what it reads: with a zero-copy send the
  // transport still reads the range until the segment is acknowledged, so wait for that.
  bool after_release = false;
};

struct Step {
  StepKind kind = StepKind::kSend;
  int peer = -1;        // send / receive
  Range src;            // send, copy, receive-reduce-from
  Range dst;            // receive, copy
  bool sync = false;    // a zero-byte message that only orders (barrier); src/dst are kSync
  // Filled by finalize():
  std::uint32_t segments = 1;
  std::uint32_t message = 0;  // index among the sends to / receives from `peer`
  std::vector<Dep> deps;
};

struct Plan {
  std::vector<Step> steps;
  std::size_t scratch_bytes = 0;
  std::size_t elem_bytes = 1;
  // Ranges holding the final result of an average (finish_avg runs on them at the end).
  std::vector<Range> avg_ranges;
  // Filled by finalize(): for each peer rank, the steps that receive from it, in order.
  std::vector<std::vector<std::uint32_t>> recvs_from;
  std::uint32_t sends = 0;
  std::uint32_t recvs = 0;
};

// Everything a builder needs to know about the call.
struct PlanArgs {
  Collective collective = Collective::kAllReduce;
  Algorithm algorithm = Algorithm::kRing;  // resolved, never kAuto
  int rank = 0;
  int size = 1;
  int root = 0;
  int peer = -1;
  std::size_t count = 0;
  std::size_t elem_bytes = 4;
  bool avg = false;
  bool in_place = false;  // send == recv (all-reduce, broadcast, reduce)
  Topology topology;
};

// Builds the plan for `a` into `plan` (cleared first, capacity kept) and finalizes it with
// `segment_bytes`. Returns "" or why the algorithm cannot run the call.
std::string build_plan(const PlanArgs& a, std::size_t segment_bytes, Plan& plan);

// Derives segments, dependencies, message numbers and per-peer receive lists.
void finalize(Plan& plan, int size, std::size_t segment_bytes);

// Element range i of `count` elements cut into `parts` near-equal parts (the first count % parts
// parts hold one more).
struct Part {
  std::size_t first = 0;
  std::size_t count = 0;
};
inline Part part_of(std::size_t count, std::size_t parts, std::size_t i) {
  const std::size_t base = count / parts, extra = count % parts;
  return {i * base + (i < extra ? i : extra), base + (i < extra ? 1 : 0)};
}

}  // namespace weft::collectives::detail
