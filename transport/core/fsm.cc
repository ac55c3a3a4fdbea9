#include "transport/core/fsm.h"

#include <array>

namespace weft::transport::fsm {
namespace {

using A = RxAction;
// Rows: received opcode (OPEN .. NACK_NOLINK). Columns: CLOSED, OPEN_SENT, OPEN_RECD, OPEN,
// CLOSE_SENT, CLOSE_RECD — the order of the spec's tables.
constexpr std::array<std::array<A, kLinkStateCount>, wire::kOpcodeCount> kTable = {{
    /* OPEN        */ {A::kOpenNew, A::kOpenAnswer, A::kOpenAnswer, A::kOpenAnswer, A::kOpenAnswer, A::kOpenAnswer},
    // OPEN_ACK in CLOSED is "Illegal?" in the spec; it is dropped and counted as illegal.
    /* OPEN_ACK    */ {A::kIllegal, A::kOpenAckEstablish, A::kStay, A::kStay, A::kStay, A::kStay},
    /* OPEN_NACK   */ {A::kIllegal, A::kOpenNackRefused, A::kIllegal, A::kIllegal, A::kIllegal, A::kIllegal},
    /* CLOSE       */ {A::kCloseAnswerAck, A::kCloseStale, A::kCloseAnswerAck, A::kCloseInOpen, A::kCloseSimultaneous, A::kCloseReplayed},
    /* CLOSE_ACK   */ {A::kStay, A::kStay, A::kStay, A::kStay, A::kCloseAckFinish, A::kCloseAckFinish},
    /* CLOSE_NACK  */ {A::kIllegal, A::kIllegal, A::kIllegal, A::kIllegal, A::kCloseNackHold, A::kCloseNackHold},
    /* PAYLOAD     */ {A::kPayloadNoLink, A::kPayloadNoLink, A::kPayloadNoLink, A::kPayloadAccept, A::kPayloadAccept, A::kPayloadAccept},
    /* ACK         */ {A::kDiscardLost, A::kDiscardLost, A::kDiscardLost, A::kAckProcess, A::kAckProcess, A::kAckProcess},
    /* NACK        */ {A::kDiscardLost, A::kDiscardLost, A::kDiscardLost, A::kNackProcess, A::kNackProcess, A::kNackProcess},
    /* NACK_FULL   */ {A::kDiscardLost, A::kDiscardLost, A::kDiscardLost, A::kNackFullProcess, A::kNackFullProcess, A::kNackFullProcess},
    /* NACK_NOLINK */ {A::kDiscardLost, A::kDiscardLost, A::kDiscardLost, A::kNoLinkProcess, A::kNoLinkProcess, A::kNoLinkProcess},
}};

}  // namespace

RxAction rx_action(LinkState state, wire::Opcode opcode) {
  return kTable[static_cast<std::size_t>(opcode)][static_cast<std::size_t>(state)];
}

std::string_view rx_action_name(RxAction a) {
  switch (a) {
    case A::kOpenNew: return "open-new";
    case A::kOpenAnswer: return "open-answer";
    case A::kOpenAckEstablish: return "open-ack-establish";
    case A::kStay: return "stay";
    case A::kIllegal: return "illegal";
    case A::kOpenNackRefused: return "open-nack-refused";
    case A::kCloseAnswerAck: return "close-answer-ack";
    case A::kCloseStale: return "close-stale";
    case A::kCloseInOpen: return "close-in-open";
    case A::kCloseSimultaneous: return "close-simultaneous";
    case A::kCloseReplayed: return "close-replayed";
    case A::kCloseAckFinish: return "close-ack-finish";
    case A::kCloseNackHold: return "close-nack-hold";
    case A::kPayloadNoLink: return "payload-no-link";
    case A::kPayloadAccept: return "payload-accept";
    case A::kDiscardLost: return "discard-lost";
    case A::kAckProcess: return "ack-process";
    case A::kNackProcess: return "nack-process";
    case A::kNackFullProcess: return "nack-full-process";
    case A::kNoLinkProcess: return "nolink-process";
  }
  return "?";
}

}  // namespace weft::transport::fsm
