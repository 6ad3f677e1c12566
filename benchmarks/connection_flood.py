#!/usr/bin/env python3
"""A `liftoff server` while one host holds thousands of idle connections.

Starts a server on a fresh data directory, measures `GET /api/v1/health`
from another loopback address (127.0.0.2) before, while 20,000 idle sockets
from 127.0.0.1 are opened (in several processes, so that none needs more
than 10,000 descriptors), and while they are held; then prints the latency
of the normal request in each phase, how long the flood took to open, how
many connections the server kept (its open descriptors) and its resident
memory, and the refusal lines of its log.

    python3 benchmarks/connection_flood.py --liftoff build/examples/liftoff [--sockets 20000]
"""

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# One process holding idle connections (shared with the server's test).
HOLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "support", "hold_connections.py")


def health_latency(port, n):
    """Milliseconds of `n` GET /api/v1/health, each on a new connection from 127.0.0.2."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
        c.request("GET", "/api/v1/health")
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise SystemExit(f"health answered {r.status}")
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms):
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):6.2f} ms   p99 {p99:6.2f} ms   max {ms[-1]:6.2f} ms   (n={len(ms)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liftoff", required=True)
    ap.add_argument("--sockets", type=int, default=20000)
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="liftoff-flood-")
    log_path = os.path.join(data, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen([args.liftoff, "server", "--data-dir", os.path.join(data, "d"), "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=log, text=True)
    port = None
    for line in server.stdout:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if not port:
        raise SystemExit("the server did not start; see " + log_path)

    def fds():
        return len(os.listdir(f"/proc/{server.pid}/fd"))

    def rss_mib():
        with open(f"/proc/{server.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    try:
        before = health_latency(port, args.requests)
        per_process = 10000
        procs = []
        started = time.perf_counter()
        left = args.sockets
        while left > 0:
            n = min(per_process, left)
            procs.append(subprocess.Popen([sys.executable, HOLD, str(port), str(n)], stdout=subprocess.PIPE, text=True))
            left -= n
        during = []
        done = threading.Event()

        def measure():
            while not done.is_set():
                during.extend(health_latency(port, 10))

        t = threading.Thread(target=measure)
        t.start()
        opened = sum(int(p.stdout.readline().split()[0]) for p in procs)
        flood_seconds = time.perf_counter() - started
        done.set()
        t.join()
        held = health_latency(port, args.requests)
        server_fds, server_rss = fds(), rss_mib()
        for p in procs:
            p.terminate()
            p.wait()
    finally:
        server.terminate()
        server.wait()
        log.close()

    refusals = [l.strip() for l in open(log_path) if "connection(s) with 503" in l]
    print(f"idle sockets opened from 127.0.0.1: {opened} of {args.sockets} in {flood_seconds:.1f} s")
    print(f"server while they were held: {server_fds} open descriptors, {server_rss:.1f} MiB resident")
    print("GET /api/v1/health from 127.0.0.2, a new connection each:")
    print(f"  before the flood      {summary(before)}")
    print(f"  while it was opening  {summary(during) if during else '(no sample)'}")
    print(f"  while it was held     {summary(held)}")
    print(f"refusal lines in the server's log: {len(refusals)}")
    for l in refusals[:3]:
        print("  " + l)


if __name__ == "__main__":
    main()
