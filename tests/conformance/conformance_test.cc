// The conformance suite against weft's own Endpoint: every clause, once per profile it applies
// to (Compat/..., Weft/...), each on a fresh LocalTarget configured with the clause's hints.
// A LocalTarget supports every host action, so a skipped clause is a failure here.
//
// The last tests run the suite against deliberately broken targets and check that it notices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "weft/conformance/conformance.h"

namespace weft::conformance {
namespace {

struct Case {
  const Clause* clause;
  Profile profile;
};

std::vector<Case> cases(Profile profile) {
  std::vector<Case> v;
  for (const Clause& c : clauses()) {
    if (applies(c.profiles, profile)) v.push_back(Case{&c, profile});
  }
  return v;
}

std::string case_name(const testing::TestParamInfo<Case>& info) { return info.param.clause->id; }

// gtest prints the parameter of a failing test with this.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.clause->id << " [" << transport::profile_name(c.profile) << "]";
}

class Conformance : public testing::TestWithParam<Case> {};

TEST_P(Conformance, Clause) {
  const Clause& clause = *GetParam().clause;
  LocalTarget target(LocalTarget::config_for(GetParam().profile, clause.hints));
  const Outcome o = run_clause(clause, target);
  EXPECT_NE(o.status, Outcome::kSkipped) << clause.id << " was skipped against LocalTarget: " << o.detail;
  EXPECT_EQ(o.status, Outcome::kPass) << clause.id << " (" << clause.spec_ref << ")\n  checks: " << clause.text
                                      << "\n  " << o.detail;
}

INSTANTIATE_TEST_SUITE_P(Compat, Conformance, testing::ValuesIn(cases(Profile::kTtpoeCompat)), case_name);
INSTANTIATE_TEST_SUITE_P(Weft, Conformance, testing::ValuesIn(cases(Profile::kWeft)), case_name);

TEST(ConformanceRegistry, IdsAreUniqueAndEveryReceiveTableCellIsCovered) {
  std::vector<std::string> ids;
  for (const Clause& c : clauses()) {
    EXPECT_FALSE(c.id.empty());
    EXPECT_FALSE(c.spec_ref.empty()) << c.id;
    EXPECT_FALSE(c.text.empty()) << c.id;
    EXPECT_TRUE(c.run) << c.id;
    for (char ch : c.id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') << c.id;
    ids.push_back(c.id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate clause id";
  for (int op = 0; op < wire::kOpcodeCount; ++op) {
    for (int s = 0; s < transport::kLinkStateCount; ++s) {
      const std::string id = "S3_2_" + std::string(wire::opcode_name(static_cast<wire::Opcode>(op))) + "_in_" +
                             std::string(transport::link_state_name(static_cast<LinkState>(s)));
      EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), id)) << "no clause for cell " << id;
    }
  }
}

// ---- the suite can fail ----------------------------------------------------------------------------

// Forwards everything to a LocalTarget; subclasses damage what the implementation sends.
class Decorator : public Target {
 public:
  explicit Decorator(const transport::EndpointConfig& c) : inner_(c) {}
  Profile profile() const override { return inner_.profile(); }
  TargetInfo info() const override { return inner_.info(); }
  void inject(std::span<const std::uint8_t> f) override { inner_.inject(f); }
  void inject_burst(const std::vector<Bytes>& f) override { inner_.inject_burst(f); }
  std::vector<Bytes> collect() override {
    std::vector<Bytes> out;
    for (Bytes& f : inner_.collect()) {
      if (keep(f)) out.push_back(std::move(f));
    }
    return out;
  }
  void advance(TimeNs dt) override { inner_.advance(dt); }
  HostStatus host_open(NodeId p, Vc vc) override { return inner_.host_open(p, vc); }
  HostStatus host_send(NodeId p, Vc vc, std::span<const std::uint8_t> m) override { return inner_.host_send(p, vc, m); }
  HostStatus host_close(NodeId p, Vc vc) override { return inner_.host_close(p, vc); }
  HostStatus host_hold_delivery(bool h) override { return inner_.host_hold_delivery(h); }
  std::optional<std::vector<Bytes>> host_received(NodeId p, Vc vc) override { return inner_.host_received(p, vc); }
  std::optional<LinkState> state(NodeId p, Vc vc) const override { return inner_.state(p, vc); }

 protected:
  // Returns false to drop the frame; may rewrite it in place.
  virtual bool keep(Bytes& frame) = 0;
  static constexpr std::size_t kOpcode = 42;
  static constexpr std::size_t kRxId = 56;

