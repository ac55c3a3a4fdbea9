// `weft sim --scenario FILE.json`: a scenario file in, a simulated run on the ns-3 model, results
// out as JSON and CSV. This header uses only standard types, so the weft program (C++20) can call
// the runner (compiled as C++17 with ns-3).
//
// Scenario file (every field but "topology.kind" optional; unknown fields are errors):
//   {
//     "name": "pod-allreduce",            "seed": 1,            "deadline_ms": 10000,
//     "topology": {
//       "kind": "pod" | "leaf-spine" | "fat-tree" | "combined",
//       "k": 4,                                               (fat-tree: k-ary, k^3/4 hosts)
//       "hosts": 8,                                           (pod)
//       "leaves": 4, "hosts_per_leaf": 4, "spines": 2,        (leaf-spine)
//       "pods": 4, "pod_size": 8, "spines": 2, "scaleup_gbps": 100, "shared": true
//                         (combined: each accelerator has a scale-up port to its pod's switch and
//                          a scale-out port to its pod's leaf; shared: those are one switch, on
//                          one network with the spines; else the scale-up switches stand apart)
//       "link_gbps": 100, "link_delay_us": 1,                 host links
//       "uplink_gbps": 100, "uplink_delay_us": 1,             leaf-spine links
//       "switch": { "queue_bytes": 1048576, "ecn_threshold_bytes": 0, "priority": true,
//                   "path": "ecmp" | "spray" | "adaptive" | "first",
//                   "shared_buffer_bytes": 0, "dt_alpha": 1,     (0: per-port buffers)
//                   "pfc": false, "pfc_xoff_bytes": 65536, "pfc_xon_bytes": xoff / 2 }
//     },
//     "loss": 0.0,                                            per frame, every link direction
//     "transport": { "rto_initial_us": 1000, "rto_min_us": 100 }  every host's timers
//     "workload": { "kind": "collective", "collective": "allreduce", "bytes": 1048576,
//                   "dtype": "float", "op": "sum", "algorithm": "auto", "root": 0,
//                   "communicator": "world" | "pods" | "rails" }
//              or { "kind": "scaleup+scaleout", "scaleup": { collective fields }, "scaleout": { ... } }
//                         (a collective in every pod and one in every rail — the hosts at the
//                          same place in each pod — at once; results per job, prefixed)
//              or { "kind": "incast", "bytes": 1048576, "senders": 7, "receiver": 0,
//                   "profile": "weft" | "ttpoe-compat", "recv_buffer_bytes": 4194304,
//                   "nack_full": true }
//              or { "kind": "permutation", "bytes": 1048576, "profile": "weft" }
//   }
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace weft::ns3sim {

// A scenario file that cannot run; what() names the field ("topology.hosts: ...").
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SimRun {
  std::string json;        // one JSON object: the scenario's settings and every result
  std::string csv_header;  // CSV column names
  std::string csv_row;     // the same results as one CSV row
  std::string table;       // a short human-readable summary (several lines)
  std::string ports_csv;   // one row per switch port: traffic, drops, ECN marks, queue occupancy
  std::string queue_series_csv;  // with queue_sample_us: switch queues over time (see run_scenario)
  bool ok = false;         // every rank finished, no wrong element, every frame accounted for
};

// Parses and validates `scenario_json` (throws ScenarioError), runs it, and returns the results.
// `seed_override` >= 0 replaces the file's seed. `baseline`: afterwards, replay the frames every
// host sent on the same topology with no protocol (bare ns-3 forwarding) and report both speeds.
// `queue_sample_us` > 0: every that many microseconds of virtual time, one CSV row per switch port
// holding bytes (time_us, switch_node, port, peer_node, queue_bytes, switch_buffer_bytes; a port
// not listed at a time is empty) into SimRun::queue_series_csv. The samples are ns-3 events of
// their own: speed figures are for runs without them.
SimRun run_scenario(const std::string& scenario_json, long long seed_override = -1, bool baseline = false,
                    double queue_sample_us = 0);

}  // namespace weft::ns3sim
