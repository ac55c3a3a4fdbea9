// Plumbing shared by the `weft` subcommands that talk over a network (peer, send, conformance):
// address parsing, the endpoint configuration they start from, log timestamps, and signals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/weft/cli.h"
#include "weft/transport/config.h"
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
