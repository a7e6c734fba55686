#!/usr/bin/env python3
"""Timing siphond's RPC for the netns checks (siphond_pools_check.sh).

  rpc_timing.py change SOCK -- SIPHONCTL ARGS... --json
      runs the siphonctl command (a pool change), then polls `state` on SOCK
      every 5 ms until every attached fast path acked the generation the
      reply names (at most 5 s); prints {"generation", "changed", "rpc_ms"
      (the command's own time), "ack_ms" (from its start to the ack seen),
      "start" (epoch)}; exit 1 on a failed command or no ack.
  rpc_timing.py rtt SOCK METHOD N
      N requests of METHOD on one connection, one at a time; prints
      {"median_ms", "min_ms", "max_ms", "n"}."""
import json
import socket
import statistics
import subprocess
import sys
import time


class Rpc:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.buf = b""

    def call(self, method, params=None):
        self.s.sendall((json.dumps({"method": method, "params": params or {}, "id": 1}) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError("siphond closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def change(sock, argv):
    start = time.time()
    t0 = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True)
    rpc_ms = (time.monotonic() - t0) * 1000
    if r.returncode != 0:
        print(r.stderr.strip(), file=sys.stderr)
        return 1
    res = json.loads(r.stdout)
    gen, rpc = res["generation"], Rpc(sock)
    while time.monotonic() - t0 < 5:
        fps = rpc.call("state")["result"]["fast_paths"]
        if fps and min(f["generation"] for f in fps) >= gen:
            print(json.dumps({"generation": gen, "changed": res.get("changed", True),
                              "rpc_ms": round(rpc_ms, 1),
                              "ack_ms": round((time.monotonic() - t0) * 1000, 1),
                              "start": start}))
            return 0
        time.sleep(0.005)
    print("generation %d not acked within 5 s" % gen, file=sys.stderr)
    return 1


def rtt(sock, method, n):
    rpc, times = Rpc(sock), []
    for _ in range(n):
        t0 = time.monotonic()
        assert "result" in rpc.call(method)
        times.append((time.monotonic() - t0) * 1000)
    print(json.dumps({"median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
                      "max_ms": round(max(times), 3), "n": n}))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "change" and sys.argv[3] == "--":
        sys.exit(change(sys.argv[2], sys.argv[4:]))
    if sys.argv[1] == "rtt":
        sys.exit(rtt(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    sys.exit(2)
