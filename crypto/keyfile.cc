// Key files (weft/crypto/credentials.h): one "<tag> <64 hex digits>" line per key, the public
// line with an optional name.
//
// Secrets never pass through std::string: a secret file is read straight into guarded memory, its
// hex decoded from there into guarded memory, and written from a guarded buffer; error messages
// never quote a secret file's text. Writers create with O_EXCL (never overwrite) and set the mode
// with fchmod, so the umask cannot leave a secret readable by others; a half-written file is
// removed. Loaders are strict: exact tag word, exactly 64 hex digits, nothing else on a secret
// line; every error names the file (or descriptor), the line, and what was expected.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weft/crypto/credentials.h"

namespace weft::crypto {
namespace {

constexpr std::string_view kSecretTag = "weft-identity-secret-v1";
constexpr std::string_view kPublicTag = "weft-identity-public-v1";
constexpr std::string_view kClusterTag = "weft-cluster-key-v1";
constexpr std::size_t kHexDigits = 64;
constexpr std::size_t kMaxSecretFileBytes = 512;  // one line is 89 B; more is not a secret file

std::string errno_text(int err) { return std::strerror(err); }

std::string mode_text(mode_t mode) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(mode & 07777));
  return b;
}

// What each tag's file is, for messages.
std::string_view kind_of_tag(std::string_view tag) {
  if (tag == kSecretTag) return "an identity secret file";
  if (tag == kPublicTag) return "an identity public key line (a .pub file or an allowlist)";
  if (tag == kClusterTag) return "a cluster key file";
  return {};
}

// The file (or descriptor) being read, and the line: "keys/a.key:1: ".
struct Where {
  std::string source;
  std::size_t line = 0;
  std::string prefix() const { return line == 0 ? source + ": " : source + ":" + std::to_string(line) + ": "; }
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(prefix() + what); }
};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whitespace-separated words of one line (views into it, so a secret line is not copied).
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Checks the key line's tag and hex digits; `secret` keeps the line's text out of messages.
// `line` is the whole line (for column numbers). Does not decode.
void check_key_words(const std::vector<std::string_view>& words, std::string_view line, std::string_view tag,
                     bool secret, const Where& at) {
  const std::string expected = "expected '" + std::string(tag) + " <64 hex digits>" +
                               (tag == kPublicTag ? " [name]'" : "'");
  if (words.empty() || words[0] != tag) {
    std::string found = "found something else";
    if (!words.empty()) {
      const std::string_view kind = kind_of_tag(words[0]);
      if (!kind.empty()) {
        found = "found '" + std::string(words[0]) + "': this is " + std::string(kind);
      } else if (words[0].starts_with("weft-") && words[0].size() <= 40) {
        found = "found '" + std::string(words[0]) + "', a format this build does not read";
      } else if (!secret && words[0].size() <= 40) {
        found = "found '" + std::string(words[0]) + "'";
      }
    }
    at.fail(expected + "; " + found);
  }
  if (words.size() < 2) at.fail("no key after '" + std::string(tag) + "'; " + expected);
  const std::string_view hex = words[1];
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (!is_hex(hex[i])) {
      const std::size_t column = static_cast<std::size_t>(hex.data() - line.data()) + i + 1;
      at.fail("the key has a character that is not a hex digit (column " + std::to_string(column) + "); " +
              expected);
    }
  }
  if (hex.size() != kHexDigits) {
    at.fail("the key is " + std::to_string(hex.size()) + " hex digits long; " + expected + " (32 bytes)");
  }
  if (tag != kPublicTag && words.size() > 2) at.fail("unexpected text after the key; " + expected);
  // A public line: the key, an optional one-word name, an optional '#' comment.
  if (tag == kPublicTag && words.size() > 3 && !words[2].starts_with('#') && !words[3].starts_with('#')) {
    at.fail("unexpected text after the name (a name is one word); " + expected);
  }
}

