// Credentials (crypto/credentials.cc) and key files (crypto/keyfile.cc): every writer's output
// loads back; every malformed file is refused with a message that names the file and what was
// expected; problem() names each incomplete combination. Files live in a directory each test
// creates under $TMPDIR and removes.
#include "weft/crypto/credentials.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace weft::crypto {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// A fixed seed (bytes 0..31) and its hex, so file contents are known byte for byte.
constexpr std::array<std::uint8_t, kSeedBytes> kSeed = [] {
  std::array<std::uint8_t, kSeedBytes> s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
  return s;
}();
const std::string kSeedHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

PublicKey public_of(std::span<const std::uint8_t, kSeedBytes> seed) {
  PublicKey pk{};
  std::array<std::uint8_t, kSigningKeyBytes> sk{};
  EXPECT_EQ(crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data()), 0);
  return pk;
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_sodium();
    std::string tmpl = (fs::temp_directory_path() / "weft_credentials_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `text` to `name` with `mode`; returns the path.
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) const {
    const std::string p = path(name);
    {
      std::ofstream f(p, std::ios::binary);
      f << text;
    }
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    return p;
  }

  // `fn` throws an exception of type E whose message holds every one of `parts`; returns it.
  template <typename E = std::runtime_error>
  static std::string expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
    try {
      fn();
    } catch (const E& e) {
      const std::string what = e.what();
      for (const std::string& part : parts) EXPECT_THAT(what, HasSubstr(part));
      return what;
    }
    ADD_FAILURE() << "no exception; expected one naming " << *parts.begin();
    return {};
  }

  fs::path dir_;
};

// ---- SecretBytes, to_hex -------------------------------------------------------------------

TEST(SecretBytes, AllocatesMovesAndFrees) {
  SecretBytes empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.data(), nullptr);
  SecretBytes zero(0);
  EXPECT_TRUE(zero.empty());

  SecretBytes a(48);
  ASSERT_EQ(a.size(), 48u);
  ASSERT_NE(a.data(), nullptr);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::uint8_t>(i);
  const std::uint8_t* p = a.data();
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.span()[47], 47);
  SecretBytes c(8);
  c = std::move(b);
  EXPECT_EQ(c.size(), 48u);
  EXPECT_EQ(c.data(), p);
}

TEST(ToHex, LowercaseTwoDigitsPerByte) {
  const std::array<std::uint8_t, 4> bytes = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(bytes), "000fa0ff");
  EXPECT_EQ(to_hex(kSeed), kSeedHex);
  EXPECT_EQ(to_hex({}), "");
}

// ---- Credentials ---------------------------------------------------------------------------

TEST(Credentials, DefaultsToLibsodiumProviders) {
  const Credentials c;
  EXPECT_EQ(c.aes256gcm, libsodium_aes256gcm());  // nullptr without AES-NI
  ASSERT_NE(c.chacha20poly1305, nullptr);
  EXPECT_EQ(c.chacha20poly1305, libsodium_chacha20poly1305());
  EXPECT_EQ(c.provider(Suite::kChaCha20Poly1305), c.chacha20poly1305);
  EXPECT_EQ(c.provider(Suite::kAes256Gcm), c.aes256gcm);
  EXPECT_FALSE(c.has_identity());
  EXPECT_TRUE(c.signing_key().empty());
  EXPECT_FALSE(c.has_cluster_key());
  EXPECT_FALSE(c.deterministic_ephemeral);
}

TEST(Credentials, IdentitySeedGivesAWorkingSigningKey) {
  Credentials c;
  c.set_identity_seed(kSeed);
  ASSERT_TRUE(c.has_identity());
  EXPECT_EQ(c.identity_public(), public_of(kSeed));
  ASSERT_EQ(c.signing_key().size(), kSigningKeyBytes);
  // libsodium's secret key is seed || public.
  EXPECT_TRUE(std::equal(kSeed.begin(), kSeed.end(), c.signing_key().begin()));

  const std::string msg = "transcript";
  std::array<std::uint8_t, kSignatureBytes> sig{};
  ASSERT_EQ(crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(msg.data()),
                                 msg.size(), c.signing_key().data()),
            0);
  EXPECT_EQ(crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(msg.data()),
                                        msg.size(), c.identity_public().data()),
            0);
}

