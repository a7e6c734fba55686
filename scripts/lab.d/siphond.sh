# shellcheck shell=bash
# scripts/lab: `siphond start|stop|kill|restart|status` (docs/lab.md): the
# control plane in sph-lb, probing the core nodes from the control address
# and publishing generations to `siphon start --siphond`. Sourced by
# scripts/lab (RUN, NS_LB, start_bg, stop_pids).

SIPHOND_DIR=$RUN/$NS_LB
SIPHOND_SOCK=$SIPHOND_DIR/siphond.sock
SIPHOND_STATE=$SIPHOND_DIR/siphond-state

siphond_pid() { # the pid of the running siphond's `timeout` wrapper, or nothing
	local f=$SIPHOND_DIR/siphond.pid pid
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	kill -0 "$pid" 2>/dev/null && echo "$pid"
}

siphonctl_lab() { # ARGS...: siphonctl on the lab's socket
	local bin=$BUILD_DIR/controlplane/cli/siphonctl
	[[ -x $bin ]] || die "no $bin: build first (scripts/setup)"
	"$bin" --socket "$SIPHOND_SOCK" "$@"
}

siphond_start() { # SIPHOND-ARGS...: siphond in sph-lb on the lab config
	local bin=$BUILD_DIR/controlplane/siphond/siphond run
	[[ -x $bin ]] || die "no $bin: build first (scripts/setup)"
	siphond_pid >/dev/null && die "siphond already runs (pid $(siphond_pid)): scripts/lab siphond restart"
	# siphond answers OPTIONS to the VIP (punts): the VIP must be sph-lb's
	set_mode siphon
	env_set SIPHON_LAB_MODE siphon
	mkdir -p "$SIPHOND_DIR" "$SIPHOND_STATE"
	run=$(($(cat "$SIPHOND_DIR/siphond.runs" 2>/dev/null || echo 0) + 1))
	echo "$run" >"$SIPHOND_DIR/siphond.runs"
	[[ -f $SIPHOND_DIR/siphond.log ]] && mv "$SIPHOND_DIR/siphond.log" "$SIPHOND_DIR/siphond.$((run - 1)).log"
	rm -f "$SIPHOND_DIR/siphond.pid"
	start_bg siphond "$NS_LB" "$bin" --config "$RUN/lab.conf" --socket "$SIPHOND_SOCK" \
		--state-dir "$SIPHOND_STATE" "$@"
	wait_ready siphond siphond_pid "$SIPHOND_DIR/siphond.log" '^siphond: listening on ' 10
	log "siphond runs [run $run]: $(grep -E '^siphond: generation [0-9]+ (published|kept)' "$SIPHOND_DIR/siphond.log" | tail -n 1)"
}

siphond_stop() { # SIGTERM: siphond removes its socket; the state dir stays
	local pid
	pid=$(siphond_pid) || { log "siphond does not run"; return 0; }
	stop_pids "$pid"
	log "siphond stopped; its generation stays in $SIPHOND_STATE"
}

siphond_kill() { # SIGKILL to siphond itself (not its `timeout`): a crash
	local pid child
	pid=$(siphond_pid) || die "siphond does not run"
	child=$(ps -o pid= --ppid "$pid" | xargs)
	[[ -n $child ]] || die "siphond (timeout pid $pid) has no child"
	kill -KILL "$child"
	stop_pids "$pid" # the wrapper exits with it
	log "siphond killed (pid $child, SIGKILL); its socket file is left behind"
}

cmd_siphond() {
	(($#)) || usage
	local what=$1
	shift
	need_root siphond
	lock -s # shared, as siphon: kill and restart run under load
	lab_is_up || die "the lab is not up: scripts/lab up"
	case $what in
	start) siphond_start "$@" ;;
	stop) (($# == 0)) || usage; siphond_stop ;;
	kill) (($# == 0)) || usage; siphond_kill ;;
	restart) siphond_stop; siphond_start "$@" ;;
	status)
		(($# == 0)) || usage
		siphond_pid >/dev/null || { echo "siphond: not running (state: $SIPHOND_STATE)"; return 1; }
		siphonctl_lab state
		siphonctl_lab pool show
		;;
	*) usage ;;
	esac
}
