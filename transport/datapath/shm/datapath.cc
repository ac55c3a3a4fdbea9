// ShmDatapath: two SPSC rings of fixed-size slots in one POSIX shared-memory object (see
// shm_datapath.h).
//
// Layout: a header page (magic, version, geometry, both sides' pids, the two rings' indices, each
// index on a cache line of its own), then ring 0's slots (creator -> attacher), then ring 1's.
// A slot is a 4-byte frame length and the frame. Indices count frames from 0 and never wrap in
// practice (2^64); a slot is index & (slots - 1). The producer writes slots, then publishes its
// head with a release store; the consumer reads the head with an acquire load, reads the slots,
// and gives them back by publishing its tail the same way.
#include "weft/transport/shm_datapath.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <thread>

#include "weft/transport/pcap.h"

namespace weft::transport {
namespace {

constexpr std::uint64_t kMagic = 0x31'6d'68'73'74'66'65'77ull;  // "weftshm1"
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 4096;
constexpr std::size_t kLengthBytes = 4;

std::string errno_text() { return std::strerror(errno); }

std::size_t round_up(std::size_t v, std::size_t to) { return (v + to - 1) / to * to; }

}  // namespace

struct ShmDatapath::Ring {
  alignas(64) std::atomic<std::uint64_t> head{0};  // frames published by the producer
  alignas(64) std::atomic<std::uint64_t> tail{0};  // frames given back by the consumer
};

struct ShmDatapath::Region {
  std::atomic<std::uint64_t> magic{0};  // set last by the creator
  std::uint32_t version = kVersion;
  std::uint32_t slots = 0;
  std::uint64_t slot_bytes = 0;
  std::atomic<std::int32_t> pid[2] = {0, 0};  // creator, attacher (0: not attached)
  Ring ring[2];                               // [0]: creator -> attacher, [1]: attacher -> creator
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the rings need lock-free 64-bit atomics");

ShmDatapath::ShmDatapath(const ShmOptions& options) : options_(options) {
  const std::string& name = options_.name;
  const std::string what = "shared-memory link '" + name + "'";
  if (name.size() < 2 || name[0] != '/' || name.find('/', 1) != std::string::npos || name.size() > 250) {
    throw std::runtime_error(what + ": the name must be '/' followed by up to 249 characters without '/'");
  }
  if (options_.slots < 2 || (options_.slots & (options_.slots - 1)) != 0 || options_.slots > (1u << 20)) {
    throw std::runtime_error(what + ": slots (" + std::to_string(options_.slots) +
                             ") must be a power of two between 2 and 1048576");
  }
  if (options_.max_frame_bytes < wire::kMinSendFrameBytes || options_.max_frame_bytes > 65535) {
    throw std::runtime_error(what + ": max_frame_bytes must be between " +
                             std::to_string(wire::kMinSendFrameBytes) + " and 65535");
  }
  slot_bytes_ = round_up(options_.max_frame_bytes + kLengthBytes, 64);
  const std::size_t ring_bytes = slot_bytes_ * options_.slots;
  map_bytes_ = kHeaderBytes + 2 * ring_bytes;

  int fd = -1;
  if (options_.create) {
    fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 && errno == EEXIST) {  // left by a process that died before removing it
      ::shm_unlink(name.c_str());
      fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    }
    if (fd < 0) throw std::runtime_error(what + ": shm_open (create) failed: " + errno_text());
    linked_ = true;
    if (::ftruncate(fd, static_cast<off_t>(map_bytes_)) != 0) {
      const std::string e = errno_text();
      ::close(fd);
      unlink();
      throw std::runtime_error(what + ": ftruncate to " + std::to_string(map_bytes_) + " B failed: " + e +
                               " (is /dev/shm large enough?)");
    }
  } else {
    // The creator may not be there yet: wait for the object, and for its full size.
    const auto deadline = std::chrono::steady_clock::now() + options_.attach_timeout;
    long long seen_size = -1;  // the object's size when it existed but was too small
    while (true) {
      fd = ::shm_open(name.c_str(), O_RDWR, 0);
      if (fd >= 0) {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= map_bytes_) break;
        seen_size = st.st_size;
        ::close(fd);
        fd = -1;
      } else if (errno != ENOENT) {
        throw std::runtime_error(what + ": shm_open (attach) failed: " + errno_text());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error(
            what + ": not created within " + std::to_string(options_.attach_timeout.count()) + " ms" +
            (seen_size < 0 ? ": is the creating side running, with the same name?"
                           : " at the size these options need (" + std::to_string(map_bytes_) + " B; it has " +
                                 std::to_string(seen_size) + " B): do both sides use the same slots and "
                                 "max_frame_bytes?"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  map_ = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    if (options_.create) unlink();
    throw std::runtime_error(what + ": mmap of " + std::to_string(map_bytes_) + " B failed: " + std::strerror(map_errno));
  }
  auto* base = static_cast<std::uint8_t*>(map_);
  const int side = options_.create ? 0 : 1;
  if (options_.create) {
    region_ = new (map_) Region();
    region_->slots = options_.slots;
    region_->slot_bytes = slot_bytes_;
    region_->pid[0].store(static_cast<std::int32_t>(::getpid()), std::memory_order_relaxed);
    region_->magic.store(kMagic, std::memory_order_release);
  } else {
    region_ = static_cast<Region*>(map_);
    const auto deadline = std::chrono::steady_clock::now() + options_.attach_timeout;
    while (region_->magic.load(std::memory_order_acquire) != kMagic) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::munmap(map_, map_bytes_);
        map_ = nullptr;
        throw std::runtime_error(what + ": the creator never finished initialising it (no magic number)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (region_->version != kVersion || region_->slots != options_.slots || region_->slot_bytes != slot_bytes_) {
      const std::string theirs = "version " + std::to_string(region_->version) + ", " +
                                 std::to_string(region_->slots) + " slots of " + std::to_string(region_->slot_bytes) + " B";
      ::munmap(map_, map_bytes_);
      map_ = nullptr;
      throw std::runtime_error(what + ": created as " + theirs + ", attached as version " + std::to_string(kVersion) +
                               ", " + std::to_string(options_.slots) + " slots of " + std::to_string(slot_bytes_) +
                               " B: both sides must use the same options");
    }
    region_->pid[1].store(static_cast<std::int32_t>(::getpid()), std::memory_order_release);
  }
  static_assert(sizeof(Region) <= kHeaderBytes);
  tx_ = &region_->ring[side];
  rx_ = &region_->ring[side ^ 1];
  tx_slots_ = base + kHeaderBytes + static_cast<std::size_t>(side) * ring_bytes;
  rx_slots_ = base + kHeaderBytes + static_cast<std::size_t>(side ^ 1) * ring_bytes;
  tx_head_ = tx_->head.load(std::memory_order_relaxed);
  tx_tail_seen_ = tx_->tail.load(std::memory_order_acquire);
  rx_tail_ = rx_->tail.load(std::memory_order_relaxed);
}

ShmDatapath::~ShmDatapath() {
  if (options_.create) unlink();
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
}

void ShmDatapath::unlink() {
  if (!linked_) return;
  ::shm_unlink(options_.name.c_str());
  linked_ = false;
}

bool ShmDatapath::peer_attached() const {
  return region_ != nullptr && region_->pid[options_.create ? 1 : 0].load(std::memory_order_acquire) != 0;
}

bool ShmDatapath::peer_alive() {
  const std::int32_t pid = region_->pid[options_.create ? 1 : 0].load(std::memory_order_acquire);
  if (pid == 0) return true;  // not attached yet: it will drain the ring when it comes
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

std::string ShmDatapath::describe() const {
  return "shm " + options_.name + " (" + (options_.create ? "creator" : "attached") + ", " +
         std::to_string(options_.slots) + " slots of " + std::to_string(slot_bytes_) + " B each way)";
}

std::size_t ShmDatapath::tx_burst(std::span<const TxFrame> frames) {
  const std::uint64_t mask = options_.slots - 1;
  std::size_t accepted = 0;
  const std::uint64_t start = tx_head_;
  for (const TxFrame& f : frames) {
    const std::size_t len = f.size();
    if (len > options_.max_frame_bytes || f.bytes.size() < wire::kEthHeaderBytes) {
      ++stats_.tx_oversize;
      ++accepted;
      continue;
    }
    if (tx_head_ - tx_tail_seen_ >= options_.slots) {
      tx_tail_seen_ = tx_->tail.load(std::memory_order_acquire);
      if (tx_head_ - tx_tail_seen_ >= options_.slots) {
        if (peer_alive()) {
          stats_.tx_refused += frames.size() - accepted;
          break;
        }
        ++stats_.tx_peer_gone;  // nobody will ever drain it: drop, as a link with no peer does
        ++accepted;
        continue;
      }
    }
    std::uint8_t* slot = tx_slots_ + (tx_head_ & mask) * slot_bytes_;
    const std::uint32_t len32 = static_cast<std::uint32_t>(len);
    std::memcpy(slot, &len32, kLengthBytes);
    std::memcpy(slot + kLengthBytes, f.bytes.data(), f.bytes.size());
    if (!f.payload.empty()) std::memcpy(slot + kLengthBytes + f.bytes.size(), f.payload.data(), f.payload.size());
    if (pcap_ != nullptr) pcap_->write_ethernet(monotonic_now_ns(), {slot + kLengthBytes, len});
    ++tx_head_;
    ++accepted;
  }
  if (tx_head_ != start) {
    stats_.tx_frames += tx_head_ - start;
    tx_->head.store(tx_head_, std::memory_order_release);
  }
  return accepted;
}

std::size_t ShmDatapath::rx_burst(std::span<RxFrame> out) {
  if (rx_held_ > 0) {  // the frames handed up last time have been consumed: give their slots back
    rx_tail_ += rx_held_;
    rx_held_ = 0;
    rx_->tail.store(rx_tail_, std::memory_order_release);
  }
  const std::uint64_t head = rx_->head.load(std::memory_order_acquire);
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(head - rx_tail_, out.size()));
  const std::uint64_t mask = options_.slots - 1;
  const TimeNs now = pcap_ != nullptr ? monotonic_now_ns() : 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* slot = rx_slots_ + ((rx_tail_ + i) & mask) * slot_bytes_;
    std::uint32_t len = 0;
    std::memcpy(&len, slot, kLengthBytes);
    if (len > slot_bytes_ - kLengthBytes) len = 0;  // never read past the slot, whatever the peer wrote
    out[i] = RxFrame{{slot + kLengthBytes, len}, 0, false};
    if (pcap_ != nullptr) pcap_->write_ethernet(now, out[i].bytes);
  }
  rx_held_ = n;
  stats_.rx_frames += n;
  return n;
}

}  // namespace weft::transport
