#!/usr/bin/env bash
# Suite netns: a pool node given by an SRV name, served by dnsmasq in the
# lab (docs/dns.md "Tested in the lab", docs/lab.md). The lab runs on
# tests/netns/dns_lab.conf: pool core = `srv "core.lab.test"`,
# balancer.dns_servers = 198.18.2.53, an address this test puts on the
# core segment's bridge (namespace sph-sw), where dnsmasq answers with a
# 2 s TTL. siphond in sph-lb resolves, probes and publishes; siphon
# --siphond (XDP) carries the calls.
#   1. _sip._udp.core.lab.test -> b1 (priority 10, weight 60), b2 (10, 40):
#      pool show has exactly those two nodes with the SRV priority and
#      weight; CALLS calls, 0 failed, every INVITE at b1 or b2.
#   2. the SRV record changed (b2's replaced by b3): within the TTL a new
#      generation, acked by siphon (the time from the changed record being
#      served to siphon's ack is printed); CALLS calls land on b1 and b3.
#   3. dnsmasq stopped: the failure counted (the name's `failures` and
#      state's dns.failures) and logged, the last good answer kept (the
#      same nodes, the same generation, also after another TTL); CALLS
#      calls, 0 failed, on b1 and b3. dnsmasq back: `resolves again`,
#      nothing published.
# dnsmasq re-reads only hosts files (and --servers-file, which holds only
# upstream servers) on SIGHUP: --srv-host, on the command line or in a
# conf file, is read at start. So an SRV change is a restart of dnsmasq on
# a rewritten records file, timed just after siphond's query so that the
# few milliseconds without a server fall between two of them.
# IO=dpdk (siphond-dns-lab-dpdk): the same with siphon --io dpdk; the
# nodes an SRV name gives have no MAC: their next hops are the kernel's
# on sph-lb-core (docs/dpdk.md "Next hops"); at the end every siphon run
# gave its mbufs back.
# On failure (or KEEP=1) its files are kept in /tmp/siphond-dns.last.
set -euo pipefail
lab=$1
ctl=${2:?usage: siphond_dns_check.sh LAB SIPHONCTL}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/netns/netns_lib.sh
source "$here/netns_lib.sh"
keep=/tmp/siphond-dns.last
trap siphond_exit EXIT
trap 'exit 143' TERM INT # meson's timeout: still clean up
CALLS=150 # per phase, at 150/s
TTL=2     # s: dnsmasq's --local-ttl, every record's TTL
DNS_NS=sph-sw DNS_IF=sph-sw-br DNS4=198.18.2.53
SRV=_sip._udp.core.lab.test
dns_dir=$work/dns dns_pid=''

# --- dnsmasq (Debian's, scripts/setup), ours alone: no /etc file read
dns_records() { # TARGET:WEIGHT...: the SRV records (priority 10) and every node's A record
	local t n
	{
		for t; do echo "srv-host=$SRV,${t%:*}.core.lab.test,5060,10,${t#*:}"; done
		for n in b1 b2 b3; do echo "host-record=$n.core.lab.test,198.18.2.$((20 + ${n#b}))"; done
	} >"$dns_dir/records.conf"
}
dns_listening() { [[ -n $(ip netns exec "$DNS_NS" ss -Hlun "src $DNS4:53") ]]; }
dns_start() { # in the foreground of its `timeout`; `lab down` ends it with the namespace
	ip netns exec "$DNS_NS" timeout 300 dnsmasq --keep-in-foreground --conf-file="$dns_dir/records.conf" \
		--no-resolv --no-hosts --listen-address="$DNS4" --bind-dynamic --port=53 \
		--local-ttl="$TTL" --user=root --pid-file= --log-queries \
		--log-facility="$dns_dir/dnsmasq.log" </dev/null 2>>"$dns_dir/dnsmasq.err" &
	dns_pid=$!
	wait_for 50 dns_listening || fail "dnsmasq does not listen on $DNS4:53 ($(cat "$dns_dir/dnsmasq.err"))"
}
dns_stop() {
	kill -TERM "$dns_pid"
	wait "$dns_pid" || true
	dns_pid=''
	! dns_listening || fail "dnsmasq still listens"
}