// Decodes 64 checked hex digits (constant time in their values).
void decode_hex(std::string_view hex, std::uint8_t* out) {
  std::size_t n = 0;
  if (sodium_hex2bin(out, kHexDigits / 2, hex.data(), hex.size(), nullptr, &n, nullptr) != 0 ||
      n != kHexDigits / 2) {
    throw std::logic_error("decode_hex: unchecked input");
  }
}

// The one line of a secret file's text (a trailing "\n" or "\r\n" allowed, nothing after it).
std::string_view only_line(std::string_view text, const Where& file, std::string_view tag) {
  if (text.empty()) {
    file.fail("the file is empty; expected one line '" + std::string(tag) + " <64 hex digits>'");
  }
  std::size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  if (nl != std::string_view::npos && nl + 1 < text.size()) {
    Where second = file;
    second.line = 2;
    second.fail("unexpected text after the key line; expected one line '" + std::string(tag) +
                " <64 hex digits>' and nothing else");
  }
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

// Reads all of `fd` (up to `max` bytes) into guarded memory. Returns the byte count, or throws.
std::size_t read_secret(int fd, SecretBytes& buf, const Where& file) {
  std::size_t len = 0;
  for (;;) {
    if (len == buf.size()) {
      file.fail("more than " + std::to_string(kMaxSecretFileBytes) + " bytes; expected one key line");
    }
    const ssize_t r = ::read(fd, buf.data() + len, buf.size() - len);
    if (r < 0) {
      if (errno == EINTR) continue;
      file.fail("cannot read: " + errno_text(errno));
    }
    if (r == 0) return len;
    len += static_cast<std::size_t>(r);
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens a secret file for reading, refusing one that other users can read or write.
int open_secret(const std::string& path, std::string_view what, std::string_view made_by) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw std::runtime_error("cannot open " + std::string(what) + " " + path + ": " + errno_text(err) + " (" +
                             std::string(made_by) + " writes one)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path + ": not a regular file; expected " + std::string(what));
  }
  const mode_t others = st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH);
  if (others != 0) {
    ::close(fd);
    throw std::runtime_error(path + " is " +
                             ((others & (S_IRGRP | S_IROTH)) != 0 ? "readable" : "writable") +
                             " by other users (mode " + mode_text(st.st_mode) + "); run chmod 600 " + path);
  }
  return fd;
}

// Parses a secret file's text (in guarded memory) into `out` (guarded, 32 B).
void parse_secret(std::string_view text, std::string_view tag, const Where& file, SecretBytes& out) {
  const std::string_view line = only_line(text, file, tag);
  Where at = file;
  at.line = 1;
  const std::vector<std::string_view> words = words_of(line);
  check_key_words(words, line, tag, true, at);
  out = SecretBytes(kHexDigits / 2);
  decode_hex(words[1], out.data());
}

SecretBytes load_secret_file(const std::string& path, std::string_view tag, std::string_view what,
                             std::string_view made_by) {
  Fd fd(open_secret(path, what, made_by));
  const Where file{path};
  SecretBytes buf(kMaxSecretFileBytes);
  const std::size_t len = read_secret(fd.get(), buf, file);
  SecretBytes key;
  parse_secret({reinterpret_cast<const char*>(buf.data()), len}, tag, file, key);
  return key;
}

// "<tag> <hex of key>\n" in guarded memory, followed by a NUL that is not part of the text.
SecretBytes render_secret(std::string_view tag, std::span<const std::uint8_t> key) {
  SecretBytes text(tag.size() + 1 + key.size() * 2 + 1 + 1);  // + NUL from sodium_bin2hex
  char* p = reinterpret_cast<char*>(text.data());
  std::memcpy(p, tag.data(), tag.size());
  p[tag.size()] = ' ';
  sodium_bin2hex(p + tag.size() + 1, key.size() * 2 + 1, key.data(), key.size());
  p[text.size() - 2] = '\n';
  return text;
}

// A new file: O_EXCL (never overwrites), then exactly `mode` whatever the umask.
int create_new(const std::string& path, mode_t mode, std::string_view what) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      throw std::runtime_error(path + " already exists; keys are never overwritten: remove it first if you mean "
                               "to replace it (and update every peer that uses it)");
    }
    throw std::runtime_error("cannot create " + std::string(what) + " " + path + ": " + errno_text(err));
  }
  if (::fchmod(fd, mode) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    throw std::runtime_error("cannot set mode " + mode_text(mode) + " on " + path + ": " + errno_text(err));
  }
  return fd;
}

