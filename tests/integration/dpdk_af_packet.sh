#!/usr/bin/env bash
# weft over DPDK af_packet on a veth pair between two network namespaces: a responder in NAME-a
# (lcore 0) and a sender in NAME-b (lcore 1), each its own process with its own EAL.
#   dpdk_af_packet.sh NETNS_VETH_SCRIPT DPDK_TRANSFER [extra dpdk_transfer args, e.g. --loss 0.05]
# Namespaces are named weftdp-$$-a/-b; stale ones from killed runs are swept first, and these are
# removed on exit, failure included. Seeds: WEFT_SEED (default 1) for the responder, +1 sender.
set -uo pipefail
netns=$1 bin=$2; shift 2
prefix=weftdp name=weftdp-$$
seed=${WEFT_SEED:-1}
sizes=${WEFT_SIZES:-1,1000,1048576,16777216}
rpid= spid=
# WEFT_PCAP_DIR=DIR: each side captures its frames into DIR/responder.pcap and DIR/sender.pcap.
pcap_r=() pcap_s=()
[[ -n ${WEFT_PCAP_DIR:-} ]] && pcap_r=(--pcap "$WEFT_PCAP_DIR/responder.pcap") pcap_s=(--pcap "$WEFT_PCAP_DIR/sender.pcap")

cleanup() {
  [[ -n $spid ]] && kill "$spid" 2>/dev/null
  [[ -n $rpid ]] && kill "$rpid" 2>/dev/null
  wait 2>/dev/null
  "$netns" down "$name"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$netns" sweep "$prefix"
"$netns" up "$name" 9000 || exit 1

vdev=net_af_packet0,iface=weft0,qdisc_bypass=1,framecnt=2048,blocksz=20480,framesz=10240
eal="--no-huge --no-pci -m 512 --no-shconf --no-telemetry --log-level=lib.eal:warning --vdev=$vdev"
start=$(date +%s%N)
ip netns exec "$name-a" timeout 150 "$bin" --role responder --eal "-l 0 $eal" --node 1 --peer 2 \
  --sizes "$sizes" --seed "$seed" "${pcap_r[@]}" "$@" &
rpid=$!
ip netns exec "$name-b" timeout 150 "$bin" --role sender --eal "-l 1 $eal" --node 2 --peer 1 \
  --sizes "$sizes" --seed $((seed + 1)) "${pcap_s[@]}" "$@" &
spid=$!
wait "$spid"; src=$?; spid=
# The responder ends once the link closes; if the sender failed, give it 5 s, then stop it.
for _ in $(seq 50); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$rpid" 2>/dev/null && { echo "responder still running 5 s after the sender ended: stopping it" >&2; kill "$rpid"; }
wait "$rpid"; rrc=$?; rpid=
echo "dpdk_af_packet: sender exit $src, responder exit $rrc, wall $(( ($(date +%s%N) - start) / 1000000 )) ms (seed $seed)"
[[ $src -eq 0 && $rrc -eq 0 ]]
