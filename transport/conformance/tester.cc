#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "weft/conformance/conformance.h"

namespace weft::conformance {

using wire::Opcode;

namespace {

constexpr std::size_t kTraceLines = 24;  // frames shown with a failure
constexpr TimeNs kMinStepNs = 1000;      // waits advance the target in steps of at least 1 µs
constexpr int kStepsPerWait = 256;

std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

std::string hex16(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", v);
  return b;
}

std::string micros(TimeNs ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%lld.%03lld us", static_cast<long long>(ns / 1000),
                static_cast<long long>(ns % 1000));
  return b;
}

std::string vc_text(Vc vc) { return "vc" + std::to_string(static_cast<int>(vc)); }

std::string sack_text(const wire::Extensions& ext) {
  std::string s;
  for (std::size_t i = 0; i < ext.sack_count; ++i) {
    s += (i ? "," : "") + hex32(ext.sack[i].first) + "-" + hex32(ext.sack[i].last);
  }
  return s;
}

}  // namespace

std::string_view outcome_status_name(Outcome::Status s) {
  switch (s) {
    case Outcome::kPass: return "pass";
    case Outcome::kFail: return "fail";
    case Outcome::kSkipped: return "skipped";
  }
  return "?";
}

bool applies(ProfileMask mask, Profile profile) {
  const auto bit = profile == Profile::kTtpoeCompat ? ProfileMask::kCompat : ProfileMask::kWeft;
  return (static_cast<unsigned>(mask) & static_cast<unsigned>(bit)) != 0;
}

std::string_view profile_mask_name(ProfileMask mask) {
  switch (mask) {
    case ProfileMask::kCompat: return "compat";
    case ProfileMask::kWeft: return "weft";
    case ProfileMask::kBoth: return "both";
  }
  return "?";
}

std::string Seen::describe() const {
  std::string s = std::string(wire::opcode_name(ttp.opcode)) + " vc" + std::to_string(ttp.vc) +
                  " tx=" + hex32(ttp.tx_id) + " rx=" + hex32(ttp.rx_id);
  if (ttp.epoch != 0) s += " epoch=" + hex16(ttp.epoch);
  if (ext.has_features) {
    s += " [features v" + std::to_string(ext.features.protocol_version) +
         " epoch=" + hex16(ext.features.epoch) + "]";
  }
  if (ext.sack_count > 0) s += " [sack " + sack_text(ext) + "]";
  if (!payload.empty()) s += " +" + std::to_string(payload.size()) + " B";
  if (dst != kTesterNode && dst != 0) s += " to node " + hex32(dst);
  s += " (" + std::to_string(raw.size()) + " B frame)";
  return s;
}

// ---- Tester -------------------------------------------------------------------------------------

Tester::Tester(Target& target) : target_(target), info_(target.info()) {
  for (std::size_t i = 0; i < tester_epoch_.size(); ++i) {
    tester_epoch_[i] = static_cast<std::uint16_t>(0x7E01 + i);
  }
}

void Tester::fail(const std::string& what) { throw Stop{Outcome{Outcome::kFail, what + "\n" + trace()}}; }

void Tester::skip(const std::string& why) { throw Stop{Outcome{Outcome::kSkipped, why}}; }

void Tester::note(const std::string& text) { notes_.push_back(text); }

Outcome Tester::pass() const {
  std::string d;
  for (const std::string& n : notes_) d += (d.empty() ? "" : "; ") + n;
  return Outcome{Outcome::kPass, d};
}

void Tester::require_host_control() {
  if (!info_.host_control) skip("skipped (needs host control: open/send/close on the implementation's side)");
}

void Tester::require_atomic_bursts() {
  if (!info_.atomic_bursts) {
    skip("skipped (needs host control: frames delivered as one burst, to hold OPEN_RECD)");
  }
}

void Tester::require_ethernet() {
  if (info_.encapsulation != wire::Encapsulation::kEthernet) {
    skip("skipped (checks raw Ethernet framing: TTH/TSH, node ids)");
  }
}

