// Test support: N ranks, each a transport Endpoint with a collective Engine, on the in-memory
// simulator (SimLoop) behind one switch. Every rank's links get the same fault model; time is
// virtual, so timeouts and fault tests run in milliseconds and reproduce from the seed.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <memory>
#include <vector>

#include "weft/collectives/binding.h"
#include "weft/collectives/engine.h"
#include "weft/transport/mix.h"
#include "weft/transport/sim_loop.h"

namespace weft::test {

struct ClusterOptions {
  int ranks = 4;
  std::uint64_t seed = 1;
  double loss = 0.0;                       // per frame, every link direction
  transport::sim::LinkConfig link;         // rate, delay, queue (faults come from `loss`)
  collectives::EngineConfig engine;        // rank and size are filled in
  transport::EndpointConfig endpoint;      // node_id and rng_seed are filled in
};

// A host whose process can be killed: from then on it neither receives, sends nor times out.
class KillableHost final : public transport::sim::Host {
 public:
  using Handler = std::function<void(transport::Event&, transport::TimeNs)>;
  explicit KillableHost(const transport::EndpointConfig& c) : endpoint_(c) {}
  transport::Endpoint& endpoint() { return endpoint_; }
  void set_handler(Handler h) { handler_ = std::move(h); }
  void kill() { dead_ = true; }
  // Runs after every frame and timer (message bytes stream into the engine during on_frame, and
  // what the engine wants to send in reply is handed to the endpoint here, outside on_frame).
  void set_after(std::function<void(transport::TimeNs)> after) { after_ = std::move(after); }
  void on_frame(std::span<const std::uint8_t> frame, transport::TimeNs now) override {
    if (dead_) return;
    endpoint_.on_frame(frame, now);
    drain(now);
    if (after_ && !dead_) after_(now);
  }
  std::size_t poll_transmit(std::span<std::uint8_t> buf, transport::TimeNs now) override {
    if (dead_) return 0;
    drain(now);
    transport::Transmit tx;
    if (!endpoint_.poll_transmit(buf, now, tx)) return 0;
    return tx.bytes;
  }
  transport::TimeNs next_timer() const override { return dead_ ? transport::kNever : endpoint_.next_timer(); }
  void on_timer(transport::TimeNs now) override {
    if (dead_) return;
    endpoint_.on_timer(now);
    drain(now);
    if (after_ && !dead_) after_(now);
  }

 private:
  void drain(transport::TimeNs now) {
    while (!dead_ && endpoint_.has_events()) {
      std::optional<transport::Event> ev = endpoint_.poll_event();
      if (handler_) handler_(*ev, now);
    }
  }
  transport::Endpoint endpoint_;
  Handler handler_;
  std::function<void(transport::TimeNs)> after_;
  bool dead_ = false;
};

class CollectiveCluster {
 public:
  explicit CollectiveCluster(const ClusterOptions& o) : options_(o), loop_(o.seed) {
    const int sw = loop_.add_switch();
    std::vector<transport::NodeId> nodes;
    for (int r = 0; r < o.ranks; ++r) nodes.push_back(static_cast<transport::NodeId>(r + 1));
    ranks_.resize(static_cast<std::size_t>(o.ranks));
    for (int r = 0; r < o.ranks; ++r) {
      Rank& rk = ranks_[static_cast<std::size_t>(r)];
      transport::EndpointConfig ec = o.endpoint;
      ec.node_id = nodes[static_cast<std::size_t>(r)];
      ec.rng_seed = transport::mix64(o.seed * 131 + static_cast<std::uint64_t>(r));
      collectives::EngineConfig cc = o.engine;
      cc.rank = r;
      cc.size = o.ranks;
      rk.engine = std::make_unique<collectives::Engine>(cc);
      auto host = std::make_unique<KillableHost>(ec);
      rk.host = host.get();
      rk.binding = std::make_unique<collectives::EndpointBinding>(*rk.engine, host->endpoint(), nodes);
      host->set_handler([this, r](transport::Event& ev, transport::TimeNs now) {
        ranks_[static_cast<std::size_t>(r)].binding->on_event(ev, now);
        arm_timer(r);
      });
      host->set_after([this, r](transport::TimeNs now) {
        ranks_[static_cast<std::size_t>(r)].binding->pump(now);
        arm_timer(r);
      });
      rk.node = loop_.add_host(std::move(host), ec.node_id);
      transport::sim::LinkConfig link = o.link;
      link.a_to_b.loss = o.loss;
      link.b_to_a.loss = o.loss;
      loop_.connect(rk.node, sw, link);
    }
  }

  transport::sim::SimLoop& loop() { return loop_; }
  collectives::Engine& engine(int r) { return *ranks_[static_cast<std::size_t>(r)].engine; }
  transport::Endpoint& endpoint(int r) { return ranks_[static_cast<std::size_t>(r)].host->endpoint(); }
  int size() const { return static_cast<int>(ranks_.size()); }

  collectives::OpId post(int r, const collectives::OpArgs& args) {
    const collectives::OpId id = engine(r).post(args, loop_.now());
    flush(r);
    return id;
  }
  void abort(int r, std::string_view reason) {
    engine(r).abort(reason, loop_.now());
    flush(r);
  }
  // Rank r stops: its engine and endpoint never act again, its frames are no longer answered
  // (a killed process). Its peers find out by their transport retry budget or their timeouts.
  void kill(int r) {
    ranks_[static_cast<std::size_t>(r)].dead = true;
    ranks_[static_cast<std::size_t>(r)].host->kill();
  }
  bool dead(int r) const { return ranks_[static_cast<std::size_t>(r)].dead; }

  // Runs until `done` holds (checked after every event) or virtual time passes `deadline`.
  bool run_until(transport::TimeNs deadline, const std::function<bool()>& done) {
    if (done()) return true;
    return loop_.run(deadline, done) || done();
  }
  // Runs until every (rank, id) pair in `ids` (ids[r] for rank r; 0 = none) is no longer pending.
  bool run_all(const std::vector<collectives::OpId>& ids, transport::TimeNs deadline) {
    return run_until(deadline, [&] {
      for (int r = 0; r < size(); ++r) {
        if (dead(r) || ids[static_cast<std::size_t>(r)] == 0) continue;
        if (!engine(r).done(ids[static_cast<std::size_t>(r)])) return false;
      }
      return true;
    });
  }

 private:
  struct Rank {
    std::unique_ptr<collectives::Engine> engine;
    std::unique_ptr<collectives::EndpointBinding> binding;
    KillableHost* host = nullptr;
    int node = 0;
    transport::TimeNs timer_at = transport::kNever;
    bool dead = false;
  };

  void flush(int r) {
    Rank& rk = ranks_[static_cast<std::size_t>(r)];
    if (rk.dead) return;
    rk.binding->pump(loop_.now());
    loop_.kick(rk.node);
    arm_timer(r);
  }

  void arm_timer(int r) {
    Rank& rk = ranks_[static_cast<std::size_t>(r)];
    const transport::TimeNs t = rk.engine->next_timer();
    if (t == transport::kNever || t >= rk.timer_at) return;
    rk.timer_at = t;
    loop_.schedule(t, [this, r, t] {
      Rank& me = ranks_[static_cast<std::size_t>(r)];
      if (me.timer_at == t) me.timer_at = transport::kNever;
      if (me.dead) return;
      if (loop_.now() >= me.engine->next_timer()) me.engine->on_timer(loop_.now());
      flush(r);
    });
  }

  ClusterOptions options_;
  transport::sim::SimLoop loop_;
  std::vector<Rank> ranks_;
};

}  // namespace weft::test
