#include "weft/crypto/aead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "weft/crypto/select.h"
#include "tests/support/cpu_flags.h"
#include "tests/support/hex.h"

namespace weft::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
using Key = std::array<std::uint8_t, kKeyBytes>;
using Nonce = std::array<std::uint8_t, kNonceBytes>;
using Tag = std::array<std::uint8_t, kTagBytes>;

using test::hex;

template <std::size_t N>
std::array<std::uint8_t, N> fixed(const Bytes& b) {
  std::array<std::uint8_t, N> a{};
  EXPECT_EQ(b.size(), N);
  std::copy_n(b.begin(), std::min(N, b.size()), a.begin());
  return a;
}

// ---- known answers -----------------------------------------------------------------------

struct KnownAnswer {
  const char* source;
  Suite suite;
  const char* key;
  const char* nonce;
  const char* ad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

// AES-256-GCM: D. McGrew and J. Viega, "The Galois/Counter Mode of Operation (GCM)", revised
// 2005, Appendix B, test cases 13-16 (the 96-bit-IV AES-256 cases; 15 and 16 share K, IV and P,
// and 16 adds AAD to a 60 B plaintext). Bytes as transcribed in GNU Nettle's testsuite/gcm-test.c.
// ChaCha20-Poly1305: RFC 8439 section 2.8.2 and appendix A.5.
const KnownAnswer kKnownAnswers[] = {
    {"GCM spec test case 13", Suite::kAes256Gcm,
     "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM spec test case 14", Suite::kAes256Gcm,
     "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM spec test case 15", Suite::kAes256Gcm,
     "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM spec test case 16", Suite::kAes256Gcm,
     "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeef abaddad2",
     "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {"RFC 8439 2.8.2", Suite::kChaCha20Poly1305,
     "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f 90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f",
     "07 00 00 00 40 41 42 43 44 45 46 47",  // 32-bit fixed-common part | IV
     "50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7",
     "4c 61 64 69 65 73 20 61 6e 64 20 47 65 6e 74 6c"
     "65 6d 65 6e 20 6f 66 20 74 68 65 20 63 6c 61 73"
     "73 20 6f 66 20 27 39 39 3a 20 49 66 20 49 20 63"
     "6f 75 6c 64 20 6f 66 66 65 72 20 79 6f 75 20 6f"
     "6e 6c 79 20 6f 6e 65 20 74 69 70 20 66 6f 72 20"
     "74 68 65 20 66 75 74 75 72 65 2c 20 73 75 6e 73"
     "63 72 65 65 6e 20 77 6f 75 6c 64 20 62 65 20 69"
     "74 2e",
     "d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2"
     "a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6"
     "3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b"
     "1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36"
     "92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58"
     "fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc"
     "3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b"
     "61 16",
     "1a e1 0b 59 4f 09 e2 6a 7e 90 2e cb d0 60 06 91"},
    {"RFC 8439 A.5", Suite::kChaCha20Poly1305,
     "1c 92 40 a5 eb 55 d3 8a f3 33 88 86 04 f6 b5 f0 47 39 17 c1 40 2b 80 09 9d ca 5c bc 20 70 75 c0",
     "00 00 00 00 01 02 03 04 05 06 07 08", "f3 33 88 86 00 00 00 00 00 00 4e 91",
     "49 6e 74 65 72 6e 65 74 2d 44 72 61 66 74 73 20"
     "61 72 65 20 64 72 61 66 74 20 64 6f 63 75 6d 65"
     "6e 74 73 20 76 61 6c 69 64 20 66 6f 72 20 61 20"
     "6d 61 78 69 6d 75 6d 20 6f 66 20 73 69 78 20 6d"
     "6f 6e 74 68 73 20 61 6e 64 20 6d 61 79 20 62 65"
     "20 75 70 64 61 74 65 64 2c 20 72 65 70 6c 61 63"
     "65 64 2c 20 6f 72 20 6f 62 73 6f 6c 65 74 65 64"
     "20 62 79 20 6f 74 68 65 72 20 64 6f 63 75 6d 65"
     "6e 74 73 20 61 74 20 61 6e 79 20 74 69 6d 65 2e"
     "20 49 74 20 69 73 20 69 6e 61 70 70 72 6f 70 72"
     "69 61 74 65 20 74 6f 20 75 73 65 20 49 6e 74 65"
     "72 6e 65 74 2d 44 72 61 66 74 73 20 61 73 20 72"
     "65 66 65 72 65 6e 63 65 20 6d 61 74 65 72 69 61"
     "6c 20 6f 72 20 74 6f 20 63 69 74 65 20 74 68 65"
     "6d 20 6f 74 68 65 72 20 74 68 61 6e 20 61 73 20"
     "2f e2 80 9c 77 6f 72 6b 20 69 6e 20 70 72 6f 67"
     "72 65 73 73 2e 2f e2 80 9d",
     "64 a0 86 15 75 86 1a f4 60 f0 62 c7 9b e6 43 bd"
     "5e 80 5c fd 34 5c f3 89 f1 08 67 0a c7 6c 8c b2"
     "4c 6c fc 18 75 5d 43 ee a0 9e e9 4e 38 2d 26 b0"
     "bd b7 b7 3c 32 1b 01 00 d4 f0 3b 7f 35 58 94 cf"
     "33 2f 83 0e 71 0b 97 ce 98 c8 a8 4a bd 0b 94 81"
     "14 ad 17 6e 00 8d 33 bd 60 f9 82 b1 ff 37 c8 55"
     "97 97 a0 6e f4 f0 ef 61 c1 86 32 4e 2b 35 06 38"
     "36 06 90 7b 6a 7c 02 b0 f9 f6 15 7b 53 c8 67 e4"
     "b9 16 6c 76 7b 80 4d 46 a5 9b 52 16 cd e7 a4 e9"
     "90 40 c5 a4 04 33 22 5e e2 82 a1 b0 a0 6c 52 3e"
     "af 45 34 d7 f8 3f a1 15 5b 00 47 71 8c bc 54 6a"
     "0d 07 2b 04 b3 56 4e ea 1b 42 22 73 f5 48 27 1a"
     "0b b2 31 60 53 fa 76 99 19 55 eb d6 31 59 43 4e"
     "ce bb 4e 46 6d ae 5a 10 73 a6 72 76 27 09 7a 10"
     "49 e6 17 d9 1d 36 10 94 fa 68 f0 ff 77 98 71 30"
     "30 5b ea ba 2e da 04 df 99 7b 71 4d 6c 6f 2c 29"
     "a6 ad 5c b4 02 2b 02 70 9b",
     "ee ad 9d 67 89 0c bb 22 39 23 36 fe a1 85 1f 38"},
};

// ---- providers under test ----------------------------------------------------------------

struct ProviderCase {
  const char* label;
  Suite suite;
  const AeadProvider* (*get)();
  bool needs_aes_ni;  // libsodium's AES-256-GCM exists only with AES-NI and PCLMUL
};

const ProviderCase kProviders[] = {
    {"LibsodiumAes256Gcm", Suite::kAes256Gcm, &libsodium_aes256gcm, true},
    {"OpensslAes256Gcm", Suite::kAes256Gcm, &openssl_aes256gcm, false},
    {"LibsodiumChaCha20Poly1305", Suite::kChaCha20Poly1305, &libsodium_chacha20poly1305, false},
    {"OpensslChaCha20Poly1305", Suite::kChaCha20Poly1305, &openssl_chacha20poly1305, false},
};

constexpr std::size_t kBoundarySizes[] = {0, 1, 15, 16, 17, 63, 64, 65, 1023, 1024, 1500, 8972, 9000};

// A keyed state that clears itself.
class KeyedState {
 public:
  KeyedState(const AeadProvider& p, const Key& key) : p_(p) { p_.set_key(st_, key); }
  ~KeyedState() { p_.clear(st_); }
  KeyedState(const KeyedState&) = delete;
  KeyedState& operator=(const KeyedState&) = delete;
  AeadState& get() { return st_; }
  operator const AeadState&() const { return st_; }

