// The scenario runner behind `weft sim`: bad scenario files get errors that name the field; good
// ones run to completion with every element right and every frame accounted for; the same seed
// gives the same run, another seed (with loss) another one.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <string>

#include "sim/runner/weft_sim_runner.h"

namespace {

using weft::ns3sim::run_scenario;
using weft::ns3sim::ScenarioError;
using Json = nlohmann::json;

const char* kPod = R"({"seed": 3, "topology": {"kind": "pod", "hosts": 4, "link_gbps": 100},
                       "loss": 0.01, "workload": {"collective": "allreduce", "bytes": 262144}})";

void expect_error(const std::string& scenario, const std::string& words) {
  try {
    run_scenario(scenario);
    ADD_FAILURE() << "no error for " << scenario;
  } catch (const ScenarioError& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what() << "\n  lacks: " << words;
    std::printf("  %s\n", e.what());
  }
}

TEST(SimRunner, BadScenariosNameTheField) {
  expect_error("{", "not valid JSON");
  expect_error("[]", "scenario: must be a JSON object");
  expect_error(R"({"workload": {}})", "topology: missing");
  expect_error(R"({"topology": {"kind": "ring"}, "workload": {}})", "topology.kind: 'ring' is not one of pod, leaf-spine");
  expect_error(R"({"topology": {"hosts": 8}, "workload": {}})", "topology.kind: missing");
  expect_error(R"({"topology": {"kind": "pod", "hosts": 1}, "workload": {}})", "topology.hosts: 1 is out of range");
  expect_error(R"({"topology": {"kind": "pod", "hosts": "8"}, "workload": {}})", "topology.hosts: must be an integer");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {"bytez": 5}})", "workload.bytez: unknown field");
  expect_error(R"({"topology": {"kind": "pod", "switch": {"path": "random"}}, "workload": {}})",
               "topology.switch.path: 'random' is not one of ecmp, spray, adaptive, first");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {}, "loss": 2})", "loss: 2");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {"algorithm": "telepathy"}})",
               "workload: unknown algorithm 'telepathy'");
  expect_error(R"({"topology": {"kind": "pod"}})", "workload: missing");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {}, "transport": {"rto_initial_us": 0}})",
               "transport.rto_initial_us: 0 is out of range [1, 10000000]");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {}, "transport": {"rto": 5}})",
               "transport.rto: unknown field");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {"kind": "broadcast-storm"}})",
               "workload.kind: 'broadcast-storm' is not one of collective, incast, permutation, scaleup+scaleout");
  expect_error(R"({"topology": {"kind": "pod", "hosts": 4}, "workload": {"kind": "incast", "senders": 4}})",
               "workload.senders: 4 is out of range [1, 3]");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {"kind": "incast", "profile": "tcp"}})",
               "workload.profile: 'tcp' is not one of weft, ttpoe-compat");
  expect_error(R"({"topology": {"kind": "pod"}, "workload": {"kind": "incast", "collective": "allreduce"}})",
               "workload.collective: unknown field");
}

TEST(SimRunner, PodRunsCorrectlyAndReproducesFromItsSeed) {
  const auto a = run_scenario(kPod);
  const auto b = run_scenario(kPod);
  std::printf("%s", a.table.c_str());
  ASSERT_TRUE(a.ok) << a.json;
  const Json ja = Json::parse(a.json), jb = Json::parse(b.json);
  EXPECT_EQ(ja["wrong"], 0);
  EXPECT_EQ(ja["completed_ranks"], 4);
  EXPECT_TRUE(ja["conservation_holds"].get<bool>());
  EXPECT_GT(ja["dropped_loss"].get<int>(), 0) << "1 % loss should have lost frames";
  for (const char* k : {"completion_us", "frames_originated", "retransmissions", "dropped_loss", "events"}) {
    EXPECT_EQ(ja[k], jb[k]) << k << " differs between two runs of seed 3";
  }
  const auto c = run_scenario(kPod, 4);
  const Json jc = Json::parse(c.json);
  EXPECT_EQ(jc["seed"], 4);
  EXPECT_NE(ja["frames_originated"], jc["frames_originated"]) << "seed 4 should lose other frames";
  // CSV: a header and a row with as many columns.
  const auto columns = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  EXPECT_EQ(columns(a.csv_header), columns(a.csv_row));
}

TEST(SimRunner, LeafSpineWithSprayingAndEcn) {
  const auto r = run_scenario(R"({"topology": {"kind": "leaf-spine", "leaves": 2, "hosts_per_leaf": 2, "spines": 2,
                                   "switch": {"path": "spray", "ecn_threshold_bytes": 20000}},
                                   "workload": {"collective": "allgather", "bytes": 1048576}})");
  std::printf("%s", r.table.c_str());
  ASSERT_TRUE(r.ok) << r.json;
  const Json j = Json::parse(r.json);
  EXPECT_EQ(j["hosts"], 4);
  EXPECT_EQ(j["oversubscription"], 1.0);
  EXPECT_EQ(j["wrong"], 0);
}

