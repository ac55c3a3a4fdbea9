// AsioDriver: drives an Endpoint over a Datapath with a Boost.Asio io_context instead of poll(2).
//
// The work of one step is the generic Driver's (receive a burst, feed it, transmit, fire due
// timers); only the idle wait differs: the datapath's descriptor is watched with an async_wait and
// the endpoint's next_timer() with a steady_timer, so the loop wakes on input or at the timer with
// microsecond precision (Asio's epoll reactor uses a timerfd) where poll(2) rounds to milliseconds.
// An application that already runs an io_context for its own control traffic can share the idea;
// this class owns its own io_context so the header needs no Asio.
//
// Time: monotonic_now_ns() (steady_clock), which steady_timer shares. Threading: one thread owns
// an AsioDriver and its Endpoint.
#pragma once

#include <memory>

#include "weft/transport/datapath.h"
#include "weft/transport/endpoint.h"

namespace weft::transport {

class AsioDriver {
 public:
  struct Options {
    std::size_t burst = 32;  // frames per rx/tx burst
  };
  // `datapath` must outlive the driver. Its wait_fd() is duplicated and watched; a datapath with
  // no descriptor (busy-poll backends) makes step() spin.
  AsioDriver(Endpoint& endpoint, Datapath& datapath, Options options);
  AsioDriver(Endpoint& endpoint, Datapath& datapath) : AsioDriver(endpoint, datapath, Options{}) {}
  ~AsioDriver();
  AsioDriver(const AsioDriver&) = delete;
  AsioDriver& operator=(const AsioDriver&) = delete;

  // One iteration: if there was work, returns at once; otherwise sleeps in the io_context until
  // the datapath is readable, the endpoint's next timer, or `deadline` (monotonic ns).
  void step(TimeNs deadline);

  // Runs steps, handing each event to `on_event`, until it returns true (then true) or
  // `deadline` passes (then false).
  template <typename OnEvent>
  bool run_until(TimeNs deadline, OnEvent&& on_event) {
    while (true) {
      while (auto ev = endpoint_.poll_event()) {
        if (on_event(*ev)) return true;
      }
      if (monotonic_now_ns() >= deadline) return false;
      step(deadline);
    }
  }

  Endpoint& endpoint() { return endpoint_; }
  // Counters of the underlying loop (frames sent / received, datapath push-back).
  const Driver& driver() const;
  std::uint64_t wakeups() const;  // idle sleeps ended by input or a timer

 private:
  struct Impl;
  Endpoint& endpoint_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::transport
