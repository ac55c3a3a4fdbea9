// Driver: the generic poll loop that joins an Endpoint, a Datapath and the monotonic clock.
//
// Order inside one step: transmit what the application queued (and what the datapath refused last
// time); receive a burst and feed it to the endpoint, then transmit what the frames released
// (ACKs, replies), keeping what the datapath refuses; fire due timers; if nothing happened,
// sleep in poll(2) on the datapath's descriptor until the next timer (blocking mode) or spin
// (busy-poll mode).
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "weft/transport/mix.h"
#include "weft/transport/datapath.h"

namespace weft::transport {

TimeNs monotonic_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t wall_clock_offset_ns(TimeNs (*clock)()) {
  const TimeNs local = clock != nullptr ? clock() : monotonic_now_ns();
  const std::int64_t unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  return unix_ns - local;
}

Driver::Driver(Endpoint& endpoint, Datapath& datapath, Options options)
    : endpoint_(endpoint), datapath_(datapath), options_(options) {
  if (options_.burst == 0) options_.burst = 1;
  if (options_.clock == nullptr) options_.clock = &monotonic_now_ns;
  tx_bufs_.resize(options_.burst, std::vector<std::uint8_t>(std::max<std::size_t>(datapath.max_frame_bytes(), 64)));
  tx_owners_.resize(options_.burst);
  tx_pending_.reserve(options_.burst);
  gather_ = datapath.gathers();
  rx_.resize(options_.burst);
}

Driver::~Driver() = default;

void Driver::transmit(TimeNs now) {
  while (true) {
    // Refill the batch behind whatever the datapath refused last time.
    if (tx_head_ > 0) {
      tx_pending_.erase(tx_pending_.begin(), tx_pending_.begin() + static_cast<std::ptrdiff_t>(tx_head_));
      // Frames kept in tx_pending_ still point into their buffers; rotate the buffers with them.
      std::rotate(tx_bufs_.begin(), tx_bufs_.begin() + static_cast<std::ptrdiff_t>(tx_head_), tx_bufs_.end());
      std::rotate(tx_owners_.begin(), tx_owners_.begin() + static_cast<std::ptrdiff_t>(tx_head_), tx_owners_.end());
      tx_head_ = 0;
    }
    Transmit t;
    while (tx_pending_.size() < options_.burst) {
      std::vector<std::uint8_t>& buf = tx_bufs_[tx_pending_.size()];
      if (!(gather_ ? endpoint_.poll_transmit_gather(buf, now, t) : endpoint_.poll_transmit(buf, now, t))) break;
      // A gathered payload is the application's message: hold a reference until the datapath has
      // taken the frame, since an ACK processed meanwhile may release the message.
      tx_owners_[tx_pending_.size()] = std::move(t.payload_owner);
      tx_pending_.push_back(TxFrame{{buf.data(), t.bytes}, t.peer, t.vc, t.entropy, t.payload});
    }
    if (tx_pending_.empty()) return;
    const std::size_t sent = datapath_.tx_burst(tx_pending_);
    frames_sent_ += sent;
    if (gather_) {
      for (std::size_t i = 0; i < sent; ++i) tx_owners_[i].reset();
    }
    if (sent == tx_pending_.size()) {
      tx_pending_.clear();
      continue;
    }
    ++tx_refused_;
    tx_head_ = sent;  // keep the rest for the next step
    return;
  }
}

namespace {
constexpr int kBusySpins = 16;  // receive calls per idle busy-poll pass (~150 ns each on loopback UDP)
}  // namespace

void Driver::step_at(TimeNs now, TimeNs max_wait_ns) {
  bool busy = false;
  const std::uint64_t before = frames_sent_;
  // What the application queued since the last step (a reply, say) leaves before this step's
  // receive call, so a request/response round trip pays no extra syscall on its path.
  transmit(now);
  std::size_t n = datapath_.rx_burst(rx_);
  if (n == 0 && options_.busy_poll && tx_head_ >= tx_pending_.size() && !endpoint_.has_events() &&
      endpoint_.next_timer() > now) {
    // Nothing to do but wait for input: spin on the receive queue alone for a few passes, without
    // the clock readings and bookkeeping of a whole step, so a frame is seen sooner after it lands.
    // Bounded, so timers are at most a few microseconds late.
    for (int i = 0; i < kBusySpins && n == 0; ++i) n = datapath_.rx_burst(rx_);
  }
  if (n > 0) now = options_.clock();
  for (std::size_t i = 0; i < n; ++i) endpoint_.on_frame(rx_[i].bytes, now, rx_[i].peer);
  frames_received_ += n;
  busy |= n > 0;
  if (n > 0) transmit(now);  // ACKs and anything the frames released
  busy |= frames_sent_ != before;
  if (busy) now = options_.clock();  // an idle pass is short: its first reading is still current
  if (endpoint_.next_timer() <= now) {
    endpoint_.on_timer(now);
    transmit(now);
    busy = true;
  }
  if (busy || endpoint_.has_events() || options_.busy_poll) return;
  // Idle: sleep until input, the next timer, or max_wait_ns.
  TimeNs wait = max_wait_ns;
  const TimeNs next = endpoint_.next_timer();
  if (next != kNever) wait = std::min(wait, std::max<TimeNs>(0, next - now));
  if (tx_head_ < tx_pending_.size()) wait = std::min<TimeNs>(wait, 20'000);  // retry refused frames soon
  const int fd = datapath_.wait_fd();
  if (fd < 0 || wait <= 0) return;
  pollfd p{fd, POLLIN, 0};
  // ppoll takes nanoseconds: a delayed ACK or a paced segment due in a few microseconds must not
  // wait for a millisecond tick.
  wait = std::min<TimeNs>(wait, 1'000'000'000);
  const timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
  (void)::ppoll(&p, 1, &ts, nullptr);
}

std::span<const std::uint8_t> TxFrame::flatten(std::vector<std::uint8_t>& scratch) const {
  if (payload.empty()) return bytes;
  scratch.resize(size());
  std::memcpy(scratch.data(), bytes.data(), bytes.size());
  std::memcpy(scratch.data() + bytes.size(), payload.data(), payload.size());
  return scratch;
}

FaultShim::FaultShim(Datapath& inner, Faults faults, std::uint64_t seed)
    : inner_(inner), faults_(faults), rng_(mix64(seed)) {}

double FaultShim::uniform() { return static_cast<double>(mix64(rng_++) >> 11) * 0x1.0p-53; }

std::string FaultShim::describe() const {
  return inner_.describe() + " + faults (loss " + std::to_string(faults_.loss) + ", dup " +
         std::to_string(faults_.duplicate) + ", reorder " + std::to_string(faults_.reorder) + ", corrupt " +
         std::to_string(faults_.corrupt) + ")";
}

std::size_t FaultShim::tx_burst(std::span<const TxFrame> frames) {
  // Decisions are drawn once per frame offered; a frame the inner datapath refuses is reported as
  // not accepted and will be offered (and judged) again.
  std::size_t accepted = 0;
  for (const TxFrame& f : frames) {
    if (faults_.loss > 0 && uniform() < faults_.loss) {
      ++dropped_;
      ++accepted;
      continue;
    }
    TxFrame out = f;
    if (faults_.corrupt > 0 && uniform() < faults_.corrupt && f.size() > 0) {
      const std::span<const std::uint8_t> whole = f.flatten(scratch_);
      if (whole.data() != scratch_.data()) scratch_.assign(whole.begin(), whole.end());
      out.payload = {};
      const std::uint64_t bit = mix64(rng_++) % (scratch_.size() * 8);
      scratch_[bit / 8] = static_cast<std::uint8_t>(scratch_[bit / 8] ^ (1u << (bit % 8)));
      out.bytes = scratch_;
      ++corrupted_;
    }
    if (faults_.reorder > 0 && !holding_ && uniform() < faults_.reorder) {
      const std::span<const std::uint8_t> whole = out.flatten(held_);
      if (whole.data() != held_.data()) held_.assign(whole.begin(), whole.end());
      held_frame_ = out;
      held_frame_.bytes = held_;
      held_frame_.payload = {};
      holding_ = true;
      ++reordered_;
      ++accepted;
      continue;
    }
    if (inner_.tx_burst({&out, 1}) != 1) return accepted;
    if (faults_.duplicate > 0 && uniform() < faults_.duplicate) {
      if (inner_.tx_burst({&out, 1}) == 1) ++duplicated_;
    }
    if (holding_) {  // the held frame goes out after the one that overtook it
      if (inner_.tx_burst({&held_frame_, 1}) == 1) holding_ = false;
    }
    ++accepted;
  }
  return accepted;
}

}  // namespace weft::transport