// The combined fabric: accelerators with a scale-up and a scale-out port, the scale-up switches
// shared with the scale-out network or standing apart; an all-reduce is right either way, and
// frames really cross both kinds of port (a permutation across pods needs the scale-out ports).
TEST(SimRunner, CombinedFabricSharedAndSeparate) {
  for (const char* shared : {"true", "false"}) {
    const std::string topo = std::string(R"({"kind": "combined", "pods": 2, "pod_size": 4, "spines": 2, "shared": )") +
                             shared + "}";
    const auto a = run_scenario(R"({"topology": )" + topo + R"(, "workload": {"bytes": 262144}})");
    std::printf("%s", a.table.c_str());
    ASSERT_TRUE(a.ok) << a.json;
    const Json ja = Json::parse(a.json);
    EXPECT_EQ(ja["hosts"], 8);
    EXPECT_EQ(ja["wrong"], 0);
    const auto p = run_scenario(R"({"topology": )" + topo + R"(, "workload": {"kind": "permutation", "bytes": 65536}})");
    ASSERT_TRUE(p.ok) << p.json;
    EXPECT_EQ(Json::parse(p.json)["flows_finished"], 8);
  }
  expect_error(R"({"topology": {"kind": "combined", "pod_size": 1}, "workload": {}})", "topology.pod_size: 1 is out of range");
  expect_error(R"({"topology": {"kind": "combined", "shared": "yes"}, "workload": {}})",
               "topology.shared: must be true or false");
}

// A 3-tier k=4 fat-tree (16 hosts, 20 switches): a permutation crosses pods through the cores,
// with ECMP over the equal-cost paths, and an all-reduce is right.
TEST(SimRunner, FatTree) {
  const auto p = run_scenario(R"({"topology": {"kind": "fat-tree", "k": 4},
                                   "workload": {"kind": "permutation", "bytes": 262144}})");
  std::printf("%s", p.table.c_str());
  ASSERT_TRUE(p.ok) << p.json;
  const Json j = Json::parse(p.json);
  EXPECT_EQ(j["hosts"], 16);
  EXPECT_EQ(j["flows_finished"], 16);
  const auto a = run_scenario(R"({"topology": {"kind": "fat-tree", "k": 4}, "workload": {"bytes": 1048576}})");
  ASSERT_TRUE(a.ok) << a.json;
  EXPECT_EQ(Json::parse(a.json)["wrong"], 0);
  expect_error(R"({"topology": {"kind": "fat-tree", "k": 5}, "workload": {}})", "topology.k: 5 must be even");
}

// --baseline replays every host's frames with no protocol on the same topology and reports both
// packet-hop rates.
TEST(SimRunner, BaselineReplaysTheSameFrames) {
  const auto r = run_scenario(kPod, -1, /*baseline=*/true);
  std::printf("%s", r.table.c_str());
  ASSERT_TRUE(r.ok) << r.json;
  const Json j = Json::parse(r.json);
  EXPECT_GT(j["baseline_packet_hops_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["speed_vs_baseline"].get<double>(), 0.0);
  EXPECT_GE(j["packet_hops"].get<std::uint64_t>(), j["frames_originated"].get<std::uint64_t>());
}

// Seven senders into one port through a 128 KiB queue: the queue overflows, every flow still
// completes (the transport recovers what the switch dropped), and the slowdowns are reported.
TEST(SimRunner, IncastOverflowsTheQueueAndRecovers) {
  const auto r = run_scenario(R"({"topology": {"kind": "pod", "hosts": 8, "switch": {"queue_bytes": 131072}},
                                   "workload": {"kind": "incast", "bytes": 524288}})");
  std::printf("%s", r.table.c_str());
  ASSERT_TRUE(r.ok) << r.json;
  const Json j = Json::parse(r.json);
  EXPECT_EQ(j["flows"], 7);
  EXPECT_EQ(j["flows_finished"], 7);
  EXPECT_GT(j["dropped_queue"].get<int>(), 0);
  EXPECT_GT(j["retransmissions"].get<int>(), 0);
  EXPECT_GE(j["slowdown_p99"].get<double>(), j["slowdown_p50"].get<double>());
  EXPECT_GE(j["ratio_to_ideal"].get<double>(), 1.0) << "nothing beats the receiver link's bound";
  // Queue occupancy: the receiver's port held a queue for a while, never more than its deepest.
  const double busiest = j["mean_queue_bytes_busiest_port"].get<double>();
  EXPECT_GT(busiest, 0.0);
  EXPECT_LE(busiest, j["max_queue_bytes"].get<double>());
  EXPECT_EQ(r.ports_csv.rfind("switch_node,port,peer_node,", 0), 0u);
  EXPECT_EQ(std::count(r.ports_csv.begin(), r.ports_csv.end(), '\n'), 9) << "a header and one row per switch port";
}

// A permutation over a leaf-spine in the go-back-N compat profile with loss: every flow finishes.
TEST(SimRunner, PermutationInCompatProfileWithLoss) {
  const auto r = run_scenario(R"({"topology": {"kind": "leaf-spine", "leaves": 2, "hosts_per_leaf": 2, "spines": 2},
                                   "loss": 0.002,
                                   "workload": {"kind": "permutation", "bytes": 262144, "profile": "ttpoe-compat"}})");
  std::printf("%s", r.table.c_str());
  ASSERT_TRUE(r.ok) << r.json;
  const Json j = Json::parse(r.json);
  EXPECT_EQ(j["profile"], "ttpoe-compat");
  EXPECT_EQ(j["flows_finished"], 4);
  EXPECT_GT(j["dropped_loss"].get<int>(), 0);
}

