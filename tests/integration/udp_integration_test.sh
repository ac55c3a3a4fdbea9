#!/usr/bin/env bash
# Multi-process integration over UDP loopback: real `weft peer`, `weft send` and
# `weft conformance` processes (tests/CMakeLists.txt runs one CTest test per mode, label serial).
#
#   udp_integration_test.sh WEFT_BINARY MODE
#
# MODE:
#   transfer       messages of 1 B, 64 KiB, 1 MiB, 64 MiB (weft) and 1 B, 1024 B (ttpoe-compat),
#                  each echoed and compared byte for byte (--verify: exactly once, in order)
#   transfer-loss  the same with --loss 0.05 on both sides (seeded; the seeds are printed)
#   conformance    `weft conformance` against `weft peer` passes, for both profiles
#   broken         against `weft peer --broken-mode ...` it fails and names the clause
#   dead-peer      kill -9 the peer during a long send: send exits 1 with an error, not a hang;
#                  the measured detection time is printed
#   bad-args       bad command lines, a port in use, an unreachable peer: clear errors, exit != 0
#   dpdk-conformance  (built with libweft-dpdk) conformance over raw Ethernet, DPDK net_memif
#                  between two processes, passing and against a broken peer
#
# Every process started here is killed on exit (trap), whatever happens.
set -u -o pipefail