void Tester::new_tester_epoch(Vc vc) {
  std::uint16_t& e = tester_epoch_[index(vc)];
  e = static_cast<std::uint16_t>(e + 0x0100);
  if (e == 0) e = 0x0100;
}

// ---- frames to the implementation -----------------------------------------------------------------

Out Tester::open(Vc vc, std::uint32_t tx) const {
  Out o;
  o.opcode = Opcode::kOpen;
  o.vc = vc;
  o.tx = tx;
  return o;
}

Out Tester::control(Opcode op, Vc vc, std::uint32_t tx, std::uint32_t rx) const {
  Out o;
  o.opcode = op;
  o.vc = vc;
  o.tx = tx;
  o.rx = rx;
  return o;
}

Out Tester::payload(Vc vc, std::uint32_t tx, std::size_t bytes) const {
  Out o;
  o.opcode = Opcode::kPayload;
  o.vc = vc;
  o.tx = tx;
  o.payload = pattern(tx, bytes);
  return o;
}

Bytes Tester::pattern(std::uint32_t seed, std::size_t bytes) {
  Bytes b(bytes);
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < bytes; ++i) {
    x = x * 1103515245u + 12345u;
    b[i] = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

std::uint16_t Tester::epoch_for(const Out& out) const {
  if (!weft()) return 0;
  if (out.epoch) return *out.epoch;
  if (out.opcode == Opcode::kOpen) return tester_epoch(out.vc);
  const bool own_link = out.src == 0 || out.src == info_.tester_node;
  if (own_link && link_epoch(out.vc)) return *link_epoch(out.vc);
  return tester_epoch(out.vc);
}

Bytes Tester::build(const Out& out) {
  wire::TtpHeader h;
  h.opcode = out.opcode;
  h.vc = static_cast<std::uint8_t>(out.vc);
  h.tx_id = out.tx;
  h.rx_id = out.rx;
  h.epoch = epoch_for(out);
  wire::Extensions ext;
  const NodeId src = out.src == 0 ? info_.tester_node : out.src;
  if (weft()) {
    // The initiator's OPEN epoch becomes the link's epoch (the implementation's, on passing ships,
    // when its node id is lower: learned in expect()).
    if (out.opcode == Opcode::kOpen && src == info_.tester_node && !link_epoch(out.vc)) {
      set_link_epoch(out.vc, h.epoch);
    }
    if ((out.opcode == Opcode::kOpen || out.opcode == Opcode::kOpenAck) && out.features) {
      ext.has_features = true;
      ext.features.protocol_version = 1;
      ext.features.epoch = tester_epoch(out.vc);
      ext.features.max_frame_bytes = static_cast<std::uint16_t>(wire::kWeftMaxFrameBytes);
      ext.features.recv_window_bytes = 1u << 20;
      ext.features.feature_bits =
          wire::kFeatureSack | wire::kFeatureEcn | wire::kFeatureEntropy | wire::kFeatureMessages;
    }
    if (out.opcode == Opcode::kPayload) h.flags = wire::kFlagEndOfMessage;
    ext.sack_count = static_cast<std::uint8_t>(std::min(out.sack.size(), wire::kMaxSackRanges));
    for (std::size_t i = 0; i < ext.sack_count; ++i) ext.sack[i] = out.sack[i];
  }
  Bytes buf(wire::kWeftMaxFrameBytes);
  const std::size_t n = wire::encode(info_.encapsulation, src, info_.implementation_node, h, ext,
                                     out.payload, buf);
  if (n == 0) fail("tester: could not encode " + describe_out(out, 0) + " (payload too large?)");
  buf.resize(n);
  return buf;
}

std::string Tester::describe_out(const Out& out, std::size_t bytes) const {
  std::string s = std::string(wire::opcode_name(out.opcode)) + " " + vc_text(out.vc) + " tx=" + hex32(out.tx) +
                  " rx=" + hex32(out.rx);
  const std::uint16_t e = epoch_for(out);
  if (e != 0) s += " epoch=" + hex16(e);
  if (weft() && out.opcode == Opcode::kOpen && !out.features) s += " [no feature block]";
  if (!out.sack.empty()) s += " [sack]";
  if (!out.payload.empty()) s += " +" + std::to_string(out.payload.size()) + " B";
  if (out.src != 0 && out.src != info_.tester_node) s += " from node " + hex32(out.src);
  if (bytes != 0) s += " (" + std::to_string(bytes) + " B frame)";
  return s;
}

void Tester::send(const Out& out) {
  Bytes f = build(out);
  log("-> " + describe_out(out, f.size()));
  target_.inject(f);
}

void Tester::send_raw(const Bytes& frame, const std::string& what) {
  log("-> " + what + " (" + std::to_string(frame.size()) + " B frame)");
  target_.inject(frame);
}

void Tester::send_burst(const std::vector<Out>& outs) {
  std::vector<Bytes> frames;
  for (const Out& o : outs) {
    frames.push_back(build(o));
    log("-> " + describe_out(o, frames.back().size()) + (frames.size() > 1 ? " (same burst)" : " (burst)"));
  }
  target_.inject_burst(frames);
}

// ---- frames from the implementation ------------------------------------------------------------

void Tester::pull() {
  wire::DecodeOptions opt;
  opt.encapsulation = info_.encapsulation;
  opt.parse_extensions = weft();
  opt.max_frame_bytes = wire::kWeftMaxFrameBytes;
  for (Bytes& raw : target_.collect()) {
    wire::Frame f;
    const wire::DecodeError e = wire::decode(raw, opt, f);
    if (e != wire::DecodeError::kNone) {
      log("<- undecodable frame of " + std::to_string(raw.size()) + " B");
      fail("the implementation sent a frame that does not decode (" +
           std::string(wire::decode_error_name(e)) + ")");
    }
    Seen s;
    s.src = f.src_node;
    s.dst = f.dst_node;
    s.ttp = f.ttp;
    s.ext = f.ext;
    s.payload.assign(f.payload.begin(), f.payload.end());
    s.raw = std::move(raw);
    log("<- " + s.describe());
    if (info_.encapsulation == wire::Encapsulation::kEthernet && s.src != info_.implementation_node) {
      fail("the implementation sent a frame with TSH src node " + hex32(s.src) + ", not its own " +
           hex32(info_.implementation_node));
    }
    pending_.push_back(std::move(s));
  }
}

void Tester::advance(TimeNs dt_ns) {
  target_.advance(dt_ns);
  elapsed_ += dt_ns;
}

std::optional<Seen> Tester::next_frame(TimeNs within_ns) {
  pull();
  const TimeNs step = std::max(kMinStepNs, within_ns / kStepsPerWait);
  TimeNs waited = 0;
  while (pending_.empty() && waited < within_ns) {
    const TimeNs dt = std::min(step, within_ns - waited);
    advance(dt);
    waited += dt;
    pull();
  }
  if (pending_.empty()) return std::nullopt;
  Seen s = std::move(pending_.front());
  pending_.pop_front();
  return s;
}

std::string Tester::describe_want(Opcode op, Vc vc, const Expect& fields) const {
  std::string s = std::string(wire::opcode_name(op)) + " " + vc_text(vc);
  if (fields.tx) s += " tx=" + hex32(*fields.tx);
  if (fields.rx) s += " rx=" + hex32(*fields.rx);
  if (fields.epoch) s += " epoch=" + hex16(*fields.epoch);
  if (fields.payload) s += " +" + std::to_string(fields.payload->size()) + " B";
  if (fields.to && *fields.to != info_.tester_node) s += " to node " + hex32(*fields.to);
  return s;
}

std::string Tester::mismatch(const Seen& seen, Opcode op, Vc vc, const Expect& fields) const {
  if (seen.ttp.opcode != op) return "opcode differs";
  if (seen.ttp.vc != static_cast<std::uint8_t>(vc)) return "vc differs";
  const NodeId to = fields.to.value_or(info_.tester_node);
  if (info_.encapsulation == wire::Encapsulation::kEthernet && seen.dst != to) {
    return "TSH dst node " + hex32(seen.dst) + ", expected " + hex32(to);
  }
  if (fields.tx && seen.ttp.tx_id != *fields.tx) {
    return "TxID " + hex32(seen.ttp.tx_id) + ", expected " + hex32(*fields.tx);
  }
  if (fields.rx && seen.ttp.rx_id != *fields.rx) {
    return "RxID " + hex32(seen.ttp.rx_id) + ", expected " + hex32(*fields.rx);
  }
  if (weft()) {
    std::optional<std::uint16_t> epoch = fields.epoch;
    if (!epoch && op != Opcode::kOpen && to == info_.tester_node) epoch = link_epoch(vc);
    if (epoch && seen.ttp.epoch != *epoch) {
      return "epoch " + hex16(seen.ttp.epoch) + ", expected " + hex16(*epoch);
    }
  }
  if (fields.payload && seen.payload != *fields.payload) {
    return "payload differs (" + std::to_string(seen.payload.size()) + " B seen, " +
           std::to_string(fields.payload->size()) + " B expected)";
  }
  if (fields.check) return fields.check(seen);
  return {};
}

Seen Tester::await(Opcode op, Vc vc, const Expect& fields, const std::string& step, TimeNs within_ns) {
  const std::string want = describe_want(op, vc, fields);
  std::optional<Seen> s = next_frame(within_ns);
  if (!s) fail(step + ": expected " + want + "; saw nothing within " + micros(within_ns));
  const std::string m = mismatch(*s, op, vc, fields);
  if (!m.empty()) fail(step + ": expected " + want + "; saw " + s->describe() + " (" + m + ")");
  // The link epoch: the initiator's OPEN epoch; on passing ships the lower node id's.
  if (weft() && op == Opcode::kOpen && s->dst == info_.tester_node &&
      (!link_epoch(vc) || info_.implementation_node < info_.tester_node)) {
    set_link_epoch(vc, s->ttp.epoch);
  }
  return *s;
}

Seen Tester::expect(Opcode op, Vc vc, const Expect& fields, const std::string& step) {
  return await(op, vc, fields, step.empty() ? std::string(wire::opcode_name(op)) : step, reply_window());
}

std::pair<std::size_t, Seen> Tester::expect_any(const std::vector<Want>& wants, const std::string& step) {
  std::string list;
  for (const Want& w : wants) list += (list.empty() ? "" : " or ") + describe_want(w.opcode, w.vc, w.fields);
  std::optional<Seen> s = next_frame(reply_window());
  if (!s) fail(step + ": expected " + list + "; saw nothing within " + micros(reply_window()));
  std::string why;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    const std::string m = mismatch(*s, wants[i].opcode, wants[i].vc, wants[i].fields);
    if (m.empty()) return {i, *s};
    if (s->ttp.opcode == wants[i].opcode) why = " (" + m + ")";
  }
  fail(step + ": expected " + list + "; saw " + s->describe() + why);
}

