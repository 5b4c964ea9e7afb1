#!/usr/bin/env python3
"""The census's cost inside a real Kahua worker, by continuations held.

Starts a private site of the kahua-lab kit (KAHUA_PREFIX, else /opt/kahua),
views the kit's wiki type once, then mints continuations in its worker
through Kahua's own session-cont-register (an eval loop) up to each size,
and at each size sends the census request (as recorded in
test/vectors/census-sweep.json: the program's own) five times.  Figures: the census's own time inside the worker (it reports
its elapsed microseconds), the round trip on the worker's socket, the
reply's size, and a whole `kahua-restarter census` run.  Prints Markdown;
nothing passes or fails.

usage: bench/bench_census.py [SIZE ...]   (default 10000 50000 100000)
"""

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "test", "integration"))
import harness  # noqa: E402  (raw_exchange)
BIN = os.environ.get("KR_BIN", os.path.join(TOP, "kahua-restarter"))
KIT = os.environ.get("KAHUA_LAB", "/work/shared/kahua-lab")
HDR = '(("x-kahua-eval" "#t") ("x-kahua-sgsid" "kahua-restarter"))'


def census_request():
    """The census request as recorded (test_kahua_census checks it is the
    program's own, byte for byte)."""
    with open(os.path.join(TOP, "test", "vectors", "census-sweep.json")) as f:
        return [c["sent"] for c in json.load(f) if c["case"].startswith("census: a hello")][0]


def ev(sock, request, timeout=120):
    t = time.monotonic()
    out = harness.raw_exchange(sock, request.encode(), timeout=timeout).decode(errors="replace")
    return out, time.monotonic() - t


def free_port():
    while True:
        p = random.randint(20000, 29999)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            s.close()
            return p
        except OSError:
            pass


def main(sizes):
    site = tempfile.mkdtemp(prefix="kr-census-bench-") + "/site"
    port = free_port()
    subprocess.run([KIT + "/start.sh", site, str(port)], check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:%d/wiki/" % port], check=True)
        st = json.loads(subprocess.run([BIN, "-S", site, "status", "--json"], check=True,
                                       capture_output=True, text=True).stdout)
        wiki = [w for w in st["workers_before"] if w["type"] == "wiki"][0]["id"]
        sock = os.path.join(site, "socket", wiki)
        census = census_request()
        rows = []
        for n in sizes:
            have = int(ev(sock, HDR + "\n(with-module kahua.session (hash-table-num-entries (class-slot-ref <session-cont> 'key->session)))")[0].split('"')[-2])
            if n > have:
                ev(sock, HDR + "\n(with-module kahua.session (dotimes (i %d) (session-cont-register (lambda () i))) #t)" % (n - have))
            inside, trip, size = [], [], 0
            for _ in range(5):
                reply, dt = ev(sock, census)
                m = re.search(r"\(census 1 (\d+) ", reply)
                if m is None:
                    sys.exit("census answered: %r" % reply[:400])
                inside.append(int(m.group(1)) / 1000.0)
                trip.append(dt * 1000.0)
                size = len(reply)
            t = time.monotonic()
            out = subprocess.run([BIN, "-S", site, "census", "wiki", "--json"], check=True,
                                 capture_output=True, text=True).stdout
            whole = (time.monotonic() - t) * 1000.0
            total = json.loads(out)["workers"][0]["continuations"]["total"]
            rows.append((total, statistics.median(inside), max(inside), statistics.median(trip), size, whole))
        print("| continuations | census in the worker, median ms | max ms | socket round trip, median ms | reply bytes | `kahua-restarter census wiki --json` ms |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            print("| %d | %.1f | %.1f | %.1f | %d | %.0f |" % r)
    finally:
        subprocess.run([KIT + "/stop.sh", site], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000, 50000, 100000])