TEST(Credentials, AllowRejectsADuplicateKeyNamingBoth) {
  Credentials c;
  const PublicKey k = public_of(kSeed);
  c.allow({"alice", k});
  PublicKey other = k;
  other[0] ^= 1;
  c.allow({"bob", other});
  EXPECT_EQ(c.allowlist().size(), 2u);
  ASSERT_NE(c.find_allowed(k), nullptr);
  EXPECT_EQ(c.find_allowed(k)->name, "alice");
  EXPECT_EQ(c.find_allowed(other)->name, "bob");
  PublicKey absent{};
  EXPECT_EQ(c.find_allowed(absent), nullptr);

  try {
    c.allow({"carol", k});
    FAIL() << "a duplicate key was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("carol"));
    EXPECT_THAT(e.what(), HasSubstr("alice"));
  }
  EXPECT_EQ(c.allowlist().size(), 2u);
}

TEST(Credentials, ProblemNamesEachIncompleteCombination) {
  const std::array<std::uint8_t, kClusterKeyBytes> psk{7};
  {
    const Credentials c;
    EXPECT_THAT(c.problem(), HasSubstr("no identity key and no cluster key"));
  }
  {
    Credentials c;  // an allowlist alone cannot authenticate this node
    c.allow({"alice", public_of(kSeed)});
    EXPECT_THAT(c.problem(), HasSubstr("no identity key and no cluster key"));
  }
  {
    Credentials c;
    c.set_identity_seed(kSeed);
    EXPECT_THAT(c.problem(), HasSubstr("an identity key but an empty allowlist"));
    c.allow({"alice", public_of(kSeed)});
    EXPECT_EQ(c.problem(), "");
  }
  {
    Credentials c;
    c.set_cluster_key(psk);
    EXPECT_EQ(c.problem(), "");
    c.set_identity_seed(kSeed);  // identity + cluster key, empty allowlist: the cluster key authenticates
    EXPECT_EQ(c.problem(), "");
    c.aes256gcm = nullptr;
    c.chacha20poly1305 = nullptr;
    EXPECT_THAT(c.problem(), HasSubstr("no AEAD provider"));
    c.chacha20poly1305 = libsodium_chacha20poly1305();
    EXPECT_EQ(c.problem(), "");
  }
}

// ---- round trips -----------------------------------------------------------------------------

TEST_F(KeyFileTest, IdentityRoundTrip) {
  const std::string key = path("node1.key");
  const std::string pub = path("node1.pub");
  const std::string line = write_identity(key, pub, "node1");
  EXPECT_THAT(line, ::testing::MatchesRegex("weft-identity-public-v1 [0-9a-f]{64} node1"));
  EXPECT_EQ(read_text(pub), line + "\n");
  EXPECT_EQ(mode_of(key), 0600u);
  EXPECT_EQ(mode_of(pub), 0644u);
  EXPECT_THAT(read_text(key), ::testing::MatchesRegex("weft-identity-secret-v1 [0-9a-f]{64}\n"));

  Credentials c;
  load_identity_secret(key, c);
  ASSERT_TRUE(c.has_identity());
  EXPECT_EQ(line, "weft-identity-public-v1 " + to_hex(c.identity_public()) + " node1");

  load_allowlist(pub, c);
  ASSERT_EQ(c.allowlist().size(), 1u);
  EXPECT_EQ(c.allowlist()[0].name, "node1");
  EXPECT_EQ(c.allowlist()[0].key, c.identity_public());
  EXPECT_EQ(c.problem(), "");

  // Unnamed: the public line is the tag and the key only.
  const std::string unnamed = write_identity(path("u.key"), path("u.pub"), "");
  EXPECT_THAT(unnamed, ::testing::MatchesRegex("weft-identity-public-v1 [0-9a-f]{64}"));
  EXPECT_NE(unnamed.substr(0, 88), line.substr(0, 88));  // a fresh key each time
}

TEST_F(KeyFileTest, WritersSetTheirModesWhateverTheUmask) {
  const mode_t old = ::umask(077);
  write_identity(path("a.key"), path("a.pub"), "a");
  ::umask(0);
  write_cluster_key(path("c.key"));
  ::umask(old);
  EXPECT_EQ(mode_of(path("a.key")), 0600u);
  EXPECT_EQ(mode_of(path("a.pub")), 0644u);
  EXPECT_EQ(mode_of(path("c.key")), 0600u);
}

TEST_F(KeyFileTest, KnownSeedFileLoads) {
  // CRLF line end and a tab separator are accepted; uppercase hex too.
  std::string upper = kSeedHex;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& text : {"weft-identity-secret-v1 " + kSeedHex + "\n", "weft-identity-secret-v1 " + kSeedHex,
                                   "weft-identity-secret-v1\t" + upper + "\r\n"}) {
    Credentials c;
    load_identity_secret(write("seed.key", text), c);
    EXPECT_EQ(c.identity_public(), public_of(kSeed)) << text;
    fs::remove(path("seed.key"));
  }
}