 private:
  const AeadProvider& p_;
  AeadState st_{};
};

Bytes pattern(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 131 + salt);
  return b;
}

class AeadProviderTest : public ::testing::TestWithParam<ProviderCase> {
 protected:
  void SetUp() override {
    p_ = GetParam().get();
    // Skipped only where the kernel reports no AES-NI/PCLMUL; where it does, the provider must exist.
    if (GetParam().needs_aes_ni && !test::cpu_runs_aes_gcm()) {
      GTEST_SKIP() << GetParam().label << " needs AES-NI and PCLMUL, which this CPU lacks (/proc/cpuinfo)";
    }
    ASSERT_NE(p_, nullptr) << GetParam().label << " is unavailable (OpenSSL lacks the cipher?)";
    ASSERT_EQ(p_->suite(), GetParam().suite);
  }

  // Seals `pt` under `key`/`nonce`/`ad`, returning ciphertext and tag.
  std::pair<Bytes, Tag> seal(const AeadState& st, const Nonce& nonce, const Bytes& ad, const Bytes& pt) const {
    Bytes ct(pt.size());
    Tag tag{};
    p_->seal(st, nonce, ad, pt, ct.data(), tag);
    return {ct, tag};
  }

  const AeadProvider* p_ = nullptr;
};

TEST_P(AeadProviderTest, NameAndSuite) {
  EXPECT_FALSE(p_->name().empty());
  EXPECT_EQ(default_provider(p_->suite())->suite(), p_->suite());
}