// Scale-up and scale-out collectives at once on the combined fabric (2 pods x 4): an all-reduce
// in every pod (4 ranks each) and an all-gather in every rail (2 ranks each), on one shared
// network and on separate ones; each job is right and reported on its own; a rerun of the same
// seed is the same run.
TEST(SimRunner, ScaleUpAndScaleOutAtOnce) {
  for (const char* shared : {"true", "false"}) {
    const std::string scenario = std::string(R"({"topology": {"kind": "combined", "pods": 2, "pod_size": 4, "spines": 2,
                                               "scaleup_gbps": 200, "shared": )") + shared + R"(,
                                               "switch": {"path": "adaptive"}},
                                  "workload": {"kind": "scaleup+scaleout",
                                               "scaleup": {"collective": "allreduce", "bytes": 1048576},
                                               "scaleout": {"collective": "allgather", "bytes": 524288}}})";
    const auto r = run_scenario(scenario);
    std::printf("%s", r.table.c_str());
    ASSERT_TRUE(r.ok) << r.json;
    const Json j = Json::parse(r.json);
    EXPECT_EQ(j["communicator"], "pods+rails");
    EXPECT_EQ(j["scaleup_ranks"], 4);
    EXPECT_EQ(j["scaleout_ranks"], 2);
    EXPECT_EQ(j["scaleup_collective"], "allreduce");
    EXPECT_EQ(j["scaleout_collective"], "allgather");
    EXPECT_EQ(j["scaleup_wrong"], 0);
    EXPECT_EQ(j["scaleout_wrong"], 0);
    EXPECT_EQ(j["completed_ranks"], 8);
    EXPECT_GT(j["scaleup_completion_us"].get<double>(), 0.0);
    EXPECT_GT(j["scaleout_completion_us"].get<double>(), 0.0);
    EXPECT_EQ(j["completion_us"].get<double>(),
              std::max(j["scaleup_completion_us"].get<double>(), j["scaleout_completion_us"].get<double>()));
    const Json again = Json::parse(run_scenario(scenario).json);
    EXPECT_EQ(again["scaleup_completion_us"], j["scaleup_completion_us"]);
    EXPECT_EQ(again["scaleout_completion_us"], j["scaleout_completion_us"]);
  }
  // One communicator kind alone.
  const auto pods = run_scenario(R"({"topology": {"kind": "leaf-spine", "leaves": 2, "hosts_per_leaf": 4},
                                      "workload": {"bytes": 262144, "communicator": "pods"}})");
  ASSERT_TRUE(pods.ok) << pods.json;
  EXPECT_EQ(Json::parse(pods.json)["scaleup_ranks"], 4);
  expect_error(R"({"topology": {"kind": "pod", "hosts": 8}, "workload": {"communicator": "rails"}})",
               "workload.communicator: 'rails' needs a topology with at least 2 pods");
  expect_error(R"({"topology": {"kind": "combined", "pods": 2, "pod_size": 4}, "workload": {"kind": "scaleup+scaleout"}})",
               "workload.scaleup: missing");
  expect_error(R"({"topology": {"kind": "combined", "pods": 2, "pod_size": 4},
                   "workload": {"kind": "scaleup+scaleout", "scaleup": {}, "scaleout": {"root": 2}}})",
               "workload.scaleout.root: 2 is out of range [0, 1]");
}

