// Packet-protection building blocks: the anti-replay window, the guarded key slab, the wire
// codec of Hello and protected frames, and Protection's seal/open/rotation on their own.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "crypto/key_slab.h"
#include "crypto/protection.h"
#include "crypto/replay_window.h"
#include "tests/support/cpu_flags.h"
#include "weft/transport/wire.h"

namespace weft::crypto {
namespace {
namespace wire = transport::wire;

TEST(ReplayWindow, AcceptsEachCounterOnceWithinTheWindow) {
  ReplayWindow w;
  EXPECT_EQ(w.check(5), ReplayWindow::Verdict::kFresh);
  w.commit(5);
  EXPECT_EQ(w.check(5), ReplayWindow::Verdict::kDuplicate);
  EXPECT_EQ(w.check(4), ReplayWindow::Verdict::kFresh) << "reordered, not yet seen";
  w.commit(4);
  EXPECT_EQ(w.check(4), ReplayWindow::Verdict::kDuplicate);
  w.commit(5 + 1023);
  EXPECT_EQ(w.check(5), ReplayWindow::Verdict::kDuplicate) << "1023 behind: still in the window";
  EXPECT_EQ(w.check(4), ReplayWindow::Verdict::kTooOld) << "1024 behind: outside";
  EXPECT_EQ(w.check(6), ReplayWindow::Verdict::kFresh);
}

TEST(ReplayWindow, SlidingClearsSkippedCountersAndLargeJumpsClearAll) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 3000; c += 2) w.commit(c);  // every even counter
  for (std::uint64_t c = 3000 - 1024 + 1; c < 3000; ++c) {
    EXPECT_EQ(w.check(c), c % 2 == 0 ? ReplayWindow::Verdict::kDuplicate : ReplayWindow::Verdict::kFresh) << c;
  }
  w.commit(1'000'000);
  for (std::uint64_t c = 1'000'000 - 1023; c < 1'000'000; ++c) ASSERT_EQ(w.check(c), ReplayWindow::Verdict::kFresh);
  EXPECT_EQ(w.check(1'000'000), ReplayWindow::Verdict::kDuplicate);
}

TEST(ReplayWindow, MatchesAReferenceModelUnderRandomOrder) {
  ReplayWindow w;
  std::vector<bool> seen(20000);
  std::uint64_t highest = 0, x = 88172645463325252ull;
  bool any = false;
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const std::uint64_t base = static_cast<std::uint64_t>(i) / 12;
    const std::uint64_t c = base + x % 1400 > 700 ? base + x % 1400 - 700 : 0;
    ReplayWindow::Verdict expect = !any || c > highest       ? ReplayWindow::Verdict::kFresh
                                   : highest - c >= 1024     ? ReplayWindow::Verdict::kTooOld
                                   : seen[c]                 ? ReplayWindow::Verdict::kDuplicate
                                                             : ReplayWindow::Verdict::kFresh;
    ASSERT_EQ(w.check(c), expect) << "counter " << c << " step " << i;
    if (expect == ReplayWindow::Verdict::kFresh) {
      w.commit(c);
      seen[c] = true;
      if (!any || c > highest) highest = c;
      any = true;
    }
  }
}

TEST(KeySlab, HandsOutZeroedEntriesAndWipesReleasedOnes) {
  KeySlab slab(100, 4);  // entries round up to 112 B
  std::vector<std::uint32_t> got;
  for (int i = 0; i < 10; ++i) got.push_back(slab.acquire());
  EXPECT_EQ(slab.chunk_count(), 3u) << "grown 4 entries at a time";
  EXPECT_EQ(slab.in_use(), 10u);
  for (std::uint32_t i : got) {
    auto* p = static_cast<unsigned char*>(slab.at(i));
    for (int b = 0; b < 100; ++b) ASSERT_EQ(p[b], 0);
    std::memset(p, 0xAB, 100);
  }
  slab.release(got[3]);
  auto* p = static_cast<unsigned char*>(slab.at(got[3]));
  for (int b = 0; b < 100; ++b) ASSERT_EQ(p[b], 0) << "released entry not wiped";
  EXPECT_EQ(slab.acquire(), got[3]) << "free list reuses entries";
}