TEST_P(AeadProviderTest, KnownAnswers) {
  int checked = 0;
  for (const KnownAnswer& v : kKnownAnswers) {
    if (v.suite != p_->suite()) continue;
    SCOPED_TRACE(v.source);
    ++checked;
    KeyedState st(*p_, fixed<kKeyBytes>(hex(v.key)));
    const Nonce nonce = fixed<kNonceBytes>(hex(v.nonce));
    const Bytes ad = hex(v.ad), pt = hex(v.plaintext), ct = hex(v.ciphertext);
    const Tag tag = fixed<kTagBytes>(hex(v.tag));
    ASSERT_EQ(pt.size(), ct.size());

    auto [sealed, sealed_tag] = seal(st, nonce, ad, pt);
    EXPECT_EQ(sealed, ct);
    EXPECT_EQ(sealed_tag, tag);

    Bytes opened(ct.size());
    EXPECT_TRUE(p_->open(st, nonce, ad, ct, tag, opened.data()));
    EXPECT_EQ(opened, pt);

    Bytes in_place = pt;  // and the same in place, both ways
    Tag in_place_tag{};
    p_->seal(st, nonce, ad, in_place, in_place.data(), in_place_tag);
    EXPECT_EQ(in_place, ct);
    EXPECT_EQ(in_place_tag, tag);
    EXPECT_TRUE(p_->open(st, nonce, ad, in_place, tag, in_place.data()));
    EXPECT_EQ(in_place, pt);
  }
  EXPECT_GE(checked, 2);
}

TEST_P(AeadProviderTest, RoundTripsAtSizeBoundaries) {
  const Key key = fixed<kKeyBytes>(pattern(kKeyBytes, 1));
  KeyedState st(*p_, key);
  for (std::size_t ad_len : {std::size_t{0}, std::size_t{13}, std::size_t{30}}) {
    for (std::size_t n : kBoundarySizes) {
      SCOPED_TRACE("payload " + std::to_string(n) + " B, ad " + std::to_string(ad_len) + " B");
      Nonce nonce{};
      nonce[0] = static_cast<std::uint8_t>(n);
      nonce[1] = static_cast<std::uint8_t>(n >> 8);
      nonce[11] = static_cast<std::uint8_t>(ad_len);
      const Bytes ad = pattern(ad_len, 7), pt = pattern(n, 3);

      auto [ct, tag] = seal(st, nonce, ad, pt);  // out of place
      if (n >= 16) {
        EXPECT_NE(ct, pt);
      }
      Bytes opened(n);
      ASSERT_TRUE(p_->open(st, nonce, ad, ct, tag, opened.data()));
      EXPECT_EQ(opened, pt);

      Bytes buf = pt;  // in place
      Tag buf_tag{};
      p_->seal(st, nonce, ad, buf, buf.data(), buf_tag);
      EXPECT_EQ(buf, ct);
      EXPECT_EQ(buf_tag, tag);
      ASSERT_TRUE(p_->open(st, nonce, ad, buf, buf_tag, buf.data()));
      EXPECT_EQ(buf, pt);
    }
  }
}

