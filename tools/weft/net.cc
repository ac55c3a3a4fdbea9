#include "tools/weft/net.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "tools/weft/cli.h"
#include "weft/crypto/aead.h"
#include "weft/crypto/credentials.h"
#include "weft/crypto/select.h"
#include "weft/transport/datapath.h"
#include "weft/transport/udp_datapath.h"

namespace weft::tools {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

constexpr std::uint32_t kLoopbackNet = 0x7F000000;  // 127.0.0.0/8
constexpr std::uint32_t kLoopbackMask = 0xFF000000;

constexpr const char* kSecurityGroup = "Security (weft profile; keys from `weft keygen`)";

// --aead-provider auto: seconds each measurement of measure_provider() runs. Each provider is
// timed sealing and opening, each after a warm-up of a quarter of this: 2 suites x 2 providers x
// 2 x 6.25 ms is about 50 ms at start-up.
constexpr double kMeasureSecondsEach = 0.005;

// 3 significant digits: "5.53", "0.0123".
std::string gbytes_text(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// The provider `name` ("libsodium"/"openssl") of suite `s`, or nullptr where it cannot run.
const crypto::AeadProvider* named_provider(const std::string& name, crypto::Suite s) {
  const bool aes = s == crypto::Suite::kAes256Gcm;
  if (name == "openssl") return aes ? crypto::openssl_aes256gcm() : crypto::openssl_chacha20poly1305();
  return aes ? crypto::libsodium_aes256gcm() : crypto::libsodium_chacha20poly1305();
}

// The key flags given, for messages ("--identity, --cluster-key").
std::string key_flags_given(const SecurityOptions& o) {
  std::vector<std::string> f;
  if (!o.identity.empty()) f.emplace_back("--identity");
  if (!o.allow.empty()) f.emplace_back("--allow");
  if (!o.cluster_key.empty()) f.emplace_back("--cluster-key");
  if (o.cluster_key_fd >= 0) f.emplace_back("--cluster-key-fd");
  if (o.cipher != "auto") f.emplace_back("--cipher");
  if (o.aead_provider != "auto") f.emplace_back("--aead-provider");
  std::string out;
  for (const std::string& x : f) out += (out.empty() ? "" : ", ") + x;
  return out;
}

}  // namespace

void add_security_options(CLI::App& cmd, SecurityOptions& o) {
  cmd.add_option("--identity", o.identity,
                 "this node's identity secret (NAME.key from `weft keygen identity`); peers accept it when "
                 "its .pub line is on their --allow list")
      ->type_name("FILE")
      ->group(kSecurityGroup);
  cmd.add_option("--allow", o.allow,
                 "allowlist: the public lines (.pub) of the peers to accept, '#' comments allowed; repeatable")
      ->type_name("FILE")
      ->allow_extra_args(false)
      ->group(kSecurityGroup);
  auto* key = cmd.add_option("--cluster-key", o.cluster_key,
                             "cluster pre-shared key file (`weft keygen cluster`): every member holds the same")
                  ->type_name("FILE")
                  ->group(kSecurityGroup);
  auto* fd = cmd.add_option("--cluster-key-fd", o.cluster_key_fd,
                            "read the cluster key (the file's format) from this inherited descriptor, then close "
                            "it: for processes a launcher spawns")
                 ->type_name("N")
                 ->check(CLI::NonNegativeNumber)
                 ->group(kSecurityGroup);
  key->excludes(fd);
  cmd.add_option("--cipher", o.cipher,
                 "AEAD suites to offer: auto (both; AES-256-GCM is preferred when both sides offer it), "
                 "aes-256-gcm or chacha20-poly1305")
      ->check(CLI::IsMember({"auto", "aes-256-gcm", "chacha20-poly1305"}))
      ->capture_default_str()
      ->group(kSecurityGroup);
  cmd.add_option("--aead-provider", o.aead_provider,
                 "AEAD implementation: auto (measure libsodium and OpenSSL at start-up, ~50 ms, and take the "
                 "faster), libsodium or openssl")
      ->check(CLI::IsMember({"auto", "libsodium", "openssl"}))
      ->capture_default_str()
      ->group(kSecurityGroup);
  cmd.add_flag("--insecure", o.insecure,
               "PLAINTEXT: no encryption, no authentication; anyone on the path can read, inject and tear "
               "down links (trusted test networks only)")
      ->group(kSecurityGroup);
}

std::string security_help_text() {
  return "Security: on the weft profile every link is authenticated and every frame encrypted (AEAD);\n"
         "without keys the command refuses to start unless --insecure asks for plaintext. Keys are\n"
         "files from `weft keygen`: an identity per node (--identity NAME.key, plus --allow with the\n"
         "peers' .pub lines) and/or one cluster key every member holds (--cluster-key FILE).\n"
         "ttpoe-compat is plaintext by spec and takes no key flags.\n\n"
         "Two terminals, identity keys:\n"
         "  weft keygen identity --out keys --name a && weft keygen identity --out keys --name b\n"
         "  cat keys/a.pub keys/b.pub > keys/allowlist\n"
         "  [1] weft peer --listen udp://127.0.0.1:7000 --echo --identity keys/a.key --allow keys/allowlist\n"
         "  [2] weft send --to udp://127.0.0.1:7000 --bytes 65536 --verify \\\n"
         "          --identity keys/b.key --allow keys/allowlist\n"
         "Two terminals, a cluster key:\n"
         "  weft keygen cluster --out cluster.key\n"
         "  [1] weft peer --listen udp://127.0.0.1:7000 --echo --cluster-key cluster.key\n"
         "  [2] weft send --to udp://127.0.0.1:7000 --bytes 65536 --verify --cluster-key cluster.key\n"
         "  (a launcher can pass the key through a pipe instead: --cluster-key-fd 3 3<cluster.key)\n"
         "Plaintext, for a trusted test network only:\n"
         "  [1] weft peer --listen udp://127.0.0.1:7000 --echo --insecure\n"
         "  [2] weft send --to udp://127.0.0.1:7000 --bytes 65536 --verify --insecure\n";
}

bool apply_security(const SecurityOptions& o, const std::string& command, bool quiet, std::size_t frame_bytes,
                    transport::EndpointConfig& cfg, SecuritySetup& out) {
  cfg.wall_clock_offset_ns = transport::wall_clock_offset_ns();
  cfg.credentials = nullptr;
  out = SecuritySetup{};
  out.auth = "none";
  auto error = [&](const std::string& what) {
    std::cerr << command << ": error: " << what << "\nRun '" << command << " --help' for the key options.\n";
    return false;
  };
  const std::string given = key_flags_given(o);

  if (cfg.profile == transport::Profile::kTtpoeCompat) {
    if (!given.empty()) {
      return error("ttpoe-compat has no security; drop the key flags (" + given + ") or use --profile weft");
    }
    std::cerr << "WARNING: profile ttpoe-compat is PLAINTEXT and UNAUTHENTICATED by spec (TTPoE Rev 2.0 has no "
                 "security): --insecure is implied\n";
    return true;
  }
  if (o.insecure) {
    if (!given.empty()) {
      return error("--insecure runs in plaintext, but key flags were given (" + given +
                   "): drop --insecure to encrypt, or drop the key flags");
    }
    std::cerr << "WARNING: --insecure: frames are sent in the clear, unauthenticated; anyone on the path can read, "
                 "inject and tear down links\n";
    return true;
  }
  if (o.identity.empty() && o.cluster_key.empty() && o.cluster_key_fd < 0) {
    return error(std::string("no keys configured: encryption is on by default. Make keys with `weft keygen identity "
                             "--out keys` (then --identity keys/NAME.key --allow peers.pub) or `weft keygen cluster "
                             "--out cluster.key` (then --cluster-key cluster.key), or pass --insecure to run in "
                             "plaintext") +
                 (o.allow.empty() ? "" : " (--allow only lists the peers to accept: this node needs --identity too)"));
  }

  auto creds = std::make_shared<crypto::Credentials>();
  try {
    if (!o.identity.empty()) crypto::load_identity_secret(o.identity, *creds);
    for (const std::string& a : o.allow) crypto::load_allowlist(a, *creds);
    if (!o.cluster_key.empty()) crypto::load_cluster_key(o.cluster_key, *creds);
    if (o.cluster_key_fd >= 0) crypto::load_cluster_key_fd(o.cluster_key_fd, *creds);
  } catch (const std::exception& e) {
    return error(e.what());
  }

  // AEAD suites and providers.
  {
    transport::EndpointConfig sized = cfg;
    sized.credentials = creds;
    const std::size_t largest = transport::max_payload_bytes(sized);
    frame_bytes = frame_bytes == 0 ? largest : std::min(frame_bytes, largest);
  }
  std::string measured_text;
  std::string offered;
  for (const crypto::Suite s : {crypto::Suite::kAes256Gcm, crypto::Suite::kChaCha20Poly1305}) {
    const std::string name(crypto::suite_name(s));
    const crypto::AeadProvider*& slot = s == crypto::Suite::kAes256Gcm ? creds->aes256gcm : creds->chacha20poly1305;
    if (o.cipher != "auto" && o.cipher != name) {
      slot = nullptr;
      continue;
    }
    if (o.aead_provider == "auto") {
      std::vector<crypto::AeadSpeed> speeds;
      slot = crypto::choose_provider(s, frame_bytes, kMeasureSecondsEach, &speeds);
      std::string line = name + ":";
      for (const crypto::AeadSpeed& sp : speeds) {
        line += " " + std::string(sp.provider->name()) + " " + gbytes_text(sp.seal_gbytes_s) + "/" +
                gbytes_text(sp.open_gbytes_s);
      }
      line += slot != nullptr ? " -> " + std::string(slot->name()) : std::string(" -> not available on this CPU");
      measured_text += (measured_text.empty() ? "" : "; ") + line;
    } else {
      slot = named_provider(o.aead_provider, s);
    }
    if (slot == nullptr && o.cipher == name) {
      return error("--cipher " + name + " cannot run here" +
                   (o.aead_provider == "auto" ? std::string()
                                              : " with --aead-provider " + o.aead_provider) +
                   (s == crypto::Suite::kAes256Gcm
                        ? " (libsodium's AES-256-GCM needs AES-NI and PCLMUL): try --aead-provider openssl or "
                          "--cipher chacha20-poly1305"
                        : ": try --cipher aes-256-gcm"));
    }
    if (slot != nullptr) {
      offered += (offered.empty() ? "" : ", ") + name + " (" + std::string(slot->name()) + ")";
    }
  }
  if (const std::string why = creds->problem(); !why.empty()) {
    return error("the keys given cannot authenticate a handshake: " + why);
  }
  if (!quiet && !measured_text.empty()) {
    std::cerr << command << ": AEAD providers measured at " << frame_bytes
              << " B frames (seal/open GB/s): " << measured_text << "\n";
  }

  std::string auth;
  if (creds->has_identity()) {
    auth = "identity " + crypto::to_hex(creds->identity_public()).substr(0, 16) + "... with an allowlist of " +
           std::to_string(creds->allowlist().size()) + " peer(s)";
  }
  if (creds->has_cluster_key()) auth += (auth.empty() ? "" : " + ") + std::string("cluster key");
  out.encrypted = true;
  out.auth = auth;
  out.offered = offered;
  cfg.credentials = std::move(creds);
  return true;
}

std::string link_security_text(bool encrypted, std::string_view suite, std::string_view provider) {
  if (!encrypted) return "PLAINTEXT";
  return "encrypted " + std::string(suite) + " (" + std::string(provider) + ")";
}

nlohmann::ordered_json link_security_json(const transport::LinkInfo* info, const transport::LinkStats& st) {
  nlohmann::ordered_json j;
  if (info != nullptr) {
    j["encrypted"] = info->encrypted;
    j["suite"] = info->encrypted ? nlohmann::ordered_json(std::string(info->suite)) : nlohmann::ordered_json(nullptr);
    j["provider"] =
        info->encrypted ? nlohmann::ordered_json(std::string(info->provider)) : nlohmann::ordered_json(nullptr);
    j["tx_key_generation"] = info->tx_key_generation;
    j["rx_key_generation"] = info->rx_key_generation;
    // The peer's identity key (hex, as in its public key file), or null (cluster key only).
    j["peer_identity"] = info->peer_identity == crypto::PublicKey{}
                             ? nlohmann::ordered_json(nullptr)
                             : nlohmann::ordered_json(crypto::to_hex(info->peer_identity));
  }
  j["key_rotations_sent"] = st.key_rotations_sent;
  j["key_rotations_received"] = st.key_rotations_received;
  j["drops"] = {{"bad_tag", st.drops_bad_tag},
                {"replay", st.drops_replay},
                {"stale_epoch", st.drops_stale_epoch},
                {"unknown_key", st.drops_unknown_key},
                {"malformed", st.drops_malformed}};
  return j;
}

nlohmann::ordered_json endpoint_drops_json(const transport::EndpointStats& st) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (int r = 0; r < static_cast<int>(transport::DropReason::kCount); ++r) {
    if (st.drops[r] == 0) continue;
    std::string name(transport::drop_reason_name(static_cast<transport::DropReason>(r)));
    std::replace(name.begin(), name.end(), '-', '_');
    j[name] = st.drops[r];
  }
  j["replies_suppressed"] = st.replies_suppressed;
  return j;
}

