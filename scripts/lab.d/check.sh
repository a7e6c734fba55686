# shellcheck shell=bash
# scripts/lab: `check`, OPTIONS probes and bounded SIPp UAC runs
# (docs/lab.md). Sourced by scripts/lab.

# --- check -------------------------------------------------------------

PROBE_PY=$(cat <<'EOF'
import socket, sys
target, source = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in target else socket.AF_INET
host = "[%s]" % target if ":" in target else target
via = "[%s]" % source if ":" in source else source
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((source, 0))
s.connect((target, 5060))
port = s.getsockname()[1]
msg = "\r\n".join([
    "OPTIONS sip:%s:5060 SIP/2.0" % host,
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-lab-%d" % (via, port, port),
    "Max-Forwards: 70",
    "From: <sip:lab@%s>;tag=lab%d" % (via, port),
    "To: <sip:%s>" % host,
    "Call-ID: lab-probe-%d@%s" % (port, via),
    "CSeq: 1 OPTIONS",
    "Content-Length: 0", "", ""])
s.send(msg.encode())
s.settimeout(2)
try:
    print(s.recv(65535).decode(errors="replace").split("\r\n", 1)[0])
except OSError:
    pass
EOF
)

probe() { # NS TARGET SOURCE: one OPTIONS from SOURCE, prints the reply's status line
	nsx "$1" timeout 5 /usr/bin/python3 -c "$PROBE_PY" "$2" "$3" 2>/dev/null || true
}

uac() { # LABEL TARGET: one bounded SIPp UAC run from sph-caller; prints a line, returns 1 on failure
	local label=$1 target=$2 src=$CALLER4 remote dir=$RUN/check rc=0 t0 t1 ok failed
	if [[ $target == *:* ]]; then src=$CALLER6 remote="[$target]:5060"; else remote="$target:5060"; fi
	[[ -n $FROM ]] && src=$FROM
	mkdir -p "$dir"
	rm -f "$dir/$label".*
	t0=$(date +%s.%N)
	nsx "$NS_CALLER" timeout --kill-after=5 $((CHECK_TIMEOUT + 15)) \
		sipp "${SCENARIO[@]}" "$remote" -i "$src" -bind_local -m "$CALLS" -r "$RATE" -rp 1000 \
		-timeout "${CHECK_TIMEOUT}s" -timeout_error -recv_timeout 5000 -nostdin \
		-trace_stat -stf "$dir/$label.csv" -trace_err -error_file "$dir/$label.errors" \
		-trace_shortmsg -shortmessage_file "$dir/$label.msgs" "${LENGTH[@]}" \
		</dev/null >/dev/null 2>"$dir/$label.log" 9>&- || rc=$?
	t1=$(date +%s.%N)
	ok=$(stat_field "$dir/$label.csv" 'SuccessfulCall(C)' 2>/dev/null || true)
	failed=$(stat_field "$dir/$label.csv" 'FailedCall(C)' 2>/dev/null || true)
	ok=${ok:-0} failed=${failed:-0}
	# calls SIPp never got to (it died, or the time ran out) count as failed
	((ok + failed < CALLS)) && failed=$((CALLS - ok))
	printf '  %-10s %-26s %s calls: %s ok, %s failed (sipp exit %s, %s s)\n' "$label" "$remote" \
		"$CALLS" "$ok" "$failed" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	TOTAL_OK=$((TOTAL_OK + ok))
	TOTAL_FAILED=$((TOTAL_FAILED + failed))
	[[ $rc == 0 && $ok == "$CALLS" && $failed == 0 ]] && return 0
	[[ -s $dir/$label.log ]] && sed 's/^/      /' "$dir/$label.log" | tail -n 5
	# SIPp's own account of the failed calls (unexpected message, ICMP, timeout)
	[[ -s $dir/$label.errors ]] && { echo "      errors: $dir/$label.errors"; tail -n 8 "$dir/$label.errors" | sed 's/^/      /'; }
	return 1
}

scenario_file() { # NAME (scenarios/NAME.xml) or a path: the UAC scenario's file
	local f=$1
	[[ $f == */* || $f == *.xml ]] || f=$SIPHON_ROOT/scenarios/$f.xml
	[[ -f $f ]] || die "--scenario: no $f (scenarios/README.md lists them)"
	echo "$f"
}

cmd_check() {
	local node=all vip=0 v6=0 n targets=() bad=0 line addr src
	CALLS=200 RATE=50 SCENARIO=(-sn uac) LENGTH=() FROM=""
	while (($#)); do
		case $1 in
		--node) node=${2:-}; shift ;;
		--vip) vip=1 ;;
		--ipv6) v6=1 ;;
		--routes) SCENARIO=(-sf "$(scenario_file uac-routes)") ;;
		--scenario) SCENARIO=(-sf "$(scenario_file "${2:-}")"); shift ;;
		--from) FROM=${2:-}; shift ;; # a source address of sph-caller (198.18.9.9: the scanner network)
		--calls) CALLS=${2:-}; shift ;;
		--rate) RATE=${2:-}; shift ;;
		--length) LENGTH=(-d "${2:-}"); shift ;; # ms between the ACK and the BYE
		*) usage ;;
		esac
		shift
	done
	[[ $CALLS =~ ^[1-9][0-9]{0,4}$ ]] || die "--calls: 1 to 99999"
	[[ $RATE =~ ^[1-9][0-9]{0,3}$ ]] || die "--rate: 1 to 9999 calls/s"
	((${#LENGTH[@]} == 0)) || [[ ${LENGTH[1]} =~ ^[0-9]{1,5}$ ]] || die "--length: 0 to 99999 ms"
	[[ $node == all || " ${NODES[*]} " == *" $node "* ]] || die "--node: b1, b2, b3 or all"
	[[ -z $FROM || $FROM =~ ^[0-9a-f.:]+$ ]] || die "--from: an address of $NS_CALLER"
	need_root check
	lock -s
	lab_is_up || die "the lab is not up: scripts/lab up"
	[[ $node == all ]] && targets=("${NODES[@]}") || targets=("$node")
	TOTAL_OK=0 TOTAL_FAILED=0

	echo "OPTIONS probes from $NS_LB (as siphond will send them):"
	for n in "${targets[@]}"; do
		if ((v6)); then addr=$(node6 "$n") src=$LB_CORE6; else addr=$(node4 "$n") src=$LB_CORE4; fi
		line=$(probe "$NS_LB" "$addr" "$src")
		if ((v6)); then addr="[$addr]"; fi
		printf '  %-10s %-26s %s\n' "$n" "$addr:5060" "${line:-no answer}"
		[[ $line == "SIP/2.0 200 "* ]] || bad=1
	done

	echo "SIPp UAC from $NS_CALLER ($CALLS calls at $RATE/s each${LENGTH[1]:+, ${LENGTH[1]} ms long}, at most ${CHECK_TIMEOUT}s):"
	if ((vip)); then
		if ((v6)); then addr=$VIP6; else addr=$VIP4; fi
		uac vip "$addr" || bad=1
	else
		for n in "${targets[@]}"; do
			if ((v6)); then addr=$(node6 "$n"); else addr=$(node4 "$n"); fi
			uac "$n" "$addr" || bad=1
		done
	fi
	echo "check: $TOTAL_OK calls ok, $TOTAL_FAILED failed$( ((bad)) && echo ' - FAILED' )"
	((bad == 0))
}
