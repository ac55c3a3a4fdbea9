#include "weft/transport/wire.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <vector>

namespace weft::transport::wire {
namespace {

std::vector<std::uint8_t> encode_frame(Encapsulation enc, const TtpHeader& h, const Extensions& ext,
                                       std::vector<std::uint8_t> payload, NodeId src = 0x0A0B0C,
                                       NodeId dst = 0x010203) {
  std::vector<std::uint8_t> buf(kWeftMaxFrameBytes + 100);
  std::size_t n = encode(enc, src, dst, h, ext, payload, buf);
  EXPECT_GT(n, 0u);
  buf.resize(n);
  return buf;
}

TEST(Wire, HeaderSizesMatchTtpoe) {
  EXPECT_EQ(kL2HeaderBytes, 60u);
  EXPECT_EQ(kTthToPayload, 46u);
  EXPECT_EQ(kTshToPayload, 26u);
}

TEST(Wire, EthernetLayoutIsByteExact) {
  TtpHeader h;
  h.opcode = Opcode::kPayload;
  h.vc = 2;
  h.entropy = 0xBEEF;
  h.epoch = 0x1234;
  h.congestion = 0x56;
  h.flags = kFlagEndOfMessage;
  h.ce = true;
  h.tx_id = 0x01020304;
  h.rx_id = 0xA0B0C0D0;
  std::vector<std::uint8_t> payload = {0xDE, 0xAD};
  auto f = encode_frame(Encapsulation::kEthernet, h, {}, payload);
  ASSERT_EQ(f.size(), 64u);  // 62 B padded to the 64 B minimum
  const std::vector<std::uint8_t> expect_head = {
      0x02, 0x57, 0x46, 0x01, 0x02, 0x03,  // dst MAC: prefix + node 0x010203
      0x02, 0x57, 0x46, 0x0A, 0x0B, 0x0C,  // src MAC
      0x9A, 0xC6,                          // EtherType
      0x05, 0x00, 0x00, 48,                // TTH: tthl 5, total length = 2 + 46
  };
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin(), f.begin() + 18), expect_head);
  for (int i = 18; i < 34; ++i) EXPECT_EQ(f[i], 0) << "TTH pad byte " << i;
  const std::vector<std::uint8_t> expect_tsh_ttp = {
      0x0A, 0x0B, 0x0C, 0x01, 0x02, 0x03, 0x00, 28,  // TSH: src, dst, length = 2 + 26
      0x06, 0x02, 0xBE, 0xEF, 0x12, 0x34, 0x56, 0x01, 0x01, 0x00,  // TTP bytes 0..9
      0x01, 0x02, 0x03, 0x04, 0xA0, 0xB0, 0xC0, 0xD0,              // tx, rx
      0xDE, 0xAD, 0x00, 0x00};                                      // payload, padding
  EXPECT_EQ(std::vector<std::uint8_t>(f.begin() + 34, f.end()), expect_tsh_ttp);
}

TEST(Wire, RoundTripWithExtensions) {
  TtpHeader h;
  h.opcode = Opcode::kAck;
  h.vc = 1;
  h.rx_id = 77;
  Extensions ext;
  ext.sack_count = 2;
  ext.sack[0] = {79, 80};
  ext.sack[1] = {90, 95};
  for (Encapsulation enc : {Encapsulation::kEthernet, Encapsulation::kUdp}) {
    auto buf = encode_frame(enc, h, ext, {});
    Frame f;
    ASSERT_EQ(decode(buf, {enc, true, kWeftMaxFrameBytes}, f), DecodeError::kNone);
    EXPECT_EQ(f.ttp.opcode, Opcode::kAck);
    EXPECT_EQ(f.ttp.extension, kExtSack);
    EXPECT_EQ(f.ttp.rx_id, 77u);
    ASSERT_EQ(f.ext.sack_count, 2);
    EXPECT_EQ(f.ext.sack[1].first, 90u);
    EXPECT_EQ(f.ext.sack[1].last, 95u);
    EXPECT_TRUE(f.payload.empty());
  }
}

