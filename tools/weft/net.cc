#include "tools/weft/net.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include "tools/weft/cli.h"
#include "weft/transport/udp_datapath.h"

namespace weft::tools {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int sig) { g_stop_signal = sig; }

constexpr std::uint32_t kLoopbackNet = 0x7F000000;  // 127.0.0.0/8
constexpr std::uint32_t kLoopbackMask = 0xFF000000;

}  // namespace

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
