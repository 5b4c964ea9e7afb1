#!/usr/bin/env python3
"""The census's cost inside a real Kahua worker, by continuations held.

Starts a private site of the kahua-lab kit (KAHUA_PREFIX, else /opt/kahua),
views the kit's wiki type once, then mints continuations in its worker
through Kahua's own session-cont-register (an eval loop) up to each size,
and at each size sends the program's census expression (read from
kahua_census.c, byte for byte what the program sends) five times.  Figures: the census's own time inside the worker (it reports
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
BIN = os.environ.get("KR_BIN", os.path.join(TOP, "kahua-restarter"))
KIT = os.environ.get("KAHUA_LAB", "/work/shared/kahua-lab")
HDR = '(("x-kahua-eval" "#t") ("x-kahua-sgsid" "kahua-restarter"))'


def census_expr():
    """The census expression exactly as the program sends it (kahua_census.c)."""
    src = open(os.path.join(TOP, "kahua_census.c")).read()
    start = src.index("const char kahua_census_request[] =")
    end = src.index(";", src.index("makers))))", start))
    text = ""
    for line in src[start:end].splitlines()[1:]:
        line = line.strip()
        if line.startswith('"'):
            text += bytes(line[1:-1], "utf-8").decode("unicode_escape")
    return text.split("\n", 1)[1]


def ev(sock, body, timeout=120):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock)
    t = time.monotonic()
    s.sendall((HDR + "\n" + body).encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode(errors="replace"), time.monotonic() - t


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
        expr = census_expr()
        rows = []
        for n in sizes:
            have = int(ev(sock, "(with-module kahua.session (hash-table-num-entries (class-slot-ref <session-cont> 'key->session)))")[0].split('"')[-2])
            if n > have:
                ev(sock, "(with-module kahua.session (dotimes (i %d) (session-cont-register (lambda () i))) #t)" % (n - have))
            inside, trip, size = [], [], 0
            for _ in range(5):
                reply, dt = ev(sock, expr)
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