TEST(Wire, FeaturesRoundTripAndUdpHasNoL2Headers) {
  TtpHeader h;
  h.opcode = Opcode::kOpen;
  h.tx_id = 5;
  Extensions ext;
  ext.has_features = true;
  ext.features.epoch = 0x4242;
  ext.features.max_frame_bytes = 9000;
  ext.features.recv_window_bytes = 1u << 22;
  ext.features.feature_bits = kFeatureSack | kFeatureEcn;
  auto buf = encode_frame(Encapsulation::kUdp, h, ext, {1, 2, 3});
  EXPECT_EQ(buf.size(), kTtpBytes + extension_bytes(ext) + 3);
  EXPECT_EQ(buf[0], 0x00);  // opcode first: no Ethernet/TTH/TSH in UDP mode
  Frame f;
  ASSERT_EQ(decode(buf, {Encapsulation::kUdp, true, kWeftMaxFrameBytes}, f), DecodeError::kNone);
  EXPECT_TRUE(f.ext.has_features);
  EXPECT_EQ(f.ext.features.epoch, 0x4242);
  EXPECT_EQ(f.ext.features.recv_window_bytes, 1u << 22);
  EXPECT_EQ(f.payload.size(), 3u);
}

TEST(Wire, CompatIgnoresExtensionByteAndReservedFields) {
  // The reference sender leaves reserved bytes and the extension byte uninitialised.
  TtpHeader h;
  h.opcode = Opcode::kPayload;
  auto buf = encode_frame(Encapsulation::kEthernet, h, {}, std::vector<std::uint8_t>(100, 9));
  buf[kEthHeaderBytes + kTthBytes + kTshBytes + 9] = 0xAB;  // garbage extension type
  buf[kEthHeaderBytes + kTthBytes + kTshBytes + 7] = 0xFF;  // garbage reserved byte
  Frame f;
  EXPECT_EQ(decode(buf, {Encapsulation::kEthernet, false, kCompatMaxFrameBytes}, f), DecodeError::kNone);
  EXPECT_EQ(f.payload.size(), 100u);
  // weft reads byte 7's flags (0x04 would announce a protected frame), and never skips an
  // extension type it does not know.
  buf[kEthHeaderBytes + kTthBytes + kTshBytes + 7] = 0;
  EXPECT_EQ(decode(buf, {Encapsulation::kEthernet, true, kWeftMaxFrameBytes}, f), DecodeError::kBadExtension);
}

TEST(Wire, MalformedFramesAreRejectedWithTheirReason) {
  TtpHeader h;
  h.opcode = Opcode::kPayload;
  auto good = encode_frame(Encapsulation::kEthernet, h, {}, std::vector<std::uint8_t>(40, 1));
  Frame f;
  const DecodeOptions opt{Encapsulation::kEthernet, true, kWeftMaxFrameBytes};
  ASSERT_EQ(decode(good, opt, f), DecodeError::kNone);
  auto bad = good;
  bad[12] = 0x08;
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadEtherType);
  bad = good;
  bad[14] = 0x06;  // tthl 6
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadTth);
  bad = good;
  bad[42] = 11;  // opcode (TTP byte 0)
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadOpcode);
  bad = good;
  bad[43] = 3;  // vc (TTP byte 1)
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadVc);
  bad = good;
  bad[17] += 1;  // TTH total length no longer matches TSH length
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadLength);
  bad = good;
  bad[16] = 0xFF;  // total length beyond the frame
  bad[40] = 0xFF;
  bad[41] = static_cast<std::uint8_t>(bad[17] - 20);
  EXPECT_NE(decode(bad, opt, f), DecodeError::kNone);
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_NE(decode(std::span(good.data(), n), opt, f), DecodeError::kNone) << "truncated to " << n;
  }
  std::vector<std::uint8_t> huge(kWeftMaxFrameBytes + 1, 0);
  EXPECT_EQ(decode(huge, opt, f), DecodeError::kOversize);
}

