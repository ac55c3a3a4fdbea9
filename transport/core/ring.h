// Ring<T>: a growable circular buffer indexed from its front.
//
// Used for per-link queues instead of std::deque, whose libstdc++ default constructor allocates:
// an idle link must hold no heap memory (DESIGN.md §3, ≤ 2 KiB per idle connection). Capacity is
// a power of two and only grows; clear_and_release() returns the memory.
#pragma once

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace weft::transport {

template <typename T>
class Ring {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) {
    assert(i < size_);
    return slot(i);
  }
  const T& operator[](std::size_t i) const {
    assert(i < size_);
    return buf_[(head_ + i) & (buf_.size() - 1)];
  }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T v) {
    if (size_ == buf_.size()) grow(size_ + 1);
    slot(size_++) = std::move(v);
  }
  void pop_front() {
    buf_[head_] = T{};
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }
  // Makes the ring at least n long, default-constructing new elements at the back.
  void resize_at_least(std::size_t n) {
    if (n <= size_) return;
    if (n > buf_.size()) grow(n);
    while (size_ < n) slot(size_++) = T{};
  }
  void clear_and_release() {
    std::vector<T>().swap(buf_);
    head_ = size_ = 0;
  }

 private:
  T& slot(std::size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  void grow(std::size_t need) {
    std::size_t cap = buf_.empty() ? 8 : buf_.size();
    while (cap < need) cap *= 2;
    std::vector<T> next(cap);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move(slot(i));
    buf_ = std::move(next);
    head_ = 0;
  }
  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace weft::transport
