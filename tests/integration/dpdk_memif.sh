#!/usr/bin/env bash
# weft over DPDK memif between two processes: a responder (memif server, lcore 0) and a sender
# (memif client, lcore 1), each with its own EAL (--no-shconf), sharing a socket in a fresh
# temporary directory that is removed on exit.
#   dpdk_memif.sh DPDK_TRANSFER [extra dpdk_transfer args, e.g. --loss 0.05]
# Seeds: WEFT_SEED (default 1) for the responder, +1 for the sender. WEFT_ENCRYPT=1: the
# responder writes a fresh cluster key into the temporary directory and both sides encrypt with it.
set -uo pipefail
bin=$1; shift
seed=${WEFT_SEED:-1}
sizes=${WEFT_SIZES:-1,1000,1048576,67108864}
dir=$(mktemp -d /tmp/weft-memif.XXXXXX) || exit 1
rpid= spid=
# WEFT_PCAP_DIR=DIR: each side captures its frames into DIR/responder.pcap and DIR/sender.pcap.
pcap_r=() pcap_s=()
[[ -n ${WEFT_PCAP_DIR:-} ]] && pcap_r=(--pcap "$WEFT_PCAP_DIR/responder.pcap") pcap_s=(--pcap "$WEFT_PCAP_DIR/sender.pcap")
key_r=() key_s=()
[[ ${WEFT_ENCRYPT:-0} == 1 ]] && key_r=(--make-cluster-key "$dir/cluster.key") key_s=(--cluster-key "$dir/cluster.key")

cleanup() {
  [[ -n $spid ]] && kill "$spid" 2>/dev/null
  [[ -n $rpid ]] && kill "$rpid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

eal="--no-huge --no-pci -m 512 --no-shconf --no-telemetry --log-level=lib.eal:warning"
vdev="net_memif0,socket=$dir/memif.sock,socket-abstract=no,bsize=10240"
start=$(date +%s%N)
timeout 150 "$bin" --role responder --eal "-l 0 $eal --vdev=$vdev,role=server" --node 1 --peer 2 \
  --sizes "$sizes" --seed "$seed" "${pcap_r[@]}" "${key_r[@]}" "$@" &
rpid=$!
# A memif client does not retry a connection the server is not yet listening for: start the
# sender once the server's socket exists (and, encrypted, once the responder has written the key:
# its EAL may create the socket first).
ready() { [[ -S $dir/memif.sock ]] && { [[ ${WEFT_ENCRYPT:-0} != 1 ]] || [[ -s $dir/cluster.key ]]; }; }
for _ in $(seq 100); do ready && break; kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
timeout 150 "$bin" --role sender --eal "-l 1 $eal --vdev=$vdev,role=client" --node 2 --peer 1 \
  --sizes "$sizes" --seed $((seed + 1)) "${pcap_s[@]}" "${key_s[@]}" "$@" &
spid=$!
wait "$spid"; src=$?; spid=
# The responder ends once the link closes; if the sender failed, give it 5 s, then stop it.
for _ in $(seq 50); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$rpid" 2>/dev/null && { echo "responder still running 5 s after the sender ended: stopping it" >&2; kill "$rpid"; }
wait "$rpid"; rrc=$?; rpid=
echo "dpdk_memif: sender exit $src, responder exit $rrc, wall $(( ($(date +%s%N) - start) / 1000000 )) ms (seed $seed)"
[[ $src -eq 0 && $rrc -eq 0 ]]
