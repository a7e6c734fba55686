#!/usr/bin/env bash
# Suite netns: the namespace lab comes up, every core node answers SIPp
# calls (bounded: 200 calls a node at 50/s), and it comes down leaving
# nothing behind. The fast path is plugged in by a later issue.
set -euo pipefail
lab=$1
if [[ $(id -u) != 0 ]]; then
	echo "needs root (network namespaces)"
	exit 77 # skipped, and counted so
fi
cleanup() { "$lab" down >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$lab" down >/dev/null 2>&1 || true
"$lab" up
"$lab" status
"$lab" check --node all --calls 200 --rate 50
"$lab" check --vip --calls 100 --rate 50
"$lab" down
left=$( (ip netns list; ip -o link) | grep -c 'sph-' || true)
if [[ $left != 0 ]]; then
	echo "lab down left $left sph- objects behind"
	exit 1
fi
trap - EXIT
echo "lab ok"
