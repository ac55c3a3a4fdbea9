// Communicator: the UDP driver of the collective engine (see communicator.h).
#include "weft/collectives/communicator.h"

#include <sched.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <optional>
#include <random>
#include <vector>

#include "weft/collectives/binding.h"
#include "weft/collectives/reduce.h"
#include "weft/collectives/store.h"
#include "weft/crypto/credentials.h"
#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"
#include "weft/transport/udp_datapath.h"

namespace weft::collectives {

using transport::TimeNs;

namespace {

// 16 hex digits from the OS's random source: names this job's rendezvous (memif sockets).
std::string random_token() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

std::optional<std::string> getenv_string(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

TimeNs ms_to_ns(std::chrono::milliseconds ms) { return static_cast<TimeNs>(ms.count()) * 1'000'000; }

}  // namespace

CommOptions CommOptions::from_environment() {
  CommOptions o;
  o.launch = detect_launch();
  if (auto h = getenv_string("WEFT_BIND_HOST")) o.bind_host = *h;
  if (auto p = getenv_string("WEFT_RANKS_PER_POD")) {
    char* end = nullptr;
    const long v = std::strtol(p->c_str(), &end, 10);
    if (p->empty() || *end != '\0' || v < 0 || v > 1'000'000) {
      throw std::runtime_error("WEFT_RANKS_PER_POD='" + *p + "' is not a rank count (0 = unknown)");
    }
    o.topology.ranks_per_pod = static_cast<int>(v);
  }
  return o;
}

struct Communicator::Impl {
  CommOptions options;
  int rank = 0, size = 1;
  std::unique_ptr<Store> store;
  std::unique_ptr<transport::PcapWriter> pcap;  // WEFT_PCAP_DIR; outlives the datapaths below
  std::unique_ptr<transport::UdpDatapath> udp;
  std::unique_ptr<CommDatapath> custom;  // CommOptions::datapath's, instead of udp
  std::string datapath_name = "udp";
  bool polled = false;  // the datapath has no descriptor to sleep on: waits poll and yield
  std::unique_ptr<transport::FaultShim> shim;
  std::unique_ptr<transport::Endpoint> endpoint;
  std::unique_ptr<transport::Driver> driver;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<EndpointBinding> binding;
  std::vector<transport::NodeId> nodes;
  std::vector<std::string> addresses;
  LinkParams link;
  Topology topology;
  bool finished = false;
  std::uint64_t closed_retransmits = 0;  // of links already closed or failed
  std::string security = "PLAINTEXT";

  TimeNs now() const { return transport::monotonic_now_ns(); }

  void step(TimeNs max_wait_ns) {
    if (!endpoint) return;  // the transport was dropped after a failure (let_go_of_buffers)
    TimeNs t = now();
    if (engine->next_timer() <= t) engine->on_timer(t);
    binding->pump(t);
    const TimeNs next = engine->next_timer();
    if (next != transport::kNever) max_wait_ns = std::min(max_wait_ns, std::max<TimeNs>(0, next - t));
    const std::uint64_t seen = driver->frames_received();
    driver->step_at(t, max_wait_ns);
    // A polled datapath returns at once: give the core away when idle (ranks may share it).
    if (polled && max_wait_ns > 0 && driver->frames_received() == seen && !options.busy_poll) ::sched_yield();
    t = now();
    while (auto ev = endpoint->poll_event()) {
      if (ev->kind == transport::EventKind::kClosed || ev->kind == transport::EventKind::kError) {
        closed_retransmits += ev->stats.retransmits;  // the link's final counters
      }
      binding->on_event(*ev, t);
    }
    binding->pump(t);
  }

  // Runs until `done` or the deadline; false on deadline.
  template <typename Done>
  bool run_until(TimeNs deadline, Done&& done) {
    while (!done()) {
      const TimeNs t = now();
      if (t >= deadline) return false;
      step(std::min<TimeNs>(deadline - t, 10'000'000));
    }
    return true;
  }

