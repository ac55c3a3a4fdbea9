#include "crypto/key_slab.h"

#include <sodium.h>

#include <new>

#include "weft/crypto/aead.h"

namespace weft::crypto {

KeySlab::KeySlab(std::size_t entry_bytes, std::size_t entries_per_chunk)
    : entry_bytes_((entry_bytes + 15) / 16 * 16), per_chunk_(static_cast<std::uint32_t>(entries_per_chunk)) {
  ensure_sodium();
}

KeySlab::~KeySlab() {
  for (unsigned char* c : chunks_) sodium_free(c);  // sodium_free wipes the whole block
}

std::uint32_t KeySlab::acquire() {
  if (free_.empty()) {
    auto* chunk = static_cast<unsigned char*>(sodium_malloc(std::size_t{per_chunk_} * entry_bytes_));
    if (chunk == nullptr) throw std::bad_alloc();
    sodium_memzero(chunk, std::size_t{per_chunk_} * entry_bytes_);
    const auto base = static_cast<std::uint32_t>(chunks_.size() * per_chunk_);
    chunks_.push_back(chunk);
    for (std::uint32_t i = per_chunk_; i > 0; --i) free_.push_back(base + i - 1);
  }
  const std::uint32_t i = free_.back();
  free_.pop_back();
  ++in_use_;
  return i;
}

void KeySlab::release(std::uint32_t index) {
  sodium_memzero(at(index), entry_bytes_);
  free_.push_back(index);
  --in_use_;
}

}  // namespace weft::crypto