TEST_F(KeyFileTest, ClusterKeyRoundTrip) {
  const std::string file = path("cluster.key");
  write_cluster_key(file);
  EXPECT_EQ(mode_of(file), 0600u);
  Credentials c;
  load_cluster_key(file, c);
  ASSERT_TRUE(c.has_cluster_key());
  ASSERT_EQ(c.cluster_key().size(), kClusterKeyBytes);
  EXPECT_EQ(read_text(file), cluster_key_text(c));
  EXPECT_EQ(cluster_key_text(c), "weft-cluster-key-v1 " + to_hex(c.cluster_key()) + "\n");
  EXPECT_EQ(c.problem(), "");
}

TEST_F(KeyFileTest, GeneratedClusterKeysDiffer) {
  Credentials a;
  Credentials b;
  generate_cluster_key(a);
  generate_cluster_key(b);
  ASSERT_TRUE(a.has_cluster_key());
  EXPECT_NE(to_hex(a.cluster_key()), to_hex(b.cluster_key()));
  EXPECT_THROW(cluster_key_text(Credentials{}), std::invalid_argument);
}

TEST_F(KeyFileTest, ClusterKeyThroughAPipe) {
  Credentials parent;
  generate_cluster_key(parent);
  const std::string text = cluster_key_text(parent);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  Credentials child;
  load_cluster_key_fd(fds[0], child);
  EXPECT_EQ(to_hex(child.cluster_key()), to_hex(parent.cluster_key()));
  errno = 0;
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1) << "the descriptor was not closed";
  EXPECT_EQ(errno, EBADF);
}

TEST_F(KeyFileTest, MalformedPipeIsRefusedAndClosed) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string text = "weft-cluster-key-v1 " + kSeedHex.substr(2) + "\n";
  ASSERT_EQ(::write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  Credentials c;
  expect_error([&] { load_cluster_key_fd(fds[0], c); },
               {"descriptor " + std::to_string(fds[0]), ":1:", "62 hex digits", "expected"});
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1) << "the descriptor was not closed";
  EXPECT_FALSE(c.has_cluster_key());
}

TEST_F(KeyFileTest, AllowlistWithCommentsBlankLinesAndNames) {
  std::array<std::uint8_t, kSeedBytes> seed2 = kSeed;
  seed2[0] = 0xff;
  std::array<std::uint8_t, kSeedBytes> seed3 = kSeed;
  seed3[1] = 0xff;
  const std::string text = "# the rack-3 nodes\n\n"
                           "weft-identity-public-v1 " + to_hex(public_of(kSeed)) + " alice\n"
                           "   \t\n"
                           "weft-identity-public-v1 " + to_hex(public_of(seed2)) + "\r\n"
                           "  weft-identity-public-v1  " + to_hex(public_of(seed3)) + " carol # spare\n";
  Credentials c;
  load_allowlist(write("allow", text, 0644), c);
  ASSERT_EQ(c.allowlist().size(), 3u);
  EXPECT_EQ(c.allowlist()[0].name, "alice");
  EXPECT_EQ(c.allowlist()[0].key, public_of(kSeed));
  EXPECT_EQ(c.allowlist()[1].name, "");
  EXPECT_EQ(c.allowlist()[1].key, public_of(seed2));
  EXPECT_EQ(c.allowlist()[2].name, "carol");

  // A second allowlist adds to the first, but not a key already in it.
  const std::string more = write("more", "weft-identity-public-v1 " + to_hex(public_of(seed3)) + " dave\n", 0644);
  expect_error([&] { load_allowlist(more, c); }, {more + ":1:", "duplicate key", "carol"});
  EXPECT_EQ(c.allowlist().size(), 3u);
}

// ---- malformed input -------------------------------------------------------------------------

