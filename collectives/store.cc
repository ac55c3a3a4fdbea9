// The rendezvous store's three backends (store.h).
//
// TCP protocol. A client opens with the 4 bytes "WFS1", then sends requests, one at a time:
//   request   op (1 byte), key length (u32 BE), value length (u32 BE), key, value
//   response  status (1 byte), payload length (u32 BE), payload
// SET stores the value and answers kOk. GET answers kOk with the value as soon as the key exists,
// so a waiting client simply reads its socket until its own deadline. When that passes the client
// sends CANCEL: if the GET is still parked the server answers it kCancelled; if the value was
// already on its way the server ignores the CANCEL. Either way exactly one response follows each
// GET, and the connection stays in step. CHECK answers kOk or kMissing at once. ADD adds a signed
// 64-bit delta (the value, 8 bytes BE) to a counter kept as decimal text and answers the new
// count; barriers use it so that the last rank to arrive publishes "done". Anything else (a bad
// greeting, an unknown op, oversized lengths, a bad key, a second request while a GET is parked)
// closes that connection and nothing more.
//
// The server is one thread polling the listening socket, every client and an eventfd that the
// destructor signals. Each connection keeps its unparsed input and unsent output; a connection
// whose output is pending is not read further, which bounds its memory to one frame each way.
#include "weft/collectives/store.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace weft::collectives {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long a round trip that does not wait for another rank (SET, CHECK, ADD, the answer to a
// CANCEL) may take before the connection counts as dead.
constexpr milliseconds kIoTimeout{60'000};
constexpr char kHello[4] = {'W', 'F', 'S', '1'};
constexpr std::size_t kRequestHeaderBytes = 9;
constexpr std::size_t kResponseHeaderBytes = 5;
constexpr std::size_t kMaxRequestBytes = sizeof kHello + kRequestHeaderBytes + kStoreMaxKeyBytes + kStoreMaxValueBytes;

enum class Op : std::uint8_t { kSet = 1, kGet = 2, kCancel = 3, kCheck = 4, kAdd = 5 };
enum class Status : std::uint8_t { kOk = 0, kMissing = 1, kCancelled = 2, kError = 3 };

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// ---- names, limits and messages -----------------------------------------------------------------

// Why `key` is not a valid key, or nullptr.
const char* key_problem(std::string_view key) {
  if (key.empty()) return "it is empty";
  if (key.size() > kStoreMaxKeyBytes) return "it is longer than 200 bytes";
  for (char ch : key) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '/' || ch == '-';
    if (!ok) return "it has a character outside [A-Za-z0-9_./-]";
  }
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = std::min(key.find('/', begin), key.size());
    const std::string_view part = key.substr(begin, end - begin);
    if (part.empty()) return "it has an empty '/' component";
    if (part == "." || part == "..") return "it has a '.' or '..' component";
    if (end == key.size()) return nullptr;
    begin = end + 1;
  }
}

// The key in quotes for a message: non-printable bytes as \xHH, long keys cut short.
std::string quoted(std::string_view key) {
  constexpr std::size_t kShown = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < key.size() && i < kShown; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\' && byte != '\'') {
      out.push_back(static_cast<char>(byte));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  out += "'";
  if (key.size() > kShown) out += "... (" + std::to_string(key.size()) + " bytes)";
  return out;
}

void check_key(const std::string& key, const char* what = "key") {
  if (const char* problem = key_problem(key)) {
    throw std::invalid_argument(std::string("store ") + what + " " + quoted(key) + " is invalid: " + problem +
                                " (keys are 1-200 bytes of [A-Za-z0-9_./-], '/'-separated components other than "
                                "'', '.' and '..')");
  }
}

void check_value(const std::string& key, const std::string& value) {
  if (value.size() > kStoreMaxValueBytes) {
    throw std::invalid_argument("store value for key " + quoted(key) + " is " + std::to_string(value.size()) +
                                " bytes; the store holds at most 1048576 (1 MiB) per value");
  }
}