std::string endpoint_drops_text(const transport::EndpointStats& st) {
  std::string by_reason;
  for (int r = 0; r < static_cast<int>(transport::DropReason::kCount); ++r) {
    if (st.drops[r] == 0) continue;
    by_reason += (by_reason.empty() ? "" : ", ") +
                 std::string(transport::drop_reason_name(static_cast<transport::DropReason>(r))) + " " +
                 std::to_string(st.drops[r]);
  }
  return std::to_string(st.drops_total()) + (by_reason.empty() ? "" : " (" + by_reason + ")");
}

transport::UdpAddress parse_udp_url(const std::string& text, const std::string& option,
                                    const std::string& help_for, bool allow_port_zero) {
  if (is_dpdk_url(text)) {
    if (dpdk_available()) {
      throw UsageError(option + " " + text + ": '" + help_for + "' speaks UDP only; use udp://HOST:PORT", help_for);
    }
    throw UsageError(option + " " + text +
                         ": the dpdk datapath is not available in this build of weft (raw Ethernet "
                         "lives in libweft-dpdk, which this binary does not link: configure with "
                         "-DWEFT_DPDK=ON); use udp://HOST:PORT",
                     help_for);
  }
  const std::size_t scheme = text.find("://");
  if (scheme != std::string::npos && text.substr(0, scheme) != "udp") {
    throw UsageError(option + " " + text + ": unknown scheme '" + text.substr(0, scheme) +
                         "' (expected udp://HOST:PORT)",
                     help_for);
  }
  std::string error;
  const std::optional<transport::UdpAddress> a = transport::parse_udp_address(text, error);
  if (!a) {
    const bool says_form = error.find("expected") != std::string::npos;
    throw UsageError(option + " " + text + ": " + error + (says_form ? "" : " (expected udp://HOST:PORT)"), help_for);
  }
  if (a->port == 0 && !allow_port_zero) {
    throw UsageError(option + " " + text + ": port 0 names no peer (expected udp://HOST:PORT)", help_for);
  }
  return *a;
}