# --- what siphond shows
name_field() { "$ctl" --socket "$sock" pool show --json | jq_py "d['pools'][0]['names'][0]['$1']"; } # KEY
dns_field() { "$ctl" --socket "$sock" state --json | jq_py "d['dns']['$1']"; }                     # KEY
resolved() { # the name's nodes: NAME/pPRIORITY/wWEIGHT, in pool order
	"$ctl" --socket "$sock" pool show --json |
		jq_py "' '.join('%s/p%d/w%d' % (n['name'], n['priority'], n['weight']) for n in d['pools'][0]['names'][0]['nodes'])"
}
pool_nodes() { "$ctl" --socket "$sock" pool show --json | jq_py "' '.join(n['name'] for n in d['pools'][0]['nodes'])"; }
synced() { # NODES: siphon acked the running generation; the pool is NODES, all active
	local g
	g=$(running_gen)
	(($(acked) >= g)) && [[ $("$ctl" --socket "$sock" pool show --json |
		jq_py "' '.join(n['name'] for n in d['pools'][0]['nodes'] if n['state'] == 'active')") == "$1" ]]
}
wait_synced() { # NODES WHAT
	wait_for 50 synced "$1" ||
		fail "$2: not [$1] active and acked within 5 s (pool: $(pool_nodes), generation $(running_gen), acked $(acked))"
	echo "$2: [$1] active; generation $(running_gen) acked by siphon"
}
forwarded() { "$ctl" --socket "$sock" pool show --json | jq_py "json.dumps({n['name']: n['forwarded'] for n in d['pools'][0]['nodes']})"; }
counted() { # BEFORE LABEL: siphond's forwarded counts moved by what the nodes received (lab calls)
	"$py" - "$1" "$(forwarded)" "$work/$2.calls" <<'PY'
import json, sys
before, after, calls = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.load(open(sys.argv[3]))
moved = {n: c - before.get(n, 0) for n, c in after.items()}
r = calls["received"]  # by method, at every node; DSR: siphon forwards requests only
want = r.get("INVITE", 0) + r.get("ACK", 0) + r.get("BYE", 0)
by_node = {"sip@198.18.2.2%s" % b[1]: n for b, n in calls["invites_by_node"].items()}
sys.exit(0 if sum(moved.values()) == want and
         all((moved[n] > 0) == (by_node.get(n, 0) > 0) for n in moved) else 1)
PY
}
calls_counted() { # LABEL B1 B2 B3: calls_to, and siphond's node counters agree with the nodes
	local before
	before=$(forwarded)
	calls_to "$@"
	wait_for 50 counted "$before" "$1" ||
		fail "$1: siphond's forwarded counts, $before -> $(forwarded), are not what the nodes received"
	echo "$1: siphond's forwarded counts $before -> $(forwarded)"
}
fresh_answer() { awk -v t="$(name_field ttl_left_s)" 'BEGIN { exit !(t > 1.2) }'; } # asked < 0.8 s ago
failing() { [[ $(name_field failing) == True ]]; }
expect() { # WHAT GOT WANT
	[[ $2 == "$3" ]] || fail "$1: [$2], want [$3]"
	echo "$1: $2"
}

"$lab" down >/dev/null 2>&1 || true
lab_up --config "$here/dns_lab.conf"
ip -n "$DNS_NS" addr add "$DNS4/24" dev "$DNS_IF" # a DNS server on the core segment
mkdir -p "$dns_dir"
dns_records b1:60 b2:40
dns_start
tcpdump_on "$DNS_NS" "$DNS_IF" "$dns_dir/dns.pcap" udp port 53 # the queries' times
"$lab" siphond start
"$lab" siphon start --siphond
wait_synced "sip@198.18.2.21 sip@198.18.2.22" "start"

echo "--- 1. the SRV name resolved: b1 and b2 with the records' priority and weight"
expect "resolved" "$(resolved)" "sip@198.18.2.21/p10/w60 sip@198.18.2.22/p10/w40"
expect "pool core" "$(pool_nodes)" "sip@198.18.2.21 sip@198.18.2.22"
expect "query, TTL, failing" "$(name_field query) $(name_field ttl_s) $(name_field failing)" "$SRV $TTL False"
calls_counted "srv-b1-b2" + + 0

echo "--- 2. the SRV record changed: b2's target replaced by b3"
gen=$(running_gen) failures=$(name_field failures)
wait_for 50 fresh_answer || fail "siphond did not ask again within 5 s (TTL $TTL s)"
dns_records b1:60 b3:40
dns_stop
dns_start
t_served=$(now)
wait_for 50 acked_ge $((gen + 1)) || fail "no generation $((gen + 1)) acked within 5 s of the change"
t_acked=$(now) gen_changed=$((gen + 1))
echo "record change served -> generation $((gen + 1)) acked by siphon: $(ms "$t_served" "$t_acked") ms (TTL $TTL s)"
expect "generation" "$(running_gen)" $((gen + 1))
expect "resolved" "$(resolved)" "sip@198.18.2.21/p10/w60 sip@198.18.2.23/p10/w40"
expect "failures during the change" "$(name_field failures)" "$failures"
grep -q "^siphond: dns: core/sip: $SRV: 2 -> 2 nodes (TTL $TTL s): 198.18.2.21:5060/p10/w60 198.18.2.23:5060/p10/w40$" \
	"$lb/siphond.log" || fail "the new answer is not logged"