std::string seconds_text(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::string barrier_key(const std::string& name, const std::string& leaf) { return "barrier/" + name + "/" + leaf; }

// "1, 3, 5-9" with at most 32 runs shown.
std::string rank_list(const std::vector<int>& ranks) {
  constexpr std::size_t kShownRuns = 32;
  std::string out;
  std::size_t runs = 0;
  for (std::size_t i = 0; i < ranks.size();) {
    std::size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (runs == kShownRuns) {
      out += ", ... (" + std::to_string(ranks.size() - i) + " more)";
      break;
    }
    if (runs > 0) out += ", ";
    out += std::to_string(ranks[i]);
    if (j > i) out += "-" + std::to_string(ranks[j]);
    ++runs;
    i = j + 1;
  }
  return out;
}

[[noreturn]] void throw_get_timeout(const std::string& store, const std::string& key, milliseconds timeout) {
  throw StoreTimeout("store " + store + ": timed out after " + seconds_text(timeout) + " waiting for key " +
                     quoted(key) + " (no rank has set it; is the rank that publishes it running, with the same store?)");
}

[[noreturn]] void throw_barrier_timeout(const std::string& store, const std::string& name, milliseconds timeout,
                                        const std::vector<int>& missing, int size) {
  throw StoreTimeout("store " + store + ": barrier " + quoted(name) + " timed out after " + seconds_text(timeout) +
                     "; " + std::to_string(missing.size()) + " of " + std::to_string(size) +
                     " ranks never arrived: " + (missing.size() == 1 ? "rank " : "ranks ") + rank_list(missing) +
                     " (are they running, with the same store and world size?)");
}

// ---- time ---------------------------------------------------------------------------------------

class Deadline {
 public:
  explicit Deadline(milliseconds budget)
      : at_(Clock::now() + std::clamp(budget, milliseconds{0}, milliseconds{std::chrono::hours{24 * 365}})) {}
  bool passed() const { return Clock::now() >= at_; }
  Clock::duration left() const { return std::max(at_ - Clock::now(), Clock::duration::zero()); }
  // The time left in whole milliseconds, rounded up, for poll().
  int poll_ms() const {
    const auto ms = std::chrono::ceil<milliseconds>(left()).count();
    return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
  }

 private:
  Clock::time_point at_;
};

// ---- file descriptors and byte order ------------------------------------------------------------

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void put_i64(std::string& out, std::int64_t value) {
  const auto v = static_cast<std::uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::int64_t get_i64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<std::int64_t>(v);
}

std::string request_frame(Op op, const std::string& key, const std::string& value) {
  std::string frame;
  frame.reserve(kRequestHeaderBytes + key.size() + value.size());
  frame.push_back(static_cast<char>(op));
  put_u32(frame, static_cast<std::uint32_t>(key.size()));
  put_u32(frame, static_cast<std::uint32_t>(value.size()));
  frame += key;
  frame += value;
  return frame;
}

std::string numeric_host(const sockaddr* addr, socklen_t len) {
  char host[NI_MAXHOST];
  if (::getnameinfo(addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "?";
  return host;
}

struct Resolved {
  std::vector<std::pair<sockaddr_storage, socklen_t>> addrs;
  std::string error;  // why there are none
};

Resolved resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  Resolved out;
  if (rc != 0) {
    out.error = "cannot resolve '" + host + "': " + (rc == EAI_SYSTEM ? errno_text(errno) : ::gai_strerror(rc));
    return out;
  }
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    out.addrs.emplace_back(ss, ai->ai_addrlen);
  }
  ::freeaddrinfo(list);
  return out;
}

// ---- TCP server ---------------------------------------------------------------------------------

class TcpServer {
 public:
  // Binds and listens on the first address of `host` that accepts, then starts serving.
  TcpServer(const std::string& host, std::uint16_t port, const std::string& where) {
    const Resolved resolved = resolve(host, port);
    if (resolved.addrs.empty()) throw std::runtime_error("store " + where + ": rank 0 cannot serve it: " + resolved.error);
    std::string errors;
    for (const auto& [addr, len] : resolved.addrs) {
      const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
      Fd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      int err = 0;
      const char* step = "socket";
      if (!fd.valid()) {
        err = errno;
      } else {
        const int one = 1;
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd.get(), sa, len) != 0) {
          err = errno;
          step = "bind";
        } else if (::listen(fd.get(), SOMAXCONN) != 0) {
          err = errno;
          step = "listen";
        }
      }
      if (err == 0) {
        listen_ = std::move(fd);
        break;
      }
      if (!errors.empty()) errors += "; ";
      errors += std::string(step) + " " + numeric_host(sa, len) + " port " + std::to_string(port) + ": " + errno_text(err);
      if (err == EADDRINUSE) errors += " (another process holds the port; choose another PORT in WEFT_STORE)";
      if (err == EADDRNOTAVAIL) errors += " (not an address of this host; rank 0 must run on the host WEFT_STORE names)";
    }
    if (!listen_.valid()) throw std::runtime_error("store " + where + ": rank 0 cannot serve it: " + errors);
    bound_len_ = sizeof bound_;
    if (::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&bound_), &bound_len_) != 0) {
      throw std::runtime_error("store " + where + ": getsockname: " + errno_text(errno));
    }
    wake_ = Fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake_.valid()) throw std::runtime_error("store " + where + ": eventfd: " + errno_text(errno));
    thread_ = std::thread([this] { run(); });
  }

  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  ~TcpServer() {
    const std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    thread_.join();
  }

  std::uint16_t port() const {
    const auto* sa = reinterpret_cast<const sockaddr*>(&bound_);
    if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&bound_)->sin6_port);
    return ntohs(reinterpret_cast<const sockaddr_in*>(&bound_)->sin_port);
  }
  std::pair<sockaddr_storage, socklen_t> bound() const { return {bound_, bound_len_}; }

 private:
  struct Conn {
    Fd fd;
    bool greeted = false;
    std::string in;
    std::string out;
    std::size_t out_sent = 0;
    std::optional<std::string> parked_key;  // a GET waiting for this key
  };

  void run() {
    try {
      serve();
    } catch (...) {
      // Out of memory or a similar failure: stop serving; clients see their connections close.
    }
    conns_.clear();
  }

  void serve() {
    std::vector<pollfd> fds;
    std::vector<char> chunk(64 * 1024);
    while (true) {
      fds.clear();
      fds.push_back({wake_.get(), POLLIN, 0});
      fds.push_back({listen_.get(), POLLIN, 0});
      for (const auto& [fd, conn] : conns_) {
        short events = 0;
        if (conn.in.size() < kMaxRequestBytes) events |= POLLIN;
        if (conn.out_sent < conn.out.size()) events |= POLLOUT;
        fds.push_back({fd, events, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[0].revents != 0) return;
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0) service(fds[i].fd, fds[i].revents, chunk);
      }
      // After the clients, so that no descriptor number is reused within one round.
      if ((fds[1].revents & POLLIN) != 0) accept_all();
    }
  }

  void accept_all() {
    while (true) {
      const int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors: try again on the next round
      const int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_[fd].fd = Fd(fd);
    }
  }

  void service(int fd, short revents, std::vector<char>& chunk) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& conn = it->second;
    bool alive = (revents & (POLLERR | POLLNVAL)) == 0;
    if (alive && (revents & (POLLIN | POLLHUP)) != 0 && conn.in.size() < kMaxRequestBytes) {
      const ssize_t n = ::recv(fd, chunk.data(), std::min(chunk.size(), kMaxRequestBytes - conn.in.size()), 0);
      if (n > 0) {
        conn.in.append(chunk.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        alive = false;
      }
    }
    alive = alive && flush(conn);
    while (alive) {
      const std::size_t unparsed = conn.in.size();
      alive = process(conn) && flush(conn);
      if (!conn.out.empty() || conn.in.size() == unparsed) break;
    }
    if (!alive) close_conn(fd);
  }

  // Sends what it can of the connection's output; false if the connection is dead.
  static bool flush(Conn& conn) {
    while (conn.out_sent < conn.out.size()) {
      const ssize_t n =
          ::send(conn.fd.get(), conn.out.data() + conn.out_sent, conn.out.size() - conn.out_sent, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      conn.out_sent += static_cast<std::size_t>(n);
    }
    conn.out.clear();
    conn.out_sent = 0;
    return true;
  }

  // Handles the complete requests in the connection's input until its pending output reaches
  // one frame; false if the client broke the protocol.
  bool process(Conn& conn) {
    if (!conn.greeted) {
      if (conn.in.size() < sizeof kHello) return true;
      if (std::memcmp(conn.in.data(), kHello, sizeof kHello) != 0) return false;
      conn.in.erase(0, sizeof kHello);
      conn.greeted = true;
    }
    std::size_t used = 0;
    while (conn.out.size() < kMaxRequestBytes && conn.in.size() - used >= kRequestHeaderBytes) {
      const char* header = conn.in.data() + used;
      const auto op = static_cast<Op>(static_cast<unsigned char>(header[0]));
      const std::uint32_t key_len = get_u32(header + 1), value_len = get_u32(header + 5);
      if (key_len > kStoreMaxKeyBytes || value_len > kStoreMaxValueBytes) return false;
      if (conn.in.size() - used < kRequestHeaderBytes + key_len + value_len) break;
      std::string key = conn.in.substr(used + kRequestHeaderBytes, key_len);
      std::string value = conn.in.substr(used + kRequestHeaderBytes + key_len, value_len);
      used += kRequestHeaderBytes + key_len + value_len;
      if (!handle(conn, op, std::move(key), std::move(value))) return false;
    }
    conn.in.erase(0, used);
    return true;
  }

  bool handle(Conn& conn, Op op, std::string key, std::string value) {
    if (op == Op::kCancel) {
      if (!key.empty() || !value.empty()) return false;
      if (conn.parked_key) {
        unpark(conn);
        respond(conn, Status::kCancelled, "");
      }
      return true;
    }
    if (conn.parked_key || key_problem(key) != nullptr) return false;
    switch (op) {
      case Op::kSet:
        respond(conn, Status::kOk, "");
        store(key, std::move(value));
        return true;
      case Op::kGet: {
        if (!value.empty()) return false;
        auto found = table_.find(key);
        if (found != table_.end()) {
          respond(conn, Status::kOk, found->second);
        } else {
          waiters_.emplace(key, conn.fd.get());
          conn.parked_key = std::move(key);
        }
        return true;
      }
      case Op::kCheck:
        if (!value.empty()) return false;
        respond(conn, table_.count(key) != 0 ? Status::kOk : Status::kMissing, "");
        return true;
      case Op::kAdd: {
        if (value.size() != 8) return false;
        std::int64_t count = 0;
        auto found = table_.find(key);
        if (found != table_.end()) {
          const std::string& text = found->second;
          char* end = nullptr;
          errno = 0;
          count = std::strtoll(text.c_str(), &end, 10);
          if (text.empty() || errno != 0 || end != text.c_str() + text.size()) {
            respond(conn, Status::kError, "key " + quoted(key) + " holds a value that is not a counter");
            return true;
          }
        }
        count = static_cast<std::int64_t>(static_cast<std::uint64_t>(count) +
                                          static_cast<std::uint64_t>(get_i64(value.data())));
        std::string reply;
        put_i64(reply, count);
        respond(conn, Status::kOk, reply);
        store(key, std::to_string(count));
        return true;
      }
      case Op::kCancel:
        break;
    }
    return false;  // an unknown op
  }

  static void respond(Conn& conn, Status status, const std::string& payload) {
    conn.out.push_back(static_cast<char>(status));
    put_u32(conn.out, static_cast<std::uint32_t>(payload.size()));
    conn.out += payload;
  }

  // Sets the key and answers the GETs parked on it (their output goes out on the next round).
  void store(const std::string& key, std::string value) {
    std::string& slot = table_[key];
    slot = std::move(value);
    auto [first, last] = waiters_.equal_range(key);
    for (auto it = first; it != last; ++it) {
      Conn& waiter = conns_.at(it->second);
      waiter.parked_key.reset();
      respond(waiter, Status::kOk, slot);
    }
    waiters_.erase(first, last);
  }

  void unpark(Conn& conn) {
    auto [first, last] = waiters_.equal_range(*conn.parked_key);
    for (auto it = first; it != last; ++it) {
      if (it->second == conn.fd.get()) {
        waiters_.erase(it);
        break;
      }
    }
    conn.parked_key.reset();
  }

  void close_conn(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    if (it->second.parked_key) unpark(it->second);
    conns_.erase(it);
  }

  Fd listen_;
  Fd wake_;
  sockaddr_storage bound_{};
  socklen_t bound_len_ = 0;
  std::unordered_map<std::string, std::string> table_;
  std::unordered_multimap<std::string, int> waiters_;  // key -> descriptor of a parked GET
  std::unordered_map<int, Conn> conns_;                // by descriptor
  std::thread thread_;                                 // last: starts after everything above exists
};