TEST_P(AeadProviderTest, AnyFlippedBitFailsToOpen) {
  KeyedState st(*p_, fixed<kKeyBytes>(pattern(kKeyBytes, 9)));
  const Nonce nonce = fixed<kNonceBytes>(pattern(kNonceBytes, 4));
  const Bytes ad = pattern(30, 5);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{1500}}) {
    SCOPED_TRACE("payload " + std::to_string(n) + " B");
    const Bytes pt = pattern(n, 6);
    auto [ct, tag] = seal(st, nonce, ad, pt);
    Bytes out(n);

    for (std::size_t i = 0; i < n; i += std::max<std::size_t>(1, n / 7)) {
      for (int bit : {0, 7}) {
        Bytes bad = ct;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        EXPECT_FALSE(p_->open(st, nonce, ad, bad, tag, out.data())) << "ciphertext byte " << i << " bit " << bit;
      }
    }
    for (std::size_t i = 0; i < kTagBytes; ++i) {
      Tag bad = tag;
      bad[i] ^= 0x80;
      EXPECT_FALSE(p_->open(st, nonce, ad, ct, bad, out.data())) << "tag byte " << i;
    }
    for (std::size_t i = 0; i < ad.size(); i += 7) {
      Bytes bad = ad;
      bad[i] ^= 0x01;
      EXPECT_FALSE(p_->open(st, nonce, bad, ct, tag, out.data())) << "ad byte " << i;
    }
    EXPECT_FALSE(p_->open(st, nonce, Bytes(ad.begin(), ad.end() - 1), ct, tag, out.data())) << "ad one byte short";
    EXPECT_FALSE(p_->open(st, nonce, {}, ct, tag, out.data())) << "ad missing";
    for (std::size_t i = 0; i < kNonceBytes; ++i) {
      Nonce bad = nonce;
      bad[i] ^= 0x10;
      EXPECT_FALSE(p_->open(st, bad, ad, ct, tag, out.data())) << "nonce byte " << i;
    }
    // A tag truncated to k bytes and zero-extended, as a careless caller would pass it.
    for (std::size_t k : {0u, 4u, 8u, 12u, 15u}) {
      Tag truncated{};
      std::copy_n(tag.begin(), k, truncated.begin());
      if (truncated == tag) continue;  // the dropped bytes were zero already
      EXPECT_FALSE(p_->open(st, nonce, ad, ct, truncated, out.data())) << "tag truncated to " << k << " B";
    }
    // A failed open leaves the state usable: the genuine frame still opens.
    ASSERT_TRUE(p_->open(st, nonce, ad, ct, tag, out.data()));
    EXPECT_EQ(out, pt);
  }
}

TEST_P(AeadProviderTest, SealAndOpenInterleaveOnOneState) {
  KeyedState st(*p_, fixed<kKeyBytes>(pattern(kKeyBytes, 11)));
  const Bytes ad = pattern(30, 1);
  std::vector<std::pair<Bytes, Tag>> sealed;
  for (std::uint8_t i = 0; i < 8; ++i) {
    Nonce nonce{};
    nonce[0] = i;
    sealed.push_back(seal(st, nonce, ad, pattern(100 + i, i)));
    if (i % 2 == 1) {  // open an older frame between seals
      Nonce older{};
      older[0] = static_cast<std::uint8_t>(i - 1);
      Bytes out(sealed[i - 1].first.size());
      ASSERT_TRUE(p_->open(st, older, ad, sealed[i - 1].first, sealed[i - 1].second, out.data()));
      EXPECT_EQ(out, pattern(100 + i - 1, static_cast<std::uint8_t>(i - 1)));
    }
  }
}

