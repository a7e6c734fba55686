# shellcheck shell=bash
# scripts/lab: `siphon start|stop|restart|stats|counters|detach` and `calls`
# (docs/lab.md). Sourced by scripts/lab, which defines RUN, NS_LB and the
# helpers used here.

# --- siphon --------------------------------------------------------------

SIPHON_DIR=$RUN/$NS_LB

siphon_pid() { # the pid of the running siphon's `timeout` wrapper, or nothing
	local f=$SIPHON_DIR/siphon.pid pid
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	kill -0 "$pid" 2>/dev/null && echo "$pid"
}

siphon_bin() {
	local bin=$BUILD_DIR/dataplane/main/siphon
	[[ -x $bin ]] || die "no $bin: build first (scripts/setup)"
	"$bin" --help | grep -q -- '--io xdp' || die "$bin has no --io xdp (built without clang/bpftool/libxdp?)"
	echo "$bin"
}

siphon_start() { # SIPHON-ARGS...: siphon --io xdp (or dpdk: lab.d/dpdk.sh) in sph-lb, in the background
	local bin run io
	io=$(env_get SIPHON_LAB_IO)
	[[ $io == dpdk ]] || bin=$(siphon_bin)
	siphon_pid >/dev/null && die "siphon already runs (pid $(siphon_pid)): scripts/lab siphon restart"
	set_mode siphon
	env_set SIPHON_LAB_MODE siphon
	mkdir -p "$SIPHON_DIR"
	run=$(($(cat "$SIPHON_DIR/siphon.runs" 2>/dev/null || echo 0) + 1))
	echo "$run" >"$SIPHON_DIR/siphon.runs"
	[[ -f $SIPHON_DIR/siphon.log ]] && mv "$SIPHON_DIR/siphon.log" "$SIPHON_DIR/siphon.$((run - 1)).log"
	rm -f "$SIPHON_DIR/siphon.pid"
	# tables from the lab config, unless siphon is told to take siphond's;
	# a bare --siphond means the lab's (scripts/lab siphond start)
	local tables=(--config "$RUN/lab.conf") args=() a
	while (($#)); do
		a=$1
		shift
		if [[ $a == --siphond ]]; then
			tables=()
			if (($# == 0)) || [[ $1 == -* ]]; then
				args+=(--siphond "$RUN/$NS_LB/siphond.sock")
				[[ " $* " == *" --state-dir "* ]] || args+=(--state-dir "$RUN/$NS_LB/siphond-state")
				continue
			fi
		fi
		args+=("$a")
	done
	# the summary of this run, live (every second) and at exit, in both modes
	set -- "${tables[@]}" --summary "$SIPHON_DIR/siphon-summary.$run.json" --stats-interval 1 "${args[@]}"
	if [[ $io == dpdk ]]; then
		dpdk_siphon_start "$@"
	else
		start_bg siphon "$NS_LB" env LIBXDP_BPFFS="$RUN/bpffs" "$bin" --io xdp \
			--iface "$IF_LB_IN" --egress "$IF_LB_CORE" --bpffs "$RUN/bpffs" --punt-tap sph-punt "$@"
		# ready when it says so; a siphon that exits fails at once
		wait_ready siphon siphon_pid "$SIPHON_DIR/siphon.log" '^siphon: xdp on' 15
	fi
	ln -sfn "siphon-summary.$run.json" "$SIPHON_DIR/siphon-summary.json"
	log "$(grep "^siphon: $io on" "$SIPHON_DIR/siphon.log") [run $run]"
}

siphon_stop() { # TERM (timeout passes it on); siphon writes its summary at exit
	local pid
	pid=$(siphon_pid) || { log "siphon does not run"; return 0; }
	stop_pids "$pid"
	if [[ $(env_get SIPHON_LAB_IO) == dpdk ]]; then
		log "siphon stopped; summary: $SIPHON_DIR/siphon-summary.json"
	else
		log "siphon stopped; its XDP program stays attached (scripts/lab siphon detach); summary: $SIPHON_DIR/siphon-summary.json"
	fi
}

cmd_siphon() {
	(($#)) || usage
	local what=$1 bin
	shift
	need_root siphon
	# shared: a restart must not wait for a running `check` (restart under load)
	lock -s
	lab_is_up || die "the lab is not up: scripts/lab up"
	case $what in
	start) siphon_start "$@" ;;
	stop) (($# == 0)) || usage; siphon_stop ;;
	restart) siphon_stop; siphon_start "$@" ;;
	detach)
		(($# == 0)) || usage
		siphon_pid >/dev/null && die "siphon runs: scripts/lab siphon stop first"
		bin=$(siphon_bin)
		nsx "$NS_LB" "$bin" --io xdp --iface "$IF_LB_IN" --detach --bpffs "$RUN/bpffs"
		;;
	stats) # the running siphon's summary, rewritten every second
		(($# == 0)) || usage
		[[ -s $SIPHON_DIR/siphon-summary.json ]] || die "no summary yet: scripts/lab siphon start"
		cat "$SIPHON_DIR/siphon-summary.json"
		;;
	counters)
		(($# == 0)) || usage
		bin=$(siphon_bin)
		nsx "$NS_LB" "$bin" --io xdp --iface "$IF_LB_IN" --counters --bpffs "$RUN/bpffs"
		;;
	*) usage ;;
	esac
}

# --- calls: which node saw which call -------------------------------------

CALLS_PY=$(cat <<'EOF'
import glob, json, os, sys
# The core nodes' SIPp short-message logs (-trace_shortmsg), one CSV line a
# message, tab-separated: date, time, epoch, direction (S/R), Call-ID, CSeq,
# first line (SIPp 3.6); or the Kamailio nodes' log, where the lab config
# writes "siphon-lab-msg", epoch, R, Call-ID, first line for each message.
run, since = sys.argv[1], float(sys.argv[2])
nodes, calls, received = {}, {}, {}
MARK = "siphon-lab-msg\t"
logs = glob.glob(os.path.join(run, "sph-b*", "sipp-*.msgs")) + \
    glob.glob(os.path.join(run, "sph-b*", "kamailio.log"))
for path in sorted(logs):
    node = os.path.basename(os.path.dirname(path))[len("sph-"):]
    with open(path, errors="replace") as f:
        for line in f:
            if path.endswith(".log"):
                if MARK not in line:
                    continue
                parts = ["", ""] + line.rstrip("\n").split(MARK, 1)[1].split("\t")
                if len(parts) != 6:
                    continue
            else:
                parts = line.rstrip("\n").split("\t")
            if len(parts) < 6 or parts[3] != "R":
                continue
            try:
                t = float(parts[2])
            except ValueError:
                continue
            if t < since:
                continue
            cid, first = parts[4], parts[-1]
            calls.setdefault(cid, set()).add(node)
            kind = "response" if first.startswith("SIP/2.0 ") else first.split(" ", 1)[0]
            received[kind] = received.get(kind, 0) + 1
            if first.startswith("INVITE "):
                nodes.setdefault(node, set()).add(cid)
split = sorted(c for c, n in calls.items() if len(n) > 1)
total = sum(len(v) for v in nodes.values())
print(json.dumps({
    "calls": len(calls),
    "invites_by_node": {n: len(v) for n, v in sorted(nodes.items())},
    "share_by_node": {n: round(len(v) / total, 4) for n, v in sorted(nodes.items())} if total else {},
    "received": dict(sorted(received.items())),
    "split_calls": len(split),
    "split_examples": split[:5],
}))
EOF
)

cmd_calls() { # [--since EPOCH]: per node, the calls whose messages reached it
	local since=0
	while (($#)); do
		case $1 in
		--since) since=${2:-}; shift ;;
		*) usage ;;
		esac
		shift
	done
	[[ $since =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--since: seconds since the epoch"
	need_root calls
	lab_is_up || die "the lab is not up: scripts/lab up"
	/usr/bin/python3 -c "$CALLS_PY" "$RUN" "$since"
}