// ---- TCP client: every rank's Store ------------------------------------------------------------

class TcpStore final : public Store {
 public:
  TcpStore(const StoreAddress& address, int rank, int size, milliseconds timeout)
      : address_(address), rank_(rank), size_(size) {
    if (rank == 0) {
      server_ = std::make_unique<TcpServer>(address.host, address.port, address.text());
      address_.port = server_->port();
    } else if (address.port == 0) {
      throw std::invalid_argument("store " + address.text() + ": rank " + std::to_string(rank) +
                                  " cannot connect to port 0; only rank 0 may open port 0 (an ephemeral port), and "
                                  "the other ranks need the port it bound (Store::address() on rank 0)");
    }
    describe_ = address_.text() + " (served by rank 0)";
    connect(timeout);
  }

  void set(const std::string& key, const std::string& value) override {
    check_key(key);
    check_value(key, value);
    const Reply reply = round_trip(Op::kSet, key, value, "setting key " + quoted(key));
    expect_status(reply, Status::kOk, "setting key " + quoted(key));
  }

  std::string get(const std::string& key, milliseconds timeout) override {
    check_key(key);
    const std::string doing = "waiting for key " + quoted(key);
    const Deadline deadline(timeout);
    send(request_frame(Op::kGet, key, ""), doing);
    Reply reply;
    if (!receive(reply, deadline, doing)) {
      send(request_frame(Op::kCancel, "", ""), doing);
      if (!receive(reply, Deadline(kIoTimeout), doing)) fail_io(doing, "no answer from the server");
    }
    if (reply.status == Status::kCancelled) throw_get_timeout(describe_, key, timeout);
    expect_status(reply, Status::kOk, doing);
    return std::move(reply.payload);
  }

