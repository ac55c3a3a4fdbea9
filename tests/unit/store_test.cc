// The rendezvous store: the behaviour every backend shares (memory, file, TCP), tested once and
// instantiated per backend with ranks as threads; then what is particular to each — the TCP
// server's robustness (clients before the server, the server going away, garbage on the socket),
// the file store's atomic files and directory handling, and open_store's choices and errors.
// Every wait is bounded by a timeout of at most a few seconds; nothing sleeps to synchronise.
#include "weft/collectives/store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace weft::collectives {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr milliseconds kWait = 2000ms;   // for waits that must succeed
constexpr milliseconds kShort = 200ms;   // for waits that must time out

StoreAddress tcp_address(std::uint16_t port, const std::string& host = "127.0.0.1") {
  StoreAddress a;
  a.kind = StoreAddress::Kind::kTcp;
  a.host = host;
  a.port = port;
  return a;
}

StoreAddress file_address(const std::string& dir) {
  StoreAddress a;
  a.kind = StoreAddress::Kind::kFile;
  a.path = dir;
  return a;
}

// The message of the exception `f` throws, checked to be an E (the test fails if it throws
// nothing or something else).
template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/weft_store_test.XXXXXX";
    if (::mkdtemp(name) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A port no one listens on right now (bound, read, released).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  ::close(fd);
  return ntohs(sa.sin_port);
}

// ---- every backend ------------------------------------------------------------------------------

enum class Backend { kMemory, kFile, kTcp };

std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kMemory: return "Memory";
    case Backend::kFile: return "File";
    case Backend::kTcp: return "Tcp";
  }
  return "?";
}

// One store per rank of a world of `size` (the memory backend shares one object among them).
class StoreBackends : public testing::TestWithParam<Backend> {
 protected:
  std::vector<std::shared_ptr<Store>> open_world(int size) {
    std::vector<std::shared_ptr<Store>> stores;
    switch (GetParam()) {
      case Backend::kMemory: {
        std::shared_ptr<Store> shared = make_memory_store(size);
        stores.assign(static_cast<std::size_t>(size), shared);
        break;
      }
      case Backend::kFile:
        for (int r = 0; r < size; ++r) stores.push_back(open_store(file_address(dir_.path() + "/job"), r, size, kWait));
        break;
      case Backend::kTcp:
        stores.push_back(open_store(tcp_address(0), 0, size, kWait));
        for (int r = 1; r < size; ++r) stores.push_back(open_store(stores[0]->address(), r, size, kWait));
        break;
    }
    return stores;
  }

  TempDir dir_;
};

TEST_P(StoreBackends, SetThenGetOnAnyRank) {
  auto world = open_world(2);
  world[1]->set("addr/1", "10.0.0.2:7000");
  EXPECT_EQ(world[0]->get("addr/1", kWait), "10.0.0.2:7000");
  EXPECT_EQ(world[1]->get("addr/1", kWait), "10.0.0.2:7000");
  world[0]->set("addr/1", "overwritten");
  EXPECT_EQ(world[1]->get("addr/1", kWait), "overwritten");
  world[0]->set("empty", "");
  EXPECT_EQ(world[1]->get("empty", kWait), "");
  const std::string binary("\0\x01\xff\n", 4);
  world[0]->set("binary", binary);
  EXPECT_EQ(world[1]->get("binary", kWait), binary);
}

TEST_P(StoreBackends, FourRanksPublishAndReadEachOther) {
  constexpr int kRanks = 4;
  auto world = open_world(kRanks);
  std::vector<std::future<std::vector<std::string>>> ranks;
  for (int r = 0; r < kRanks; ++r) {
    ranks.push_back(std::async(std::launch::async, [&world, r] {
      world[static_cast<std::size_t>(r)]->set("addr/" + std::to_string(r), "host-" + std::to_string(r));
      std::vector<std::string> seen;
      for (int peer = 0; peer < kRanks; ++peer) {
        seen.push_back(world[static_cast<std::size_t>(r)]->get("addr/" + std::to_string(peer), kWait));
      }
      return seen;
    }));
  }
  for (auto& rank : ranks) {
    EXPECT_EQ(rank.get(), (std::vector<std::string>{"host-0", "host-1", "host-2", "host-3"}));
  }
}