TEST(WireSecurity, HelloRoundTripsAndSitsLastInTheBlock) {
  wire::TtpHeader h;
  h.opcode = wire::Opcode::kOpen;
  wire::Extensions ext;
  ext.has_features = true;
  ext.has_hello = true;
  ext.hello.suites = 3;
  ext.hello.auth = wire::kAuthSignature | wire::kAuthClusterMac;
  ext.hello.issued = 0x0102030405060708ull;
  ext.hello.echo_issued = 42;
  for (int i = 0; i < 32; ++i) ext.hello.ephemeral[i] = static_cast<std::uint8_t>(i);
  ext.hello.signature[63] = 0x99;
  ext.hello.mac[0] = 0x77;
  for (auto enc : {wire::Encapsulation::kEthernet, wire::Encapsulation::kUdp}) {
    std::vector<std::uint8_t> buf(1000);
    const std::size_t n = wire::encode(enc, 1, 2, h, ext, {}, buf);
    ASSERT_GT(n, 0u);
    const std::size_t end = wire::header_bytes(enc, ext);
    EXPECT_EQ(buf[end - wire::kHelloSignatureFromEnd + 63], 0x99);
    EXPECT_EQ(buf[end - wire::kHelloMacFromEnd], 0x77);
    wire::Frame f;
    wire::DecodeOptions opt;
    opt.encapsulation = enc;
    ASSERT_EQ(wire::decode({buf.data(), n}, opt, f), wire::DecodeError::kNone);
    ASSERT_TRUE(f.ext.has_hello);
    EXPECT_EQ(f.ext.hello.issued, ext.hello.issued);
    EXPECT_EQ(f.ext.hello.echo_issued, 42u);
    EXPECT_EQ(f.ext.hello.ephemeral, ext.hello.ephemeral);
    EXPECT_EQ(f.ext.hello.signature, ext.hello.signature);
    EXPECT_EQ(f.ext.hello.mac, ext.hello.mac);
    EXPECT_EQ(f.ext.hello.auth, ext.hello.auth);
  }
}

TEST(WireSecurity, ProtectedFrameLayoutAndDecode) {
  wire::TtpHeader h;
  h.opcode = wire::Opcode::kAck;
  h.rx_id = 77;
  wire::Extensions ext;
  ext.sack_count = 1;
  ext.sack[0] = {80, 90};
  wire::SecurityHeader sec{5, 0x1122334455667788ull};
  std::vector<std::uint8_t> buf(1000);
  wire::ProtectedLayout lay;
  const std::size_t n = wire::encode_protected(wire::Encapsulation::kEthernet, 1, 2, h, ext, sec, 10, buf, lay);
  ASSERT_EQ(n, 60u + 12 + wire::extension_bytes(ext) + 10 + 16);
  EXPECT_EQ(lay.security_offset, 60u);
  EXPECT_EQ(lay.body_offset, 72u);
  wire::Frame f;
  ASSERT_EQ(wire::decode({buf.data(), n}, wire::DecodeOptions{}, f), wire::DecodeError::kNone);
  EXPECT_TRUE(f.is_protected);
  EXPECT_EQ(f.security.key_generation, 5);
  EXPECT_EQ(f.security.counter, 0x1122334455667788ull);
  EXPECT_EQ(f.aad_bytes, 72u);
  EXPECT_EQ(f.sealed.size(), wire::extension_bytes(ext) + 10);
  EXPECT_EQ(f.tag.size(), 16u);
  EXPECT_FALSE(f.ext.has_features) << "the block is sealed: not parsed before opening";
  // The plaintext body parses once opened (here it was never sealed).
  ASSERT_EQ(wire::decode_body(f.sealed, f), wire::DecodeError::kNone);
  EXPECT_EQ(f.ext.sack_count, 1);
  EXPECT_EQ(f.payload.size(), 10u);
  // A bad security header version is its own decode error; a frame too short for the header and
  // the tag is truncated.
  buf[60] = 2;
  EXPECT_EQ(wire::decode({buf.data(), n}, wire::DecodeOptions{}, f), wire::DecodeError::kBadSecurity);
  buf[60] = 1;
  EXPECT_EQ(wire::decode({buf.data(), 60 + 20}, wire::DecodeOptions{}, f), wire::DecodeError::kTruncated);
}

