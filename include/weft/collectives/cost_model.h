// The α-β-γ cost model that picks a collective algorithm per call (DESIGN.md §5).
//
// Each algorithm's time is predicted from the number of messages on its critical path (α each),
// the bytes each rank moves on its busiest link (β each) and the bytes it reduces (γ each), after
// Thakur, Rabenseifner & Gropp (2005) and the MPICH cost comments collected in
// ../shared/research/collectives-anchors.md §4. Pipelined algorithms (ring, chain, trees) are
// modelled segment by segment: a pipeline of d stages over k segments takes (d + k - 1) segment
// times. The model sees the topology: the hierarchical algorithm pays pod-local α/β inside pods
// and the inter-pod ones across. Predictions are deterministic functions of their arguments, so
// every rank that holds the same LinkParams picks the same algorithm.
#pragma once

#include <cstddef>
#include <vector>

#include "weft/collectives/engine.h"

namespace weft::collectives {

struct CostEstimate {
  Algorithm algorithm = Algorithm::kAuto;
  double time_us = 0;
};

// Predicted time of `algorithm` running `collective` with `count` elements of `elem_bytes` each
// (OpArgs::count semantics) on `size` ranks; negative when the algorithm cannot run it.
double predict_us(Algorithm algorithm, Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                  const Topology& topology, const LinkParams& link, std::size_t segment_bytes);

// Every algorithm that can run the call, with its prediction, fastest first.
std::vector<CostEstimate> rank_algorithms(Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                                          const Topology& topology, const LinkParams& link,
                                          std::size_t segment_bytes);

// The fastest (ties: the first in Algorithm order). kDirect for one rank and point-to-point.
Algorithm choose_algorithm(Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                           const Topology& topology, const LinkParams& link, std::size_t segment_bytes);

}  // namespace weft::collectives
