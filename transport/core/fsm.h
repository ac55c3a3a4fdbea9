// The TTP receive state table (TTPoE Rev 2.0 §3.2, per-opcode tables), as data.
//
// rx_action(state, opcode) names what the endpoint does with a received frame; the endpoint
// implements each action once. Every (state, opcode) pair has an entry — there is no default.
// Conditional rows of the spec (e.g. CLOSE in OPEN: CLOSE_ACK, or CLOSE_NACK when not quiesced)
// are one action whose implementation checks the condition. docs/conformance.md maps each entry
// to its spec clause and conformance test.
#pragma once

#include <cstdint>
#include <string_view>

#include "weft/transport/endpoint.h"
#include "weft/transport/wire.h"

namespace weft::transport::fsm {

enum class RxAction : std::uint8_t {
  kOpenNew,           // CLOSED + OPEN: -> OPEN_RECD, OPEN_ACK (-> OPEN when sent); OPEN_NACK if no room
  kOpenAnswer,        // OPEN elsewhere: OPEN_ACK, stay (duplicate or passing-ship OPEN)
  kOpenAckEstablish,  // OPEN_SENT + OPEN_ACK: -> OPEN
  kStay,              // legal, no response, no state change
  kIllegal,           // the spec marks it illegal: drop, count, no state change
  kOpenNackRefused,   // OPEN_SENT + OPEN_NACK: -> CLOSED, open fails
  kCloseAnswerAck,    // CLOSE in CLOSED / OPEN_RECD: CLOSE_ACK, stay
  kCloseStale,        // OPEN_SENT + CLOSE: CLOSE_ACK, -> CLOSED (CLOSE from a prior connection)
  kCloseInOpen,       // OPEN + CLOSE: -> CLOSE_RECD; CLOSE_ACK (-> CLOSED) if quiesced, else CLOSE_NACK
  kCloseSimultaneous, // CLOSE_SENT + CLOSE: CLOSE_ACK -> CLOSED if ids match, else CLOSE_NACK, stay
  kCloseReplayed,     // CLOSE_RECD + CLOSE: CLOSE_ACK -> CLOSED if quiesced, else CLOSE_NACK
  kCloseAckFinish,    // CLOSE_SENT / CLOSE_RECD + CLOSE_ACK: -> CLOSED
  kCloseNackHold,     // CLOSE_SENT / CLOSE_RECD + CLOSE_NACK: no CLOSE replay until ids match
  kPayloadNoLink,     // PAYLOAD without an established link: NACK_NOLINK
  kPayloadAccept,     // OPEN / CLOSE_* + PAYLOAD: ACK, NACK, NACK_FULL (or NACK_NOLINK past the closing id)
  kDiscardLost,       // ACK-class frame without an established link: discard ("lost")
  kAckProcess,        // OPEN / CLOSE_* + ACK
  kNackProcess,       // OPEN / CLOSE_* + NACK
  kNackFullProcess,   // OPEN / CLOSE_* + NACK_FULL
  kNoLinkProcess,     // OPEN / CLOSE_* + NACK_NOLINK: the peer has no link ("link down")
};
std::string_view rx_action_name(RxAction a);

RxAction rx_action(LinkState state, wire::Opcode opcode);

}  // namespace weft::transport::fsm
