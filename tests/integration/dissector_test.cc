// Dissector test: Wireshark's view of a capture (tshark + tools/wireshark/ttp.lua) must equal
// weft's own (`weft decode --json`, i.e. wire::decode) on every frame and every field.
//
//   dissector_test --weft BIN --sim-capture BIN --lua tools/wireshark/ttp.lua
//                  --golden tests/golden --work DIR
//
// Captures checked:
//  - generated here by sim_capture: a lossy weft-profile sim transfer (raw Ethernet), the same
//    between secured endpoints (Hello TLV in OPEN / OPEN_ACK, protected frames; also decoded as
//    compat), a UDP-encapsulated exchange (PcapWriter::write_udp; heuristic and port-based
//    decoding) and 400 seeded mutations of well-formed frames, secured ones included (both
//    decoders must agree on every malformed one);
//  - written by the ns-3 model (--ns3-capture: examples/ns3_pod_allreduce --pcap), 8 hosts and a
//    switch with 1 % loss: every frame is TTP and none is malformed;
//  - checked in: tests/golden/capture_synthetic.pcap (every opcode, 802.1Q / 802.1ad tags, one frame
//    per decode error, non-TTP frames; also decoded as compat) and
//    tests/golden/capture_ttpoe-compat.pcap (a lossy compat-profile transfer).
// For each: the same set of frames is TTP on both sides (and at least a given number), every
// compared field is equal (malformed frames: the same decode error name), tshark's stderr holds
// nothing but its "running as root" warning, and no frame carries a Lua error.
// Also: `weft decode` exit status and messages for a missing file, a non-pcap file and bad args.
//
// tshark runs with HOME and WIRESHARK_CONFIG_DIR pointed at an empty folder, so neither a user's
// preferences nor an installed copy of the plugin change the result. TSHARK overrides the binary.

#include <sys/stat.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;

struct Args {
  std::string weft, sim_capture, lua, golden, work;
  std::string ns3_capture;  // optional: the ns-3 pod example, which writes a capture with --pcap
};

int failures = 0;

void fail(const std::string& what) {
  ++failures;
  std::cerr << "FAIL: " << what << "\n";
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

struct RunResult {
  int status = -1;  // exit status, or -1 when it did not exit normally
  std::string out;
};

// Runs `cmd` with sh; stdout is returned, stderr goes where cmd redirects it.
RunResult run(const std::string& cmd) {
  RunResult r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// One compared field: tshark field names (values concatenated, in order) and the JSON value.
struct Field {
  std::vector<std::string> tshark;
  std::string json_path;  // "a" or "a[].b" (list of objects) or "a.b" (object or null)
  bool text = false;      // compared as text, not numbers
};

const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      {{"ttp.error"}, "error", true},
      {{"ttp.opcode"}, "opcode"},
      {{"ttp.vc"}, "vc"},
      {{"ttp.entropy"}, "entropy"},
      {{"ttp.epoch"}, "epoch"},
      {{"ttp.congestion"}, "congestion"},
      {{"ttp.version"}, "version"},
      {{"ttp.flags"}, "flags"},
      {{"ttp.flags.eom"}, "eom"},
      {{"ttp.flags.ack_piggyback"}, "ack_piggyback"},
      {{"ttp.flags.protected"}, "protected"},
      {{"ttp.cr"}, "cr"},
      {{"ttp.ce"}, "ce"},
      {{"ttp.extension"}, "extension"},
      {{"ttp.tx_id"}, "tx_id"},
      {{"ttp.rx_id"}, "rx_id"},
      {{"ttp.ext.type"}, "ext_types"},
      {{"ttp.features.version"}, "features.version"},
      {{"ttp.features.epoch"}, "features.epoch"},
      {{"ttp.features.max_frame"}, "features.max_frame"},
      {{"ttp.features.window"}, "features.window"},
      {{"ttp.features.bits"}, "features.bits"},
      {{"ttp.sack.first"}, "sack[].first"},
      {{"ttp.sack.last"}, "sack[].last"},
      {{"ttp.hello.suites"}, "hello.suites"},
      {{"ttp.hello.auth"}, "hello.auth"},
      {{"ttp.hello.issued"}, "hello.issued"},
      {{"ttp.hello.echo_issued"}, "hello.echo_issued"},
      {{"ttp.hello.ephemeral"}, "hello.ephemeral", true},
      {{"ttp.hello.identity"}, "hello.identity", true},
      {{"ttp.hello.echo_ephemeral"}, "hello.echo_ephemeral", true},
      {{"ttp.hello.signature"}, "hello.signature", true},
      {{"ttp.hello.mac"}, "hello.mac", true},
      {{"ttp.sec.version"}, "security.version"},
      {{"ttp.sec.key_generation"}, "security.key_generation"},
      {{"ttp.sec.counter"}, "security.counter"},
      {{"ttp.sealed_length"}, "security.sealed_bytes"},
      {{"ttp.tag"}, "security.tag", true},
      {{"ttp.payload_length"}, "payload_bytes"},
      {{"tth.total_length"}, "tth_total_length"},
      {{"tsh.src_node"}, "src_node"},
      {{"tsh.dst_node"}, "dst_node"},
      {{"tsh.length"}, "tsh_length"},
      {{"udp.srcport"}, "src_port"},
      {{"udp.dstport"}, "dst_port"},
      {{"ieee8021ad.id", "vlan.id"}, "vlan"},
  };
  return f;
}

