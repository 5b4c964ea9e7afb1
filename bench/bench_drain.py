#!/usr/bin/env python3
"""Benchmark 5: draining, on a site with one two-worker type (hello x2).
Wall of one restart of both workers with no load, per method, against the
simulator's own (restart *); then ten restarts in a row under 50
requests/s, counting failed requests."""

import sys
import time

import common as c
from bench_avail import Outcome, describe
from loadgen import Load

RATE = 50.0
IN_A_ROW = 10
CLIENT_TIMEOUT = 2.0
PAUSE = 1.0         # load alone between two restarts, s
TYPES = [("hello", [], 2)]
METHODS = ["raw (restart *)", "rolling", "surge", "rolling --drain-timeout 0"]
OLD = ["old rolling --settle 0.5", "old rolling --settle 0"]


def restart(sim, site, method, limit=60.0):
    """(seconds, why) of one restart of both workers."""
    if method.startswith("raw"):
        reply, secs = c.raw_call(sim, "(restart *)", timeout=limit)
        return secs, None if c.raw_ok(reply) else "reply %r" % reply[:200]
    m = c.method_restarter(method, ["-S", site.root, "restart"], timeout=limit)
    return m.wall, None if m.ok else "exit %s: %s" % (m.status, m.err.strip()[-300:])


def no_load(sim, site, methods, rounds):
    walls = {m: [] for m in methods}
    for rnd in range(rounds):
        for method in methods[rnd % len(methods):] + methods[:rnd % len(methods)]:
            time.sleep(0.2)
            secs, why = restart(sim, site, method)
            if why:
                c.log("drain: %s: %s" % (method, why))
            else:
                walls[method].append(secs)
    return walls


def in_a_row(sim, site, method, n):
    load = Load(sim.port, ["/hello/"], rate=RATE, timeout=CLIENT_TIMEOUT,
                max_requests=int(RATE * (n * (10 + PAUSE) + 2)))
    t0 = load.start()
    time.sleep(max(0.0, t0 + 0.5 - time.monotonic()))
    walls, whys = [], []
    for i in range(n):
        if i:
            time.sleep(PAUSE)
        secs, why = restart(sim, site, method)
        walls.append(secs)
        if why:
            whys.append(why)
    load.stop(time.monotonic() + 0.5)
    return Outcome(load.join(), sum(walls), "; ".join(whys) or None), walls


def no_load_table(sim, site, methods, rounds, sec, tag):
    t = c.Table(["method", "runs", "median s", "min s", "max s", "vs raw"], align=list("lrrrrr"))
    c.log("drain: no load (%s), %d rounds" % (tag, rounds))
    walls = no_load(sim, site, methods, rounds)
    raw = c.median(walls[methods[0]])
    for m in methods:
        med = c.median(walls[m])
        t.add(m, len(walls[m]), c.s3(med), c.s3(min(walls[m], default=None)),
              c.s3(max(walls[m], default=None)),
              "-" if m == methods[0] else "%.2f x" % (med / raw))
        sec.facts["noload %s %s" % (tag, m)] = med
    return t


def load_table(sim, site, methods, n, sec):
    t = c.Table(["method", "restarts", "requests", "failed", "failed per restart (min-max)",
                 "gap done s", "p99 ms", "median wall s"], align=list("lrrlrrrr"))
    for m in methods:
        c.log("drain: %d x %s under %g requests/s" % (n, m, RATE))
        time.sleep(0.5)
        o, w = in_a_row(sim, site, m, n)
        per = per_restart(o, w)
        t.add(m, n, o.n, "%d: %s" % (len(o.failed), describe(o.failed)),
              "%d-%d" % (min(per), max(per)), "%.2f" % o.gap_done,
              c.ms(c.pct(o.lat, 99), 0), c.s3(c.median(w)))
        sec.facts["load " + m] = len(o.failed)
        if o.why:
            c.log("drain: %s: %s" % (m, o.why))
    return t


def run(quick=False):
    methods = c.with_old(METHODS, OLD)
    rounds = 3 if quick else 7
    n = 3 if quick else IN_A_ROW
    sec = c.Section("5. draining: one two-worker type")
    sec.text(
        "A simulator site with one type, hello x2 (worker start-up %d ms; workers, "
        "supervisor and HTTP front queueing as in Kahua, see section 3). "
        "`raw (restart *)` is Kahua's own restart of both workers as kahua-admin "
        "sends it. The strategies run with default settings (probes, HTTP check, "
        "draining with --drain-timeout 5); `--drain-timeout 0` drains nothing and "
        "does not pause; `old` rows, when present, are the earlier build with its "
        "fixed pause (--settle 0.5, its default, and --settle 0)."
        % c.KAHUA_WORKER_DELAY_MS)
    d = c.harness.tempdir()
    try:
        site = c.harness.Site(d, types=TYPES, name="drain")
        sim = c.harness.Sim(site, worker_delay=c.KAHUA_WORKER_DELAY_MS)
        try:
            idle = no_load_table(sim, site, methods, rounds, sec, "idle")
        finally:
            sim.stop()
        sim = c.harness.Sim(site, worker_delay=c.KAHUA_WORKER_DELAY_MS,
                            extra=["--request-ms", str(c.LOADED_REQUEST_MS)])
        try:
            loaded = no_load_table(sim, site, methods, rounds, sec, "loaded")
            under = load_table(sim, site, methods, n, sec)
        finally:
            sim.stop()
    finally:
        c.harness.rmtree(d)
    sec.text("No load: wall of one restart of both workers, %d rounds interleaved "
             "(the issue's criterion: rolling and surge at most raw + 10 %%), with "
             "pages costing a worker the simulator's default 2 ms (an idle Kahua "
             "worker's CPU per hello page):" % rounds)
    sec.table(idle)
    sec.text("The same with pages costing %d ms (the loaded worker of the table "
             "below; each probe and HTTP check costs a page):" % c.LOADED_REQUEST_MS)
    sec.table(loaded)
    sec.text("Under %g requests/s (`/hello/`, open loop, %g s client limit, pages "
             "costing %d ms): %d restarts of both workers in a row per method, %g s "
             "apart, the load running throughout. Failed per restart: failures whose "
             "due time falls in each restart's window (from its start to the next one's)."
             % (RATE, CLIENT_TIMEOUT, c.LOADED_REQUEST_MS, n, PAUSE))
    sec.table(under)
    return sec


def per_restart(o, walls):
    """Failures by restart, from the due times of the failed requests."""
    first = min(r.due for r in o.reqs)
    edges, t = [], first + 0.5
    for w in walls:
        edges.append(t)
        t += w + PAUSE
    counts = [0] * len(walls)
    for r in o.failed:
        i = max(0, sum(1 for e in edges if e <= r.due) - 1)
        counts[min(i, len(walls) - 1)] += 1
    return counts


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