  // Waits for the operation. After any progress it polls without sleeping for spin_us, yielding
  // the core between polls (so ranks that share a core take turns, as MPI's progress engines do
  // when oversubscribed); then it sleeps in poll(2) until input or a timer. A sleep and its
  // wake-up cost tens of microseconds here; the spin keeps small operations near the network's
  // own latency.
  void wait_op(OpId id) {
    if (!driver) return;  // no transport left: every operation has failed already
    const TimeNs spin_ns = static_cast<TimeNs>(options.spin_us) * 1000;
    TimeNs spin_until = now() + spin_ns;
    std::uint64_t seen = driver->frames_received();
    while (!engine->done(id)) {
      const bool spinning = !options.busy_poll && (polled || now() < spin_until);
      step(spinning || options.busy_poll ? 0 : 10'000'000);
      if (driver->frames_received() != seen) {
        seen = driver->frames_received();
        spin_until = now() + spin_ns;
      } else if (spinning) {
        ::sched_yield();
      }
    }
  }

  std::string node_text(int r) const {
    return "rank " + std::to_string(r) + " at " + addresses[static_cast<std::size_t>(r)];
  }

  void bootstrap() {
    const TimeNs started = now();
    const TimeNs deadline = started + ms_to_ns(options.bootstrap_timeout);
    auto time_left = [&] { return std::chrono::milliseconds(std::max<TimeNs>(1, (deadline - now()) / 1'000'000)); };
    const bool secure = options.endpoint.credentials != nullptr;
    const bool own_udp = !options.datapath.make;
    datapath_name = own_udp ? "udp" : options.datapath.name;
    const std::string mode = std::string(secure ? "encrypted" : "plaintext") + " segment=" +
                             std::to_string(options.segment_bytes) + " datapath=" + datapath_name + " version=1";
    addresses.assign(static_cast<std::size_t>(size), "");
    nodes.assign(static_cast<std::size_t>(size), 0);
    // Settings first: ranks that disagree stop here, before a datapath waits for its peers.
    std::string job;
    if (size > 1) {
      store = open_store(options.launch.store, rank, size, options.bootstrap_timeout);
      store->set("weft/mode/" + std::to_string(rank), mode);
      if (rank == 0) store->set("weft/job", random_token());
      job = store->get("weft/job", time_left());
      for (int r = 0; r < size; ++r) {
        if (r == rank) continue;
        const std::string theirs = store->get("weft/mode/" + std::to_string(r), time_left());
        if (theirs != mode) {
          throw std::runtime_error("rank " + std::to_string(rank) + " (" + mode + ") and rank " + std::to_string(r) +
                                   " (" + theirs +
                                   ") were started with different settings: every rank must be encrypted with "
                                   "the same keys, or every rank plaintext, with the same segment size and datapath");
        }
      }
    }
    transport::Datapath* dp = nullptr;
    if (own_udp) {
      transport::UdpOptions uo;
      uo.bind = options.bind_host + ":0";
      udp = std::make_unique<transport::UdpDatapath>(uo);
      dp = udp.get();
      addresses[static_cast<std::size_t>(rank)] = "udp://" + transport::format_udp_address(udp->local_address());
      if (size > 1) {
        store->set("weft/addr/" + std::to_string(rank), transport::format_udp_address(udp->local_address()));
        for (int r = 0; r < size; ++r) {
          if (r == rank) continue;
          const std::string text = store->get("weft/addr/" + std::to_string(r), time_left());
          addresses[static_cast<std::size_t>(r)] = "udp://" + text;
          std::string err;
          const auto addr = transport::parse_udp_address(text, err);
          if (!addr) throw std::runtime_error("rank " + std::to_string(r) + " published a bad address: " + err);
          nodes[static_cast<std::size_t>(r)] = udp->add_peer(*addr);
        }
      }
    } else {
      CommDatapathContext ctx;
      ctx.rank = rank;
      ctx.size = size;
      ctx.store = store.get();
      ctx.job = job;
      ctx.timeout = time_left();
      custom = options.datapath.make(ctx);
      dp = &custom->datapath();
      for (int r = 0; r < size; ++r) {
        nodes[static_cast<std::size_t>(r)] = custom->node_of(r);
        addresses[static_cast<std::size_t>(r)] = datapath_name + " node " + std::to_string(custom->node_of(r));
      }
    }
    polled = dp->wait_fd() < 0;
    if (auto dir = getenv_string("WEFT_PCAP_DIR")) {
      pcap = std::make_unique<transport::PcapWriter>(*dir + "/rank-" + std::to_string(rank) + ".pcap");
      dp->set_pcap(pcap.get());  // below the fault injection: the frames that really left and came
    }
    if (options.send_loss > 0) {
      transport::FaultShim::Faults f;
      f.loss = options.send_loss;
      shim = std::make_unique<transport::FaultShim>(*dp, f, options.fault_seed + static_cast<std::uint64_t>(rank));
      dp = shim.get();
    }
    // Transport and engine.
    transport::EndpointConfig ec = options.endpoint;
    ec.encapsulation = dp->encapsulation();
    // Over UDP peers are named by address and our own id is unused; over Ethernet it is in the TSH.
    ec.node_id = own_udp ? 0xFFFFFF : nodes[static_cast<std::size_t>(rank)];
    ec.rng_seed ^= static_cast<std::uint64_t>(now()) * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(rank);
    // A whole segment is one transport message: the receive buffer must hold a few of them.
    ec.recv_buffer_bytes = std::max<std::uint32_t>(ec.recv_buffer_bytes,
                                                   static_cast<std::uint32_t>(4 * (options.segment_bytes + 64)));
    if (secure) ec.wall_clock_offset_ns = transport::wall_clock_offset_ns();
    ec = transport::with_host_timers(ec);
    endpoint = std::make_unique<transport::Endpoint>(ec);
    transport::Driver::Options dopt;
    dopt.busy_poll = options.busy_poll;
    driver = std::make_unique<transport::Driver>(*endpoint, *dp, dopt);
    topology = options.topology;
    if (topology.ranks_per_pod == 0 && options.launch.local_size > 0 && options.launch.local_size < size &&
        size % options.launch.local_size == 0) {
      topology.ranks_per_pod = options.launch.local_size;
    }
    EngineConfig cfg;
    cfg.rank = rank;
    cfg.size = size;
    cfg.topology = topology;
    cfg.link = options.link;
    cfg.segment_bytes = options.segment_bytes;
    cfg.default_timeout_ns = ms_to_ns(options.timeout);
    engine = std::make_unique<Engine>(cfg);
    binding = std::make_unique<EndpointBinding>(*engine, *endpoint, nodes);
    link = options.link;
    if (size == 1) return;
    // Links: each rank opens to the higher ranks; the lower ones open to it. Two per pair: VC 2
    // carries data, VC 1 abort notices (open from the start, so a notice to a rank that stalled
    // is sent at once and waits in its socket, instead of an OPEN that times out unanswered).
    constexpr std::array<transport::Vc, 2> kVcs = {transport::Vc::kData, transport::Vc::kReqHi};
    for (int r = rank + 1; r < size; ++r) {
      for (const transport::Vc vc : kVcs) {
        if (auto st = endpoint->open(nodes[static_cast<std::size_t>(r)], vc, now()); !st.ok()) {
          throw std::runtime_error("cannot open a link to " + node_text(r) + ": " + st.detail());
        }
      }
    }
    auto open_to = [&](int r) {
      for (const transport::Vc vc : kVcs) {
        if (endpoint->state(nodes[static_cast<std::size_t>(r)], vc) != transport::LinkState::kOpen) return false;
      }
      return true;
    };
    auto all_open = [&] {
      for (int r = 0; r < size; ++r) {
        if (r != rank && !open_to(r)) return false;
      }
      return true;
    };
    while (!all_open()) {
      const TimeNs t = now();
      if (t >= deadline || engine->aborted()) {
        std::string missing;
        for (int r = 0; r < size; ++r) {
          if (r != rank && !open_to(r)) missing += (missing.empty() ? "" : ", ") + node_text(r);
        }
        throw std::runtime_error("rank " + std::to_string(rank) + ": links not open after " +
                                 std::to_string((t - started) / 1'000'000) + " ms to " + missing +
                                 (engine->aborted() ? " (" + engine->abort_reason() + ")" : "") +
                                 ": is that rank running, reachable, and using the same keys?");
      }
      step(std::min<TimeNs>(deadline - t, 10'000'000));
    }
    meet("weft/ready", deadline);
    if (secure) {
      if (auto info = endpoint->link_info(nodes[static_cast<std::size_t>((rank + 1) % size)], transport::Vc::kData)) {
        security = "encrypted " + std::string(info->suite) + " (" + std::string(info->provider) + ")";
      }
    }
    if (options.measure_links) measure();
  }