TEST_P(StoreBackends, GetWaitsForALaterSet) {
  auto world = open_world(2);
  auto waiter = std::async(std::launch::async, [&] { return world[1]->get("late", kWait); });
  world[0]->set("late", "here");
  EXPECT_EQ(waiter.get(), "here");
}

TEST_P(StoreBackends, GetTimeoutNamesTheKeyTheStoreAndTheWait) {
  auto world = open_world(2);
  const std::string message = error_of<StoreTimeout>([&] { (void)world[1]->get("addr/3", kShort); });
  EXPECT_NE(message.find("'addr/3'"), std::string::npos) << message;
  EXPECT_NE(message.find(world[1]->describe()), std::string::npos) << message;
  EXPECT_NE(message.find("0.2 s"), std::string::npos) << message;
  // The store stays usable after a timeout.
  world[0]->set("addr/3", "late");
  EXPECT_EQ(world[1]->get("addr/3", kWait), "late");
  world[0]->set("next", "1");
  EXPECT_EQ(world[1]->get("next", kWait), "1");
}

TEST_P(StoreBackends, ZeroTimeoutReturnsAValueAlreadyThere) {
  auto world = open_world(2);
  world[0]->set("k", "v");
  EXPECT_EQ(world[1]->get("k", 0ms), "v");
  EXPECT_THROW((void)world[1]->get("absent", 0ms), StoreTimeout);
}

TEST_P(StoreBackends, BarrierReleasesFourRanksOnlyAfterAllArrive) {
  constexpr int kRanks = 4;
  auto world = open_world(kRanks);
  std::vector<std::future<void>> ranks;
  for (int r = 0; r < kRanks; ++r) {
    ranks.push_back(std::async(std::launch::async, [&world, r] {
      Store& store = *world[static_cast<std::size_t>(r)];
      store.set("before/" + std::to_string(r), "x");
      store.barrier("start", kWait);
      // Every rank set its key before entering, so after the barrier all keys are there already.
      for (int peer = 0; peer < kRanks; ++peer) (void)store.get("before/" + std::to_string(peer), 0ms);
      store.barrier("end", kWait);
    }));
  }
  for (auto& rank : ranks) EXPECT_NO_THROW(rank.get());
}

TEST_P(StoreBackends, BarrierTimeoutSaysWhoIsMissing) {
  auto world = open_world(4);
  auto rank2 = std::async(std::launch::async, [&] {
    return error_of<StoreTimeout>([&] { world[2]->barrier("init", milliseconds{300}); });
  });
  const std::string message = error_of<StoreTimeout>([&] { world[0]->barrier("init", milliseconds{300}); });
  const std::string message2 = rank2.get();
  for (const std::string& m : {message, message2}) {
    EXPECT_NE(m.find("barrier 'init'"), std::string::npos) << m;
    EXPECT_NE(m.find("0.3 s"), std::string::npos) << m;
    if (GetParam() == Backend::kMemory) {
      EXPECT_NE(m.find("2 of 4 ranks arrived"), std::string::npos) << m;
    } else {
      EXPECT_NE(m.find("2 of 4 ranks never arrived: ranks 1, 3"), std::string::npos) << m;
    }
  }
}

TEST_P(StoreBackends, BadKeysAreRejectedNamingTheKey) {
  auto world = open_world(1);
  Store& store = *world[0];
  const std::vector<std::string> bad = {"",           "a b",   "../x",       "a/../b",          "a//b",
                                       "/abs",       "./x",   "trailing/",  "tab\tkey",        "semi;colon",
                                       "uni\xc3\xa9", "a..b/..", std::string(201, 'k')};
  for (const std::string& key : bad) {
    const std::string message = error_of<std::invalid_argument>([&] { store.set(key, "v"); });
    EXPECT_NE(message.find("is invalid"), std::string::npos) << message;
    if (key == "a b" || key == "../x") {
      EXPECT_NE(message.find("'" + key + "'"), std::string::npos) << message;
    }
    EXPECT_THROW((void)store.get(key, 0ms), std::invalid_argument) << key;
  }
  EXPECT_NE(error_of<std::invalid_argument>([&] { store.set("tab\tkey", ""); }).find("'tab\\x09key'"),
            std::string::npos);
  EXPECT_THROW(store.barrier("bad name", kShort), std::invalid_argument);
  // Every allowed character, and a key of exactly 200 bytes.
  store.set("Az09_.-/x.y", "ok");
  store.set(std::string(200, 'k'), "ok");
  EXPECT_EQ(store.get(std::string(200, 'k'), kWait), "ok");
}