TEST_P(AeadProviderTest, SetKeyReplacesTheOldKey) {
  const Key k1 = fixed<kKeyBytes>(pattern(kKeyBytes, 21)), k2 = fixed<kKeyBytes>(pattern(kKeyBytes, 22));
  const Nonce nonce{};
  const Bytes ad = pattern(8, 2), pt = pattern(64, 3);
  KeyedState st(*p_, k1);
  auto [ct1, tag1] = seal(st, nonce, ad, pt);

  p_->set_key(st.get(), k2);
  Bytes out(pt.size());
  EXPECT_FALSE(p_->open(st, nonce, ad, ct1, tag1, out.data())) << "the old key still opens";
  auto [ct2, tag2] = seal(st, nonce, ad, pt);
  EXPECT_NE(ct2, ct1);
  KeyedState fresh(*p_, k2);
  ASSERT_TRUE(p_->open(fresh, nonce, ad, ct2, tag2, out.data())) << "the new key is not in use";
  EXPECT_EQ(out, pt);

  p_->set_key(st.get(), k1);  // and back again
  ASSERT_TRUE(p_->open(st, nonce, ad, ct1, tag1, out.data()));
}

TEST_P(AeadProviderTest, ClearZeroesTheState) {
  AeadState st{};
  p_->set_key(st, fixed<kKeyBytes>(pattern(kKeyBytes, 31)));
  const bool holds_something =
      st.handle != nullptr || std::any_of(std::begin(st.bytes), std::end(st.bytes), [](auto b) { return b != 0; });
  EXPECT_TRUE(holds_something);
  p_->clear(st);
  EXPECT_EQ(st.handle, nullptr);
  EXPECT_TRUE(std::all_of(std::begin(st.bytes), std::end(st.bytes), [](auto b) { return b == 0; }));
  p_->clear(st);  // clearing a cleared state is harmless
  p_->set_key(st, fixed<kKeyBytes>(pattern(kKeyBytes, 32)));  // and it can be keyed again
  p_->clear(st);
}

TEST_P(AeadProviderTest, MeasureGivesPositiveRates) {
  const AeadSpeed s = measure_provider(*p_, 1500, 0.01);
  EXPECT_EQ(s.provider, p_);
  EXPECT_EQ(s.frame_bytes, 1500u);
  EXPECT_GT(s.seal_gbytes_s, 0);
  EXPECT_GT(s.open_gbytes_s, 0);
  EXPECT_EQ(s.min_gbytes_s(), std::min(s.seal_gbytes_s, s.open_gbytes_s));
}

INSTANTIATE_TEST_SUITE_P(Providers, AeadProviderTest, ::testing::ValuesIn(kProviders),
                         [](const auto& param_info) { return std::string(param_info.param.label); });

// ---- libsodium and OpenSSL agree byte for byte -------------------------------------------

class AeadInteropTest : public ::testing::TestWithParam<Suite> {};