grep -q "^siphond: dns: generation $((gen + 1)) published" "$lb/siphond.log" || fail "no 'dns: generation $((gen + 1)) published' in siphond's log"
wait_synced "sip@198.18.2.21 sip@198.18.2.23" "changed"
calls_counted "srv-b1-b3" + 0 +

echo "--- 3. dnsmasq stopped: the last good answer kept"
gen=$(running_gen) failures=$(name_field failures) dns_failures=$(dns_field failures)
dns_stop
t_stop=$(now)
wait_for $(((TTL + 3) * 10)) failing || fail "no DNS failure shown within $((TTL + 3)) s"
echo "failure shown after $(ms "$t_stop" "$(now)") ms: $(name_field last_error)"
# one failed resolution so far (the next try is a TTL away): counted once, by the name and in state
expect "failures: the name's, state's dns" "$(name_field failures) $(dns_field failures)" "$((failures + 1)) $((dns_failures + 1))"
[[ $(name_field last_error) == *"Could not contact DNS servers"* ]] || fail "last_error: $(name_field last_error)"
grep -q "dns: core/sip: $SRV SRV: Could not contact DNS servers; keeping the last answer (2 nodes)" "$lb/siphond.log" ||
	fail "the failure is not logged"
sleep $((TTL + 1)) # another try, failed too: counted, not logged again (once per run of an error)
(($(name_field failures) >= failures + 2)) || fail "the name's failures: $failures -> $(name_field failures) after two failed tries"
expect "failure log lines" "$(grep -c "SRV: Could not contact DNS servers; keeping the last answer" "$lb/siphond.log")" 1
# the same in /metrics (a further try may have failed since: at least as many)
m=$(ip netns exec sph-lb curl -sf --max-time 5 http://127.0.0.1:9109/metrics) || fail "no /metrics"
lbl='{pool="core",name="sip",query="'"$SRV"'"}'
expect "/metrics: failing, nodes" "$(grep -F -e "siphon_dns_failing$lbl" -e "siphon_dns_nodes$lbl" <<<"$m" | awk '{ print $2 }' | paste -sd' ')" "2 1"
(($(grep -F "siphon_dns_failures_total$lbl" <<<"$m" | awk '{ print $2 }') >= failures + 2)) ||
	fail "/metrics: siphon_dns_failures_total: $(grep -F "siphon_dns_failures_total" <<<"$m")"
expect "resolved, DNS down" "$(resolved)" "sip@198.18.2.21/p10/w60 sip@198.18.2.23/p10/w40"
expect "generation, DNS down" "$(running_gen)" "$gen"
wait_synced "sip@198.18.2.21 sip@198.18.2.23" "DNS down"
calls_counted "dns-down" + 0 +

echo "--- dnsmasq back: the same answer, nothing published"
dns_start
wait_for $(((TTL + 3) * 10)) eval '! failing' || fail "the name still fails $((TTL + 3)) s after dnsmasq came back"
grep -q "dns: core/sip: $SRV resolves again" "$lb/siphond.log" || fail "no 'resolves again' in siphond's log"
expect "generation, DNS back" "$(running_gen)" "$gen"
tcpdump_stop
# the change on the wire (the capture flushed): siphond's first query to the new server, the last answer before the ack
read -r t_query t_answer < <(tcpdump -r "$dns_dir/dns.pcap" -tt -n 2>/dev/null | awk -v s="$t_served" -v a="$t_acked" '
	$1 > s && $1 < a && $5 == "'"$DNS4"'.53:" && !q { q = $1 }
	$1 > s && $1 < a && $3 == "'"$DNS4"'.53" { r = $1 }
	END { printf "%s %s\n", q ? q : s, r ? r : s }')
echo "FIGURE record change served -> generation $gen_changed acked by siphon: $(ms "$t_served" "$t_acked") ms" \
	"(TTL $TTL s): to siphond's next query $(ms "$t_served" "$t_query") ms (the TTL left)," \
	"its last answer $(ms "$t_query" "$t_answer") ms later, then to the ack $(ms "$t_answer" "$t_acked") ms"
if [[ $IO == dpdk ]]; then
	"$lab" siphon stop # its exit summary: the mbufs
	mbufs_returned
fi
echo "siphond dns: ok"
