# shellcheck shell=bash
# scripts/lab: `status` (docs/lab.md). Sourced by scripts/lab.

# --- status ------------------------------------------------------------

STATUS_PY=$(cat <<'EOF'
import json, sys
MODES = {1: "native", 2: "generic", 3: "offload"}
row = "{:<11} {:<12} {:<8} {:<18} {:<8} {:<14} {}"
print(row.format("NAMESPACE", "INTERFACE", "STATE", "MAC", "RX/TX Q", "XDP", "ADDRESSES"))
for line in sys.stdin:
    ns, js = line.rstrip("\n").split("\t", 1)
    for l in json.loads(js):
        addrs = [a for a in l.get("addr_info", [])
                 if a.get("scope") != "link" and a["local"] not in ("127.0.0.1", "::1")]
        if l["ifname"] == "lo" and not addrs:
            continue
        xdp = l.get("xdp")
        if xdp:
            prog = xdp.get("prog", {}).get("id")
            mode = MODES.get(xdp.get("mode"), str(xdp.get("mode")))
            xdp = "%s id %s" % (mode, prog) if prog else mode
        words = ["%s/%s" % (a["local"], a["prefixlen"]) for a in addrs]
        if l.get("master"):
            words.append("(port of %s)" % l["master"])
        elif l.get("linkinfo", {}).get("info_kind") == "bridge":
            words.append("(bridge)")
        queues = "%s/%s" % (l.get("num_rx_queues", "?"), l.get("num_tx_queues", "?"))
        print(row.format(ns, l["ifname"], l.get("operstate", "?"), l.get("address", ""),
                         queues, xdp or "-", " ".join(words)))
EOF
)

cmd_status() {
	(($# == 0)) || usage
	need_root status
	lock -s
	if ! lab_is_up; then
		if leftovers; then
			echo "siphon lab: half up (left over: $(lab_namespaces | xargs) $(root_links | xargs)); scripts/lab down removes it"
		else
			echo "siphon lab: down"
		fi
		return 1
	fi
	local mode
	mode=$(env_get SIPHON_LAB_MODE)
	echo "siphon lab: up since $(<"$RUN/up"); core nodes: $(env_get SIPHON_LAB_CORE);" \
		"peer XDP: $( (($(env_get SIPHON_LAB_PEER_XDP))) && echo on || echo off); queues per veth: $(env_get SIPHON_LAB_QUEUES)"
	if [[ $mode == kernel ]]; then
		echo "mode: kernel (no balancer yet: sph-lb routes the VIP $VIP4 / $VIP6 to b1)"
	else
		echo "mode: siphon (the VIP is on sph-lb's loopback; siphon must run in sph-lb)"
	fi
	echo "env: $RUN/env  config: $RUN/lab.conf  bpffs: $RUN/bpffs ($(mountpoint -q "$RUN/bpffs" && echo mounted || echo NOT mounted))"
	echo
	local ns
	{
		for ns in "${ALL_NS[@]}"; do
			printf '%s\t' "$ns"
			ip -n "$ns" -j -d addr show | tr -d '\n'
			echo
		done
	} | /usr/bin/python3 -c "$STATUS_PY"
	echo
	echo "routes in $NS_LB toward the VIP:"
	{ ip -n "$NS_LB" route show "$VIP4/32"; ip -n "$NS_LB" -6 route show "$VIP6/128"; } | sed 's/^/  /'
	ip -n "$NS_LB" addr show dev lo | awk -v v4="$VIP4" -v v6="$VIP6" '$2 ~ "^(" v4 "|" v6 ")/" { print "  " $2 " local on lo" }'
	echo
	echo "core node servers:"
	local f pid child bad=0 name calls
	for ns in "${NODES[@]/#/sph-}"; do
		for f in "$RUN/$ns"/*.pid; do
			[[ -f $f ]] || continue
			name=$(basename "$f" .pid)
			pid=$(<"$f")
			if kill -0 "$pid" 2>/dev/null; then
				child=$(ps -o pid=,comm= --ppid "$pid" | xargs)
				calls=""
				[[ -f $RUN/$ns/$name.csv ]] && calls=$(stat_field "$RUN/$ns/$name.csv" 'SuccessfulCall(C)')
				printf '  %-7s %-14s running  pid %s (%s)%s\n' "$ns" "$name" "$pid" "${child:-?}" \
					"${calls:+  calls answered: $calls (SIPp stats, every 10 s)}"
			else
				printf '  %-7s %-14s DEAD (pid %s; log %s)\n' "$ns" "$name" "$pid" "$RUN/$ns/$name.log"
				bad=1
			fi
		done
	done
	((bad == 0)) || return 1
}

stat_field() { # CSV FIELD: the field's value in the last line of a SIPp -trace_stat file
	awk -F';' -v want="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) col = i; next }
		col && NF >= col { v = $col } END { print v }' "$1"
}