bool is_dpdk_url(const std::string& text) { return text.starts_with("dpdk:"); }

bool dpdk_available() {
#if defined(WEFT_HAVE_DPDK)
  return true;
#else
  return false;
#endif
}

std::vector<std::string> dpdk_eal_args(const std::string& url, const std::string& eal, const std::string& option,
                                       const std::string& help_for) {
  std::string dev = url.substr(std::string("dpdk:").size());
  if (dev.starts_with("//")) dev = dev.substr(2);
  if (dev.empty()) {
    throw UsageError(option + " " + url +
                         ": no device (expected dpdk:DEVARGS, e.g. dpdk:net_memif0,role=server,socket=/tmp/w.sock,"
                         "socket-abstract=no,bsize=10240)",
                     help_for);
  }
  std::vector<std::string> args;
  std::istringstream words(eal);
  for (std::string w; words >> w;) args.push_back(w);
  args.push_back("--vdev=" + dev);
  return args;
}

std::string udp_url(transport::UdpAddress a) { return "udp://" + transport::format_udp_address(a); }

std::string client_bind_for(transport::UdpAddress remote) {
  return (remote.ip & kLoopbackMask) == kLoopbackNet ? "127.0.0.1:0" : "0.0.0.0:0";
}

transport::Profile parse_profile(const std::string& name) {
  return name == "ttpoe-compat" ? transport::Profile::kTtpoeCompat : transport::Profile::kWeft;
}