class ProtectionPair : public ::testing::TestWithParam<Suite> {
 protected:
  void SetUp() override {
    if (GetParam() == Suite::kAes256Gcm && !test::cpu_runs_aes_gcm()) {
      GTEST_SKIP() << "AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks (/proc/cpuinfo)";
    }
    ASSERT_NE(default_provider(GetParam()), nullptr) << "the CPU runs this suite, but no provider offers it";
    ProtectionLimits lim;
    lim.rotate_packets = 8;
    tx_side = std::make_unique<Protection>(default_provider(Suite::kAes256Gcm), default_provider(Suite::kChaCha20Poly1305), 4, lim);
    rx_side = std::make_unique<Protection>(default_provider(Suite::kAes256Gcm), default_provider(Suite::kChaCha20Poly1305), 4, lim);
    std::uint8_t s1[32], s2[32];
    std::memset(s1, 1, 32);
    std::memset(s2, 2, 32);
    a = tx_side->acquire();
    b = rx_side->acquire();
    tx_side->install(tx_side->link(a), GetParam(), std::span<const std::uint8_t, 32>(s1, 32), std::span<const std::uint8_t, 32>(s2, 32), 0, 0);
    rx_side->install(rx_side->link(b), GetParam(), std::span<const std::uint8_t, 32>(s2, 32), std::span<const std::uint8_t, 32>(s1, 32), 0, 0);
  }
  std::vector<std::uint8_t> frame(std::span<const std::uint8_t> payload) {
    wire::TtpHeader h;
    h.opcode = wire::Opcode::kPayload;
    wire::SecurityHeader sec;
    bool rotated = false;
    EXPECT_TRUE(tx_side->next_header(tx_side->link(a), 0, sec, rotated));
    std::vector<std::uint8_t> buf(payload.size() + 200);
    wire::ProtectedLayout lay;
    buf.resize(wire::encode_protected(wire::Encapsulation::kEthernet, 1, 2, h, {}, sec, payload.size(), buf, lay));
    tx_side->seal(tx_side->link(a), sec, buf, lay, payload);
    return buf;
  }
  Protection::Verdict open(const std::vector<std::uint8_t>& bytes, std::vector<std::uint8_t>& out) {
    wire::Frame f;
    EXPECT_EQ(wire::decode(bytes, wire::DecodeOptions{}, f), wire::DecodeError::kNone);
    out.assign(f.sealed.size(), 0);
    bool rotated = false;
    return rx_side->open(rx_side->link(b), bytes, f, out.data(), rotated);
  }
  std::unique_ptr<Protection> tx_side, rx_side;
  std::uint32_t a = 0, b = 0;
};

TEST_P(ProtectionPair, SealOpenAcrossRotationsAndReorder) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> msg(333);
  for (int i = 0; i < 40; ++i) {  // 5 key generations (rotate every 8)
    msg[0] = static_cast<std::uint8_t>(i);
    frames.push_back(frame(msg));
  }
  EXPECT_EQ(tx_side->link(a).tx_generation, 4);
  // Deliver pairs swapped (reordering across a rotation boundary), then everything again.
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < frames.size(); i += 2) {
    ASSERT_EQ(open(frames[i + 1], out), Protection::Verdict::kOk) << i + 1;
    EXPECT_EQ(out[0], i + 1);
    ASSERT_EQ(open(frames[i], out), Protection::Verdict::kOk) << i;
    EXPECT_EQ(out[0], i);
  }
  for (const auto& f : frames) EXPECT_EQ(open(f, out), Protection::Verdict::kReplay);
  EXPECT_EQ(rx_side->link(b).rx_generation, 4);
}

TEST_P(ProtectionPair, ASkippedGenerationIsFollowedAndAnUnknownOneRefused) {
  std::vector<std::uint8_t> msg(64, 7), out;
  std::vector<std::vector<std::uint8_t>> frames;
  for (int i = 0; i < 30; ++i) frames.push_back(frame(msg));
  ASSERT_EQ(open(frames[0], out), Protection::Verdict::kOk);   // generation 0
  ASSERT_EQ(open(frames[17], out), Protection::Verdict::kOk);  // generation 2: 1 was all lost
  EXPECT_EQ(rx_side->link(b).rx_generation, 2);
  ASSERT_EQ(open(frames[9], out), Protection::Verdict::kOk) << "generation 1 is the previous key now";
  EXPECT_EQ(open(frames[3], out), Protection::Verdict::kUnknownKey) << "generation 0 is gone (forward secrecy)";
  std::vector<std::uint8_t> forged = frames[29];
  forged[61] = static_cast<std::uint8_t>(forged[61] + 5);  // key generation far ahead
  EXPECT_EQ(open(forged, out), Protection::Verdict::kUnknownKey);
  forged = frames[29];
  forged.back() ^= 1;
  EXPECT_EQ(open(forged, out), Protection::Verdict::kBadTag);
  EXPECT_EQ(open(frames[29], out), Protection::Verdict::kOk) << "a failed tag does not consume the counter";
}

INSTANTIATE_TEST_SUITE_P(Suites, ProtectionPair, ::testing::Values(Suite::kAes256Gcm, Suite::kChaCha20Poly1305),
                         [](const auto& param_info) { return std::string(param_info.param == Suite::kAes256Gcm ? "Aes" : "ChaCha"); });

}  // namespace
}  // namespace weft::crypto
