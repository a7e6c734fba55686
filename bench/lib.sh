# Shared by the benches' shell run scripts: the command line for the
# report, clean-up on every exit (Ctrl-C and TERM included) and the report
# itself (bench/report.py: bench/results/NAME.{md,png,json}, bench/README.md).
# shellcheck shell=bash
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

# Debian's interpreter: it has matplotlib (python3 on PATH may not).
BENCH_PYTHON=/usr/bin/python3

# bench_start "$0" "$@": sets BENCH_COMMAND (the command line, from the
# repository's root) and BENCH_TMP (a directory removed at exit), and on
# any exit runs the bench's bench_cleanup, if it defines one, first.
bench_start() {
	local self
	self=$(realpath --relative-to="$SIPHON_ROOT" "$1")
	shift
	BENCH_COMMAND=$(printf '%q ' "$self" "$@")
	BENCH_COMMAND=${BENCH_COMMAND% }
	BENCH_TMP=$(mktemp -d /tmp/siphon-bench.XXXXXX)
	trap bench_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if declare -F bench_cleanup >/dev/null; then bench_cleanup || true; fi
	rm -rf "$BENCH_TMP"
	exit "$rc"
}

bad_usage() { printf 'error: %s\n' "$*" >&2; exit 2; } # a bad command line: exit 2

# BENCH_OUT (a bench's --out DIR): its report goes there alone, bench/results/
# and bench/README.md untouched (the smoke runs: tests/netns/bench_smoke.sh).
BENCH_OUT=""

bench_report() { # RESULTS_JSON [REPORT.PY-ARGS...]: written with this machine's metadata and BENCH_COMMAND
	local written to=()
	[[ -n $BENCH_OUT ]] && to=(--out "$BENCH_OUT" --no-readme)
	written=$("$BENCH_PYTHON" "$SIPHON_ROOT/bench/report.py" --command "$BENCH_COMMAND" "${to[@]}" "$@") ||
		die "bench/report.py could not write the report of $1"
	log "report: $written"
}
