// The generic Driver and FaultShim over the in-process MemoryDatapath pair: real time, no sockets.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "weft/transport/datapath.h"
#include "weft/transport/memory_datapath.h"
#include "weft/transport/pcap.h"
#include "weft/transport/scenario.h"

namespace weft::transport {
namespace {

struct TransferRun {
  int delivered = 0;
  bool ok = true;
  bool closed_a = false, closed_b = false;
  bool error = false;
};

// Node 1 sends `count` messages of `size` B to node 2 through two Drivers, then closes.
TransferRun transfer(Datapath& da, Datapath& db, int count, std::uint32_t size, TimeNs budget_ns) {
  EndpointConfig c;
  c.node_id = 1;
  Endpoint a(c);
  c.node_id = 2;
  Endpoint b(c);
  Driver drv_a(a, da), drv_b(b, db);
  TransferRun r;
  std::vector<std::uint8_t> msg;
  EXPECT_TRUE(a.open(2, Vc::kData, monotonic_now_ns()).ok());
  for (int i = 0; i < count; ++i) {
    sim::fill_message(9, static_cast<std::uint64_t>(i), msg, size);
    EXPECT_TRUE(a.send(2, Vc::kData, msg, monotonic_now_ns()).ok());
  }
  EXPECT_TRUE(a.close(2, Vc::kData, monotonic_now_ns()).ok());
  const TimeNs start = monotonic_now_ns();
  const TimeNs deadline = start + budget_ns;
  while (!(r.closed_a && r.closed_b) && !r.error && monotonic_now_ns() < deadline) {
    drv_a.step(0);
    drv_b.step(0);
    while (auto ev = a.poll_event()) {
      r.closed_a |= ev->kind == EventKind::kClosed;
      r.error |= ev->kind == EventKind::kError;
    }
    while (auto ev = b.poll_event()) {
      if (ev->kind == EventKind::kMessage) {
        sim::fill_message(9, static_cast<std::uint64_t>(r.delivered), msg, size);
        r.ok &= ev->message == msg;
        ++r.delivered;
      }
      r.closed_b |= ev->kind == EventKind::kClosed;
      r.error |= ev->kind == EventKind::kError;
    }
  }
  std::printf("%d x %u B in %.1f ms (sent %llu frames, received %llu)\n", r.delivered, size,
              static_cast<double>(monotonic_now_ns() - start) / 1e6,
              static_cast<unsigned long long>(drv_a.frames_sent()),
              static_cast<unsigned long long>(drv_b.frames_received()));
  return r;
}

TEST(Driver, DeliversOverMemoryPair) {
  auto [da, db] = MemoryDatapath::make_pair();
  TransferRun r = transfer(*da, *db, 20, 100000, 10'000'000'000);
  EXPECT_EQ(r.delivered, 20);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.closed_a && r.closed_b);
  EXPECT_FALSE(r.error);
}

TEST(Driver, KeepsFramesTheDatapathRefuses) {
  auto [da, db] = MemoryDatapath::make_pair(/*queue_limit_frames=*/3);  // constant backpressure
  TransferRun r = transfer(*da, *db, 10, 50000, 10'000'000'000);
  EXPECT_EQ(r.delivered, 10);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.closed_a && r.closed_b);
}

TEST(FaultShim, LossyTransferStillExact) {
  auto [da, db] = MemoryDatapath::make_pair();
  FaultShim::Faults f;
  f.loss = 0.05;
  f.duplicate = 0.02;
  f.reorder = 0.05;
  // No corruption here: TTP has no integrity check of its own (the Ethernet FCS or UDP checksum
  // below it catches real corruption), so a flipped payload bit is only caught once frames are
  // AEAD-protected (issue 4). FaultShim's corruption exists to exercise that and the decoder.
  FaultShim sa(*da, f, 1), sb(*db, f, 2);
  TransferRun r = transfer(sa, sb, 30, 30000, 20'000'000'000);
  std::printf("shim A: dropped %llu, duplicated %llu, reordered %llu, corrupted %llu\n",
              static_cast<unsigned long long>(sa.dropped()), static_cast<unsigned long long>(sa.duplicated()),
              static_cast<unsigned long long>(sa.reordered()), static_cast<unsigned long long>(sa.corrupted()));
  EXPECT_GT(sa.dropped(), 0u);
  EXPECT_EQ(r.delivered, 30);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.closed_a && r.closed_b);
}

TEST(FaultShim, CorruptionIsDeliveredAndNeverCrashes) {
  auto [da, db] = MemoryDatapath::make_pair();
  FaultShim sa(*da, {0.0, 0.0, 0.0, 0.3}, 7), sb(*db, {0.0, 0.0, 0.0, 0.3}, 8);
  TransferRun r = transfer(sa, sb, 5, 20000, 2'000'000'000);
  EXPECT_GT(sa.corrupted(), 0u);
  // Corrupted headers are dropped by the codec; corrupted payload is not detectable yet. Either
  // way the endpoints survive and the run reaches an end (closed, or an error) within its budget.
  EXPECT_TRUE((r.closed_a && r.closed_b) || r.error);
  EXPECT_GT(r.delivered, 0);
  std::printf("with 30%% corruption: %d delivered, %s\n", r.delivered, r.ok ? "bytes intact" : "bytes differ");
}

TEST(TxFrame, FlattenJoinsHeadersAndGatheredPayload) {
  const std::vector<std::uint8_t> head{1, 2, 3}, body{4, 5};
  std::vector<std::uint8_t> scratch;
  TxFrame whole{head, 2, Vc::kData, 0};
  EXPECT_EQ(whole.flatten(scratch).data(), head.data()) << "a whole frame is not copied";
  TxFrame split{head, 2, Vc::kData, 0, body};
  EXPECT_EQ(split.size(), 5u);
  const auto flat = split.flatten(scratch);
  EXPECT_EQ(std::vector<std::uint8_t>(flat.begin(), flat.end()), (std::vector<std::uint8_t>{1, 2, 3, 4, 5}));
}

TEST(FaultShim, SameSeedSameDecisions) {
  std::vector<std::uint8_t> frame(100, 1);
  std::uint64_t drops[2];
  for (int k = 0; k < 2; ++k) {
    auto [da, db] = MemoryDatapath::make_pair(1u << 20);
    FaultShim s(*da, {0.3, 0, 0, 0}, 42);
    for (int i = 0; i < 10000; ++i) {
      TxFrame t{frame, 2, Vc::kData, 0};
      ASSERT_EQ(s.tx_burst({&t, 1}), 1u);
    }
    drops[k] = s.dropped();
  }
  EXPECT_EQ(drops[0], drops[1]);
  EXPECT_NEAR(static_cast<double>(drops[0]), 3000.0, 300.0);
}

TEST(Pcap, WriteAndReadBack) {
  const std::string path = (std::filesystem::temp_directory_path() / "weft_pcap_test.pcap").string();
  {
    PcapWriter w(path);
    std::vector<std::uint8_t> eth(64, 0xAB);
    w.write_ethernet(1'500'000'000, eth);
    std::vector<std::uint8_t> ttp(18, 0x06);
    w.write_udp(2'000'001'000, {0x7F000001, 7000}, {0x7F000001, 7001}, 0x22, ttp);
    EXPECT_EQ(w.packets(), 2u);
  }
  auto pkts = read_pcap(path);
  ASSERT_EQ(pkts.size(), 2u);
  EXPECT_EQ(pkts[0].time_ns, 1'500'000'000);
  EXPECT_EQ(pkts[0].data, std::vector<std::uint8_t>(64, 0xAB));
  ASSERT_EQ(pkts[1].data.size(), 14u + 20 + 8 + 18);
  EXPECT_EQ(pkts[1].data[12], 0x08);  // IPv4
  EXPECT_EQ(pkts[1].data[15], 0x22);  // TOS
  EXPECT_EQ(pkts[1].data[23], 17);    // UDP
  EXPECT_EQ((pkts[1].data[36] << 8) | pkts[1].data[37], 7001);  // dst port
  EXPECT_EQ(pkts[1].data[42], 0x06);  // TTP opcode follows UDP
  std::filesystem::remove(path);
  EXPECT_THROW(read_pcap(path), std::runtime_error);
  EXPECT_THROW(PcapWriter("/nonexistent-dir/x.pcap"), std::runtime_error);
}

}  // namespace
}  // namespace weft::transport