 private:
  LocalTarget inner_;
};

// Swallows every ACK the implementation sends.
class DropsAcks final : public Decorator {
 public:
  using Decorator::Decorator;

 private:
  bool keep(Bytes& f) override { return f[kOpcode] != static_cast<std::uint8_t>(wire::Opcode::kAck); }
};

// Rewrites OPEN_ACK's RxID to the OPEN's TxID + 1.
class BadOpenAckRxId final : public Decorator {
 public:
  using Decorator::Decorator;

 private:
  bool keep(Bytes& f) override {
    if (f[kOpcode] == static_cast<std::uint8_t>(wire::Opcode::kOpenAck)) ++f[kRxId + 3];
    return true;
  }
};

// Reports no host control: clauses that need it must skip, not pass.
class NoHostControl final : public Target {
 public:
  explicit NoHostControl(const transport::EndpointConfig& c) : inner_(c) {}
  Profile profile() const override { return inner_.profile(); }
  TargetInfo info() const override {
    TargetInfo i = inner_.info();
    i.host_control = false;
    i.atomic_bursts = false;
    i.reports_state = false;
    return i;
  }
  void inject(std::span<const std::uint8_t> f) override { inner_.inject(f); }
  std::vector<Bytes> collect() override { return inner_.collect(); }
  void advance(TimeNs dt) override { inner_.advance(dt); }

 private:
  LocalTarget inner_;
};

const Clause& find(const std::string& id) {
  for (const Clause& c : clauses()) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no clause " << id;
  return clauses().front();
}

TEST(ConformanceSelfTest, DroppedAcksFailTheAckClauses) {
  for (Profile p : {Profile::kTtpoeCompat, Profile::kWeft}) {
    for (const char* id : {"S12_3_in_order_ACK", "S3_2_PAYLOAD_in_OPEN", "S12_3_duplicate_reACKed"}) {
      const Clause& c = find(id);
      DropsAcks target(LocalTarget::config_for(p, c.hints));
      const Outcome o = run_clause(c, target);
      EXPECT_EQ(o.status, Outcome::kFail) << id;
      EXPECT_NE(o.detail.find("expected ACK"), std::string::npos) << id << ": " << o.detail;
    }
  }
}

TEST(ConformanceSelfTest, RewrittenOpenAckRxIdIsReported) {
  for (Profile p : {Profile::kTtpoeCompat, Profile::kWeft}) {
    const Clause& c = find("S3_2_OPEN_in_CLOSED");
    BadOpenAckRxId target(LocalTarget::config_for(p, c.hints));
    const Outcome o = run_clause(c, target);
    ASSERT_EQ(o.status, Outcome::kFail);
    EXPECT_NE(o.detail.find("expected OPEN_ACK"), std::string::npos) << o.detail;
    EXPECT_NE(o.detail.find("RxID"), std::string::npos) << o.detail;
  }
}

TEST(ConformanceSelfTest, WholeSuiteAgainstABrokenTargetReportsFailures) {
  int failed = 0, passed = 0;
  for (const Clause& c : clauses()) {
    if (!applies(c.profiles, Profile::kTtpoeCompat)) continue;
    DropsAcks target(LocalTarget::config_for(Profile::kTtpoeCompat, c.hints));
    const Outcome o = run_clause(c, target);
    (o.status == Outcome::kFail ? failed : passed) += 1;
  }
  EXPECT_GT(failed, 20) << "dropping every ACK should break many clauses";
  EXPECT_GT(passed, 10) << "clauses that never see an ACK still pass";
}

TEST(ConformanceSelfTest, ClausesNeedingHostControlSkipOnAnOutsideTarget) {
  int skipped = 0;
  for (const Clause& c : clauses()) {
    if (!applies(c.profiles, Profile::kWeft)) continue;
    NoHostControl target(LocalTarget::config_for(Profile::kWeft, c.hints));
    const Outcome o = run_clause(c, target);
    if (o.status == Outcome::kSkipped) {
      ++skipped;
      EXPECT_NE(o.detail.find("skipped ("), std::string::npos) << c.id << ": " << o.detail;
    }
    if (c.id == "S3_2_OPEN_in_OPEN_SENT" || c.id == "S12_4_simultaneous_CLOSE") {
      EXPECT_EQ(o.status, Outcome::kSkipped) << c.id;
    }
    if (c.id == "S3_2_OPEN_in_CLOSED") {
      EXPECT_EQ(o.status, Outcome::kPass) << o.detail;
    }
  }
  EXPECT_GT(skipped, 10);
}

}  // namespace
}  // namespace weft::conformance