// Writes all of `bytes` and syncs; on failure closes, removes the file and throws.
void write_all_and_close(int fd, const std::string& path, const std::uint8_t* bytes, std::size_t n) {
  std::size_t done = 0;
  int err = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, bytes + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<std::size_t>(w);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path + ": " + errno_text(err));
  }
}

void write_secret_file(const std::string& path, std::string_view tag, std::span<const std::uint8_t> key,
                       std::string_view what) {
  const SecretBytes text = render_secret(tag, key);
  const int fd = create_new(path, 0600, what);
  write_all_and_close(fd, path, text.data(), text.size() - 1);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.starts_with('#')) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;  // spaces and control characters; UTF-8 is fine
  }
  return true;
}

}  // namespace

// ---- writers ---------------------------------------------------------------------------------

std::string write_identity(const std::string& secret_path, const std::string& public_path, const std::string& name) {
  if (!name.empty() && !valid_name(name)) {
    throw std::invalid_argument("identity name '" + name +
                                "' is not one word of printable characters (no spaces, not starting with '#')");
  }
  ensure_sodium();
  SecretBytes seed(kSeedBytes);
  randombytes_buf(seed.data(), seed.size());
  Credentials c;
  c.set_identity_seed(std::span<const std::uint8_t, kSeedBytes>(seed.data(), kSeedBytes));
  std::string public_line = std::string(kPublicTag) + " " + to_hex(c.identity_public());
  if (!name.empty()) public_line += " " + name;

  // Both files are created before either is written, so neither is left behind alone.
  const int secret_fd = create_new(secret_path, 0600, "identity secret file");
  int public_fd = -1;
  try {
    public_fd = create_new(public_path, 0644, "identity public file");
  } catch (...) {
    ::close(secret_fd);
    ::unlink(secret_path.c_str());
    throw;
  }
  const SecretBytes text = render_secret(kSecretTag, seed.span());
  try {
    write_all_and_close(secret_fd, secret_path, text.data(), text.size() - 1);
  } catch (...) {
    ::close(public_fd);
    ::unlink(public_path.c_str());
    throw;
  }
  const std::string public_text = public_line + "\n";
  try {
    write_all_and_close(public_fd, public_path, reinterpret_cast<const std::uint8_t*>(public_text.data()),
                        public_text.size());
  } catch (...) {
    ::unlink(secret_path.c_str());
    throw;
  }
  return public_line;
}

void write_cluster_key(const std::string& path) {
  Credentials c;
  generate_cluster_key(c);
  write_secret_file(path, kClusterTag, c.cluster_key(), "cluster key file");
}

// ---- loaders ---------------------------------------------------------------------------------

void load_identity_secret(const std::string& path, Credentials& into) {
  const SecretBytes seed = load_secret_file(path, kSecretTag, "identity secret file", "`weft keygen identity`");
  into.set_identity_seed(std::span<const std::uint8_t, kSeedBytes>(seed.data(), kSeedBytes));
}

void load_cluster_key(const std::string& path, Credentials& into) {
  const SecretBytes key = load_secret_file(path, kClusterTag, "cluster key file", "`weft keygen cluster`");
  into.set_cluster_key(std::span<const std::uint8_t, kClusterKeyBytes>(key.data(), kClusterKeyBytes));
}

