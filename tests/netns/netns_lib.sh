# Shared by the netns checks: root or skip (77, counted so), a work
# directory, the lab taken down on any exit, fail() with a message.
# shellcheck shell=bash
# Set `lab` before sourcing.
if [[ $(id -u) != 0 ]]; then
	echo "needs root (network namespaces)"
	exit 77 # skipped, and counted so
fi
py=/usr/bin/python3
run=/run/siphon-lab
work=$(mktemp -d)
cleanup() {
	"$lab" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