WEFT=${1:?usage: udp_integration_test.sh WEFT_BINARY MODE}
MODE=${2:?usage: udp_integration_test.sh WEFT_BINARY MODE}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/weft-udp-it.XXXXXX")
PIDS=()
FAILURES=0

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { echo "[udp-it $MODE] $*"; }
fail() {
  say "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# start_peer NAME ARGS... : starts `weft peer` on a free port; sets PEER_PID and PEER_URL.
start_peer() {
  local name=$1
  shift
  local port_file="$WORK/$name.port"
  rm -f "$port_file"
  "$WEFT" peer --listen udp://127.0.0.1:0 --port-file "$port_file" "$@" 2>"$WORK/$name.log" &
  PEER_PID=$!
  PIDS+=("$PEER_PID")
  for _ in $(seq 1 100); do
    [[ -s "$port_file" ]] && break
    if ! kill -0 "$PEER_PID" 2>/dev/null; then
      say "peer $name exited at start:"
      cat "$WORK/$name.log"
      exit 1
    fi
    sleep 0.05
  done
  [[ -s "$port_file" ]] || { say "peer $name wrote no port file in 5 s"; exit 1; }
  PEER_URL="udp://127.0.0.1:$(cat "$port_file")"
  say "peer $name: $PEER_URL ($*)"
}

# stop_peer NAME PID : SIGINT, which must close the links and exit 0 within a few seconds.
stop_peer() {
  local name=$1 pid=$2
  kill -INT "$pid" 2>/dev/null
  local rc
  wait "$pid"
  rc=$?
  [[ $rc -eq 0 ]] || fail "peer $name exited $rc after SIGINT (expected 0); its log:$(echo; cat "$WORK/$name.log")"
}

# expect_rc WANT WHAT COMMAND... : runs COMMAND, checks its exit status, keeps its output.
expect_rc() {
  local want=$1 what=$2
  shift 2
  "$@" >"$WORK/out" 2>&1
  local rc=$?
  if [[ "$want" == "nonzero" && $rc -ne 0 ]] || [[ "$want" == "$rc" ]]; then
    say "ok: $what (exit $rc)"
  else
    fail "$what: exit $rc, expected $want; output:$(echo; cat "$WORK/out")"
  fi
}

# expect_output PATTERN WHAT : the last command's output matches PATTERN (grep -E).
expect_output() {
  if grep -Eq -- "$1" "$WORK/out"; then
    say "ok: $2: $(grep -Em1 -- "$1" "$WORK/out" | cut -c1-200)"
  else
    fail "$2: output does not match /$1/:$(echo; cat "$WORK/out")"
  fi
}

# transfers LABEL "PEER_ARGS" "SEND_ARGS" : the message sizes of the issue, echoed and verified,
# for both profiles. The argument strings are split on spaces on purpose.
transfers() {
  local label=$1 peer_args=$2 send_args=$3 size count spec
  # shellcheck disable=SC2086
  start_peer echo-weft --echo $peer_args
  local weft_pid=$PEER_PID weft_url=$PEER_URL
  for spec in 1:64 65536:16 1048576:8 67108864:2; do
    size=${spec%%:*}
    count=${spec##*:}
    # shellcheck disable=SC2086
    expect_rc 0 "weft$label: $count x $size B echoed and verified" \
      "$WEFT" send --to "$weft_url" --bytes "$size" --messages "$count" --verify --timeout-s 20 $send_args
    cat "$WORK/out"
  done
  stop_peer echo-weft "$weft_pid"

  # shellcheck disable=SC2086
  start_peer echo-compat --echo --profile ttpoe-compat $peer_args
  local compat_pid=$PEER_PID compat_url=$PEER_URL
  for spec in 1:64 1024:256; do
    size=${spec%%:*}
    count=${spec##*:}
    # shellcheck disable=SC2086
    expect_rc 0 "ttpoe-compat$label: $count x $size B echoed and verified" \
      "$WEFT" send --to "$compat_url" --profile ttpoe-compat --bytes "$size" --messages "$count" --verify \
      --timeout-s 20 $send_args
    grep -v WARNING "$WORK/out"
  done
  stop_peer echo-compat "$compat_pid"
}

case "$MODE" in
  transfer)
    transfers "" "" ""
    ;;

  transfer-loss)
    # Each side drops 5 % of what it sends, from its own seed (printed, for a rerun).
    say "seeds: peer 11, sender 12 (loss 0.05 on each side's transmissions)"
    transfers ", 5% loss each way" "--loss 0.05 --seed 11" "--loss 0.05 --seed 12"
    ;;

  conformance)
    for profile in weft ttpoe-compat; do
      start_peer "sink-$profile" --profile "$profile"
      pid=$PEER_PID
      expect_rc 0 "conformance against weft peer --profile $profile" \
        "$WEFT" conformance --target "$PEER_URL" --profile "$profile"
      grep -E '^(FAIL|OK|FAILED)' "$WORK/out"
      expect_output '^OK: [1-9][0-9]* passed, 0 failed' "every runnable clause passes ($profile)"
      expect_rc 0 "conformance --json against the same peer ($profile)" \
        "$WEFT" conformance --target "$PEER_URL" --profile "$profile" --json --clause S12_3
      expect_output '"ok": true' "JSON report ($profile)"
      stop_peer "sink-$profile" "$pid"
    done
    ;;

  broken)
    # Each broken mode must fail, naming a clause that checks what it breaks.
    for case_ in "drop-acks:S12_3_in_order_ACK" "wrong-open-ack-rx:S12_2_OPEN_ACK_answers_OPEN"; do
      mode=${case_%%:*}
      clause=${case_##*:}
      start_peer "broken-$mode" --broken-mode "$mode"
      pid=$PEER_PID
      expect_rc 1 "conformance against weft peer --broken-mode $mode fails" \
        "$WEFT" conformance --target "$PEER_URL"
      expect_output "^FAIL  $clause " "the failing clause is named ($mode)"
      grep -E '^FAIL' "$WORK/out" | head -5
      stop_peer "broken-$mode" "$pid"
    done
    ;;

  dead-peer)
    timeout_s=2
    start_peer doomed --echo
    doomed=$PEER_PID
    "$WEFT" send --to "$PEER_URL" --bytes 1048576 --messages 1000000 --verify --timeout-s "$timeout_s" \
      >"$WORK/send.out" 2>&1 &
    sender=$!
    PIDS+=("$sender")
    sleep 1
    kill -0 "$sender" 2>/dev/null || fail "the long send ended before the peer was killed: $(cat "$WORK/send.out")"
    kill -9 "$doomed"
    killed_at=$(now)
    wait "$doomed" 2>/dev/null
    say "peer killed (kill -9); the sender's --timeout-s is $timeout_s"
    wait "$sender"
    rc=$?
    detected=$(elapsed "$killed_at" "$(now)")
    cat "$WORK/send.out"
    say "dead-peer detection time: $detected s (kill -9 -> weft send exit $rc; --timeout-s $timeout_s)"
    [[ $rc -eq 1 ]] || fail "weft send exited $rc after its peer died (expected 1)"
    grep -q "error:.*link failed" "$WORK/send.out" || fail "weft send did not name the failure"
    awk -v d="$detected" -v t="$timeout_s" 'BEGIN { exit !(d < t + 3) }' ||
      fail "detection took $detected s (expected about --timeout-s $timeout_s)"
    ;;

  bad-args)
    expect_rc 2 "unknown option" "$WEFT" send --to udp://127.0.0.1:7 --bytes 1 --frobnicate
    expect_output "unknown option.*--frobnicate" "the unknown option is named"
    expect_rc 2 "bad URL" "$WEFT" send --to udp://not-an-ip:7000 --bytes 1
    expect_output "--to udp://not-an-ip:7000" "the bad URL is named"
    expect_rc 2 "bad scheme" "$WEFT" peer --listen tcp://127.0.0.1:7000
    expect_output "unknown scheme 'tcp'" "the bad scheme is named"
    expect_rc 2 "missing port" "$WEFT" send --to udp://127.0.0.1 --bytes 1
    expect_rc 2 "neither --bytes nor --file" "$WEFT" send --to udp://127.0.0.1:7000
    expect_output "exactly one of --bytes N and --file PATH" "says what is missing"
    expect_rc 2 "compat message too large" "$WEFT" send --to udp://127.0.0.1:7000 --profile ttpoe-compat --bytes 2000
    expect_output "1\.\.1024 B" "names the compat limit"
    expect_rc 2 "missing file" "$WEFT" send --to udp://127.0.0.1:7000 --file "$WORK/no-such-file"
    expect_output "no-such-file" "the missing file is named"
    expect_rc 2 "--echo with --sink" "$WEFT" peer --listen udp://127.0.0.1:0 --echo --sink
    expect_rc 2 "unknown broken mode" "$WEFT" peer --listen udp://127.0.0.1:0 --broken-mode nonsense
    # With libweft-dpdk linked `dpdk:` names a device; without, it is refused as not built in.
    expect_rc 2 "dpdk peer without a device" "$WEFT" peer --listen dpdk:
    expect_output "no device|not available in this build" "says what is wrong with dpdk:"
    expect_rc 2 "dpdk address for send (UDP only)" "$WEFT" send --to dpdk:net_memif0 --bytes 1
    expect_output "speaks UDP only|not available in this build" "says send needs udp://"
    expect_rc 2 "conformance without a target" "$WEFT" conformance
    start_peer holder
    holder=$PEER_PID
    expect_rc 1 "port in use" "$WEFT" peer --listen "$PEER_URL"
    expect_output "cannot listen on $PEER_URL" "the busy address is named"
    expect_rc 1 "--verify against a peer that does not echo" \
      "$WEFT" send --to "$PEER_URL" --bytes 10 --verify --timeout-s 1
    expect_output "waiting for 1 echo.*without --echo" "says the echo never came"
    expect_rc 1 "ttpoe-compat OPEN to a weft peer" \
      "$WEFT" send --to "$PEER_URL" --profile ttpoe-compat --bytes 10 --timeout-s 1
    expect_output "with the same --profile" "hints at the profile"
    stop_peer holder "$holder"
    # Nothing listens on the port the holder had: OPEN times out.
    t0=$(now)
    expect_rc 1 "unreachable peer (nobody listening)" "$WEFT" send --to "$PEER_URL" --bytes 1 --timeout-s 1
    expect_output "no answer from $PEER_URL within 1.0 s: is .weft peer. running there" "says nobody answered"
    say "OPEN timeout reported after $(elapsed "$t0" "$(now)") s (--timeout-s 1)"
    # TEST-NET-1 (RFC 5737): never routed.
    expect_rc 1 "unroutable address" "$WEFT" send --to udp://192.0.2.1:7000 --bytes 1 --timeout-s 1
    expect_output "no answer from udp://192.0.2.1:7000" "names the unroutable address"
    expect_rc 1 "conformance against nobody" "$WEFT" conformance --target "$PEER_URL"
    expect_output "no answer from $PEER_URL" "conformance says nobody answered"
    ;;

  dpdk-conformance)
    # The same over raw Ethernet: weft peer and weft conformance as two DPDK processes joined by
    # net_memif (lcores 0 and 1, no hugepages); the framing clauses run here too.
    eal="--no-huge --no-pci -m 512 --no-shconf --no-telemetry --log-level=lib.eal:warning"
    vdev="net_memif0,socket=$WORK/memif.sock,socket-abstract=no,bsize=10240"
    for case_ in "weft:" "ttpoe-compat:" "weft:wrong-open-ack-rx"; do
      profile=${case_%%:*}
      broken=${case_##*:}
      rm -f "$WORK/memif.sock"
      extra=()
      [[ -n "$broken" ]] && extra=(--broken-mode "$broken")
      "$WEFT" peer --listen "dpdk:$vdev,role=server" --eal "-l 0 $eal" --node-id 1 --profile "$profile" \
        "${extra[@]}" >"$WORK/dpdk-peer.log" 2>&1 &
      pid=$!
      PIDS+=("$pid")
      for _ in $(seq 1 100); do
        [[ -S "$WORK/memif.sock" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
      done
      [[ -S "$WORK/memif.sock" ]] || { cat "$WORK/dpdk-peer.log"; fail "the dpdk peer did not start"; break; }
      if [[ -z "$broken" ]]; then
        expect_rc 0 "conformance over DPDK memif, profile $profile" \
          "$WEFT" conformance --target "dpdk:$vdev,role=client" --eal "-l 1 $eal" --target-node 1 --profile "$profile"
        grep -E '^(FAIL|OK|FAILED)' "$WORK/out"
        expect_output '^OK: [1-9][0-9]* passed, 0 failed' "every runnable clause passes over DPDK ($profile)"
        expect_output '^PASS  S2_frame_layout ' "the raw Ethernet framing clauses run over DPDK"
      else
        expect_rc 1 "conformance over DPDK against --broken-mode $broken fails" \
          "$WEFT" conformance --target "dpdk:$vdev,role=client" --eal "-l 1 $eal" --target-node 1 --profile "$profile"
        expect_output "^FAIL  S12_2_OPEN_ACK_answers_OPEN " "the failing clause is named (over DPDK)"
      fi
      stop_peer dpdk-peer "$pid"
    done
    ;;

  *)
    echo "unknown mode '$MODE' (transfer, transfer-loss, conformance, broken, dead-peer, bad-args," \
      "dpdk-conformance)" >&2
    exit 2
    ;;
esac

if [[ $FAILURES -ne 0 ]]; then
  say "$FAILURES check(s) failed"
  exit 1
fi
say "all checks passed"
