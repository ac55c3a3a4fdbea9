#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "tests/support/hex.h"
#include "weft/crypto/aead.h"

namespace weft::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

using test::hex;

Bytes ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes bytes(const Hash& h) { return Bytes(h.begin(), h.end()); }
Bytes counting(std::uint8_t first, std::uint8_t last) {
  Bytes b;
  for (unsigned v = first; v <= last; ++v) b.push_back(static_cast<std::uint8_t>(v));
  return b;
}

// FIPS 180-2, appendix B.1 (one-block message "abc").
TEST(Sha256, OneBlockMessage) {
  EXPECT_EQ(bytes(sha256(ascii("abc"))),
            hex("ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad"));
}

TEST(Sha256, EmptyInputIsNotAnError) {
  EXPECT_EQ(bytes(sha256({})), bytes(sha256(Bytes{})));
}

// RFC 4231 section 4.2, test case 1.
TEST(HmacSha256, Rfc4231TestCase1) {
  EXPECT_EQ(bytes(hmac_sha256(hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b 0b0b0b0b"), hex("4869205468657265"))),
            hex("b0344c61d8db38535ca8afceaf0bf12b 881dc200c9833da726e9376c2e32cff7"));
}

// RFC 4231 section 4.3, test case 2 (a key shorter than the output).
TEST(HmacSha256, Rfc4231TestCase2) {
  EXPECT_EQ(bytes(hmac_sha256(hex("4a656665"),
                              hex("7768617420646f2079612077616e7420 666f72206e6f7468696e673f"))),
            hex("5bdcc146bf60754e6a042426089575c7 5a003f089d2739839dec58b964ec3843"));
}

TEST(HmacSha256, KeysLongerThanABlockAreHashedFirst) {
  // RFC 2104: a key longer than the 64 B block is replaced by its hash.
  const Bytes long_key(100, 0xAA);
  const Bytes data = ascii("weft");
  EXPECT_EQ(hmac_sha256(long_key, data), hmac_sha256(bytes(sha256(long_key)), data));
  EXPECT_NE(hmac_sha256(Bytes(64, 0xAA), data), hmac_sha256(Bytes(65, 0xAA), data));
}

struct HkdfCase {
  const char* source;
  Bytes ikm, salt, info, prk, okm;
};

// RFC 5869 appendix A.1-A.3 (the SHA-256 cases).
std::vector<HkdfCase> rfc5869_cases() {
  return {
      {"RFC 5869 A.1", hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), hex("000102030405060708090a0b0c"),
       hex("f0f1f2f3f4f5f6f7f8f9"),
       hex("077709362c2e32df0ddc3f0dc47bba63 90b6c73bb50f9c3122ec844ad7c2b3e5"),
       hex("3cb25f25faacd57a90434f64d0362f2a 2d2d0a90cf1a5a4c5db02d56ecc4c5bf 34007208d5b887185865")},
      {"RFC 5869 A.2", counting(0x00, 0x4f), counting(0x60, 0xaf), counting(0xb0, 0xff),
       hex("06a6b88c5853361a06104c9ceb35b45c ef760014904671014a193f40c15fc244"),
       hex("b11e398dc80327a1c8e7f78c596a4934 4f012eda2d4efad8a050cc4c19afa97c"
           "59045a99cac7827271cb41c65e590e09 da3275600c2f09b8367793a9aca3db71"
           "cc30c58179ec3e87c14c01d5c1f3434f 1d87")},
      {"RFC 5869 A.3", hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, {},
       hex("19ef24a32c717b167f33a91d6f648bdf 96596776afdb6377ac434c1c293ccb04"),
       hex("8da4e775a563c18f715f802a063c5a31 b8a11f5c5ee1879ec3454e5f3c738d2d 9d201395faa4b61a96c8")},
  };
}

TEST(Hkdf, Rfc5869Sha256Vectors) {
  for (const HkdfCase& c : rfc5869_cases()) {
    SCOPED_TRACE(c.source);
    ASSERT_EQ(c.ikm.size(), c.source == std::string_view("RFC 5869 A.2") ? 80u : 22u);
    const Hash prk = hkdf_extract(c.salt, c.ikm);
    EXPECT_EQ(bytes(prk), c.prk);
    Bytes okm(c.okm.size());
    hkdf_expand(prk, c.info, okm);
    EXPECT_EQ(okm, c.okm);
  }
}

TEST(Hkdf, EmptySaltEqualsHashLenZeros) {
  const Bytes ikm = ascii("input keying material");
  EXPECT_EQ(hkdf_extract({}, ikm), hkdf_extract(Bytes(kHashBytes, 0), ikm));
}

TEST(Hkdf, ShorterOutputsArePrefixesOfLongerOnes) {
  const Hash prk = hkdf_extract(ascii("salt"), ascii("ikm"));
  const Bytes info = ascii("weft test");
  Bytes full(255 * kHashBytes);
  hkdf_expand(prk, info, full);
  for (std::size_t n : {0u, 1u, 31u, 32u, 33u, 64u, 65u, 8159u}) {
    SCOPED_TRACE("L = " + std::to_string(n));
    Bytes part(n);
    hkdf_expand(prk, info, part);
    EXPECT_TRUE(std::equal(part.begin(), part.end(), full.begin()));
  }
  // Distinct blocks: the counter and chaining make each 32 B block different.
  EXPECT_FALSE(std::equal(full.begin(), full.begin() + 32, full.end() - 32));
}

TEST(Hkdf, RejectsOutputsLongerThan255Blocks) {
  const Hash prk = hkdf_extract({}, ascii("ikm"));
  Bytes too_long(255 * kHashBytes + 1);
  EXPECT_THROW(hkdf_expand(prk, {}, too_long), std::length_error);
}

}  // namespace
}  // namespace weft::crypto