TEST_P(StoreBackends, ValuesUpToOneMebibyte) {
  auto world = open_world(2);
  std::string big(kStoreMaxValueBytes, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  world[0]->set("big", big);
  EXPECT_EQ(world[1]->get("big", kWait), big);
  const std::string message = error_of<std::invalid_argument>([&] { world[0]->set("huge", big + "x"); });
  EXPECT_NE(message.find("'huge'"), std::string::npos) << message;
  EXPECT_NE(message.find("1 MiB"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Each, StoreBackends, testing::Values(Backend::kMemory, Backend::kFile, Backend::kTcp),
                         backend_name);

// ---- TCP ----------------------------------------------------------------------------------------

TEST(TcpStore, Port0BindsAnEphemeralPortThatAddressReports) {
  auto server = open_store(tcp_address(0), 0, 2, kWait);
  const StoreAddress bound = server->address();
  EXPECT_EQ(bound.kind, StoreAddress::Kind::kTcp);
  EXPECT_NE(bound.port, 0);
  EXPECT_EQ(server->describe(), "tcp://127.0.0.1:" + std::to_string(bound.port) + " (served by rank 0)");
  const std::string message =
      error_of<std::invalid_argument>([&] { (void)open_store(tcp_address(0), 1, 2, kShort); });
  EXPECT_NE(message.find("port 0"), std::string::npos) << message;
}

TEST(TcpStore, LocalhostByName) {
  auto server = open_store(tcp_address(0, "localhost"), 0, 2, kWait);
  auto client = open_store(server->address(), 1, 2, kWait);
  client->set("k", "v");
  EXPECT_EQ(server->get("k", kWait), "v");
}

// The store must serve ::1 wherever the machine has an IPv6 loopback (checked with a plain socket
// first, so a failure of the store itself is a failure, not a skip).
TEST(TcpStore, Ipv6Literal) {
  {
    const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) GTEST_SKIP() << "this machine has no IPv6 loopback (binding [::1]:0: " << std::strerror(err) << ")";
  }
  std::unique_ptr<Store> server = open_store(tcp_address(0, "::1"), 0, 2, kWait);
  EXPECT_EQ(server->describe().rfind("tcp://[::1]:", 0), 0u) << server->describe();
  auto client = open_store(server->address(), 1, 2, kWait);
  client->set("k", "v6");
  EXPECT_EQ(server->get("k", kWait), "v6");
}

TEST(TcpStore, ClientStartedBeforeTheServerRetries) {
  const std::uint16_t port = free_port();
  auto client = std::async(std::launch::async, [port] {
    auto store = open_store(tcp_address(port), 1, 2, 5000ms);
    return store->get("hello", 5000ms);
  });
  auto server = open_store(tcp_address(port), 0, 2, kWait);
  server->set("hello", "world");
  EXPECT_EQ(client.get(), "world");
}

TEST(TcpStore, NoServerTimesOutNamingTheAddressAndRank0) {
  const std::uint16_t port = free_port();
  const std::string message = error_of<StoreTimeout>([&] { (void)open_store(tcp_address(port), 3, 4, kShort); });
  EXPECT_NE(message.find("tcp://127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
  EXPECT_NE(message.find("rank 0 serves"), std::string::npos) << message;
}

TEST(TcpStore, PortInUseIsAClearError) {
  auto first = open_store(tcp_address(0), 0, 2, kWait);
  const std::string message =
      error_of<std::runtime_error>([&] { (void)open_store(first->address(), 0, 2, kShort); });
  EXPECT_NE(message.find("rank 0 cannot serve it"), std::string::npos) << message;
  EXPECT_NE(message.find("in use"), std::string::npos) << message;
}

TEST(TcpStore, ServerGoingAwayWakesAWaitingClientWithAClearError) {
  auto server = open_store(tcp_address(0), 0, 2, kWait);
  auto client = open_store(server->address(), 1, 2, kWait);
  auto waiter = std::async(std::launch::async, [&] {
    return error_of<std::runtime_error>([&] { (void)client->get("never", 10'000ms); });
  });
  server.reset();
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready) << "the client hangs after the server closed";
  const std::string message = waiter.get();
  EXPECT_NE(message.find("lost the connection"), std::string::npos) << message;
  EXPECT_NE(message.find("rank 0"), std::string::npos) << message;
  EXPECT_EQ(message.find("timed out"), std::string::npos) << message;
  // Later calls say the connection is gone, at once.
  const std::string later = error_of<std::runtime_error>([&] { client->set("k", "v"); });
  EXPECT_NE(later.find("lost earlier"), std::string::npos) << later;
}

// A raw TCP connection to the server, for sending it bytes no store client would.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void send(const std::string& bytes) {
    EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // True once the server has closed the connection (within 2 s), having sent nothing.
  bool closed_by_server() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) return false;
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_;
};

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

TEST(TcpStore, MalformedBytesCloseOnlyThatConnection) {
  auto server = open_store(tcp_address(0), 0, 3, kWait);
  const std::uint16_t port = server->address().port;
  auto client = open_store(server->address(), 1, 3, kWait);
  client->set("before", "1");

  const std::string hello = "WFS1";
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"an unknown op", hello + "\x77" + u32(0) + u32(0)},
      {"a 4 GiB key", hello + "\x02" + u32(0xffffffff) + u32(0)},
      {"a value over 1 MiB", hello + "\x01" + u32(1) + u32((1u << 20) + 1) + "k"},
      {"a bad key", hello + "\x01" + u32(4) + u32(1) + "../xv"},
      {"a GET with a value", hello + "\x02" + u32(1) + u32(1) + "kv"},
      {"a SET while a GET is parked", hello + "\x02" + u32(1) + u32(0) + "z" + "\x01" + u32(1) + u32(0) + "k"},
  };
  for (const auto& [what, bytes] : garbage) {
    RawSocket raw(port);
    raw.send(bytes);
    EXPECT_TRUE(raw.closed_by_server()) << what;
  }
  {
    RawSocket half(port);  // half a request, then gone
    half.send(hello + "\x01" + u32(3));
  }
  {
    RawSocket parked(port);  // a GET parked, then gone
    parked.send(hello + "\x02" + u32(6) + u32(0) + "parked");
  }
  // The existing client, a new one and the server itself all still work.
  client->set("after", "2");
  EXPECT_EQ(server->get("after", kWait), "2");
  auto late = open_store(server->address(), 2, 3, kWait);
  EXPECT_EQ(late->get("before", kWait), "1");
  late->set("parked", "p");
  EXPECT_EQ(client->get("parked", kWait), "p");
}

TEST(TcpStore, ManyRanksAtOnce) {
  constexpr int kRanks = 32;
  auto server = open_store(tcp_address(0), 0, kRanks, kWait);
  std::vector<std::future<void>> ranks;
  for (int r = 1; r < kRanks; ++r) {
    ranks.push_back(std::async(std::launch::async, [&server, r] {
      auto store = open_store(server->address(), r, kRanks, 5000ms);
      store->set("addr/" + std::to_string(r), std::to_string(r * r));
      store->barrier("up", 5000ms);
      EXPECT_EQ(store->get("addr/" + std::to_string(kRanks - r), 0ms), std::to_string((kRanks - r) * (kRanks - r)));
      store->barrier("done", 5000ms);
    }));
  }
  server->set("addr/0", "0");
  server->barrier("up", 5000ms);
  server->barrier("done", 5000ms);
  for (auto& rank : ranks) EXPECT_NO_THROW(rank.get());
}

// ---- file ---------------------------------------------------------------------------------------

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

TEST(FileStore, CreatesMissingDirectoriesAndWritesOneFilePerKey) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/a/b/store";
  auto store = open_store(file_address(dir + "/"), 0, 1, kWait);
  EXPECT_EQ(store->describe(), "file://" + dir);
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  store->set("addr/0", "10.0.0.1");
  store->set("plain", "x");
  store->set("plain", "y");
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"addr%0", "plain"})) << "no temporary files are left";
  std::ifstream file(dir + "/addr%0");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(file), {}), "10.0.0.1");
}

