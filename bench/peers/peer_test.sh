#!/bin/sh
# CTest driver for the comparison peers (bench/peers/CMakeLists.txt).
#   peer_test.sh smoke COMMAND...       COMMAND exits 0
#   peer_test.sh json N COMMAND...      COMMAND exits 0 and prints exactly N lines, each a JSON
#                                       object with "wrong":0
#   peer_test.sh usage TEXT COMMAND...  COMMAND exits 2 and its output contains TEXT
# An argument @STORE@ in COMMAND becomes a fresh directory, removed afterwards (weft_peer_gloo's
# --store-dir).
set -u
mode=$1; shift
expect=""
[ "$mode" = smoke ] || { expect=$1; shift; }

store=$(mktemp -d) || exit 1
out=$(mktemp) || exit 1
trap 'rm -rf "$store" "$out"' EXIT
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  a=$1; shift
  [ "$a" = @STORE@ ] && a=$store
  set -- "$@" "$a"
  i=$((i + 1))
done

case $mode in
  smoke)
    "$@"
    ;;
  json)
    "$@" >"$out"; rc=$?
    cat "$out"
    [ "$rc" -eq 0 ] || { echo "peer_test: exit status $rc, expected 0" >&2; exit 1; }
    lines=$(wc -l <"$out")
    right=$(grep -c '^{"impl":.*"wrong":0,"iters":[0-9]*}$' "$out")
    [ "$lines" -eq "$expect" ] && [ "$right" -eq "$expect" ] || {
      echo "peer_test: $lines lines, $right of them JSON with \"wrong\":0; expected $expect of each" >&2; exit 1; }
    ;;
  usage)
    "$@" >"$out" 2>&1; rc=$?
    cat "$out"
    [ "$rc" -eq 2 ] || { echo "peer_test: exit status $rc, expected 2" >&2; exit 1; }
    grep -qF -- "$expect" "$out" || { echo "peer_test: output does not mention '$expect'" >&2; exit 1; }
    ;;
  *)
    echo "peer_test: unknown mode '$mode' (smoke, json, usage)" >&2; exit 2
    ;;
esac