  // α and β from a ping-pong with a partner, γ from the reduction kernel; the maximum over ranks.
  void measure() {
    std::vector<double> mine(4, 0.0);
    // γ: f32 sum of 1 MiB, best of 3.
    {
      std::vector<float> a(1 << 18, 1.0f), b(1 << 18, 2.0f);
      double best = 1e30;
      for (int i = 0; i < 3; ++i) {
        const TimeNs t0 = now();
        reduce_into(a.data(), b.data(), a.size(), DataType::kF32, ReduceOp::kSum);
        best = std::min(best, static_cast<double>(now() - t0) / 1e3);
      }
      mine[2] = best / static_cast<double>(a.size() * 4);
    }
    // α, β: pairs (0,1), (2,3), ...; an odd last rank pairs with rank 0 afterwards (rank 0 runs
    // its exchanges one after the other).
    std::vector<int> partners;
    if ((rank ^ 1) < size) partners.push_back(rank ^ 1);
    if (size % 2 == 1 && rank == size - 1) partners.push_back(0);
    if (size % 2 == 1 && rank == 0) partners.push_back(size - 1);
    std::vector<std::uint8_t> small(8), big(1 << 22);
    for (int partner : partners) {
      const bool lead = rank < partner;
      auto exchange = [&](std::vector<std::uint8_t>& out, std::vector<std::uint8_t>& back) {
        OpArgs s;
        s.collective = Collective::kSend;
        s.dtype = DataType::kU8;
        s.peer = partner;
        OpArgs v = s;
        v.collective = Collective::kRecv;
        if (lead) {
          s.send = out.data();
          s.count = out.size();
          v.recv = small.data();
          v.count = small.size();
        } else {
          v.recv = back.data();
          v.count = back.size();
          s.send = small.data();
          s.count = small.size();
        }
        const OpId a = engine->post(lead ? s : v, now());
        const OpId b = engine->post(lead ? v : s, now());
        wait_op(a);
        wait_op(b);
        const bool ok = engine->status(a).state == OpState::kDone && engine->status(b).state == OpState::kDone;
        const std::string detail = engine->status(a).detail.empty() ? engine->status(b).detail : engine->status(a).detail;
        engine->release(a);
        engine->release(b);
        if (!ok) throw std::runtime_error("link measurement with rank " + std::to_string(partner) + " failed: " + detail);
      };
      std::vector<double> rtt;
      for (int i = 0; i < 25; ++i) {
        const TimeNs t0 = now();
        exchange(small, small);
        if (i >= 5) rtt.push_back(static_cast<double>(now() - t0) / 1e3);
      }
      std::sort(rtt.begin(), rtt.end());
      const double alpha = rtt[rtt.size() / 2] / 2;
      std::vector<double> bulk;
      for (int i = 0; i < 3; ++i) {
        const TimeNs t0 = now();
        exchange(big, big);
        bulk.push_back(static_cast<double>(now() - t0) / 1e3);
      }
      std::sort(bulk.begin(), bulk.end());
      const double beta = std::max(1e-6, (bulk[1] - 2 * alpha) / static_cast<double>(big.size()));
      mine[0] = std::max(mine[0], alpha);
      mine[1] = std::max(mine[1], beta);
    }
    std::vector<double> all(4);
    const OpId id = engine->post(
        OpArgs{Collective::kAllReduce, mine.data(), all.data(), 4, DataType::kF64, ReduceOp::kMax, 0, -1, 0,
               Algorithm::kRing, 0},
        now());
    wait_op(id);
    if (engine->status(id).state != OpState::kDone) {
      throw std::runtime_error("agreeing on link parameters failed: " + engine->status(id).detail);
    }
    engine->release(id);
    link.alpha_us = link.inter_alpha_us = all[0];
    link.beta_us_per_byte = link.inter_beta_us_per_byte = all[1];
    link.gamma_us_per_byte = all[2];
    engine->set_link_params(link);
  }