void load_cluster_key_fd(int fd, Credentials& into) {
  const Where file{"cluster key descriptor " + std::to_string(fd)};
  if (fd < 0) file.fail("not a valid descriptor");
  Fd owned(fd);
  SecretBytes buf(kMaxSecretFileBytes);
  const std::size_t len = read_secret(fd, buf, file);
  SecretBytes key;
  parse_secret({reinterpret_cast<const char*>(buf.data()), len}, kClusterTag, file, key);
  into.set_cluster_key(std::span<const std::uint8_t, kClusterKeyBytes>(key.data(), kClusterKeyBytes));
}

void load_allowlist(const std::string& path, Credentials& into) {
  const std::string expected = "'" + std::string(kPublicTag) + " <64 hex digits> [name]'";
  const int raw_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw_fd < 0) {
    const int err = errno;
    throw std::runtime_error("cannot open allowlist " + path + ": " + errno_text(err) +
                             " (an allowlist holds one " + expected + " line per peer: the peers' .pub files)");
  }
  Fd fd(raw_fd);
  std::string text;
  char chunk[4096];
  for (;;) {
    const ssize_t r = ::read(fd.get(), chunk, sizeof chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw std::runtime_error("cannot read allowlist " + path + ": " + errno_text(err));
    }
    if (r == 0) break;
    text.append(chunk, static_cast<std::size_t>(r));
  }

  struct Entry {
    AllowedPeer peer;
    std::size_t line;
  };
  std::vector<Entry> entries;
  Where at{path};
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++at.line;
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = std::string_view(text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    const std::vector<std::string_view> words = words_of(line);
    if (words.empty() || words[0].starts_with('#')) continue;
    check_key_words(words, line, kPublicTag, false, at);
    Entry e{{}, at.line};
    decode_hex(words[1], e.peer.key.data());
    if (crypto_core_ed25519_is_valid_point(e.peer.key.data()) != 1) {
      at.fail("the key is not a valid Ed25519 public key; expected a key written by `weft keygen identity`");
    }
    if (words.size() > 2 && !words[2].starts_with('#')) {
      if (!valid_name(words[2])) at.fail("the name has a control character; expected one printable word");
      e.peer.name = std::string(words[2]);
    }
    for (const Entry& prev : entries) {
      if (prev.peer.key == e.peer.key) {
        at.fail("duplicate key: the same key as line " + std::to_string(prev.line) +
                (prev.peer.name.empty() ? std::string() : " ('" + prev.peer.name + "')") +
                "; each peer's key may appear once");
      }
    }
    entries.push_back(std::move(e));
  }
  if (entries.empty()) {
    throw std::runtime_error(path + ": no peer keys; expected one " + expected +
                             " line per peer (the peers' .pub files from `weft keygen identity`)");
  }
  // Checked against keys already allowed (from other files) before any is added.
  for (const Entry& e : entries) {
    if (const AllowedPeer* dup = into.find_allowed(e.peer.key)) {
      throw std::runtime_error(path + ":" + std::to_string(e.line) + ": duplicate key: already allowed" +
                               (dup->name.empty() ? std::string() : " as '" + dup->name + "'") +
                               " (from another allowlist); each peer's key may appear once");
    }
  }
  for (Entry& e : entries) into.allow(std::move(e.peer));
}

void generate_cluster_key(Credentials& into) {
  ensure_sodium();
  SecretBytes key(kClusterKeyBytes);
  randombytes_buf(key.data(), key.size());
  into.set_cluster_key(std::span<const std::uint8_t, kClusterKeyBytes>(key.data(), kClusterKeyBytes));
}

std::string cluster_key_text(const Credentials& c) {
  if (!c.has_cluster_key()) throw std::invalid_argument("cluster_key_text: these credentials have no cluster key");
  const SecretBytes text = render_secret(kClusterTag, c.cluster_key());
  return std::string(reinterpret_cast<const char*>(text.data()), text.size() - 1);
}

}  // namespace weft::crypto