TEST(FileStore, ReadersNeverSeeAHalfWrittenValue) {
  TempDir tmp;
  auto writer = open_store(file_address(tmp.path()), 0, 2, kWait);
  auto reader = open_store(file_address(tmp.path()), 1, 2, kWait);
  constexpr std::size_t kBytes = 64 * 1024;
  constexpr int kRounds = 200;
  writer->set("blob", std::string(kBytes, 'a'));
  auto writes = std::async(std::launch::async, [&] {
    for (int i = 1; i < kRounds; ++i) writer->set("blob", std::string(kBytes, static_cast<char>('a' + i % 26)));
  });
  for (int i = 0; i < kRounds; ++i) {
    const std::string value = reader->get("blob", kWait);
    ASSERT_EQ(value.size(), kBytes);
    ASSERT_EQ(std::count(value.begin(), value.end(), value[0]), static_cast<std::ptrdiff_t>(kBytes));
  }
  writes.get();
}

TEST(FileStore, ADirectoryUnderARegularFileIsAClearError) {
  TempDir tmp;
  std::ofstream(tmp.path() + "/regular") << "not a directory";
  const std::string message = error_of<std::runtime_error>(
      [&] { (void)open_store(file_address(tmp.path() + "/regular/store"), 0, 2, kWait); });
  EXPECT_NE(message.find("file://" + tmp.path() + "/regular/store"), std::string::npos) << message;
  EXPECT_NE(message.find("cannot create directory " + tmp.path() + "/regular"), std::string::npos) << message;
  EXPECT_NE(message.find("Not a directory"), std::string::npos) << message;
}

