// ShmDatapath: both sides of a shared-memory link in one process (and, for a dead peer, a child
// process): frames both ways with gathered payloads, ring wrap-around, a full ring refusing and
// then taking frames again, a dead peer's frames dropped instead of refused, oversize frames,
// setup errors (names, geometry, a creator that never comes), the name removed once attached, and
// two Endpoints exchanging messages over it.
#include "weft/transport/shm_datapath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "weft/transport/endpoint.h"

namespace weft::transport {
namespace {

std::string unique_name(const char* what) {
  static int n = 0;
  return "/weft-shm-test-" + std::to_string(::getpid()) + "-" + what + "-" + std::to_string(++n);
}

// An Ethernet-sized frame whose bytes say which frame it is.
std::vector<std::uint8_t> frame(std::size_t len, std::uint32_t id) {
  std::vector<std::uint8_t> f(len);
  for (std::size_t i = 0; i < len; ++i) f[i] = static_cast<std::uint8_t>((id * 131 + i * 7) & 0xFF);
  return f;
}

struct Pair {
  std::unique_ptr<ShmDatapath> a, b;  // a created, b attached
  explicit Pair(const std::string& name, std::uint32_t slots = 1024) {
    ShmOptions o;
    o.name = name;
    o.slots = slots;
    o.create = true;
    a = std::make_unique<ShmDatapath>(o);
    o.create = false;
    b = std::make_unique<ShmDatapath>(o);
  }
};

std::vector<std::vector<std::uint8_t>> drain(ShmDatapath& dp) {
  std::vector<std::vector<std::uint8_t>> got;
  std::array<RxFrame, 32> rx{};
  while (std::size_t n = dp.rx_burst(rx)) {
    for (std::size_t i = 0; i < n; ++i) got.emplace_back(rx[i].bytes.begin(), rx[i].bytes.end());
  }
  return got;
}

TEST(ShmDatapath, FramesCrossBothWaysWithGatheredPayloads) {
  Pair p(unique_name("both"));
  EXPECT_TRUE(p.a->peer_attached());
  EXPECT_TRUE(p.b->peer_attached());
  const auto head = frame(64, 1), body = frame(8000, 2), small = frame(60, 3);
  std::vector<TxFrame> tx = {{head, 2, Vc::kData, 0, body}, {small, 2, Vc::kReqHi}};
  ASSERT_EQ(p.a->tx_burst(tx), 2u);
  const auto got = drain(*p.b);
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::uint8_t> whole = head;
  whole.insert(whole.end(), body.begin(), body.end());
  EXPECT_EQ(got[0], whole);
  EXPECT_EQ(got[1], small);
  std::vector<TxFrame> back = {{small, 1, Vc::kData}};
  ASSERT_EQ(p.b->tx_burst(back), 1u);
  const auto got_a = drain(*p.a);
  ASSERT_EQ(got_a.size(), 1u);
  EXPECT_EQ(got_a[0], small);
  EXPECT_EQ(p.a->stats().tx_frames, 2u);
  EXPECT_EQ(p.b->stats().rx_frames, 2u);
}

TEST(ShmDatapath, WrapsAroundTheRingInOrder) {
  Pair p(unique_name("wrap"), 8);
  std::uint32_t sent = 0, checked = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<std::vector<std::uint8_t>> frames;
    for (int i = 0; i < 5; ++i) frames.push_back(frame(100 + static_cast<std::size_t>(sent + i) % 900, sent + static_cast<std::uint32_t>(i)));
    std::vector<TxFrame> tx;
    for (const auto& f : frames) tx.push_back({f, 2, Vc::kData});
    ASSERT_EQ(p.a->tx_burst(tx), tx.size());
    sent += 5;
    for (const auto& g : drain(*p.b)) {
      EXPECT_EQ(g, frame(100 + checked % 900, checked)) << "frame " << checked;
      ++checked;
    }
  }
  EXPECT_EQ(checked, sent);
}

TEST(ShmDatapath, FullRingRefusesThenTakesFramesAgain) {
  Pair p(unique_name("full"), 8);
  const auto f = frame(1500, 7);
  const std::vector<TxFrame> burst(12, TxFrame{f, 2, Vc::kData});
  EXPECT_EQ(p.a->tx_burst(burst), 8u);  // the peer (this very process) lives: back-pressure
  EXPECT_EQ(p.a->stats().tx_refused, 4u);
  EXPECT_EQ(p.a->stats().tx_peer_gone, 0u);
  EXPECT_EQ(drain(*p.b).size(), 8u);
  EXPECT_EQ(p.a->tx_burst(std::span(burst).first(4)), 4u);
  EXPECT_EQ(drain(*p.b).size(), 4u);
}

TEST(ShmDatapath, DeadPeersFramesAreDroppedNotRefused) {
  const std::string name = unique_name("dead");
  ShmOptions o;
  o.name = name;
  o.slots = 8;
  o.create = true;
  ShmDatapath a(o);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ShmOptions c = o;
    c.create = false;
    ShmDatapath b(c);  // attach, then die without reading
    ::_exit(b.peer_attached() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(a.peer_attached());
  const auto f = frame(1500, 9);
  const std::vector<TxFrame> burst(20, TxFrame{f, 2, Vc::kData});
  EXPECT_EQ(a.tx_burst(burst), 20u);  // 8 fill the ring; the 12 beyond are dropped, not refused
  EXPECT_EQ(a.stats().tx_frames, 8u);
  EXPECT_EQ(a.stats().tx_peer_gone, 12u);
  EXPECT_EQ(a.stats().tx_refused, 0u);
}

TEST(ShmDatapath, OversizeFramesAreDroppedAndCounted) {
  Pair p(unique_name("big"));
  const auto big = frame(9001, 1), ok = frame(9000, 2);
  const std::vector<TxFrame> tx = {{big, 2, Vc::kData}, {ok, 2, Vc::kData}};
  EXPECT_EQ(p.a->tx_burst(tx), 2u);
  EXPECT_EQ(p.a->stats().tx_oversize, 1u);
  const auto got = drain(*p.b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], ok);
}

TEST(ShmDatapath, NameIsGoneOnceUnlinkedAndTheLinkStillWorks) {
  const std::string name = unique_name("unlink");
  Pair p(name);
  p.a->unlink();
  EXPECT_LT(::shm_open(name.c_str(), O_RDWR, 0), 0);
  EXPECT_EQ(errno, ENOENT);
  const auto f = frame(300, 4);
  const std::vector<TxFrame> tx = {{f, 2, Vc::kData}};
  EXPECT_EQ(p.b->tx_burst(tx), 1u);
  EXPECT_EQ(drain(*p.a).size(), 1u);
}

TEST(ShmDatapath, StaleObjectOfADeadCreatorIsReplaced) {
  const std::string name = unique_name("stale");
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  ::close(fd);
  Pair p(name);  // creates over it, then attaches: the geometry is the new one
  const auto f = frame(200, 5);
  const std::vector<TxFrame> tx = {{f, 2, Vc::kData}};
  EXPECT_EQ(p.a->tx_burst(tx), 1u);
  EXPECT_EQ(drain(*p.b).size(), 1u);
}

void expect_throws_naming(const std::function<void()>& fn, const std::vector<std::string>& words) {
  try {
    fn();
    ADD_FAILURE() << "did not throw";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    for (const std::string& w : words) EXPECT_NE(what.find(w), std::string::npos) << what << " lacks " << w;
  }
}

TEST(ShmDatapath, SetupErrorsNameTheProblem) {
  ShmOptions o;
  o.name = "no-slash";
  o.create = true;
  expect_throws_naming([&] { ShmDatapath d(o); }, {"no-slash", "must be '/'"});
  o.name = unique_name("slots");
  o.slots = 1000;
  expect_throws_naming([&] { ShmDatapath d(o); }, {"slots (1000)", "power of two"});
  o.slots = 1024;
  o.max_frame_bytes = 70000;
  expect_throws_naming([&] { ShmDatapath d(o); }, {"max_frame_bytes"});
  // Attaching to a creator that never comes.
  ShmOptions late;
  late.name = unique_name("never");
  late.attach_timeout = std::chrono::milliseconds(50);
  expect_throws_naming([&] { ShmDatapath d(late); }, {late.name, "not created", "50 ms"});
}

TEST(ShmDatapath, GeometryMismatchNamesBothSides) {
  ShmOptions o;
  o.name = unique_name("geometry");
  o.slots = 16;
  o.create = true;
  ShmDatapath a(o);
  ShmOptions b = o;
  b.create = false;
  b.slots = 8;
  b.attach_timeout = std::chrono::milliseconds(200);
  expect_throws_naming([&] { ShmDatapath d(b); }, {"16 slots", "8 slots", "same options"});
  b.slots = 32;  // needs a larger object than the creator made
  expect_throws_naming([&] { ShmDatapath d(b); }, {"same slots and max_frame_bytes"});
}

// Two Endpoints (nodes 1 and 2) over one link: open, a 1 MiB message each way, close.
TEST(ShmDatapath, CarriesTransportMessages) {
  Pair p(unique_name("endpoints"));
  EndpointConfig c;
  c.encapsulation = wire::Encapsulation::kEthernet;
  c.node_id = 1;
  Endpoint e1(with_host_timers(c));
  c.node_id = 2;
  Endpoint e2(with_host_timers(c));
  Driver d1(e1, *p.a), d2(e2, *p.b);
  ASSERT_TRUE(e1.open(2, Vc::kData, monotonic_now_ns()).ok());
  const std::vector<std::uint8_t> m1 = frame(1 << 20, 11), m2 = frame(1 << 20, 12);
  bool sent1 = false, sent2 = false;
  std::vector<std::uint8_t> got1, got2;
  const TimeNs deadline = monotonic_now_ns() + 10'000'000'000;
  while ((got1.empty() || got2.empty()) && monotonic_now_ns() < deadline) {
    d1.step(0);
    d2.step(0);
    while (auto ev = e1.poll_event()) {
      if (ev->kind == EventKind::kOpened && !sent1) sent1 = e1.send(2, Vc::kData, m1, monotonic_now_ns()).ok();
      if (ev->kind == EventKind::kMessage) got1 = ev->message;
    }
    while (auto ev = e2.poll_event()) {
      if (ev->kind == EventKind::kOpened && !sent2) sent2 = e2.send(1, Vc::kData, m2, monotonic_now_ns()).ok();
      if (ev->kind == EventKind::kMessage) got2 = ev->message;
    }
  }
  EXPECT_TRUE(sent1 && sent2);
  EXPECT_EQ(got2, m1);
  EXPECT_EQ(got1, m2);
}

}  // namespace
}  // namespace weft::transport
