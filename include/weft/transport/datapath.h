// Datapath: a batched, unreliable frame mover (eRPC's tx_burst / rx_burst), and Driver: the loop
// that owns a Datapath and a clock and drives an Endpoint with them.
//
// A datapath knows nothing of TTP state: it moves encoded frames to and from peers, names the
// peer of each received frame, and may lose, reorder or duplicate frames. Reliability lives in the
// Endpoint above it. Backends live in transport/datapath/{memory,udp,dpdk}/ with the same file
// names; DPDK builds into libweft-dpdk so a runtime that links weft does not pull DPDK in.
//
// Buffers: rx_burst hands out views into the datapath's own pooled buffers, valid until the next
// rx_burst call; tx_burst copies (or enqueues) what it accepts before returning. Neither allocates
// after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "weft/transport/endpoint.h"
#include "weft/transport/types.h"
#include "weft/transport/wire.h"

namespace weft::transport {

class PcapWriter;

// A frame to send. `bytes` is the encoded frame (TTP for UDP, Ethernet for DPDK), or, for a
// datapath that gathers (Datapath::gathers()), its headers, with `payload` following them on the
// wire.
struct TxFrame {
  std::span<const std::uint8_t> bytes;
  NodeId peer = 0;
  Vc vc = Vc::kData;          // mapped to DSCP (UDP) or 802.1p priority (DPDK)
  std::uint16_t entropy = 0;  // multipath entropy (weft)
  std::span<const std::uint8_t> payload = {};  // gathered payload (empty: the frame is `bytes`)

  std::size_t size() const { return bytes.size() + payload.size(); }
  // The whole frame as one span: `bytes` itself, or both pieces copied into `scratch`.
  std::span<const std::uint8_t> flatten(std::vector<std::uint8_t>& scratch) const;
};

// A received frame; `bytes` stays valid until the next rx_burst.
struct RxFrame {
  std::span<const std::uint8_t> bytes;
  NodeId peer = 0;  // UDP: the node id the datapath assigned to the source address; DPDK: from TSH
  bool ce = false;  // the network marked congestion (IP ECN CE on UDP)
};

class Datapath {
 public:
  virtual ~Datapath() = default;
  virtual wire::Encapsulation encapsulation() const = 0;
  // Largest frame tx_burst accepts and rx_burst returns.
  virtual std::size_t max_frame_bytes() const = 0;
  // Sends frames in order; returns how many were accepted (the rest stay with the caller, who
  // retries them after the next rx/tx progress). Never blocks.
  virtual std::size_t tx_burst(std::span<const TxFrame> frames) = 0;
  // Receives up to out.size() frames without blocking; returns how many.
  virtual std::size_t rx_burst(std::span<RxFrame> out) = 0;
  // True when tx_burst accepts frames in two pieces (TxFrame::payload): the driver then hands
  // PAYLOADs over by reference (Endpoint::poll_transmit_gather) and the payload is copied once,
  // by the datapath (into the kernel, or into an mbuf). False: every frame is whole in `bytes`.
  virtual bool gathers() const { return false; }
  // A file descriptor that becomes readable when rx_burst has work, or -1 for busy-poll backends.
  virtual int wait_fd() const { return -1; }
  // Capture every frame sent and received into `pcap` (null stops). UDP frames are written as
  // Ethernet + IPv4 + UDP so tools decode them.
  virtual void set_pcap(PcapWriter* pcap) { pcap_ = pcap; }
  // Human-readable name, e.g. "udp 127.0.0.1:7000" or "dpdk net_memif0".
  virtual std::string describe() const = 0;

 protected:
  PcapWriter* pcap_ = nullptr;
};

// The time source of a real driver: monotonic nanoseconds. (The core never reads a clock; drivers
// do, and pass `now` in.)
TimeNs monotonic_now_ns();
// Unix time minus `clock` (monotonic_now_ns when null), in ns: what EndpointConfig::
// wall_clock_offset_ns must be for endpoints driven by that clock, so OPENs are stamped with Unix
// time that peers on other hosts (and later runs) can compare.
std::int64_t wall_clock_offset_ns(TimeNs (*clock)() = nullptr);

// Driver: the generic poll loop. Each step receives a burst, feeds it to the endpoint, transmits
// everything the endpoint wants to send (keeping what the datapath refuses for the next step),
// fires due timers and hands events to the caller. Blocking mode waits on wait_fd() with poll(2)
// until the next timer; busy-poll mode spins.
class Driver {
 public:
  struct Options {
    bool busy_poll = false;            // spin instead of sleeping in poll(2)
    std::size_t burst = 32;            // frames per rx/tx burst
    TimeNs (*clock)() = nullptr;       // time source; null = monotonic_now_ns (DPDK: a TSC clock)
  };
  Driver(Endpoint& endpoint, Datapath& datapath, Options options);
  Driver(Endpoint& endpoint, Datapath& datapath) : Driver(endpoint, datapath, Options{}) {}
  ~Driver();