TEST(Wire, SixtyByteFramesAreAcceptedAndPaddingIgnored) {
  TtpHeader h;
  h.opcode = Opcode::kAck;
  auto buf = encode_frame(Encapsulation::kEthernet, h, {}, {});
  ASSERT_EQ(buf.size(), 64u);
  Frame f;
  const DecodeOptions opt{Encapsulation::kEthernet, true, kWeftMaxFrameBytes};
  EXPECT_EQ(decode(std::span(buf.data(), 60), opt, f), DecodeError::kNone);
  EXPECT_EQ(decode(buf, opt, f), DecodeError::kNone);
  EXPECT_TRUE(f.payload.empty()) << "Ethernet padding is not payload";
}

TEST(Wire, BadExtensionBlocksAreRejected) {
  TtpHeader h;
  h.opcode = Opcode::kAck;
  Extensions ext;
  ext.sack_count = 1;
  ext.sack[0] = {5, 9};
  auto good = encode_frame(Encapsulation::kUdp, h, ext, {});
  Frame f;
  const DecodeOptions opt{Encapsulation::kUdp, true, kWeftMaxFrameBytes};
  ASSERT_EQ(decode(good, opt, f), DecodeError::kNone);
  auto bad = good;
  bad[18] = 2;  // block version
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadExtension);
  bad = good;
  bad[9] = kExtFeatures;  // extension byte disagrees with the first TLV
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadExtension);
  bad = good;
  bad[21] = 200;  // block length beyond the frame
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kTruncated);
  bad = good;
  bad[22] = 0x33;  // unknown TLV type
  bad[9] = 0x33;
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadExtension);
  bad = good;
  std::swap(bad[27], bad[31]);  // SACK range first > last (5..9 -> 9..5)
  EXPECT_EQ(decode(bad, opt, f), DecodeError::kBadExtension);
}

TEST(Wire, SerialArithmeticHandlesWrap) {
  EXPECT_TRUE(id_after(0x00000000, 0xFFFFFFFF));
  EXPECT_TRUE(id_before(0xFFFFFFF0, 0x00000010));
  EXPECT_FALSE(id_after(5, 5));
  EXPECT_TRUE(id_at_or_before(5, 5));
  EXPECT_TRUE(id_after(0x7FFFFFFF, 0));
}

TEST(Wire, EncodeRefusesSmallBuffers) {
  TtpHeader h;
  std::vector<std::uint8_t> buf(63);
  EXPECT_EQ(encode(Encapsulation::kEthernet, 1, 2, h, {}, {}, buf), 0u);
}

TEST(Wire, HeadersPlusPayloadEqualTheWholeFrame) {
  std::vector<std::uint8_t> payload(3000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  TtpHeader h;
  h.opcode = Opcode::kPayload;
  h.tx_id = 77;
  h.rx_id = 5;
  h.entropy = 0x1234;
  h.flags = kFlagEndOfMessage;
  for (auto enc : {Encapsulation::kEthernet, Encapsulation::kUdp}) {
    std::vector<std::uint8_t> whole(9100), head(128);
    const std::size_t n = encode(enc, 1, 2, h, {}, payload, whole);
    const std::size_t k = encode_headers(enc, 1, 2, h, {}, payload.size(), head);
    ASSERT_GT(k, 0u);
    ASSERT_EQ(n, k + payload.size());
    EXPECT_TRUE(std::equal(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(k), whole.begin()));
    EXPECT_EQ(k, header_bytes(enc, {}));
  }
  std::vector<std::uint8_t> head(128);
  EXPECT_EQ(encode_headers(Encapsulation::kEthernet, 1, 2, h, {}, 2, head), 0u)
      << "a frame that needs Ethernet padding is not gathered";
  EXPECT_EQ(encode_headers(Encapsulation::kUdp, 1, 2, h, {}, 70000, head), 0u) << "too long";
  std::vector<std::uint8_t> tiny(8);
  EXPECT_EQ(encode_headers(Encapsulation::kUdp, 1, 2, h, {}, 100, tiny), 0u) << "buffer too small";
}

TEST(Wire, NamesCoverEveryValue) {
  for (int i = 0; i < kOpcodeCount; ++i) {
    EXPECT_NE(opcode_name(static_cast<Opcode>(i)), "OPCODE?");
  }
  for (int i = 0; i < kDecodeErrorCount; ++i) {
    EXPECT_NE(decode_error_name(static_cast<DecodeError>(i)), "?");
  }
}

}  // namespace
}  // namespace weft::transport::wire