  void barrier(const std::string& name, milliseconds timeout) override {
    check_key(name, "barrier name");
    const std::string arrived_key = barrier_key(name, std::to_string(rank_));
    const std::string done_key = barrier_key(name, "done");
    check_key(barrier_key(name, "count"));
    check_key(barrier_key(name, std::to_string(size_ - 1)));
    const Deadline deadline(timeout);
    set(arrived_key, "");
    std::string delta;
    put_i64(delta, 1);
    const std::string doing = "counting arrivals at barrier " + quoted(name);
    const Reply reply = round_trip(Op::kAdd, barrier_key(name, "count"), delta, doing);
    expect_status(reply, Status::kOk, doing);
    if (reply.payload.size() != 8) fail_io(doing, "malformed reply");
    if (get_i64(reply.payload.data()) == size_) set(done_key, "");
    try {
      (void)get(done_key, std::chrono::duration_cast<milliseconds>(deadline.left()));
    } catch (const StoreTimeout&) {
      std::vector<int> missing;
      for (int r = 0; r < size_; ++r) {
        const std::string key = barrier_key(name, std::to_string(r));
        const Reply check = round_trip(Op::kCheck, key, "", "checking barrier " + quoted(name));
        if (check.status == Status::kMissing) missing.push_back(r);
      }
      if (missing.empty()) return;  // the last rank arrived just as the wait ran out
      throw_barrier_timeout(describe_, name, timeout, missing, size_);
    }
  }