// The JSON side of a field as strings ("" entries never appear): numbers in decimal, bools 0/1.
std::vector<std::string> json_values(const Json& frame, const std::string& path) {
  auto scalar = [](const Json& v, std::vector<std::string>& out) {
    if (v.is_null()) return;
    if (v.is_boolean()) out.push_back(v.get<bool>() ? "1" : "0");
    else if (v.is_number()) out.push_back(std::to_string(v.get<std::uint64_t>()));
    else if (v.is_string()) out.push_back(v.get<std::string>());
  };
  std::vector<std::string> out;
  const std::size_t brackets = path.find("[].");
  const std::size_t dot = path.find('.');
  if (brackets != std::string::npos) {
    const Json* list = frame.contains(path.substr(0, brackets)) ? &frame[path.substr(0, brackets)] : nullptr;
    if (list != nullptr && list->is_array()) {
      for (const Json& item : *list) scalar(item[path.substr(brackets + 3)], out);
    }
  } else if (dot != std::string::npos) {
    const std::string top = path.substr(0, dot);
    if (frame.contains(top) && frame[top].is_object()) scalar(frame[top][path.substr(dot + 1)], out);
  } else if (frame.contains(path)) {
    const Json& v = frame[path];
    if (v.is_array()) {
      for (const Json& item : v) scalar(item, out);
    } else {
      scalar(v, out);
    }
  }
  return out;
}

// A tshark value as the JSON side writes it: hex and True/False become decimal.
std::string normalize(const std::string& v, bool text) {
  if (text) return v;
  if (v == "True") return "1";
  if (v == "False") return "0";
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 0);
  if (end == v.c_str() || *end != '\0') return "?" + v;
  return std::to_string(n);
}

std::string join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s + "]";
}

constexpr std::size_t kAny = static_cast<std::size_t>(-1);

struct Case {
  std::string name;
  std::string pcap;
  std::vector<std::string> decode_args;  // extra `weft decode` arguments
  std::vector<std::string> tshark_prefs;  // -o values
  std::size_t min_ttp = 1;
  std::size_t expect_malformed = 0;      // exact count of malformed TTP frames (kAny: not checked)
};

std::string tshark_bin() {
  const char* t = std::getenv("TSHARK");
  return t != nullptr && *t != '\0' ? t : "tshark";
}