  // True when every message handed to the transport has been acknowledged.
  bool all_acknowledged() const {
    if (!binding->idle()) return false;
    for (int r = 0; r < size; ++r) {
      if (r == rank) continue;
      auto info = endpoint->link_info(nodes[static_cast<std::size_t>(r)], transport::Vc::kData);
      if (info && info->state == transport::LinkState::kOpen && info->send_queue_bytes > 0) return false;
    }
    return true;
  }

  // After a failure: operations' buffers may still be read by the transport (zero-copy sends
  // not acknowledged). Before the application hears of the failure (and may free them), the
  // notices get their ~100 ms, then the transport goes, and every reference with it.
  void let_go_of_buffers() {
    if (!endpoint || engine->references_held() == 0) return;
    flush_aborts();
    binding.reset();
    driver.reset();
    endpoint.reset();
    shim.reset();
    udp.reset();
    custom.reset();
  }

  // Gives the abort notices ~100 ms to leave and be acknowledged; never longer.
  void flush_aborts() {
    if (!endpoint) return;
    run_until(now() + 100'000'000, [&] { return all_acknowledged(); });
  }

  // A barrier through the store that keeps the transport going while it waits: a rank whose
  // links are open may still owe a peer an answer (its OPEN_ACK was lost and the peer sends its
  // OPEN again), and a rank blocked in the store would never give it. Throws naming the ranks
  // that did not arrive by `deadline`.
  void meet(const std::string& name, TimeNs deadline) {
    store->set(name + "/" + std::to_string(rank), "1");
    for (int r = 0; r < size; ++r) {
      while (true) {
        try {
          (void)store->get(name + "/" + std::to_string(r), std::chrono::milliseconds(0));
          break;
        } catch (const StoreTimeout&) {
        }
        if (now() >= deadline) {
          std::string missing;
          for (int q = r; q < size; ++q) {
            try {
              (void)store->get(name + "/" + std::to_string(q), std::chrono::milliseconds(0));
            } catch (const StoreTimeout&) {
              missing += (missing.empty() ? "" : ", ") + std::to_string(q);
            }
          }
          throw std::runtime_error("rank " + std::to_string(rank) + ": barrier '" + name + "' through store " +
                                   store->describe() + " timed out; rank(s) " + missing +
                                   " never arrived (are they running, with the same store and world size?)");
        }
        step(1'000'000);  // a millisecond of transport progress between looks at the store
      }
    }
  }

