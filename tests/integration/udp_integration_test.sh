#!/usr/bin/env bash
# Multi-process integration over UDP loopback: real `weft peer`, `weft send` and
# `weft conformance` processes (tests/CMakeLists.txt runs one CTest test per mode, label serial).
#
#   udp_integration_test.sh WEFT_BINARY MODE
#
# Every weft-profile run is encrypted: keys are made with `weft keygen` into this run's temporary
# directory (identities with an allowlist, and cluster keys). ttpoe-compat is plaintext by spec, and
# `weft conformance` sends plaintext frames, so its targets run with --insecure.
#
# MODE:
#   transfer       messages of 1 B, 64 KiB, 1 MiB, 64 MiB (weft, identity keys + allowlist) and 1 B,
#                  1024 B (ttpoe-compat), each echoed and compared byte for byte (--verify: exactly
#                  once, in order); both sides must report the link encrypted
#   transfer-loss  the same with --loss 0.05 on both sides (seeded; the seeds are printed), with a
#                  cluster key (the sender's through an inherited descriptor, --cluster-key-fd)
#   transfer-insecure  the same in plaintext (--insecure on both sides): the warning is printed and
#                  the links say PLAINTEXT
#   conformance    `weft conformance` against `weft peer --insecure` passes, for both profiles;
#                  against a peer with keys it reports no answer and names --insecure
#   broken         against `weft peer --broken-mode ...` it fails and names the clause
#   dead-peer      kill -9 the peer during a long send: send exits 1 with an error, not a hang;
#                  the measured detection time is printed
#   bad-args       bad command lines, a port in use, an unreachable peer: clear errors, exit != 0
#   wrong-key      a sender with another cluster key (or an identity not on the allowlist) fails
#                  within its --timeout-s with a clear error; the peer counts the unauthenticated drops
#   no-keys        peer/send without keys exit 2 before binding, naming `weft keygen` and --insecure;
#                  bad key files, keys with ttpoe-compat, keys with --insecure: exit 2, clear messages
#   pcap-no-plaintext  a marker string sent encrypted never appears in the peer's pcap; sent with
#                  --insecure it does (so the check can fail)
#   dpdk-conformance  (built with libweft-dpdk) conformance over raw Ethernet, DPDK net_memif
#                  between two processes, passing and against a broken peer
#
# Every process started here is killed on exit (trap), whatever happens, and the temporary
# directory (keys included) is removed.
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