std::string tshark_env(const Args& a) {
  const std::string home = a.work + "/tshark-home";
  ::mkdir(home.c_str(), 0755);
  return "HOME=" + quote(home) + " XDG_CONFIG_HOME=" + quote(home + "/.config") +
         " WIRESHARK_CONFIG_DIR=" + quote(home + "/.config/wireshark") + " ";
}

// tshark's stderr may hold only the root warning.
void check_stderr(const std::string& what, const std::string& path) {
  for (const std::string& line : split(read_file(path), '\n')) {
    if (line.empty() || line.find("Running as user") != std::string::npos) continue;
    fail(what + ": tshark wrote to stderr (Lua error or bad option?): " + line);
  }
}

void check_case(const Args& a, const Case& c) {
  std::cout << "--- " << c.name << " (" << c.pcap << ")\n";
  // weft's view.
  std::string cmd = quote(a.weft) + " decode --json " + quote(c.pcap);
  for (const std::string& s : c.decode_args) cmd += " " + quote(s);
  const std::string decode_err = a.work + "/" + c.name + ".decode.stderr";
  RunResult d = run(cmd + " 2>" + quote(decode_err));
  if (d.status != 0) {
    fail(c.name + ": weft decode exited " + std::to_string(d.status) + ": " + read_file(decode_err));
    return;
  }
  Json frames;
  try {
    frames = Json::parse(d.out);
  } catch (const std::exception& e) {
    fail(c.name + ": weft decode --json is not JSON: " + e.what());
    return;
  }
  std::cout << "weft decode: " << read_file(decode_err);
  std::map<std::uint64_t, Json> ours;
  std::size_t malformed = 0;
  for (const Json& f : frames) {
    ours[f["packet"].get<std::uint64_t>()] = f;
    if (!f["ok"].get<bool>()) ++malformed;
  }

  // Wireshark's view.
  std::string ts = tshark_env(a) + quote(tshark_bin()) + " -n -r " + quote(c.pcap) + " -X " +
                   quote("lua_script:" + a.lua);
  for (const std::string& p : c.tshark_prefs) ts += " -o " + quote(p);
  std::string fields_cmd = ts + " -Y 'tth or ttpoe' -T fields -E separator=/t -E occurrence=a -E aggregator=, "
                                "-E quote=n -e frame.number";
  for (const Field& f : fields()) {
    for (const std::string& t : f.tshark) fields_cmd += " -e " + t;
  }
  const std::string ts_err = a.work + "/" + c.name + ".tshark.stderr";
  RunResult t = run(fields_cmd + " 2>" + quote(ts_err));
  check_stderr(c.name, ts_err);
  if (t.status != 0) {
    fail(c.name + ": tshark exited " + std::to_string(t.status));
    return;
  }
  std::map<std::uint64_t, std::vector<std::string>> theirs;
  for (const std::string& line : split(t.out, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string> cols = split(line, '\t');
    theirs[std::stoull(cols[0])] = std::vector<std::string>(cols.begin() + 1, cols.end());
  }

  // Lua runtime errors show as expert items in the frames, not on stderr.
  const std::string lua_err = a.work + "/" + c.name + ".lua.stderr";
  RunResult e = run(ts + " -T fields -E occurrence=a -e frame.number -e _ws.expert.message 2>" + quote(lua_err));
  check_stderr(c.name + " (expert pass)", lua_err);
  for (const std::string& line : split(e.out, '\n')) {
    if (line.find("Lua Error") != std::string::npos || line.find("lua:") != std::string::npos) {
      fail(c.name + ": Lua error in a frame: " + line);
    }
  }

  std::cout << "weft decode: " << ours.size() << " TTP frames (" << malformed << " malformed); tshark: "
            << theirs.size() << " TTP frames\n";
  if (theirs.empty()) fail(c.name + ": tshark decoded no TTP frame (did the Lua plugin load?)");
  if (ours.size() < c.min_ttp) {
    fail(c.name + ": weft decode found " + std::to_string(ours.size()) + " TTP frames, expected at least " +
         std::to_string(c.min_ttp));
  }
  if (c.expect_malformed != kAny && malformed != c.expect_malformed) {
    fail(c.name + ": " + std::to_string(malformed) + " malformed TTP frames, expected " +
         std::to_string(c.expect_malformed));
  }
  for (const auto& [n, f] : ours) {
    if (!theirs.count(n)) fail(c.name + ": frame " + std::to_string(n) + " is TTP for weft decode, not for tshark");
  }
  std::size_t compared = 0;
  for (const auto& [n, cols] : theirs) {
    auto it = ours.find(n);
    if (it == ours.end()) {
      fail(c.name + ": frame " + std::to_string(n) + " is TTP for tshark, not for weft decode");
      continue;
    }
    const Json& f = it->second;
    const bool ok = f["ok"].get<bool>();
    std::size_t col = 0;
    for (const Field& fd : fields()) {
      std::vector<std::string> got;
      for (std::size_t k = 0; k < fd.tshark.size(); ++k, ++col) {
        const std::string v = col < cols.size() ? cols[col] : "";
        if (v.empty()) continue;
        for (const std::string& part : split(v, ',')) got.push_back(normalize(part, fd.text));
      }
      // A malformed frame is compared on its error only: past the error the two decoders need
      // not agree on what to show.
      if (!ok && fd.json_path != "error") continue;
      const std::vector<std::string> want = json_values(f, fd.json_path);
      if (got != want) {
        fail(c.name + ": frame " + std::to_string(n) + " field " + fd.tshark.back() + ": tshark " + join(got) +
             ", weft decode " + join(want));
      }
      ++compared;
    }
  }
  std::cout << "compared " << compared << " field values\n";
}

void check_cli(const Args& a) {
  std::cout << "--- weft decode errors\n";
  const std::string not_pcap = a.work + "/not-a-pcap.txt";
  std::ofstream(not_pcap) << "this is not a capture\n";
  struct Expect {
    std::string args;
    int status;
    std::string message;
  };
  const std::string pcapng = a.work + "/not-classic.pcapng";
  std::ofstream(pcapng) << std::string("\x0a\x0d\x0d\x0a", 4) << std::string(60, '\0');
  const std::vector<Expect> cases = {
      {quote(pcapng), 1, "not a classic pcap file"},
      {quote(a.work + "/does-not-exist.pcap"), 1, "cannot read pcap file"},
      {quote(not_pcap), 1, "not a pcap file"},
      {"", 2, "file is required"},
      {quote(not_pcap) + " --udp-port 70000", 2, "--udp-port"},
      {quote(not_pcap) + " --bogus", 2, "--bogus"},
  };
  for (const Expect& e : cases) {
    RunResult r = run(quote(a.weft) + " decode " + e.args + " 2>&1");
    if (r.status != e.status || r.out.find(e.message) == std::string::npos) {
      fail("weft decode " + e.args + ": exit " + std::to_string(r.status) + " (want " + std::to_string(e.status) +
           "), output does not hold '" + e.message + "': " + r.out);
    }
  }
  RunResult h = run(quote(a.weft) + " decode --help 2>&1");
  if (h.status != 0 || h.out.find("Examples:") == std::string::npos) fail("weft decode --help has no example");
  // Text mode: one line per TTP frame, then the summary.
  RunResult t = run(quote(a.weft) + " decode " + quote(a.golden + "/capture_synthetic.pcap") + " 2>&1");
  std::size_t lines = 0, malformed = 0;
  for (const std::string& line : split(t.out, '\n')) {
    if (line.find(" -> ") != std::string::npos) ++lines;
    if (line.find("MALFORMED(") != std::string::npos) ++malformed;
  }
  if (t.status != 0 || lines != 30 || malformed != 15 ||
      t.out.find("32 packets, 30 TTP frames, 2 other; 15 malformed") == std::string::npos) {
    fail("weft decode (text) of capture_synthetic.pcap: exit " + std::to_string(t.status) + ", " +
         std::to_string(lines) + " frame lines, " + std::to_string(malformed) + " MALFORMED:\n" + t.out);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--weft") a.weft = v;
    else if (k == "--sim-capture") a.sim_capture = v;
    else if (k == "--lua") a.lua = v;
    else if (k == "--golden") a.golden = v;
    else if (k == "--work") a.work = v;
    else if (k == "--ns3-capture") a.ns3_capture = v;
    else {
      std::cerr << "dissector_test: unknown argument " << k << "\n";
      return 2;
    }
  }
  if (a.weft.empty() || a.sim_capture.empty() || a.lua.empty() || a.golden.empty() || a.work.empty()) {
    std::cerr << "usage: dissector_test --weft BIN --sim-capture BIN --lua FILE --golden DIR --work DIR\n";
    return 2;
  }
  struct stat sb{};
  if (::mkdir(a.work.c_str(), 0755) != 0 && (::stat(a.work.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode))) {
    std::cerr << "FAIL: cannot create the work folder " << a.work << "\n";
    return 1;
  }
  if (run(quote(tshark_bin()) + " --version >/dev/null 2>&1").status != 0) {
    std::cerr << "FAIL: tshark not found (install it: scripts/setup installs the tshark package)\n";
    return 1;
  }

  const std::string lossy = a.work + "/weft_lossy.pcap", udp = a.work + "/udp.pcap";
  const std::string secure = a.work + "/weft_secure.pcap";
  const std::string mutated = a.work + "/mutated.pcap";
  for (const std::string& gen : {quote(a.sim_capture) + " --profile weft --seed 7 --out " + quote(lossy),
                                 quote(a.sim_capture) + " --secure --seed 7 --out " + quote(secure),
                                 quote(a.sim_capture) + " --udp --out " + quote(udp),
                                 quote(a.sim_capture) + " --mutate --seed 11 --out " + quote(mutated)}) {
    RunResult r = run(gen + " 2>&1");
    std::cout << r.out;
    if (r.status != 0) fail("sim_capture failed: " + gen);
  }
  const std::string synthetic = a.golden + "/capture_synthetic.pcap";
  const std::string compat = a.golden + "/capture_ttpoe-compat.pcap";
  std::vector<Case> cases = {
      {"weft_lossy", lossy, {}, {}, 40, 0},
      {"weft_secure", secure, {}, {}, 40, 0},
      {"weft_secure_compat", secure, {"--compat"}, {"ttpoe.extensions:FALSE"}, 40, 0},
      {"udp_heuristic", udp, {}, {}, 13, 1},
      {"udp_port", udp, {"--udp-port", "47200"}, {"ttpoe.udp_port:47200"}, 14, 2},
      {"synthetic", synthetic, {}, {}, 30, 15},
      {"synthetic_compat", synthetic, {"--compat"}, {"ttpoe.extensions:FALSE"}, 30, 9},
      {"ttpoe_compat", compat, {"--compat"}, {"ttpoe.extensions:FALSE"}, 20, 0},
      {"ttpoe_compat_as_weft", compat, {}, {}, 20, 0},
      {"mutated", mutated, {}, {}, 200, kAny},
      {"mutated_compat", mutated, {"--compat"}, {"ttpoe.extensions:FALSE"}, 200, kAny},
  };
  if (!a.ns3_capture.empty()) {
    // A capture written by the ns-3 model (8 hosts, a switch, 1 % loss): every frame decodes.
    const std::string ns3 = a.work + "/ns3_pod.pcap";
    RunResult r = run(quote(a.ns3_capture) + " --ranks 8 --bytes 262144 --loss 0.01 --seed 5 --pcap " + quote(ns3) +
                      " 2>&1");
    std::cout << r.out;
    if (r.status != 0) fail("the ns-3 capture failed: " + a.ns3_capture);
    cases.push_back({"ns3_pod", ns3, {}, {}, 200, 0});
  }
  for (const Case& c : cases) check_case(a, c);
  check_cli(a);
  if (failures > 0) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "dissector test passed\n";
  return 0;
}
