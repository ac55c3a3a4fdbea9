// KeySlab: the one guarded region per endpoint that holds every link's key material.
//
// libsodium's guarded allocation (sodium_malloc: guard pages around the block, a canary, mlock)
// costs several mappings and whole pages per call, so one allocation per connection stops near
// 16k connections. The slab instead takes fixed-size entries from a few large guarded chunks
// (grown on demand, `entries_per_chunk` at a time), hands them out from a free list, and wipes an
// entry (sodium_memzero) the moment it is released and every chunk when the slab is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft::crypto {

class KeySlab {
 public:
  KeySlab(std::size_t entry_bytes, std::size_t entries_per_chunk);
  ~KeySlab();
  KeySlab(const KeySlab&) = delete;
  KeySlab& operator=(const KeySlab&) = delete;

  static constexpr std::uint32_t kNone = UINT32_MAX;
  // A zeroed entry's index. Throws std::bad_alloc if a new chunk cannot be allocated.
  std::uint32_t acquire();
  // Wipes the entry and returns it to the free list.
  void release(std::uint32_t index);
  void* at(std::uint32_t index) const {
    return chunks_[index / per_chunk_] + std::size_t{index % per_chunk_} * entry_bytes_;
  }

  std::size_t in_use() const { return in_use_; }
  std::size_t chunk_count() const { return chunks_.size(); }
  std::size_t guarded_bytes() const { return chunks_.size() * per_chunk_ * entry_bytes_; }

 private:
  std::size_t entry_bytes_;
  std::uint32_t per_chunk_;
  std::vector<unsigned char*> chunks_;
  std::vector<std::uint32_t> free_;
  std::size_t in_use_ = 0;
};

// A slab of T (trivially copyable key records).
template <typename T>
class TypedSlab {
 public:
  explicit TypedSlab(std::size_t entries_per_chunk) : slab_(sizeof(T), entries_per_chunk) {}
  std::uint32_t acquire() { return slab_.acquire(); }
  void release(std::uint32_t i) { slab_.release(i); }
  T& operator[](std::uint32_t i) const { return *static_cast<T*>(slab_.at(i)); }
  const KeySlab& raw() const { return slab_; }

 private:
  KeySlab slab_;
};

}  // namespace weft::crypto
