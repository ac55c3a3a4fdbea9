#include "weft/transport/types.h"

namespace weft::transport {

std::string_view vc_name(Vc vc) {
  switch (vc) {
    case Vc::kReqLo: return "VC0/REQ_LO";
    case Vc::kReqHi: return "VC1/REQ_HI";
    case Vc::kData: return "VC2/DATA";
  }
  return "VC?";
}

std::string_view profile_name(Profile p) {
  switch (p) {
    case Profile::kTtpoeCompat: return "ttpoe-compat";
    case Profile::kWeft: return "weft";
  }
  return "?";
}

std::string_view error_name(Error e) {
  switch (e) {
    case Error::kNone: return "none";
    case Error::kInvalidArgument: return "invalid-argument";
    case Error::kNotOpen: return "not-open";
    case Error::kAlreadyExists: return "already-exists";
    case Error::kNoSuchConnection: return "no-such-connection";
    case Error::kClosing: return "closing";
    case Error::kTooManyConnections: return "too-many-connections";
    case Error::kSendBufferFull: return "send-buffer-full";
    case Error::kOpenTimedOut: return "open-timed-out";
    case Error::kOpenRefused: return "open-refused";
    case Error::kRetryBudgetExhausted: return "retry-budget-exhausted";
    case Error::kCloseTimedOut: return "close-timed-out";
    case Error::kPeerNoLink: return "peer-no-link";
    case Error::kPeerRestarted: return "peer-restarted";
    case Error::kKeyExhausted: return "key-exhausted";
  }
  return "?";
}

}  // namespace weft::transport