transport::EndpointConfig udp_endpoint_config(transport::Profile profile, std::uint64_t largest_message_bytes) {
  transport::EndpointConfig c;
  c.profile = profile;
  c.encapsulation = transport::wire::Encapsulation::kUdp;
  std::random_device rd;
  c.rng_seed = (std::uint64_t{rd()} << 32) | rd();
  if (profile == transport::Profile::kTtpoeCompat) {
    c.max_frame_bytes = static_cast<std::uint32_t>(transport::wire::kCompatMaxFrameBytes);
  }
  // Room for the largest message plus a window of the next one.
  const std::uint64_t want = largest_message_bytes + 2ull * c.window_bytes;
  constexpr std::uint64_t kMaxBuffer = 0xFFFFFFFFull;
  c.recv_buffer_bytes = static_cast<std::uint32_t>(
      std::min(kMaxBuffer, std::max<std::uint64_t>(c.recv_buffer_bytes, want)));
  return transport::with_host_timers(c);
}

std::string utc_timestamp() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts.tv_nsec / 1'000'000));
  return buf;
}

std::string bytes_text(std::uint64_t b) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (b >= kGiB && b % kGiB == 0) return std::to_string(b / kGiB) + " GiB";
  if (b >= kMiB && b % kMiB == 0) return std::to_string(b / kMiB) + " MiB";
  if (b >= kKiB && b % kKiB == 0) return std::to_string(b / kKiB) + " KiB";
  char buf[48];
  if (b >= kGiB) std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(b) / kGiB);
  else if (b >= kMiB) std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(b) / kMiB);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

std::string check_probability(const std::string& text) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    if (!(v >= 0 && v < 1)) return "'" + text + "' must be a probability in [0, 1), e.g. 0.05 for 5%";
  } catch (const std::exception&) {
    return "'" + text + "' is not a number (expected a probability such as 0.05)";
  }
  return {};
}

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll(2) returns EINTR and the loop sees the flag at once
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop_signal != 0; }

std::string stop_signal_name() {
  switch (g_stop_signal) {
    case 0: return "";
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "signal " + std::to_string(static_cast<int>(g_stop_signal));
  }
}

}  // namespace weft::tools