  // A memif peer that goes away frees the shared rings from DPDK's interrupt thread, which can
  // crash a process still polling them (dpdk_datapath.h). So every rank meets the others after
  // its links closed, before it lets its ports go; rank 0 keeps the store (it may serve it) until
  // every rank has passed the meeting. Best effort: a rank that does not come is not waited for
  // long.
  void meet_before_teardown(TimeNs deadline) {
    const TimeNs until = std::min(deadline, now() + 5'000'000'000);
    try {
      meet("weft/teardown", until);
      if (rank != 0) {
        store->set("weft/left/" + std::to_string(rank), "1");
      } else {
        for (int r = 1; r < size; ++r) {
          const auto left = std::chrono::milliseconds(std::max<TimeNs>(1, (until - now()) / 1'000'000));
          (void)store->get("weft/left/" + std::to_string(r), left);
        }
      }
    } catch (const std::exception&) {
      // A rank that did not arrive has gone already (or will time out itself); nothing to protect.
    }
  }

  void finish() {
    if (finished) return;
    finished = true;
    if (size == 1 || endpoint == nullptr) return;
    const TimeNs deadline = now() + std::min<TimeNs>(ms_to_ns(options.bootstrap_timeout), 10'000'000'000);
    if (!engine->aborted()) {
      // Everything sent must be acknowledged before the links close (a closing peer still
      // receives, but a process that exits stops retransmitting).
      run_until(deadline, [&] { return all_acknowledged(); });
    }
    for (int r = 0; r < size; ++r) {
      if (r == rank) continue;
      for (const transport::Vc vc : {transport::Vc::kData, transport::Vc::kReqHi}) {
        if (endpoint->state(nodes[static_cast<std::size_t>(r)], vc) != transport::LinkState::kClosed) {
          (void)endpoint->close(nodes[static_cast<std::size_t>(r)], vc, now());
        }
      }
    }
    // After an abort the job is over: peers may be dead, so closing gets a short grace only.
    run_until(engine->aborted() ? std::min(deadline, now() + 200'000'000) : deadline,
              [&] { return endpoint->link_count() == 0; });
    if (custom && store && !engine->aborted()) meet_before_teardown(deadline);
    if (rank == 0 && options.launch.store_temporary && options.launch.store.kind == StoreAddress::Kind::kFile) {
      store.reset();
      std::error_code ec;
      std::filesystem::remove_all(options.launch.store.path, ec);
    }
  }
};

Request& Request::operator=(Request&& o) noexcept {
  if (this != &o) {
    if (comm_ != nullptr) comm_->release(id_);
    comm_ = o.comm_;
    id_ = o.id_;
    o.comm_ = nullptr;
  }
  return *this;
}

Request::~Request() {
  if (comm_ != nullptr) comm_->release(id_);
}

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Communicator> Communicator::create(const CommOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->rank = options.launch.rank;
  impl->size = options.launch.size;
  if (impl->size < 1 || impl->rank < 0 || impl->rank >= impl->size) {
    throw std::runtime_error("rank " + std::to_string(impl->rank) + " of " + std::to_string(impl->size) +
                             " is not a valid place in a job");
  }
  try {
    impl->bootstrap();
  } catch (const std::exception& e) {
    // Tell the ranks that already have a link to this one, so they fail now rather than at
    // their own timeouts.
    if (impl->engine) {
      impl->engine->abort(std::string("start-up failed on rank ") + std::to_string(impl->rank) + ": " + e.what(),
                          impl->now());
      impl->flush_aborts();
    }
    throw;
  }
  return std::unique_ptr<Communicator>(new Communicator(std::move(impl)));
}

Communicator::~Communicator() {
  try {
    finish();
  } catch (...) {  // a destructor must not throw; finish() is the place to see errors
  }
}

int Communicator::rank() const { return impl_->rank; }
int Communicator::size() const { return impl_->size; }
const LinkParams& Communicator::link_params() const { return impl_->link; }
const Topology& Communicator::topology() const { return impl_->topology; }
bool Communicator::encrypted() const { return impl_->options.endpoint.credentials != nullptr; }
std::string Communicator::describe() const {
  const std::string where = impl_->custom ? impl_->custom->describe()
                                          : impl_->addresses[static_cast<std::size_t>(impl_->rank)];
  return "rank " + std::to_string(impl_->rank) + " of " + std::to_string(impl_->size) + ", " + where + ", " +
         impl_->security;
}
Engine& Communicator::engine() { return *impl_->engine; }

Request Communicator::post(const OpArgs& args) {
  const OpId id = impl_->engine->post(args, impl_->now());
  if (impl_->binding) impl_->binding->pump(impl_->now());
  return Request(this, id);
}

namespace {
OpArgs make(Collective c, const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op, int root,
            Algorithm algorithm, std::chrono::milliseconds timeout) {
  OpArgs a;
  a.collective = c;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.dtype = dtype;
  a.op = op;
  a.root = root;
  a.algorithm = algorithm;
  a.timeout_ns = ms_to_ns(timeout);
  return a;
}
}  // namespace

Request Communicator::all_reduce(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op,
                                 Algorithm algorithm, std::chrono::milliseconds timeout) {
  return post(make(Collective::kAllReduce, send, recv, count, dtype, op, 0, algorithm, timeout));
}
Request Communicator::all_gather(const void* send, void* recv, std::size_t count, DataType dtype, Algorithm algorithm,
                                 std::chrono::milliseconds timeout) {
  return post(make(Collective::kAllGather, send, recv, count, dtype, ReduceOp::kSum, 0, algorithm, timeout));
}
Request Communicator::reduce_scatter(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op,
                                     Algorithm algorithm, std::chrono::milliseconds timeout) {
  return post(make(Collective::kReduceScatter, send, recv, count, dtype, op, 0, algorithm, timeout));
}
Request Communicator::broadcast(const void* send, void* recv, std::size_t count, DataType dtype, int root,
                                Algorithm algorithm, std::chrono::milliseconds timeout) {
  return post(make(Collective::kBroadcast, send, recv, count, dtype, ReduceOp::kSum, root, algorithm, timeout));
}
Request Communicator::reduce(const void* send, void* recv, std::size_t count, DataType dtype, ReduceOp op, int root,
                             Algorithm algorithm, std::chrono::milliseconds timeout) {
  return post(make(Collective::kReduce, send, recv, count, dtype, op, root, algorithm, timeout));
}
Request Communicator::all_to_all(const void* send, void* recv, std::size_t count, DataType dtype, Algorithm algorithm,
                                 std::chrono::milliseconds timeout) {
  return post(make(Collective::kAllToAll, send, recv, count, dtype, ReduceOp::kSum, 0, algorithm, timeout));
}
Request Communicator::barrier(std::chrono::milliseconds timeout) {
  return post(make(Collective::kBarrier, nullptr, nullptr, 0, DataType::kU8, ReduceOp::kSum, 0, Algorithm::kAuto, timeout));
}
Request Communicator::send(const void* buf, std::size_t count, DataType dtype, int peer, std::uint32_t tag,
                           std::chrono::milliseconds timeout) {
  OpArgs a = make(Collective::kSend, buf, nullptr, count, dtype, ReduceOp::kSum, 0, Algorithm::kAuto, timeout);
  a.peer = peer;
  a.tag = tag;
  return post(a);
}
Request Communicator::recv(void* buf, std::size_t count, DataType dtype, int peer, std::uint32_t tag,
                           std::chrono::milliseconds timeout) {
  OpArgs a = make(Collective::kRecv, nullptr, buf, count, dtype, ReduceOp::kSum, 0, Algorithm::kAuto, timeout);
  a.peer = peer;
  a.tag = tag;
  return post(a);
}

Algorithm Communicator::wait(Request& request) {
  if (request.comm_ != this) throw std::invalid_argument("wait: the request is spent or belongs to another communicator");
  impl_->wait_op(request.id_);
  const OpStatus st = impl_->engine->status(request.id_);
  impl_->engine->release(request.id_);
  request.comm_ = nullptr;
  if (st.state == OpState::kFailed) {
    impl_->let_go_of_buffers();
    throw CollectiveError(st.error, st.detail);
  }
  return st.algorithm;
}

bool Communicator::test(Request& request) {
  if (request.comm_ != this) return true;
  impl_->step(0);
  return impl_->engine->done(request.id_);
}

const OpStatus& Communicator::status(const Request& request) const { return impl_->engine->status(request.id_); }

void Communicator::progress(std::chrono::microseconds max_wait) {
  impl_->step(static_cast<TimeNs>(max_wait.count()) * 1000);
}

void Communicator::abort(const std::string& reason) {
  impl_->engine->abort(reason, impl_->now());
  if (impl_->endpoint) impl_->flush_aborts();
  impl_->let_go_of_buffers();
}

bool Communicator::aborted() const { return impl_->engine->aborted(); }

void Communicator::finish() { impl_->finish(); }

void Communicator::release(OpId id) {
  // Abandoning a pending operation: the transport may still read its buffers, and the other
  // ranks still expect its messages. The job cannot go on; fail it loudly and let go.
  if (!impl_->engine->done(id)) {
    impl_->engine->abort("rank " + std::to_string(impl_->rank) +
                             " abandoned a pending operation (its Request was destroyed before wait())",
                         impl_->now());
    if (impl_->endpoint) impl_->flush_aborts();
  }
  // A failed operation seen through test()/status() and dropped: as wait() does, the transport
  // must not keep reading its buffers once the application may free them.
  if (impl_->engine->status(id).state == OpState::kFailed || impl_->engine->aborted()) impl_->let_go_of_buffers();
  impl_->engine->release(id);
}

CommStats Communicator::stats() const {
  CommStats s;
  s.engine = impl_->engine->stats();
  if (impl_->driver) {
    s.frames_sent = impl_->driver->frames_sent();
    s.frames_received = impl_->driver->frames_received();
  }
  if (impl_->shim) s.frames_dropped_by_fault_injection = impl_->shim->dropped();
  for (int r = 0; r < impl_->size; ++r) {
    if (r == impl_->rank || !impl_->endpoint) continue;
    if (auto info = impl_->endpoint->link_info(impl_->nodes[static_cast<std::size_t>(r)], transport::Vc::kData)) {
          s.retransmits += info->stats.retransmits;
    }
  }
  s.retransmits += impl_->closed_retransmits;
  return s;
}

}  // namespace weft::collectives