  // One iteration; waits at most `max_wait_ns` for input when nothing is due (blocking mode).
  void step(TimeNs max_wait_ns) { step_at(options_.clock(), max_wait_ns); }
  // The same, with the clock just read by the caller (one reading per busy-poll pass).
  void step_at(TimeNs now, TimeNs max_wait_ns);
  // Runs steps, handing each event to `on_event`, until it returns true or `deadline` passes
  // (monotonic ns). Returns false on deadline.
  template <typename OnEvent>
  bool run_until(TimeNs deadline, OnEvent&& on_event) {
    while (true) {
      while (auto ev = endpoint_.poll_event()) {
        if (on_event(*ev)) return true;
      }
      const TimeNs now = options_.clock();
      if (now >= deadline) return false;
      step_at(now, deadline - now);
    }
  }
  Endpoint& endpoint() { return endpoint_; }
  std::uint64_t frames_sent() const { return frames_sent_; }
  std::uint64_t frames_received() const { return frames_received_; }
  std::uint64_t tx_refused() const { return tx_refused_; }  // times the datapath pushed back

 private:
  void transmit(TimeNs now);
  Endpoint& endpoint_;
  Datapath& datapath_;
  Options options_;
  std::vector<std::vector<std::uint8_t>> tx_bufs_;
  std::vector<std::shared_ptr<const void>> tx_owners_;  // keep gathered payloads alive, per buffer
  std::vector<TxFrame> tx_pending_;  // encoded but not yet accepted by the datapath
  bool gather_ = false;
  std::size_t tx_head_ = 0;
  std::vector<RxFrame> rx_;
  std::uint64_t frames_sent_ = 0;
  std::uint64_t frames_received_ = 0;
  std::uint64_t tx_refused_ = 0;
};

// FaultShim: wraps any datapath and makes it lossy, for real multi-process runs. Faults act on
// transmitted frames, independently per frame, from one seeded stream (same seed, same choices).
class FaultShim final : public Datapath {
 public:
  struct Faults {
    double loss = 0.0;       // probability a frame is dropped
    double duplicate = 0.0;  // probability a frame is sent twice
    double reorder = 0.0;    // probability a frame is held back and sent after the next one
    double corrupt = 0.0;    // probability one random bit is flipped; the frame is delivered
                             // (undetected corruption: caught by the codec in headers and, with
                             // issue 4, by the AEAD everywhere)
  };
  FaultShim(Datapath& inner, Faults faults, std::uint64_t seed);
  wire::Encapsulation encapsulation() const override { return inner_.encapsulation(); }
  std::size_t max_frame_bytes() const override { return inner_.max_frame_bytes(); }
  std::size_t tx_burst(std::span<const TxFrame> frames) override;
  std::size_t rx_burst(std::span<RxFrame> out) override { return inner_.rx_burst(out); }
  int wait_fd() const override { return inner_.wait_fd(); }
  bool gathers() const override { return inner_.gathers(); }
  void set_pcap(PcapWriter* pcap) override { inner_.set_pcap(pcap); }
  std::string describe() const override;
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t reordered() const { return reordered_; }
  std::uint64_t corrupted() const { return corrupted_; }

 private:
  double uniform();
  Datapath& inner_;
  Faults faults_;
  std::uint64_t rng_;
  std::vector<std::uint8_t> held_;  // a frame held back for reordering
  TxFrame held_frame_;
  bool holding_ = false;
  std::vector<std::uint8_t> scratch_;
  std::uint64_t dropped_ = 0, duplicated_ = 0, reordered_ = 0, corrupted_ = 0;
};

}  // namespace weft::transport
