#!/usr/bin/python3
"""tests/netns/bench_smoke_check.py BENCH REPORT_JSON: asserts that the
report a bench's --smoke run wrote is sane (tests/netns/bench_smoke.sh,
tests/bench/micro_smoke.sh): a table row for every configuration it ran,
no zero rates or counts, nothing lost or failed where siphon must lose
nothing. Values only, never a timing. Exit 1 with the reason if not."""
import json
import shutil
import sys

KAMAILIO = shutil.which("kamailio") is not None  # the smokes run it when installed


def rows_by_name(table):
    """{configuration: [row, ...]} of a report table (its first column)"""
    by = {}
    for row in table["rows"]:
        by.setdefault(row[0], []).append(row)
    return by


def expect(by, names):
    for name in names:
        assert name in by, f"no row for '{name}' (rows: {sorted(by)})"


def blast(r):
    by = rows_by_name(r["tables"][0])
    expect(by, ["plain kernel routing (no balancer)", "siphon kernel lane"]
           + (["Kamailio stateless dispatcher, tuned"] if KAMAILIO else []))
    low = min(row[1] for row in r["tables"][0]["rows"])
    for name, rows in by.items():
        for _, rate, offered, sent, forwarded, lost, bal_us, *_ in rows:
            assert rate > 0 and offered > 0 and sent > 0 and forwarded > 0, (name, rate, offered, sent, forwarded)
            if rate == low:
                assert lost == 0, f"{name} at {rate}/s: {lost} of {sent} messages lost"
                assert bal_us is not None and bal_us >= 0, f"{name}: no balancer CPU per message"
                # the kernel lane's XDP program is counted in ns by bpf_stats
                assert name != "siphon kernel lane" or bal_us > 0, f"{name}: no XDP run time per message"
    return by


def failover(r):
    by = rows_by_name(r["tables"][0])
    siphon = "siphon, probes every 200 ms (the lab's)"
    expect(by, [siphon] + (["Kamailio dispatcher, probes every 1 s"] if KAMAILIO else []))
    for name, ((_, last_new_ms, _new, _inv, detected_ms, _why, _out, calls, failed, *_),) in by.items():
        assert calls > 0, f"{name}: no calls"
        assert last_new_ms is not None and detected_ms is not None, f"{name}: no kill-to-last-new-call figure"
        assert name != siphon or failed == 0, f"{name}: {failed} of {calls} calls failed"
    last = [c for c in r["checks"] if c["what"] == siphon + ": kill to the last new call at the dead node"]
    assert last and last[0]["value"] is not None, "no check 'kill to the last new call' for siphon"
    return by


def churn(r):
    by = rows_by_name(r["tables"][0])
    siphon = "siphon, node drain, remove / add"
    expect(by, [siphon] + (["Kamailio dispatcher (hash over the set), reload"] if KAMAILIO else []))
    for name, ((_, calls, broken, failed, elsewhere, *_),) in by.items():
        assert calls > 0, f"{name}: no calls"
        if name == siphon:
            assert broken == 0 and failed == 0, f"{name}: {broken} calls broken ({failed} failed, {elsewhere} away)"
    return by


def reorder(r):
    by = rows_by_name(r["tables"][0])
    siphon = "siphon, kernel lane (2 queues)"
    expect(by, [siphon] + (["Kamailio, 2 workers"] if KAMAILIO else []))
    for name, ((_, sent, received, lost, _drop, seen, _inc, reordered, *_),) in by.items():
        assert sent > 0 and received > 0 and seen > 0, (name, sent, received, seen)
        if name == siphon:
            assert lost == 0 and reordered == 0, f"{name}: {lost} messages lost, {reordered} calls reordered"
    return by


def micro(r):
    by = {}
    for t in r["tables"]:
        assert t["rows"], f"table '{t['title']}' has no rows"
        by[t["title"]] = len(t["rows"])
    for c in r["checks"]:
        assert c["value"] is not None and c["value"] > 0, f"check '{c['what']}': {c['value']}"
    return by


def sipp(r):
    rows = r["tables"][0]["rows"]
    low = min(x[1] for x in rows)
    seen = {}
    for name, rate, calls, ok, failed, reached, bal_us, *_ in rows:
        seen.setdefault(name, []).append(rate)
        assert rate > 0 and calls > 0 and reached > 0, (name, rate, calls, reached)
        if rate == low:
            assert ok == calls and failed == 0, f"{name} at {rate}/s: {ok} ok, {failed} failed of {calls}"
            # process time is tick-sampled (4 ms): a few calls may cost 0 ticks;
            # the kernel lane's XDP program is counted in ns by bpf_stats
            assert bal_us is not None and bal_us >= 0, f"{name}: no balancer CPU per call"
            assert name != "siphon kernel lane" or bal_us > 0, f"{name}: no XDP run time per call"
    assert any(n.startswith("plain") for n in seen) and "siphon kernel lane" in seen, seen
    return seen


def xdp(r):
    """a row per lane with a rate above 0 at the sink and at the generator,
    one generator (live frames or the AF_PACKET TX ring) named in every row
    and in the description, both ratios given"""
    lanes = {name: (mpps, gen, generator) for name, mpps, _rounds, gen, generator in r["tables"][0]["rows"]}
    expect(lanes, ["trivial redirect (XDP, DEVMAP)", "siphon in-kernel lane",
                   "trivial AF_XDP forwarder", "siphon AF_XDP lane"])
    for name, (mpps, gen, generator) in lanes.items():
        assert mpps and mpps > 0, f"{name}: {mpps} Mpps at the sink"
        assert gen and gen > 0, f"{name}: the generator sent {gen} Mpps"
        assert generator in ("live", "packet"), f"{name}: generator {generator!r}"
    generators = {g for _, _, g in lanes.values()}
    assert len(generators) == 1, f"one generator per run, not {generators}"
    assert "Generator: " in r["description"], "the description does not name the generator"
    for c in r["checks"]:
        assert c["value"] > 0 and c["baseline"] > 0, c
    return lanes


CHECKS = {"sipp": sipp, "xdp": xdp, "blast": blast, "failover": failover, "churn": churn, "reorder": reorder, "micro": micro}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        sys.exit(f"usage: bench_smoke_check.py {{{'|'.join(CHECKS)}}} REPORT_JSON")
    result = json.load(open(sys.argv[2]))
    assert result["name"] == sys.argv[1], f"the report is of '{result['name']}'"
    try:
        seen = CHECKS[sys.argv[1]](result)
    except (AssertionError, KeyError, IndexError, TypeError, ValueError) as e:
        print(f"bench {sys.argv[1]}: {type(e).__name__}: {e}")
        sys.exit(1)
    print(f"bench {sys.argv[1]}: sane ({', '.join(seen)})")


if __name__ == "__main__":
    main()
