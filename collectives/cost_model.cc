// α-β-γ predictions per algorithm (see cost_model.h). n is the bytes each rank contributes
// (all-reduce, broadcast, reduce) or the whole gathered / scattered array (the others); p ranks.
#include "weft/collectives/cost_model.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace weft::collectives {
namespace {

double lg(int p) { return std::ceil(std::log2(static_cast<double>(std::max(p, 1)))); }
bool pow2(int p) { return p > 0 && (p & (p - 1)) == 0; }

// A pipeline of `stages` hops moving `bytes` in segments: (stages + k - 1) segment times.
double pipeline(double stages, double bytes, double alpha, double beta, double seg) {
  if (bytes <= 0) return stages * alpha;
  const double k = std::ceil(bytes / seg);
  const double s = std::min(seg, bytes);
  return (stages + k - 1) * (alpha + s * beta);
}

}  // namespace

double predict_us(Algorithm algorithm, Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                  const Topology& topology, const LinkParams& link, std::size_t segment_bytes) {
  if (!algorithm_supports(algorithm, collective, size, topology) || algorithm == Algorithm::kAuto) return -1;
  const double p = size;
  const double seg = static_cast<double>(std::max<std::size_t>(segment_bytes, 8));
  const double g = link.gamma_us_per_byte;
  // Flat algorithms cross pods whenever there is more than one: the slower path class bounds them.
  const bool multi_pod = topology.ranks_per_pod > 0 && topology.ranks_per_pod < size;
  const double a = multi_pod ? std::max(link.alpha_us, link.inter_alpha_us) : link.alpha_us;
  const double b = multi_pod ? std::max(link.beta_us_per_byte, link.inter_beta_us_per_byte) : link.beta_us_per_byte;
  const double n = static_cast<double>(collective_bytes(collective, count, DataType::kU8, size) * elem_bytes);
  if (size == 1 || collective == Collective::kSend || collective == Collective::kRecv) {
    return algorithm == Algorithm::kDirect ? a + n * b : -1;
  }
  const double fold = pow2(size) ? 0 : 2 * (a + n * b);  // non-power-of-two pre/post steps
  switch (collective) {
    case Collective::kAllReduce:
      switch (algorithm) {
        case Algorithm::kRing:
          return pipeline(2 * (p - 1), n / p, a, b, seg) + (p - 1) / p * n * g;
        case Algorithm::kRecursiveDoubling:
          return lg(size) * (a + n * b + n * g) + fold;
        case Algorithm::kRabenseifner:
          return 2 * lg(size) * a + 2 * (p - 1) / p * n * b + (p - 1) / p * n * g + fold;
        case Algorithm::kDoubleBinaryTree: {
          // Depth d each way; an interior rank moves about 2n (half from each child, half to its
          // parent, both halves down): pipelined segments of the half buffer.
          const double d = std::floor(std::log2(p)) + 1;
          const double half = n / 2;
          const double k = std::ceil(half / seg), s = std::min(seg, half);
          return (2 * d + 2 * (k - 1)) * (a + 2 * s * b) + n * g;
        }
        case Algorithm::kHierarchical: {
          const int per = topology.ranks_per_pod;
          const double ap = per, bp = p / per;
          const double chunk = n / ap;
          const double intra = 2 * pipeline(ap - 1, n / ap, link.alpha_us, link.beta_us_per_byte, seg);
          const double inter =
              chunk < seg ? lg(static_cast<int>(bp)) * (link.inter_alpha_us + chunk * link.inter_beta_us_per_byte)
                          : pipeline(2 * (bp - 1), chunk / bp, link.inter_alpha_us, link.inter_beta_us_per_byte, seg);
          return intra + inter + (p - 1) / p * n * g;
        }
        default: return -1;
      }
    case Collective::kAllGather:
      switch (algorithm) {
        case Algorithm::kRing: return pipeline(p - 1, n / p, a, b, seg);
        case Algorithm::kRecursiveDoubling: return lg(size) * a + (p - 1) / p * n * b;
        case Algorithm::kBruck: return lg(size) * a + (p - 1) / p * n * b + 2 * n * g;  // + the local rotation
        default: return -1;
      }
    case Collective::kReduceScatter:
      switch (algorithm) {
        case Algorithm::kRing: return pipeline(p - 1, n / p, a, b, seg) + (p - 1) / p * n * g + n * g;
        case Algorithm::kRabenseifner: return lg(size) * a + (p - 1) / p * n * (b + g) + n * g;
        default: return -1;
      }
    case Collective::kBroadcast:
    case Collective::kReduce: {
      const double red = collective == Collective::kReduce ? g : 0;
      const double k = std::ceil(std::max(n, 1.0) / seg), s = std::min(seg, n);
      switch (algorithm) {
        case Algorithm::kBinomialTree:  // the root sends every segment lg p times
          return (lg(size) * k + lg(size) - 1) * (a + s * (b + red));
        case Algorithm::kChain: return pipeline(p - 1, n, a, b + red, seg);
        default: return -1;
      }
    }
    case Collective::kBarrier: return algorithm == Algorithm::kBruck ? lg(size) * a : -1;
    case Collective::kAllToAll:
      switch (algorithm) {
        case Algorithm::kPairwise: return (p - 1) * (a + n / p * b);
        case Algorithm::kBruck: return lg(size) * (a + n / 2 * b) + (lg(size) + 2) * n * g;
        default: return -1;
      }
    case Collective::kSend:
    case Collective::kRecv: break;
  }
  return -1;
}

std::vector<CostEstimate> rank_algorithms(Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                                          const Topology& topology, const LinkParams& link,
                                          std::size_t segment_bytes) {
  std::vector<CostEstimate> out;
  for (std::size_t i = 1; i < kAlgorithmCount; ++i) {
    const auto alg = static_cast<Algorithm>(i);
    const double t = predict_us(alg, collective, count, elem_bytes, size, topology, link, segment_bytes);
    if (t >= 0) out.push_back({alg, t});
  }
  std::stable_sort(out.begin(), out.end(), [](const CostEstimate& x, const CostEstimate& y) { return x.time_us < y.time_us; });
  return out;
}

Algorithm choose_algorithm(Collective collective, std::size_t count, std::size_t elem_bytes, int size,
                           const Topology& topology, const LinkParams& link, std::size_t segment_bytes) {
  if (size <= 1 || collective == Collective::kSend || collective == Collective::kRecv) return Algorithm::kDirect;
  const auto ranked = rank_algorithms(collective, count, elem_bytes, size, topology, link, segment_bytes);
  return ranked.empty() ? Algorithm::kDirect : ranked.front().algorithm;
}

}  // namespace weft::collectives
