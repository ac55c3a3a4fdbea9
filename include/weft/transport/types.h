// Basic vocabulary of the transport core: time, node ids, virtual channels, profiles, errors.
//
// Everything here is plain data. The core never reads a clock: every entry point takes `now`
// as a TimeNs supplied by the driver (virtual time in the simulator, a monotonic clock in real
// drivers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace weft::transport {

// Time in nanoseconds since an arbitrary, driver-chosen origin. Signed so differences are safe.
using TimeNs = std::int64_t;
// The single "no timer armed" sentinel returned by next_timer().
inline constexpr TimeNs kNever = INT64_MAX;

inline constexpr TimeNs us_to_ns(std::int64_t us) { return us * 1000; }

// A TTP node id. On raw Ethernet it is the low 24 bits of the MAC (TSH src/dst node); over UDP
// the driver maps each remote IP:port to one of these.
using NodeId = std::uint32_t;
inline constexpr NodeId kNodeIdMask = 0xFFFFFF;

// TTP virtual channels (TTPoE rev 1.1): three independent links per peer, each with its own
// sequence spaces and state machine.
enum class Vc : std::uint8_t { kReqLo = 0, kReqHi = 1, kData = 2 };
inline constexpr int kVcCount = 3;
std::string_view vc_name(Vc vc);

// Reliability / wire profile. Fixed when an endpoint starts; a weft endpoint never falls back to
// compat (no downgrade).
enum class Profile : std::uint8_t {
  kTtpoeCompat,  // TTPoE Rev 2.0 exactly: go-back-N, <= 1024 B payloads, <= 1536 B frames, plaintext
  kWeft,         // SACK, RACK, congestion control, jumbo frames, messages of any size, epoch check
};
std::string_view profile_name(Profile p);

// Why an operation failed or a connection ended. Each value has a name (error_name) and every
// error that reaches an application also carries a human-readable detail string.
enum class Error : std::uint8_t {
  kNone = 0,
  kInvalidArgument,       // caller passed a bad value (message too large for the profile, bad vc)
  kNotOpen,               // send() on a connection that is not OPEN
  kAlreadyExists,         // open() on a link that is already open or opening
  kNoSuchConnection,      // close()/send() for an unknown (peer, vc)
  kClosing,               // send() after close() was called
  kTooManyConnections,    // the endpoint's connection limit is reached
  kSendBufferFull,        // the connection's send queue is at its byte limit; retry after progress
  kOpenTimedOut,          // OPEN was never answered within the retry budget
  kOpenRefused,           // the peer answered OPEN with OPEN_NACK
  kRetryBudgetExhausted,  // data made no progress for retry_budget_us
  kCloseTimedOut,         // CLOSE was never answered within the retry budget
  kPeerNoLink,            // the peer answered with NACK_NOLINK: it has no link for our data
  kPeerRestarted,         // the peer opened the link again with a new epoch
  kKeyExhausted,          // the link's 64-bit transmission counter ran out (it never wraps)
};
std::string_view error_name(Error e);

// Result of an operation that can fail: either a value or an Error with a detail message.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e, std::string detail) : v_(Failure{e, std::move(detail)}) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  Error error() const { return ok() ? Error::kNone : std::get<1>(v_).error; }
  const std::string& detail() const {
    static const std::string empty;
    return ok() ? empty : std::get<1>(v_).detail;
  }

 private:
  struct Failure {
    Error error;
    std::string detail;
  };
  std::variant<T, Failure> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace weft::transport