TEST_P(AeadInteropTest, ProvidersAgreeByteForByte) {
  const Suite suite = GetParam();
  const AeadProvider* a = suite == Suite::kAes256Gcm ? libsodium_aes256gcm() : libsodium_chacha20poly1305();
  const AeadProvider* b = suite == Suite::kAes256Gcm ? openssl_aes256gcm() : openssl_chacha20poly1305();
  if (suite == Suite::kAes256Gcm && !test::cpu_runs_aes_gcm()) {
    GTEST_SKIP() << "libsodium AES-256-GCM needs AES-NI and PCLMUL, which this CPU lacks (/proc/cpuinfo)";
  }
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  constexpr std::uint64_t kSeed = 0x5EA1'0FAB'0001;
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  std::mt19937_64 rng(kSeed);
  auto random_bytes = [&](std::size_t n) {
    Bytes v(n);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng());
    return v;
  };
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = trial < static_cast<int>(std::size(kBoundarySizes)) ? kBoundarySizes[trial] : rng() % 9001;
    SCOPED_TRACE("trial " + std::to_string(trial) + ", payload " + std::to_string(n) + " B");
    const Key key = fixed<kKeyBytes>(random_bytes(kKeyBytes));
    const Nonce nonce = fixed<kNonceBytes>(random_bytes(kNonceBytes));
    const Bytes ad = random_bytes(rng() % 65), pt = random_bytes(n);
    KeyedState sa(*a, key), sb(*b, key);

    Bytes ca(n), cb(n);
    Tag ta{}, tb{};
    a->seal(sa, nonce, ad, pt, ca.data(), ta);
    b->seal(sb, nonce, ad, pt, cb.data(), tb);
    ASSERT_EQ(ca, cb);
    ASSERT_EQ(ta, tb);

    Bytes out(n);
    ASSERT_TRUE(b->open(sb, nonce, ad, ca, ta, out.data()));
    EXPECT_EQ(out, pt);
    ASSERT_TRUE(a->open(sa, nonce, ad, cb, tb, out.data()));
    EXPECT_EQ(out, pt);
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, AeadInteropTest,
                         ::testing::Values(Suite::kAes256Gcm, Suite::kChaCha20Poly1305),
                         [](const auto& param_info) {
                           return param_info.param == Suite::kAes256Gcm ? std::string("Aes256Gcm")
                                                                  : std::string("ChaCha20Poly1305");
                         });

// ---- suites and choosing -----------------------------------------------------------------

TEST(AeadSuites, NamesAndDefaults) {
  EXPECT_EQ(suite_name(Suite::kAes256Gcm), "aes-256-gcm");
  EXPECT_EQ(suite_name(Suite::kChaCha20Poly1305), "chacha20-poly1305");
  EXPECT_EQ(default_provider(Suite::kChaCha20Poly1305), libsodium_chacha20poly1305());
  EXPECT_EQ(default_provider(Suite::kAes256Gcm), libsodium_aes256gcm());
  EXPECT_EQ(default_provider(Suite::kChaCha20Poly1305)->name(), "libsodium");
}

TEST(AeadSelect, ChoosesAProviderOfTheSuiteAndReportsEveryMeasurement) {
  for (Suite s : {Suite::kAes256Gcm, Suite::kChaCha20Poly1305}) {
    SCOPED_TRACE(std::string(suite_name(s)));
    std::vector<AeadSpeed> measured;
    const AeadProvider* chosen = choose_provider(s, 1500, 0.01, &measured);
    ASSERT_NE(chosen, nullptr);
    EXPECT_EQ(chosen->suite(), s);
    ASSERT_EQ(measured.size(), 2u);  // libsodium and OpenSSL (this CPU has AES-NI)
    for (const AeadSpeed& m : measured) {
      EXPECT_EQ(m.provider->suite(), s);
      EXPECT_GT(m.min_gbytes_s(), 0);
      std::printf("  %-17s %-9s %5zu B: seal %.2f GB/s, open %.2f GB/s\n", std::string(suite_name(s)).c_str(),
                  std::string(m.provider->name()).c_str(), m.frame_bytes, m.seal_gbytes_s, m.open_gbytes_s);
    }
    // An unreachable bar keeps libsodium; a bar of 1.0 takes OpenSSL whenever it measured as fast.
    EXPECT_EQ(choose_provider(s, 256, 0.005, nullptr, 1e9), default_provider(s));
    std::vector<AeadSpeed> m2;
    const AeadProvider* fastest = choose_provider(s, 256, 0.005, &m2, 1.0);
    ASSERT_EQ(m2.size(), 2u);
    EXPECT_EQ(m2[0].provider, default_provider(s)) << "libsodium is measured first";
    EXPECT_EQ(fastest, m2[1].min_gbytes_s() >= m2[0].min_gbytes_s() ? m2[1].provider : m2[0].provider);
  }
}

}  // namespace
}  // namespace weft::crypto
