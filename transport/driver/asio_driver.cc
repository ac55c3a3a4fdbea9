// AsioDriver: the generic Driver's step with an Asio wait. A step that moved frames, fired a
// timer or produced events returns at once; an idle one arms (once) an async_wait for
// readability on a dup of the datapath's descriptor and a steady_timer at the endpoint's next
// timer (or the caller's deadline, or 20 us when the datapath refused frames), then runs the
// io_context until one of them fires. A timer re-armed before it fired completes with
// operation_aborted; such completions do not end the wait.
#include "transport/driver/asio_driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>  // before Asio: Boost 1.74's asio under C++20 needs it (DESIGN.md §9)

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace weft::transport {

namespace asio = boost::asio;

struct AsioDriver::Impl {
  Impl(Endpoint& endpoint, Datapath& datapath, std::size_t burst)
      : driver(endpoint, datapath, Driver::Options{false, burst, &monotonic_now_ns}), readable(io), timer(io) {}
  Driver driver;
  asio::io_context io;
  asio::posix::stream_descriptor readable;
  asio::steady_timer timer;
  bool watching = false;  // an async_wait for readability is outstanding
  bool woke = false;
  std::uint64_t wakeups = 0;
};

AsioDriver::AsioDriver(Endpoint& endpoint, Datapath& datapath, Options options)
    : endpoint_(endpoint), impl_(std::make_unique<Impl>(endpoint, datapath, options.burst)) {
  const int fd = datapath.wait_fd();
  if (fd >= 0) {
    const int copy = ::dup(fd);
    if (copy < 0) throw std::runtime_error("asio driver: dup(" + std::to_string(fd) + ") failed for " + datapath.describe());
    impl_->readable.assign(copy);
  }
}

AsioDriver::~AsioDriver() = default;

const Driver& AsioDriver::driver() const { return impl_->driver; }
std::uint64_t AsioDriver::wakeups() const { return impl_->wakeups; }

void AsioDriver::step(TimeNs deadline) {
  Impl& d = *impl_;
  const std::uint64_t sent = d.driver.frames_sent();
  const std::uint64_t received = d.driver.frames_received();
  const std::uint64_t refused = d.driver.tx_refused();
  const TimeNs timer_before = endpoint_.next_timer();
  d.driver.step(0);  // never sleeps with a zero wait
  if (d.driver.frames_sent() != sent || d.driver.frames_received() != received || endpoint_.has_events()) return;
  const TimeNs now = monotonic_now_ns();
  if (timer_before <= now) return;  // a timer fired in this step; look again before sleeping
  TimeNs until = std::min(deadline, endpoint_.next_timer());
  if (d.driver.tx_refused() != refused) until = std::min<TimeNs>(until, now + 20'000);
  if (until <= now || !d.readable.is_open()) return;

  d.woke = false;
  if (!d.watching) {
    d.watching = true;
    d.readable.async_wait(asio::posix::stream_descriptor::wait_read, [&d](const boost::system::error_code&) {
      d.watching = false;
      d.woke = true;
    });
  }
  d.timer.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(until)));
  d.timer.async_wait([&d](const boost::system::error_code& ec) {
    if (ec != asio::error::operation_aborted) d.woke = true;
  });
  while (!d.woke) d.io.run_one();
  ++d.wakeups;
}

}  // namespace weft::transport