TEST_F(KeyFileTest, WrongTagIsRefused) {
  Credentials c;
  const std::string cluster_as_identity = write("c.key", "weft-cluster-key-v1 " + kSeedHex + "\n");
  expect_error([&] { load_identity_secret(cluster_as_identity, c); },
               {cluster_as_identity + ":1:", "expected 'weft-identity-secret-v1 <64 hex digits>'", "cluster key file"});
  const std::string identity_as_cluster = write("i.key", "weft-identity-secret-v1 " + kSeedHex + "\n");
  expect_error([&] { load_cluster_key(identity_as_cluster, c); },
               {identity_as_cluster + ":1:", "expected 'weft-cluster-key-v1", "identity secret file"});
  const std::string pub_as_secret = write("p.key", "weft-identity-public-v1 " + to_hex(public_of(kSeed)) + "\n");
  expect_error([&] { load_identity_secret(pub_as_secret, c); }, {pub_as_secret + ":1:", "public key line"});
  const std::string future = write("f.key", "weft-identity-secret-v2 " + kSeedHex + "\n");
  expect_error([&] { load_identity_secret(future, c); },
               {future + ":1:", "'weft-identity-secret-v2'", "does not read"});
  const std::string bare = write("b.key", kSeedHex + "\n");
  const std::string what = expect_error([&] { load_identity_secret(bare, c); }, {bare + ":1:", "something else"});
  EXPECT_THAT(what, Not(HasSubstr(kSeedHex.substr(0, 16)))) << "a secret file's text leaked into a message";
  const std::string allow = write("allow", "weft-identity-secrt-v1 " + to_hex(public_of(kSeed)) + "\n", 0644);
  expect_error([&] { load_allowlist(allow, c); },
               {allow + ":1:", "weft-identity-public-v1", "'weft-identity-secrt-v1'"});
  EXPECT_FALSE(c.has_identity());
  EXPECT_FALSE(c.has_cluster_key());
}

TEST_F(KeyFileTest, BadKeyDigitsAreRefused) {
  Credentials c;
  struct Case {
    std::string key;
    std::string says;
  };
  std::string nonhex = kSeedHex;
  nonhex[10] = 'g';
  for (const Case& k : {Case{kSeedHex.substr(0, 62), "62 hex digits"}, Case{kSeedHex + "00", "66 hex digits"},
                        Case{kSeedHex.substr(0, 63), "63 hex digits"}, Case{nonhex, "not a hex digit"},
                        Case{"", "no key after"}}) {
    const std::string secret = write("k.key", "weft-identity-secret-v1 " + k.key + "\n");
    const std::string what = expect_error([&] { load_identity_secret(secret, c); }, {secret + ":1:", k.says, "64"});
    EXPECT_THAT(what, Not(HasSubstr("0a0b0c0d"))) << "a secret file's text leaked into a message";
    if (k.key == nonhex) {
      EXPECT_THAT(what, HasSubstr("(column 35)"));  // 24 B of tag and space, then the 11th digit
    }
    const std::string cluster = write("c.key", "weft-cluster-key-v1 " + k.key + "\n");
    expect_error([&] { load_cluster_key(cluster, c); }, {cluster + ":1:", k.says});
    const std::string allow =
        write("allow", "# peers\nweft-identity-public-v1 " + k.key + (k.key.empty() ? "\n" : " x\n"), 0644);
    expect_error([&] { load_allowlist(allow, c); }, {allow + ":2:", k.says, "[name]"});
    fs::remove(secret);
    fs::remove(cluster);
    fs::remove(allow);
  }
  EXPECT_FALSE(c.has_identity());
  EXPECT_TRUE(c.allowlist().empty());
}

TEST_F(KeyFileTest, ExtraTextIsRefused) {
  Credentials c;
  const std::string trailing = write("t.key", "weft-identity-secret-v1 " + kSeedHex + " extra\n");
  expect_error([&] { load_identity_secret(trailing, c); }, {trailing + ":1:", "unexpected text after the key"});
  const std::string second = write("s.key", "weft-cluster-key-v1 " + kSeedHex + "\n\n");
  expect_error([&] { load_cluster_key(second, c); }, {second + ":2:", "one line"});
  const std::string empty = write("e.key", "");
  expect_error([&] { load_cluster_key(empty, c); }, {empty + ":", "empty"});
  const std::string words =
      write("allow", "weft-identity-public-v1 " + to_hex(public_of(kSeed)) + " two words\n", 0644);
  expect_error([&] { load_allowlist(words, c); }, {words + ":1:", "a name is one word"});
  std::string big(600, '#');
  const std::string huge = write("h.key", big);
  expect_error([&] { load_identity_secret(huge, c); }, {huge + ":", "more than 512 bytes"});
}

TEST_F(KeyFileTest, InvalidPublicKeyIsRefused) {
  Credentials c;
  const std::string allow = write("allow", "weft-identity-public-v1 " + std::string(64, '0') + " zero\n", 0644);
  expect_error([&] { load_allowlist(allow, c); }, {allow + ":1:", "not a valid Ed25519 public key"});
}