# make_keys : identities "peer" and "sender" with an allowlist of both, one that lists only the
# peer, and two cluster keys, all in $WORK/keys (removed with $WORK). Sets the *_KEYS variables
# (split on spaces on purpose, like the other argument strings here).
make_keys() {
  KEYS="$WORK/keys"
  if ! { "$WEFT" keygen identity --out "$KEYS" --name peer >/dev/null &&
    "$WEFT" keygen identity --out "$KEYS" --name sender >/dev/null &&
    cat "$KEYS/peer.pub" "$KEYS/sender.pub" >"$KEYS/allowlist" &&
    cp "$KEYS/peer.pub" "$KEYS/allowlist-peer-only" &&
    "$WEFT" keygen cluster --out "$KEYS/cluster.key" >/dev/null &&
    "$WEFT" keygen cluster --out "$KEYS/other-cluster.key" >/dev/null; }; then
    say "weft keygen failed"
    exit 1
  fi
  PEER_ID_KEYS="--identity $KEYS/peer.key --allow $KEYS/allowlist"
  SEND_ID_KEYS="--identity $KEYS/sender.key --allow $KEYS/allowlist"
  CLUSTER_KEYS="--cluster-key $KEYS/cluster.key"
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# start_peer NAME ARGS... : starts `weft peer` on a free port; sets PEER_PID and PEER_URL.
start_peer() {
  local name=$1
  shift
  local port_file="$WORK/$name.port"
  rm -f "$port_file"
  "$WEFT" peer --listen udp://127.0.0.1:0 --port-file "$port_file" "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
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

# expect_log_line FILE PATTERN WHAT : FILE (a peer's log) has a line matching PATTERN (grep -E).
expect_log_line() {
  if grep -Eq -- "$2" "$1"; then
    say "ok: $3: $(grep -Em1 -- "$2" "$1" | cut -c1-200)"
  else
    fail "$3: no line matches /$2/ in:$(echo; cat "$1")"
  fi
}

# transfers LABEL "PEER_ARGS" "SEND_ARGS" "PEER_KEYS" "SEND_KEYS" SECURITY KEYS_LABEL : the message sizes of
# the issue, echoed and verified, for both profiles (the keys go to the weft profile only;
# ttpoe-compat is plaintext by spec). SECURITY is what both sides must report for the weft links
# (a grep -E pattern). The argument strings are split on spaces on purpose. Every send has
# descriptor 3 open on $FD3_FILE (for --cluster-key-fd 3).
transfers() {
  local label=$1 peer_args=$2 send_args=$3 peer_keys=$4 send_keys=$5 security=$6 keys_label=$7 size count spec
  # shellcheck disable=SC2086
  start_peer echo-weft --echo $peer_args $peer_keys
  local weft_pid=$PEER_PID weft_url=$PEER_URL
  for spec in 1:64 65536:16 1048576:8 67108864:2; do
    size=${spec%%:*}
    count=${spec##*:}
    # shellcheck disable=SC2086
    expect_rc 0 "weft$label, $keys_label: $count x $size B echoed and verified" \
      "$WEFT" send --to "$weft_url" --bytes "$size" --messages "$count" --verify --timeout-s 20 $send_args \
      $send_keys 3<"${FD3_FILE:-/dev/null}"
    cat "$WORK/out"
    cat "$WORK/out" >>"$WORK/weft-sends.out"
    expect_output "weft send: .*; $security; closed" "the sender reports the link $security"
  done
  stop_peer echo-weft "$weft_pid"
  expect_log_line "$WORK/echo-weft.log" "link .* opened .*, $security\$" "the peer reports its links $security"

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
  expect_output "WARNING: profile ttpoe-compat is PLAINTEXT" "ttpoe-compat warns that it is plaintext"
  stop_peer echo-compat "$compat_pid"
  expect_log_line "$WORK/echo-compat.log" "link .* opened .*, PLAINTEXT\$" "ttpoe-compat links are PLAINTEXT"
}

# An encrypted link: "encrypted aes-256-gcm (openssl)" or the like.
ENCRYPTED='encrypted (aes-256-gcm|chacha20-poly1305) \((libsodium|openssl)\)'


case "$MODE" in
  transfer|transfer-loss|conformance|dead-peer|bad-args|wrong-key|no-keys|pcap-no-plaintext)
    make_keys
    ;;
esac

case "$MODE" in
  transfer)
    transfers "" "" "" "$PEER_ID_KEYS" "$SEND_ID_KEYS" "$ENCRYPTED" "identity keys + allowlist"
    ;;

  transfer-loss)
    # Each side drops 5 % of what it sends, from its own seed (printed, for a rerun). The sender
    # reads the cluster key from an inherited descriptor, as a process a launcher spawns would.
    say "seeds: peer 11, sender 12 (loss 0.05 on each side's transmissions)"
    FD3_FILE="$KEYS/cluster.key"
    transfers ", 5% loss each way" "--loss 0.05 --seed 11" "--loss 0.05 --seed 12" \
      "$CLUSTER_KEYS" "--cluster-key-fd 3" "$ENCRYPTED" "cluster key (the sender's from descriptor 3)"
    ;;

  transfer-insecure)
    transfers "" "" "" "--insecure" "--insecure" "PLAINTEXT" "plaintext (--insecure)"
    warning="^WARNING: --insecure: frames are sent in the clear, unauthenticated; anyone on the path can read, inject and tear down links$"
    n=$(grep -Ec -- "$warning" "$WORK/weft-sends.out")
    if [[ $n -eq 4 ]]; then
      say "ok: every weft send --insecure printed the warning ($n of 4)"
    else
      fail "weft send --insecure printed the warning $n time(s), expected 4:$(echo; cat "$WORK/weft-sends.out")"
    fi
    expect_log_line "$WORK/echo-weft.log" "$warning" "weft peer --insecure prints the warning"
    ;;

  conformance)
    # The conformance tester speaks plaintext (it builds frames byte by byte; TTPoE has no
    # security): its target runs --insecure. A target with keys drops its frames without answering.
    # shellcheck disable=SC2086
    start_peer sink-keys $CLUSTER_KEYS
    pid=$PEER_PID
    expect_rc 1 "conformance against a peer with keys reports no answer" \
      "$WEFT" conformance --target "$PEER_URL"
    expect_output "no answer from $PEER_URL.*--insecure" "says the target must run --insecure"
    stop_peer sink-keys "$pid"
    for profile in weft ttpoe-compat; do
      insecure=--insecure
      [[ $profile == ttpoe-compat ]] && insecure=  # implied: ttpoe-compat is plaintext by spec
      start_peer "sink-$profile" --profile "$profile" $insecure
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
    # Each broken mode must fail, naming a clause that checks what it breaks (plaintext targets:
    # the conformance tester speaks plaintext).
    for case_ in "drop-acks:S12_3_in_order_ACK" "wrong-open-ack-rx:S12_2_OPEN_ACK_answers_OPEN"; do
      mode=${case_%%:*}
      clause=${case_##*:}
      start_peer "broken-$mode" --broken-mode "$mode" --insecure
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
    # shellcheck disable=SC2086
    start_peer doomed --echo $CLUSTER_KEYS
    doomed=$PEER_PID
    # shellcheck disable=SC2086
    "$WEFT" send --to "$PEER_URL" --bytes 1048576 --messages 1000000 --verify --timeout-s "$timeout_s" \
      $CLUSTER_KEYS >"$WORK/send.out" 2>&1 &
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
    grep -Eq "link open in .*, $ENCRYPTED" "$WORK/send.out" || fail "the link was not reported encrypted"
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
    # shellcheck disable=SC2086
    start_peer holder $CLUSTER_KEYS
    holder=$PEER_PID
    # shellcheck disable=SC2086
    expect_rc 1 "port in use" "$WEFT" peer --listen "$PEER_URL" $CLUSTER_KEYS
    expect_output "cannot listen on $PEER_URL" "the busy address is named"
    # shellcheck disable=SC2086
    expect_rc 1 "--verify against a peer that does not echo" \
      "$WEFT" send --to "$PEER_URL" --bytes 10 --verify --timeout-s 1 $CLUSTER_KEYS
    expect_output "waiting for 1 echo.*without --echo" "says the echo never came"
    expect_rc 1 "ttpoe-compat OPEN to a weft peer" \
      "$WEFT" send --to "$PEER_URL" --profile ttpoe-compat --bytes 10 --timeout-s 1
    expect_output "with the same --profile" "hints at the profile"
    stop_peer holder "$holder"
    # Nothing listens on the port the holder had: OPEN times out.
    t0=$(now)
    # shellcheck disable=SC2086
    expect_rc 1 "unreachable peer (nobody listening)" "$WEFT" send --to "$PEER_URL" --bytes 1 --timeout-s 1 \
      $CLUSTER_KEYS
    expect_output "no answer from $PEER_URL within 1.0 s: is .weft peer. running there" "says nobody answered"
    say "OPEN timeout reported after $(elapsed "$t0" "$(now)") s (--timeout-s 1)"
    # TEST-NET-1 (RFC 5737): never routed.
    # shellcheck disable=SC2086
    expect_rc 1 "unroutable address" "$WEFT" send --to udp://192.0.2.1:7000 --bytes 1 --timeout-s 1 $CLUSTER_KEYS
    expect_output "no answer from udp://192.0.2.1:7000" "names the unroutable address"
    expect_rc 1 "conformance against nobody" "$WEFT" conformance --target "$PEER_URL"
    expect_output "no answer from $PEER_URL" "conformance says nobody answered"
    ;;

  wrong-key)
    # A handshake the peer cannot authenticate is dropped without an answer: the sender fails within
    # its --timeout-s naming the keys, the peer counts the drops as unauthenticated.
    for case_ in "cluster:$CLUSTER_KEYS:--cluster-key $KEYS/other-cluster.key" \
      "identity:--identity $KEYS/peer.key --allow $KEYS/allowlist-peer-only:$SEND_ID_KEYS"; do
      IFS=: read -r name peer_keys send_keys <<<"$case_"
      # shellcheck disable=SC2086
      start_peer "wrong-$name" --json $peer_keys
      pid=$PEER_PID
      t0=$(now)
      # shellcheck disable=SC2086
      expect_rc 1 "send with a key the peer does not accept ($name) fails" \
        "$WEFT" send --to "$PEER_URL" --bytes 100 --timeout-s 1 $send_keys
      took=$(elapsed "$t0" "$(now)")
      say "the sender gave up after $took s (--timeout-s 1)"
      awk -v d="$took" 'BEGIN { exit !(d < 3) }' || fail "the sender took $took s (--timeout-s 1)"
      expect_output "error: no answer from $PEER_URL within 1.0 s: .*keys it accepts" "names the keys ($name)"
      stop_peer "wrong-$name" "$pid"
      if grep -Eq '"unauthenticated": [1-9]' "$WORK/wrong-$name.out"; then
        say "ok: the peer's --json counts the drops: $(grep -E '"unauthenticated"' "$WORK/wrong-$name.out" | tr -d ' ')"
      else
        fail "the peer's --json has no unauthenticated drops ($name):$(echo; cat "$WORK/wrong-$name.out")"
      fi
      expect_log_line "$WORK/wrong-$name.log" "dropped [0-9]+ frame\\(s\\): unauthenticated [1-9]" \
        "the peer logs the unauthenticated drops ($name)"
      grep -q '"links_opened": 0' "$WORK/wrong-$name.out" || fail "a link opened with the wrong key ($name)"
    done
    ;;

  no-keys)
    # Without keys the weft profile refuses to start, before binding anything.
    # shellcheck disable=SC2016  # the backquotes are the message's own
    keygen_hint='no keys configured: encryption is on by default.*`weft keygen identity --out keys`.*`weft keygen cluster --out cluster.key`.*--insecure'
    expect_rc 2 "weft send without keys" "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1
    expect_output "^weft send: error: $keygen_hint" "names weft keygen and --insecure (send)"
    expect_rc 2 "weft peer without keys" "$WEFT" peer --listen udp://127.0.0.1:0 --port-file "$WORK/nokeys.port"
    expect_output "^weft peer: error: $keygen_hint" "names weft keygen and --insecure (peer)"
    if [[ -e "$WORK/nokeys.port" ]]; then
      fail "weft peer without keys wrote a port file"
    else
      say "ok: the peer bound nothing (no port file)"
    fi
    expect_rc 2 "--allow alone" "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --allow "$KEYS/allowlist"
    expect_output "no keys configured.*needs --identity too" "says an allowlist is not a key"
    expect_rc 2 "identity without an allowlist" \
      "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --identity "$KEYS/peer.key"
    expect_output "cannot authenticate a handshake: .*empty allowlist" "quotes what the credentials lack"
    expect_rc 2 "a missing key file" \
      "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --cluster-key "$WORK/no-such.key"
    expect_output "no-such.key" "names the missing key file"
    expect_rc 2 "a key file of the wrong kind" \
      "$WEFT" peer --listen udp://127.0.0.1:0 --cluster-key "$KEYS/peer.key"
    expect_output "error: .*peer.key" "names the wrong file"
    cp "$KEYS/cluster.key" "$WORK/readable.key" && chmod 644 "$WORK/readable.key"
    expect_rc 2 "a secret file others can read" \
      "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --cluster-key "$WORK/readable.key"
    expect_output "readable.key" "names the readable file"
    expect_rc 2 "a closed --cluster-key-fd" \
      "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --cluster-key-fd 9
    expect_output "descriptor 9" "names the descriptor"
    # shellcheck disable=SC2086
    expect_rc 2 "keys with ttpoe-compat" \
      "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --profile ttpoe-compat $CLUSTER_KEYS
    expect_output "ttpoe-compat has no security; drop the key flags .*or use --profile weft" "refuses keys on compat"
    # shellcheck disable=SC2086
    expect_rc 2 "keys with --insecure" "$WEFT" peer --listen udp://127.0.0.1:0 --insecure $CLUSTER_KEYS
    expect_output "--insecure runs in plaintext, but key flags were given" "refuses keys with --insecure"
    # shellcheck disable=SC2086
    expect_rc 2 "unknown cipher" "$WEFT" send --to udp://127.0.0.1:7000 --bytes 1 --cipher rot13 $CLUSTER_KEYS
    expect_output "rot13" "names the unknown cipher"
    ;;

  pcap-no-plaintext)
    # A marker string sent encrypted must not appear in the peer's capture; sent in plaintext it
    # must (so this check can fail).
    marker="WEFT-MARKER-$$-7c1f3a9e"
    for _ in 1 2 3 4; do printf '%s plaintext that must not be on the wire\n' "$marker"; done >"$WORK/marker.txt"
    for case_ in "encrypted:$CLUSTER_KEYS:0" "insecure:--insecure:1"; do
      IFS=: read -r name keys want <<<"$case_"
      # shellcheck disable=SC2086
      start_peer "pcap-$name" --echo --pcap "$WORK/$name.pcap" $keys
      pid=$PEER_PID
      # shellcheck disable=SC2086
      expect_rc 0 "send the marker ($name)" \
        "$WEFT" send --to "$PEER_URL" --file "$WORK/marker.txt" --messages 3 --verify --timeout-s 10 $keys
      stop_peer "pcap-$name" "$pid"
      size=$(stat -c %s "$WORK/$name.pcap" 2>/dev/null || echo 0)
      count=$(grep -ac -- "$marker" "$WORK/$name.pcap")
      say "$name: $size B of pcap, the marker on $count line(s)"
      [[ $size -gt 1000 ]] || fail "the $name pcap holds almost nothing ($size B)"
      if [[ $want -eq 0 && $count -eq 0 ]]; then
        say "ok: no plaintext in the encrypted capture"
      elif [[ $want -eq 0 ]]; then
        fail "the marker is in the encrypted capture ($count line(s))"
      elif [[ $count -gt 0 ]]; then
        say "ok: the marker is in the plaintext capture (the check can fail)"
      else
        fail "the marker is not in the --insecure capture: the check cannot tell"
      fi
    done
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
      [[ $profile == weft ]] && extra+=(--insecure)  # the conformance tester speaks plaintext
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
    echo "unknown mode '$MODE' (transfer, transfer-loss, transfer-insecure, conformance, broken, dead-peer," \
      "bad-args, wrong-key, no-keys, pcap-no-plaintext, dpdk-conformance)" >&2
    exit 2
    ;;
esac

if [[ $FAILURES -ne 0 ]]; then
  say "$FAILURES check(s) failed"
  exit 1
fi
say "all checks passed"
