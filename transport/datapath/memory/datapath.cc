#include "weft/transport/memory_datapath.h"

#include <algorithm>

#include "weft/transport/pcap.h"

namespace weft::transport {

std::pair<std::unique_ptr<MemoryDatapath>, std::unique_ptr<MemoryDatapath>> MemoryDatapath::make_pair(
    std::size_t queue_limit_frames) {
  auto ab = std::make_shared<Queue>();
  auto ba = std::make_shared<Queue>();
  ab->limit = ba->limit = queue_limit_frames;
  return {std::unique_ptr<MemoryDatapath>(new MemoryDatapath(ba, ab)),
          std::unique_ptr<MemoryDatapath>(new MemoryDatapath(ab, ba))};
}

std::size_t MemoryDatapath::tx_burst(std::span<const TxFrame> frames) {
  std::size_t n = 0;
  for (const TxFrame& f : frames) {
    if (out_->frames.size() >= out_->limit) break;
    std::vector<std::uint8_t>& copy = out_->frames.emplace_back(f.size());
    std::copy(f.bytes.begin(), f.bytes.end(), copy.begin());
    std::copy(f.payload.begin(), f.payload.end(), copy.begin() + static_cast<std::ptrdiff_t>(f.bytes.size()));
    if (pcap_) pcap_->write_ethernet(monotonic_now_ns(), copy);
    ++n;
  }
  return n;
}

std::size_t MemoryDatapath::rx_burst(std::span<RxFrame> out) {
  held_.clear();
  std::size_t n = 0;
  while (n < out.size() && !in_->frames.empty()) {
    held_.push_back(std::move(in_->frames.front()));
    in_->frames.pop_front();
    ++n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = RxFrame{held_[i], 0, false};
    if (pcap_) pcap_->write_ethernet(monotonic_now_ns(), held_[i]);
  }
  return n;
}

}  // namespace weft::transport
