// Plumbing shared by the `weft` subcommands that talk over a network (peer, send, conformance):
// address parsing, the endpoint configuration they start from, log timestamps, and signals.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/weft/cli.h"
#include "weft/transport/config.h"
#include "weft/transport/endpoint.h"
#include "weft/transport/pcap.h"
#include "weft/transport/types.h"

namespace weft::tools {

// The network subcommands (tools/weft/peer.cc, send.cc, conformance_cmd.cc).
void register_peer(CLI::App& app, Action& action);
void register_send(CLI::App& app, Action& action);
void register_conformance(CLI::App& app, Action& action);

// Parses the address given to `option` ("--listen", "--to", "--target"): "udp://HOST:PORT" or
// "HOST:PORT" (IPv4 literal or localhost). "dpdk:..." names the raw-Ethernet datapath, which this
// binary is not built with: refused with a message that says where it lives. Port 0 is accepted
// only when `allow_port_zero` (a listener that picks a free port). Throws UsageError naming the
// option, the text and what is wrong.
transport::UdpAddress parse_udp_url(const std::string& text, const std::string& option,
                                    const std::string& help_for, bool allow_port_zero);

// The raw-Ethernet datapath: "dpdk:DEVARGS" names one DPDK device, e.g.
// "dpdk:net_memif0,role=server,socket=/tmp/weft.sock,socket-abstract=no,bsize=10240". Available
// only when this binary links libweft-dpdk (dpdk_available()); node ids then come from --node-id.
bool is_dpdk_url(const std::string& text);
bool dpdk_available();
// EAL options used when --eal is not given: no hugepages, no PCI, lcore 0.
inline constexpr const char* kDefaultEal =
    "-l 0 --no-huge --no-pci -m 512 --no-shconf --no-telemetry --log-level=lib.eal:warning";
// The EAL argument vector for `url`: the words of `eal`, then --vdev=DEVARGS. Throws UsageError
// naming `option` when the URL has no device.
std::vector<std::string> dpdk_eal_args(const std::string& url, const std::string& eal, const std::string& option,
                                       const std::string& help_for);

// "udp://127.0.0.1:7000".
std::string udp_url(transport::UdpAddress a);

// The local address a client binds to reach `remote`: loopback for a loopback peer, else any.
std::string client_bind_for(transport::UdpAddress remote);

// "weft" or "ttpoe-compat" (CLI11 has validated the name).
transport::Profile parse_profile(const std::string& name);

// The endpoint configuration the network tools start from: UDP encapsulation, `profile`, a random
// seed (fresh TxIDs and epochs on every start, so a restarted process is recognised as one), and a
// receive buffer large enough to reassemble `largest_message_bytes` (the core counts a partly
// received message against recv_buffer_bytes, so the buffer must hold the largest message).
transport::EndpointConfig udp_endpoint_config(transport::Profile profile, std::uint64_t largest_message_bytes);

// ---- security flags (weft peer, weft send) -------------------------------------------------------
//
// Encryption is on by default on the weft profile: a command refuses to start without keys unless
// --insecure says plaintext on purpose. ttpoe-compat is plaintext by spec and takes no key flags.
struct SecurityOptions {
  std::string identity;                 // --identity FILE: this node's identity secret (NAME.key)
  std::vector<std::string> allow;       // --allow FILE (repeatable): allowlists of peers' public keys
  std::string cluster_key;              // --cluster-key FILE
  int cluster_key_fd = -1;              // --cluster-key-fd N: an inherited descriptor (read, then closed)
  std::string cipher = "auto";          // --cipher auto|aes-256-gcm|chacha20-poly1305
  std::string aead_provider = "auto";   // --aead-provider auto|libsodium|openssl
  bool insecure = false;                // --insecure: plaintext, unauthenticated
};

// Adds the flags above to `cmd`, in an option group "Security".
void add_security_options(CLI::App& cmd, SecurityOptions& o);

// The key-related part of a subcommand's --help footer: a two-terminal walkthrough with
// `weft keygen`, for `command` ("weft peer" / "weft send").
std::string security_help_text();

// What apply_security() decided, for log lines and --json.
struct SecuritySetup {
  bool encrypted = false;
  std::string auth;      // "identity + allowlist (2 peers)", "cluster key", "none"
  std::string offered;   // "aes-256-gcm (openssl), chacha20-poly1305 (libsodium)"; empty when plaintext
};

// Builds credentials from `o` into cfg.credentials (nullptr for plaintext) and sets
// cfg.wall_clock_offset_ns (for the monotonic clock the Driver uses by default). Call it before
// anything is bound. On a usage problem (no keys on the weft profile, keys with ttpoe-compat, a key
// file that does not load, credentials that cannot authenticate) it prints "COMMAND: error: ..."
// to stderr and returns false: the caller exits with kExitUsage. Prints the --insecure warning and,
// unless `quiet`, the AEAD provider choice (--aead-provider auto measures both providers for about
// 50 ms at payloads of `frame_bytes`, at most the largest payload of `cfg`; 0 = that largest).
bool apply_security(const SecurityOptions& o, const std::string& command, bool quiet, std::size_t frame_bytes,
                    transport::EndpointConfig& cfg, SecuritySetup& out);

// "encrypted aes-256-gcm (openssl)" or "PLAINTEXT", from a link's info.
std::string link_security_text(bool encrypted, std::string_view suite, std::string_view provider);

// --json fields of a link's security: encrypted, suite, provider, key generations, key rotations,
// and "drops" (the link's drops by reason: bad_tag, replay, stale_epoch, unknown_key, malformed).
// `info` may be null (the link is gone): then only what `stats` holds is filled in.
nlohmann::ordered_json link_security_json(const transport::LinkInfo* info, const transport::LinkStats& stats);
// An endpoint's drops by reason ({"unauthenticated": 3, ...}, non-zero reasons only) with
// "replies_suppressed" beside them.
nlohmann::ordered_json endpoint_drops_json(const transport::EndpointStats& st);
// "3 (unauthenticated 2, bad-tag 1)", or "0".
std::string endpoint_drops_text(const transport::EndpointStats& st);

// UTC wall-clock time for log lines, e.g. "2026-11-26T12:49:08.123Z".
std::string utc_timestamp();

// 1536 -> "1536 B", 65536 -> "64 KiB", 3 << 20 -> "3 MiB", else "1.50 MiB" style.
std::string bytes_text(std::uint64_t bytes);

// CLI11-style check of a probability in [0, 1): "" when valid, else the message.
std::string check_probability(const std::string& text);

// SIGINT and SIGTERM set a flag (and interrupt poll(2)) instead of ending the process.
void install_stop_signals();
bool stop_requested();
// The signal that asked to stop ("SIGINT"/"SIGTERM"), or "" when none.
std::string stop_signal_name();

}  // namespace weft::tools
