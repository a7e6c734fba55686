# Shared by the scripts in scripts/: paths, logging, the package list.
# shellcheck shell=bash

SIPHON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${SIPHON_BUILD_DIR:-$SIPHON_ROOT/build}
FUZZ_BUILD_DIR=${SIPHON_FUZZ_BUILD_DIR:-$SIPHON_ROOT/build-fuzz}

# Every Debian package a build, test, demo or benchmark needs.
SIPHON_PACKAGES=(
	gcc clang llvm libclang-rt-14-dev
	meson ninja-build pkg-config
	libcmocka-dev libpcap-dev libhyperscan-dev libconfig-dev libxxhash-dev libjansson-dev
	libmicrohttpd-dev
	python3 python3-pytest python3-matplotlib
	valgrind
	libbpf-dev libxdp-dev bpftool linux-libc-dev libmnl-dev
	libc-ares-dev dnsmasq-base dnsmasq
	libdpdk-dev dpdk dpdk-dev
)
# Packages that come with a system service: the tests run their own
# instance (dnsmasq inside the lab, on a lab address), never the machine's.
# scripts/setup keeps it from starting while apt installs it and disables it.
SIPHON_NO_SERVICE=(dnsmasq)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