TEST(FileStore, ARelativeDirectoryIsRejected) {
  EXPECT_THROW((void)open_store(file_address("relative/dir"), 0, 1, kWait), std::invalid_argument);
}

// ---- open_store ---------------------------------------------------------------------------------

TEST(OpenStore, NoStoreServesAWorldOfOne) {
  auto store = open_store(StoreAddress{}, 0, 1, kWait);
  store->set("k", "v");
  EXPECT_EQ(store->get("k", 0ms), "v");
  store->barrier("alone", 0ms);
  EXPECT_EQ(store->address().kind, StoreAddress::Kind::kNone);
}

TEST(OpenStore, NoStoreForSeveralRanksNamesWeftStore) {
  const std::string message = error_of<std::runtime_error>([] { (void)open_store(StoreAddress{}, 1, 4, kWait); });
  EXPECT_NE(message.find("WEFT_STORE"), std::string::npos) << message;
}

TEST(OpenStore, RankOutsideTheWorldIsRejected) {
  EXPECT_THROW((void)open_store(StoreAddress{}, 1, 1, kWait), std::invalid_argument);
  EXPECT_THROW((void)open_store(StoreAddress{}, -1, 2, kWait), std::invalid_argument);
  EXPECT_THROW((void)open_store(StoreAddress{}, 0, 0, kWait), std::invalid_argument);
  EXPECT_THROW((void)make_memory_store(0), std::invalid_argument);
}

TEST(OpenStore, ParsedAddressesOpen) {
  TempDir tmp;
  auto store = open_store(parse_store("file://" + tmp.path(), "WEFT_STORE"), 0, 1, kWait);
  store->set("k", "v");
  EXPECT_EQ(store->get("k", kWait), "v");
}

}  // namespace
}  // namespace weft::collectives
