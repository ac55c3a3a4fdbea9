// The receive table is data; these tests pin the rows the spec is explicit about.
#include "transport/core/fsm.h"

#include <gtest/gtest.h>

namespace weft::transport::fsm {
namespace {

using O = wire::Opcode;
using S = LinkState;

TEST(Fsm, EveryOpenIsAnsweredInEveryState) {  // spec assumption 1
  EXPECT_EQ(rx_action(S::kClosed, O::kOpen), RxAction::kOpenNew);
  for (S s : {S::kOpenSent, S::kOpenRecd, S::kOpen, S::kCloseSent, S::kCloseRecd}) {
    EXPECT_EQ(rx_action(s, O::kOpen), RxAction::kOpenAnswer) << link_state_name(s);
  }
}

TEST(Fsm, EveryCloseIsAnsweredInEveryState) {  // spec assumption 1
  for (int s = 0; s < kLinkStateCount; ++s) {
    RxAction a = rx_action(static_cast<S>(s), O::kClose);
    EXPECT_NE(a, RxAction::kStay);
    EXPECT_NE(a, RxAction::kIllegal);
  }
  EXPECT_EQ(rx_action(S::kOpenSent, O::kClose), RxAction::kCloseStale);
}

TEST(Fsm, OnlyOpenSentReachesOpenOnOpenAck) {  // spec assumption 3: no passing-ship shortcut
  for (int s = 0; s < kLinkStateCount; ++s) {
    RxAction a = rx_action(static_cast<S>(s), O::kOpenAck);
    EXPECT_EQ(a == RxAction::kOpenAckEstablish, static_cast<S>(s) == S::kOpenSent);
  }
}

TEST(Fsm, PayloadWithoutLinkGetsNackNolink) {
  for (S s : {S::kClosed, S::kOpenSent, S::kOpenRecd}) EXPECT_EQ(rx_action(s, O::kPayload), RxAction::kPayloadNoLink);
  for (S s : {S::kOpen, S::kCloseSent, S::kCloseRecd}) EXPECT_EQ(rx_action(s, O::kPayload), RxAction::kPayloadAccept);
}

TEST(Fsm, AckClassDiscardedWithoutLink) {
  for (O op : {O::kAck, O::kNack, O::kNackFull, O::kNackNolink}) {
    for (S s : {S::kClosed, S::kOpenSent, S::kOpenRecd}) EXPECT_EQ(rx_action(s, op), RxAction::kDiscardLost);
  }
}

TEST(Fsm, IllegalCellsMatchTheSpec) {
  EXPECT_EQ(rx_action(S::kClosed, O::kOpenAck), RxAction::kIllegal);
  for (S s : {S::kClosed, S::kOpenRecd, S::kOpen, S::kCloseSent, S::kCloseRecd}) {
    EXPECT_EQ(rx_action(s, O::kOpenNack), RxAction::kIllegal);
  }
  for (S s : {S::kClosed, S::kOpenSent, S::kOpenRecd, S::kOpen}) {
    EXPECT_EQ(rx_action(s, O::kCloseNack), RxAction::kIllegal);
  }
}

TEST(Fsm, EveryCellHasANamedAction) {
  for (int s = 0; s < kLinkStateCount; ++s) {
    for (int o = 0; o < wire::kOpcodeCount; ++o) {
      EXPECT_NE(rx_action_name(rx_action(static_cast<S>(s), static_cast<O>(o))), "?");
    }
  }
}

}  // namespace
}  // namespace weft::transport::fsm