TEST_F(KeyFileTest, DuplicateAllowlistEntryIsRefused) {
  Credentials c;
  const std::string key = to_hex(public_of(kSeed));
  const std::string allow = write("allow",
                                  "weft-identity-public-v1 " + key + " alice\n# again:\n"
                                  "weft-identity-public-v1 " + key + " alice2\n",
                                  0644);
  expect_error([&] { load_allowlist(allow, c); }, {allow + ":3:", "duplicate key", "line 1", "alice"});
  EXPECT_TRUE(c.allowlist().empty()) << "a refused allowlist must add nothing";
}

TEST_F(KeyFileTest, EmptyAllowlistIsRefused) {
  Credentials c;
  for (const std::string& text : {std::string(), std::string("# nobody yet\n\n")}) {
    const std::string allow = write("allow", text, 0644);
    expect_error([&] { load_allowlist(allow, c); }, {allow, "no peer keys", "weft-identity-public-v1"});
    fs::remove(allow);
  }
}

TEST_F(KeyFileTest, SecretsReadableByOthersAreRefused) {
  Credentials c;
  const std::string key = write("id.key", "weft-identity-secret-v1 " + kSeedHex + "\n", 0644);
  expect_error([&] { load_identity_secret(key, c); },
               {key + " is readable by other users (mode 0644); run chmod 600 " + key});
  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  expect_error([&] { load_identity_secret(key, c); }, {key, "readable by other users (mode 0640)"});
  ASSERT_EQ(::chmod(key.c_str(), 0620), 0);
  expect_error([&] { load_identity_secret(key, c); }, {key, "writable by other users (mode 0620)"});
  const std::string cluster = write("c.key", "weft-cluster-key-v1 " + kSeedHex + "\n", 0604);
  expect_error([&] { load_cluster_key(cluster, c); }, {cluster, "readable by other users (mode 0604)", "chmod 600"});
  EXPECT_FALSE(c.has_identity());
  EXPECT_FALSE(c.has_cluster_key());

  ASSERT_EQ(::chmod(key.c_str(), 0400), 0);  // owner-only modes other than 0600 are fine
  load_identity_secret(key, c);
  EXPECT_TRUE(c.has_identity());
}

TEST_F(KeyFileTest, MissingFilesAreNamed) {
  Credentials c;
  const std::string missing = path("nope.key");
  expect_error([&] { load_identity_secret(missing, c); }, {missing, "No such file", "weft keygen identity"});
  expect_error([&] { load_cluster_key(missing, c); }, {missing, "No such file", "weft keygen cluster"});
  expect_error([&] { load_allowlist(missing, c); }, {missing, "No such file", "allowlist"});
  expect_error([&] { load_identity_secret(dir_.string(), c); }, {dir_.string(), "not a regular file"});
}

TEST_F(KeyFileTest, WritersNeverOverwrite) {
  const std::string cluster = path("cluster.key");
  write_cluster_key(cluster);
  const std::string before = read_text(cluster);
  expect_error([&] { write_cluster_key(cluster); }, {cluster, "already exists", "remove it first"});
  EXPECT_EQ(read_text(cluster), before);

  // An existing public file stops the identity before its secret is written.
  const std::string key = path("n.key");
  const std::string pub = write("n.pub", "keep me\n", 0644);
  expect_error([&] { write_identity(key, pub, "n"); }, {pub, "already exists", "remove it first"});
  EXPECT_FALSE(fs::exists(key)) << "a secret without its public file was left behind";
  EXPECT_EQ(read_text(pub), "keep me\n");

  const std::string existing_key = write("m.key", "keep me too\n");
  expect_error([&] { write_identity(existing_key, path("m.pub"), "m"); }, {existing_key, "already exists"});
  EXPECT_FALSE(fs::exists(path("m.pub")));
  EXPECT_EQ(read_text(existing_key), "keep me too\n");

  expect_error([&] { write_cluster_key(path("no/such/dir/c.key")); }, {path("no/such/dir/c.key"), "cannot create"});
}

TEST_F(KeyFileTest, WriteIdentityRefusesABadName) {
  for (const std::string name : {"two words", "#hash", "tab\there"}) {
    expect_error<std::invalid_argument>([&] { write_identity(path("x.key"), path("x.pub"), name); }, {name});
  }
  EXPECT_FALSE(fs::exists(path("x.key")));
}

}  // namespace
}  // namespace weft::crypto