  StoreAddress address() const override { return address_; }
  std::string describe() const override { return describe_; }

 private:
  struct Reply {
    Status status = Status::kOk;
    std::string payload;
  };

  void connect(milliseconds timeout) {
    const Deadline deadline(timeout);
    std::string last_error;
    milliseconds backoff{1};
    while (true) {
      Resolved resolved;
      if (server_) {
        resolved.addrs.push_back(server_->bound());
      } else {
        resolved = resolve(address_.host, address_.port);
        last_error = resolved.error;
      }
      for (const auto& [addr, len] : resolved.addrs) {
        if (try_connect(reinterpret_cast<const sockaddr*>(&addr), len, deadline, last_error)) {
          send(std::string(kHello, sizeof kHello), "greeting the server");
          return;
        }
      }
      if (deadline.passed()) {
        throw StoreTimeout("store " + describe_ + ": rank " + std::to_string(rank_) + " could not connect within " +
                           seconds_text(timeout) + " (" + last_error + "); rank 0 serves this store: is rank 0 " +
                           "running, and listening on " + address_.text() + "?");
      }
      std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline.left()));
      backoff = std::min(backoff * 2, milliseconds{100});
    }
  }

  bool try_connect(const sockaddr* sa, socklen_t len, const Deadline& deadline, std::string& error) {
    Fd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const std::string target = numeric_host(sa, len) + " port " + std::to_string(address_.port);
    if (!fd.valid()) {
      error = "socket: " + errno_text(errno);
      return false;
    }
    int err = 0;
    if (::connect(fd.get(), sa, len) != 0) {
      err = errno;
      if (err == EINPROGRESS || err == EINTR) {
        pollfd p{fd.get(), POLLOUT, 0};
        int ready = 0;
        do {
          ready = ::poll(&p, 1, deadline.poll_ms());
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
          error = "connect " + target + ": timed out";
          return false;
        }
        socklen_t err_len = sizeof err;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
      }
    }
    if (err != 0) {
      error = "connect " + target + ": " + errno_text(err);
      return false;
    }
    const int one = 1;
    (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_ = std::move(fd);
    return true;
  }

  [[noreturn]] void fail_io(const std::string& doing, const std::string& cause) {
    fd_.reset();
    broken_ = cause + " while " + doing;
    throw std::runtime_error("store " + describe_ + ": " + broken_ +
                             " (rank 0 serves this store: did rank 0 exit or close its store early?)");
  }

  void check_usable() const {
    if (!fd_.valid()) {
      throw std::runtime_error("store " + describe_ + ": the connection was lost earlier (" + broken_ +
                               "); open the store again");
    }
  }

  // Waits until the descriptor is ready for `events` or the deadline passes (false).
  bool wait_for(short events, const Deadline& deadline, const std::string& doing) {
    pollfd p{fd_.get(), events, 0};
    while (true) {
      const int ready = ::poll(&p, 1, deadline.poll_ms());
      if (ready > 0) return true;
      if (ready == 0) return false;
      if (errno != EINTR) fail_io(doing, "poll: " + errno_text(errno));
    }
  }

  void send(const std::string& bytes, const std::string& doing) {
    check_usable();
    const Deadline deadline(kIoTimeout);
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<std::size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_for(POLLOUT, deadline, doing)) fail_io(doing, "the server stopped reading");
      } else if (errno != EINTR) {
        fail_io(doing, "lost the connection to the store (" + errno_text(errno) + ")");
      }
    }
  }

  void receive_exact(char* out, std::size_t size, const std::string& doing) {
    const Deadline deadline(kIoTimeout);
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::recv(fd_.get(), out + got, size - got, 0);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n == 0) {
        fail_io(doing, "lost the connection to the store (closed by the server)");
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait_for(POLLIN, deadline, doing)) fail_io(doing, "the server stopped answering mid-reply");
      } else if (errno != EINTR) {
        fail_io(doing, "lost the connection to the store (" + errno_text(errno) + ")");
      }
    }
  }

  // Reads one response; false if none started arriving before the deadline.
  bool receive(Reply& reply, const Deadline& deadline, const std::string& doing) {
    check_usable();
    if (!wait_for(POLLIN, deadline, doing)) return false;
    char header[kResponseHeaderBytes];
    receive_exact(header, sizeof header, doing);
    const auto status = static_cast<Status>(static_cast<unsigned char>(header[0]));
    const std::uint32_t length = get_u32(header + 1);
    if (static_cast<unsigned char>(header[0]) > static_cast<unsigned char>(Status::kError) ||
        length > kStoreMaxValueBytes) {
      fail_io(doing, "malformed reply from the server (is " + address_.text() + " a weft store?)");
    }
    reply.status = status;
    reply.payload.resize(length);
    receive_exact(reply.payload.data(), length, doing);
    return true;
  }

  Reply round_trip(Op op, const std::string& key, const std::string& value, const std::string& doing) {
    send(request_frame(op, key, value), doing);
    Reply reply;
    if (!receive(reply, Deadline(kIoTimeout), doing)) fail_io(doing, "no answer from the server");
    return reply;
  }

  void expect_status(const Reply& reply, Status want, const std::string& doing) {
    if (reply.status == want) return;
    if (reply.status == Status::kError) throw std::runtime_error("store " + describe_ + ": " + doing + ": " + reply.payload);
    fail_io(doing, "unexpected reply from the server");
  }

  StoreAddress address_;
  int rank_;
  int size_;
  std::string describe_;
  std::unique_ptr<TcpServer> server_;  // rank 0 only; destroyed after fd_ closes
  Fd fd_;
  std::string broken_;  // why fd_ was closed
};