// The transport's timers come from the scenario: a lost OPEN is replayed after the initial RTO, so
// on a lossy pod a shorter one ends the slowest flow sooner (here: seed 1 at 2 % loss loses an
// OPEN or OPEN_ACK; 1 ms by default, 100 us set).
TEST(SimRunner, TransportTimersFromTheScenario) {
  const std::string base = R"({"seed": 1, "loss": 0.02, "topology": {"kind": "pod", "hosts": 8},
                               "workload": {"kind": "permutation", "bytes": 1048576})";
  const Json slow = Json::parse(run_scenario(base + "}").json);
  const Json fast = Json::parse(run_scenario(base + R"(, "transport": {"rto_initial_us": 100}})").json);
  EXPECT_EQ(slow["rto_initial_us"], 1000);
  EXPECT_EQ(fast["rto_initial_us"], 100);
  EXPECT_TRUE(slow["ok"].get<bool>() && fast["ok"].get<bool>());
  EXPECT_GT(slow["completion_us"].get<double>(), 1000.0);
  EXPECT_LT(fast["completion_us"].get<double>(), 500.0);
}

// Queue occupancy over time: samples every 5 us of virtual time, only ports holding bytes, none
// deeper than the deepest queue the run reports.
TEST(SimRunner, QueueSeries) {
  const auto r = run_scenario(R"({"topology": {"kind": "pod", "hosts": 8, "switch": {"queue_bytes": 131072}},
                                   "workload": {"kind": "incast", "bytes": 524288}})",
                              -1, false, 5.0);
  ASSERT_TRUE(r.ok) << r.json;
  const Json j = Json::parse(r.json);
  std::istringstream in(r.queue_series_csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "time_us,switch_node,port,peer_node,queue_bytes,switch_buffer_bytes");
  int rows = 0;
  while (std::getline(in, line)) {
    double t = 0;
    long long sw = 0, port = 0, peer = 0, q = 0, buf = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lf,%lld,%lld,%lld,%lld,%lld", &t, &sw, &port, &peer, &q, &buf), 6) << line;
    EXPECT_NEAR(t / 5.0, static_cast<double>(static_cast<long long>(t / 5.0 + 0.5)), 1e-6) << line;
    EXPECT_GT(q, 0);
    EXPECT_LE(q, j["max_queue_bytes"].get<long long>());
    EXPECT_GE(buf, q);
    ++rows;
  }
  EXPECT_GT(rows, 10) << "the receiver's port queues for tens of microseconds";
  EXPECT_THROW(run_scenario(kPod, -1, false, -1.0), ScenarioError);
}

// Incast into a pod switch with small buffers: lossy (drop-tail) loses frames and the transport
// resends them; with PFC the switch pauses the senders instead and loses none; a shared buffer
// lets the hot port queue more than a per-port buffer would hold.
TEST(SimRunner, PfcAndSharedBuffers) {
  auto incast = [](const std::string& sw) {
    const auto r = run_scenario(R"({"topology": {"kind": "pod", "hosts": 8, "switch": )" + sw + R"(},
                                     "workload": {"kind": "incast", "bytes": 524288}})");
    std::printf("%s", r.table.c_str());
    EXPECT_TRUE(r.ok) << r.json;
    return Json::parse(r.json);
  };
  const Json lossy = incast(R"({"queue_bytes": 65536})");
  EXPECT_GT(lossy["dropped_queue"].get<int>(), 0);
  EXPECT_EQ(lossy["pfc_pauses"], 0);
  const Json pfc = incast(R"({"queue_bytes": 1048576, "pfc": true, "pfc_xoff_bytes": 32768})");
  EXPECT_EQ(pfc["dropped_queue"], 0) << "PFC must keep the fabric lossless here";
  EXPECT_EQ(pfc["retransmissions"], 0);
  EXPECT_GT(pfc["pfc_pauses"].get<int>(), 0);
  EXPECT_GT(pfc["paused_us"].get<double>(), 0.0);
  // Seven ingress ports may each hold up to xoff plus what was on the wire when the pause left.
  EXPECT_LT(pfc["max_queue_bytes"].get<int>(), 7 * (32768 + 2 * 9000 + 2 * 12500));
  const Json shared = incast(R"({"shared_buffer_bytes": 524288, "dt_alpha": 1})");
  EXPECT_GT(shared["max_queue_bytes"].get<int>(), 65536) << "one port may take more than a per-port share";
  EXPECT_LE(shared["max_buffer_bytes"].get<int>(), 524288);
  EXPECT_LT(shared["dropped_queue"].get<int>(), lossy["dropped_queue"].get<int>());
  expect_error(R"({"topology": {"kind": "pod", "switch": {"pfc": true, "pfc_xoff_bytes": 20000, "pfc_xon_bytes": 30000}},
                   "workload": {}})",
               "topology.switch.pfc_xon_bytes: 30000 must be below pfc_xoff_bytes (20000)");
  expect_error(R"({"topology": {"kind": "pod", "switch": {"shared_buffer_bytes": 100}}, "workload": {}})",
               "topology.switch.shared_buffer_bytes: 100 cannot hold one 9000-byte frame");
}

}  // namespace