std::vector<Seen> Tester::expect_unordered(const std::vector<Want>& wants, const std::string& step) {
  std::vector<bool> matched(wants.size(), false);
  std::vector<Seen> out;
  auto missing = [&] {
    std::string m;
    for (std::size_t i = 0; i < wants.size(); ++i) {
      if (!matched[i]) m += (m.empty() ? "" : ", ") + describe_want(wants[i].opcode, wants[i].vc, wants[i].fields);
    }
    return m;
  };
  for (std::size_t n = 0; n < wants.size(); ++n) {
    std::optional<Seen> s = next_frame(reply_window());
    if (!s) fail(step + ": still expected " + missing() + "; saw nothing within " + micros(reply_window()));
    bool ok = false;
    std::string why;
    for (std::size_t i = 0; i < wants.size() && !ok; ++i) {
      if (matched[i]) continue;
      const std::string m = mismatch(*s, wants[i].opcode, wants[i].vc, wants[i].fields);
      if (m.empty()) {
        matched[i] = true;
        ok = true;
      } else if (s->ttp.opcode == wants[i].opcode) {
        why = " (" + m + ")";
      }
    }
    if (!ok) fail(step + ": expected " + missing() + " (any order); saw " + s->describe() + why);
    out.push_back(std::move(*s));
  }
  return out;
}