// ---- file store ---------------------------------------------------------------------------------

// Waits in the file store: 1 ms, doubling to 50 ms, never past the deadline.
class Backoff {
 public:
  void wait(const Deadline& deadline) {
    std::this_thread::sleep_for(std::min<Clock::duration>(delay_, deadline.left()));
    delay_ = std::min(delay_ * 2, milliseconds{50});
  }
  void reset() { delay_ = milliseconds{1}; }

 private:
  milliseconds delay_{1};
};

class FileStore final : public Store {
 public:
  FileStore(const StoreAddress& address, int rank, int size) : address_(address), rank_(rank), size_(size) {
    dir_ = address.path;
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    if (dir_.empty() || dir_.front() != '/') {
      throw std::invalid_argument("store " + address.text() + ": the directory must be an absolute path");
    }
    describe_ = "file://" + dir_;
    make_directories();
    std::random_device random;
    char tag[32];
    std::snprintf(tag, sizeof tag, "#tmp.%08x%08x.", random(), random());
    temp_prefix_ = tag;
  }

  void set(const std::string& key, const std::string& value) override {
    check_key(key);
    check_value(key, value);
    const std::string path = path_of(key);
    const std::string temp = dir_ + "/" + temp_prefix_ + std::to_string(temp_counter_++) + "." + file_name(key);
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) fail("cannot write key " + quoted(key) + ": create " + temp, errno);
    std::size_t written = 0;
    while (written < value.size()) {
      const ssize_t n = ::write(fd.get(), value.data() + written, value.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        fail("cannot write key " + quoted(key) + ": write " + temp, err);
      }
      written += static_cast<std::size_t>(n);
    }
    const int closed = ::close(fd.release());
    const int close_err = errno;
    if (closed != 0) {
      ::unlink(temp.c_str());
      fail("cannot write key " + quoted(key) + ": close " + temp, close_err);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      fail("cannot write key " + quoted(key) + ": rename " + temp + " to " + path, err);
    }
  }

  std::string get(const std::string& key, milliseconds timeout) override {
    check_key(key);
    const Deadline deadline(timeout);
    Backoff backoff;
    while (true) {
      if (auto value = read(key)) return std::move(*value);
      if (deadline.passed()) throw_get_timeout(describe_, key, timeout);
      backoff.wait(deadline);
    }
  }

  void barrier(const std::string& name, milliseconds timeout) override {
    check_key(name, "barrier name");
    check_key(barrier_key(name, std::to_string(size_ - 1)));
    const Deadline deadline(timeout);
    set(barrier_key(name, std::to_string(rank_)), "");
    Backoff backoff;
    int next = 0;  // ranks below have arrived
    while (true) {
      while (next < size_ && exists(barrier_key(name, std::to_string(next)))) {
        ++next;
        backoff.reset();
      }
      if (next == size_) return;
      if (deadline.passed()) {
        std::vector<int> missing;
        for (int r = next; r < size_; ++r) {
          if (!exists(barrier_key(name, std::to_string(r)))) missing.push_back(r);
        }
        if (missing.empty()) return;
        throw_barrier_timeout(describe_, name, timeout, missing, size_);
      }
      backoff.wait(deadline);
    }
  }

  StoreAddress address() const override { return address_; }
  std::string describe() const override { return describe_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err) const {
    throw std::runtime_error("store " + describe_ + ": " + what + ": " + errno_text(err));
  }

  void make_directories() {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir_.find('/', pos + 1);
      const std::string prefix = dir_.substr(0, pos);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        fail("cannot create directory " + prefix, errno);
      }
    }
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) fail("cannot use directory " + dir_, errno);
    if (!S_ISDIR(st.st_mode)) fail("cannot use directory " + dir_, ENOTDIR);
  }

  // '/' separates components of a key but not directories: "addr/3" is the file "addr%3" ('%'
  // cannot occur in keys, so names do not collide; temp files start with '#', nor can keys).
  static std::string file_name(const std::string& key) {
    std::string name = key;
    std::replace(name.begin(), name.end(), '/', '%');
    return name;
  }
  std::string path_of(const std::string& key) const { return dir_ + "/" + file_name(key); }

  bool exists(const std::string& key) const {
    struct stat st {};
    if (::stat(path_of(key).c_str(), &st) == 0) return true;
    if (errno != ENOENT) fail("cannot read key " + quoted(key) + ": stat " + path_of(key), errno);
    return false;
  }

  std::optional<std::string> read(const std::string& key) const {
    const std::string path = path_of(key);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ENOENT) return std::nullopt;
      fail("cannot read key " + quoted(key) + ": open " + path, errno);
    }
    std::string value;
    char chunk[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read key " + quoted(key) + ": read " + path, errno);
      if (n == 0) return value;
      value.append(chunk, static_cast<std::size_t>(n));
      if (value.size() > kStoreMaxValueBytes) {
        throw std::runtime_error("store " + describe_ + ": key " + quoted(key) + " (" + path +
                                 ") holds more than 1 MiB; it was not written by a weft store");
      }
    }
  }

  StoreAddress address_;
  int rank_;
  int size_;
  std::string dir_;
  std::string describe_;
  std::string temp_prefix_;
  std::uint64_t temp_counter_ = 0;
};

