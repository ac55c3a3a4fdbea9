// The rendezvous store: a small key/value table shared by the ranks of one job, through which
// they publish and find each other's addresses at bootstrap (DESIGN.md §5). It carries addresses
// only, never keys or other secrets (docs/security.md): anyone who can reach the store can read
// and overwrite it.
//
// Backends, chosen by the StoreAddress that detect_launch() reads from WEFT_STORE (launch.h):
//   tcp://HOST:PORT   rank 0 listens on HOST:PORT and serves the table from a background thread;
//                     every rank (rank 0 included) talks to it over one TCP connection. A get()
//                     of a missing key is answered by the server when the key is set, so waiting
//                     costs no polling. The table lives as long as rank 0's Store object.
//   file:///DIR       a directory on a file system every rank sees; each key is one file,
//                     written atomically (temp file, then rename). Waiting polls the directory
//                     (1 ms backoff growing to 50 ms). Use a fresh directory per job: files left
//                     by an earlier job would be read as this job's values.
//   (none)            a world of one rank: an in-process table.
// make_memory_store() gives tests an in-process table shared by ranks that are threads.
//
// Keys: 1 to 200 bytes of [A-Za-z0-9_./-], '/'-separated components that are neither empty,
// "." nor "..". Values: any bytes, at most 1 MiB. A key or value outside these limits throws
// std::invalid_argument naming the key, before anything is sent or written.
//
// All calls block; the store is for drivers and bootstrap code, never the sans-I/O engine.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

#include "weft/collectives/launch.h"

namespace weft::collectives {

inline constexpr std::size_t kStoreMaxKeyBytes = 200;
inline constexpr std::size_t kStoreMaxValueBytes = std::size_t{1} << 20;  // 1 MiB

// A get() or barrier() that ran out of time, or a TCP client that could not reach rank 0's
// server in time. The message names the store, the key or missing ranks, and the time waited.
struct StoreTimeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A key/value rendezvous store shared by the ranks of one job. Not thread-safe: one thread at a
// time per Store object (each rank opens its own), except the memory store, which any number of
// threads may share. I/O failures throw std::runtime_error naming the store and the cause.
class Store {
 public:
  virtual ~Store() = default;

  // Sets key to value, overwriting any earlier value; returns once the store holds it.
  virtual void set(const std::string& key, const std::string& value) = 0;

  // Waits until key exists and returns its value. Throws StoreTimeout after `timeout` (a
  // negative timeout counts as zero: the value if it is already there, else the timeout) with a
  // message naming the store, the key and how long it waited.
  virtual std::string get(const std::string& key, std::chrono::milliseconds timeout) = 0;

  // Every rank calls barrier(name) once; returns when all `size` ranks have. A name is single
  // use (the store remembers it): use a new name for each barrier. Throws StoreTimeout after
  // `timeout` naming the ranks that have not arrived (the memory store, which does not know
  // which rank calls, says how many arrived).
  virtual void barrier(const std::string& name, std::chrono::milliseconds timeout) = 0;

  // Where the store is, as parse_store() reads it; for a TCP store opened with port 0, the port
  // rank 0's server actually bound. Kind::kNone for in-process stores.
  virtual StoreAddress address() const = 0;

  // For messages: "tcp://127.0.0.1:29400 (served by rank 0)", "file:///tmp/x", "memory".
  virtual std::string describe() const = 0;
};

// Opens the store at `address` for `rank` of `size` (0 <= rank < size, else
// std::invalid_argument).
//   kTcp   rank 0 binds HOST:PORT (SO_REUSEADDR; PORT 0 binds an ephemeral port, which
//          address() then reports) and serves it from a thread the returned object owns and
//          stops when destroyed; destroy it only after the other ranks are done with the store
//          (e.g. after a final barrier). Every rank then connects, retrying until `timeout`,
//          since rank 0 may start later; StoreTimeout names the address and says rank 0 serves it.
//   kFile  creates the directory if missing (std::runtime_error if it cannot).
//   kNone  with size == 1, an in-process store; with size > 1, std::runtime_error naming
//          WEFT_STORE, since ranks cannot find each other without one.
std::unique_ptr<Store> open_store(const StoreAddress& address, int rank, int size,
                                  std::chrono::milliseconds timeout);

// An in-process store for tests whose ranks are threads of one process: every rank uses the same
// object (thread-safe). barrier() counts calls, so it returns once it has been called `size`
// times for a name.
std::shared_ptr<Store> make_memory_store(int size);

}  // namespace weft::collectives