void Tester::expect_silence(const std::string& step, TimeNs for_ns) {
  if (for_ns == 0) for_ns = reply_window();
  std::optional<Seen> s = next_frame(for_ns);
  if (s) fail(step + ": expected no frame for " + micros(for_ns) + "; saw " + s->describe());
}

std::vector<Seen> Tester::drain(TimeNs for_ns) {
  std::vector<Seen> out;
  pull();
  const TimeNs step = std::max(kMinStepNs, for_ns / kStepsPerWait);
  for (TimeNs waited = 0; waited < for_ns;) {
    const TimeNs dt = std::min(step, for_ns - waited);
    advance(dt);
    waited += dt;
    pull();
  }
  while (!pending_.empty()) {
    out.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return out;
}

// ---- state and host actions -----------------------------------------------------------------------

void Tester::expect_state(Vc vc, LinkState s, const std::string& step, NodeId peer) {
  if (!info_.reports_state) return;
  const std::optional<LinkState> st = target_.state(peer == 0 ? info_.tester_node : peer, vc);
  if (!st) return;
  if (*st != s) {
    fail(step + ": expected the link (" + vc_text(vc) + ") in " + std::string(transport::link_state_name(s)) +
         ", it is in " + std::string(transport::link_state_name(*st)));
  }
}

void Tester::check_host(const HostStatus& s, const std::string& action) {
  switch (s.code) {
    case HostStatus::kOk: return;
    case HostStatus::kUnsupported: skip("skipped (needs host control: " + action + ")");
    case HostStatus::kRejected: fail("host action " + action + " was rejected: " + s.detail);
  }
}

void Tester::host_open(Vc vc) {
  log("   host: open " + vc_text(vc));
  check_host(target_.host_open(info_.tester_node, vc), "open " + vc_text(vc));
}

void Tester::host_send(Vc vc, const Bytes& message) {
  log("   host: send " + std::to_string(message.size()) + " B on " + vc_text(vc));
  check_host(target_.host_send(info_.tester_node, vc, message), "send on " + vc_text(vc));
}

void Tester::host_close(Vc vc) {
  log("   host: close " + vc_text(vc));
  check_host(target_.host_close(info_.tester_node, vc), "close " + vc_text(vc));
}

void Tester::hold_delivery(bool hold) {
  log(std::string("   host: ") + (hold ? "stop reading" : "resume reading"));
  check_host(target_.host_hold_delivery(hold), hold ? "hold delivery" : "resume delivery");
}

std::optional<std::vector<Bytes>> Tester::received(Vc vc) { return target_.host_received(info_.tester_node, vc); }

// ---- trace --------------------------------------------------------------------------------------------

void Tester::log(const std::string& line) { log_.push_back("t=+" + micros(elapsed_) + "  " + line); }

std::string Tester::trace() const {
  std::string s = "  frames (-> tester to implementation, <- implementation to tester):";
  const std::size_t from = log_.size() > kTraceLines ? log_.size() - kTraceLines : 0;
  if (from > 0) s += "\n    ... " + std::to_string(from) + " earlier lines";
  for (std::size_t i = from; i < log_.size(); ++i) s += "\n    " + log_[i];
  return s;
}

// ---- running a clause ---------------------------------------------------------------------------------

Outcome run_clause(const Clause& clause, Target& target) {
  if (!applies(clause.profiles, target.profile())) {
    return Outcome{Outcome::kSkipped, "skipped (applies to the " + std::string(profile_mask_name(clause.profiles)) +
                                          " profile only)"};
  }
  Tester t(target);
  try {
    return clause.run(target, t);
  } catch (const Tester::Stop& stop) {
    return stop.outcome;
  } catch (const std::exception& e) {
    return Outcome{Outcome::kFail, std::string("the target threw: ") + e.what()};
  }
}

}  // namespace weft::conformance