// ---- in-process store ---------------------------------------------------------------------------

class MemoryStore final : public Store {
 public:
  MemoryStore(int size, std::string describe) : size_(size), describe_(std::move(describe)) {}

  void set(const std::string& key, const std::string& value) override {
    check_key(key);
    check_value(key, value);
    {
      std::lock_guard lock(mutex_);
      table_[key] = value;
    }
    changed_.notify_all();
  }

  std::string get(const std::string& key, milliseconds timeout) override {
    check_key(key);
    const Deadline deadline(timeout);
    std::unique_lock lock(mutex_);
    const bool found = changed_.wait_for(lock, deadline.left(), [&] { return table_.count(key) != 0; });
    if (!found) throw_get_timeout(describe_, key, timeout);
    return table_.at(key);
  }

  void barrier(const std::string& name, milliseconds timeout) override {
    check_key(name, "barrier name");
    const Deadline deadline(timeout);
    std::unique_lock lock(mutex_);
    int& arrived = arrivals_[name];
    ++arrived;
    changed_.notify_all();
    if (!changed_.wait_for(lock, deadline.left(), [&] { return arrived >= size_; })) {
      throw StoreTimeout("store " + describe_ + ": barrier " + quoted(name) + " timed out after " +
                         seconds_text(timeout) + "; " + std::to_string(arrived) + " of " + std::to_string(size_) +
                         " ranks arrived (this store cannot tell which; are the others running?)");
    }
  }

  StoreAddress address() const override { return {}; }
  std::string describe() const override { return describe_; }

 private:
  const int size_;
  const std::string describe_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<std::string, std::string> table_;
  std::map<std::string, int> arrivals_;  // node-based: references stay valid while waiting
};

}  // namespace

std::unique_ptr<Store> open_store(const StoreAddress& address, int rank, int size, milliseconds timeout) {
  if (size < 1 || rank < 0 || rank >= size) {
    throw std::invalid_argument("open_store: rank " + std::to_string(rank) + " of a world of " + std::to_string(size) +
                                " ranks (need 0 <= rank < size)");
  }
  switch (address.kind) {
    case StoreAddress::Kind::kTcp: return std::make_unique<TcpStore>(address, rank, size, timeout);
    case StoreAddress::Kind::kFile: return std::make_unique<FileStore>(address, rank, size);
    case StoreAddress::Kind::kNone:
      if (size == 1) return std::make_unique<MemoryStore>(1, "in-process (a world of one rank)");
      throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(size) +
                               " needs a rendezvous store to find the other ranks, and none is set: set "
                               "WEFT_STORE=tcp://HOST:PORT (served by rank 0 on HOST) or "
                               "WEFT_STORE=file:///DIR (a directory every rank sees)");
  }
  throw std::invalid_argument("open_store: unknown store kind");
}

std::shared_ptr<Store> make_memory_store(int size) {
  if (size < 1) throw std::invalid_argument("make_memory_store: size " + std::to_string(size) + " (need >= 1)");
  return std::make_shared<MemoryStore>(size, "memory (in-process, " + std::to_string(size) + " ranks)");
}

}  // namespace weft::collectives
