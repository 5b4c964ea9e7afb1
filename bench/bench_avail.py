#!/usr/bin/env python3
"""Benchmark 3: availability of the site over HTTP while every worker is
restarted, under a steady open-loop load of 20 and 50 requests/s."""

import sys
import time

import common as c
from loadgen import Load, max_gap

RATES = [20.0, 50.0]
CLIENT_TIMEOUT = 2.0
LEAD = 0.5          # load before the restart starts, s
TAIL = 0.5          # load after the restart ends, s
RESTART_LIMIT = 60.0
PATHS = ["/hello/", "/wiki/"]
# No type leaks here: at 25 requests/s a worker keeping 5 MB per page
# grows by 125 MB/s and slows until it is never idle, which measures the
# leak, not the restart.
SITES = [
    (3, [("hello", [], 2), ("wiki", [], 1)]),
    (8, [("hello", [], 4), ("wiki", [], 2), ("blog", [], 2)]),
]
METHODS = ["raw (restart *)", "rolling", "rolling --drain-timeout 0", "surge", "all"]
OLD = ["old rolling --settle 0.5"]


def scenario(sim, site, method, rate):
    load = Load(sim.port, PATHS, rate=rate, timeout=CLIENT_TIMEOUT,
                max_requests=int(rate * (LEAD + RESTART_LIMIT + TAIL)) + 1)
    t0 = load.start()
    time.sleep(max(0.0, t0 + LEAD - time.monotonic()))
    r0 = time.monotonic()
    if method.startswith("raw"):
        reply, _ = c.raw_call(sim, "(restart *)", timeout=RESTART_LIMIT)
        why = None if c.raw_ok(reply) else "reply %r" % reply[:200]
    else:
        m = c.method_restarter(method, ["-S", site.root, "restart"], timeout=RESTART_LIMIT)
        why = None if m.ok else "exit %s: %s" % (m.status, m.err.strip()[-300:])
    r1 = time.monotonic()
    load.stop(r1 + TAIL)
    reqs = load.join()
    return Outcome(reqs, r1 - r0, why)


class Outcome:
    def __init__(self, reqs, restart_secs, why):
        self.reqs, self.restart_secs, self.why = reqs, restart_secs, why
        ok = [r for r in reqs if r.ok]
        self.n = len(reqs)
        self.failed = [r for r in reqs if not r.ok]
        first, last_due = reqs[0].due, reqs[-1].due
        last_done = max(r.done for r in reqs)
        # Longest interval with no successful response completing, from the
        # first request's due time to the last response.
        self.gap_done = max_gap([first, last_done] + [r.done for r in ok])
        # Longest interval of due times with no request that succeeded:
        # how long a client arriving then saw only failures.
        self.gap_sent = max_gap([first, last_due] + [r.due for r in ok])
        self.lat = [r.latency for r in ok]
        self.lag = max(r.sent - r.due for r in reqs)

    def kinds(self):
        k = {"5xx": 0, "timeout": 0, "conn": 0, "other": 0}
        for r in self.failed:
            if r.status is not None and r.status >= 500 and r.outcome.startswith("http"):
                k["5xx"] += 1
            elif r.outcome == "timeout":
                k["timeout"] += 1
            elif r.outcome.startswith("conn"):
                k["conn"] += 1
            else:
                k["other"] += 1
        return k


def describe(failed):
    """"http 500 x2, timeout x1" for a run's failed requests."""
    n = {}
    for r in failed:
        n[r.outcome] = n.get(r.outcome, 0) + 1
    return ", ".join("%s x%d" % (k, v) for k, v in sorted(n.items())) or "none"


def fmt_kinds(k):
    return "/".join(str(k[x]) for x in ("5xx", "timeout", "conn", "other"))


def run(quick=False):
    methods = c.with_old(METHODS, OLD)
    reps = 1 if quick else 2
    sites = SITES[:1] if quick else SITES
    sec = c.Section("3. availability during a restart")
    sec.text(
        "Open-loop HTTP load on the simulator's kahua-httpd front at 127.0.0.1: "
        "%s requests/s, due times fixed by the clock (request i at t0 + i/rate s) and "
        "handed to a pool of 100 threads, so held requests never delay later ones; "
        "every request a new connection (GET, `Connection: close`), alternating "
        "`/hello/` and `/wiki/` (a new session each; sites of hello 2 + wiki 1 and "
        "hello 4 + wiki 2 + blog 2 workers, none leaking), with a %g s client limit on "
        "the whole exchange. The load starts %g s before the restart and its last "
        "request is due %g s after the restart command returns; then the "
        "outstanding requests finish. Worker start-up %d ms; each page costs a "
        "worker %d ms (`--request-ms`, a loaded Kahua worker) and a worker serves one request at a time, finishing it on "
        "SIGTERM and resetting those queued behind it; the supervisor and the HTTP "
        "front serve through pools of 10 threads (all as in Kahua). The restart is the "
        "simulator's raw `(restart *)` (Kahua's own, as kahua-admin sends it) or "
        "`kahua-restarter --strategy S restart` with default settings (probes, HTTP "
        "check and draining on; `--drain-timeout 0`: no draining and no pause; "
        "`old ... --settle 0.5`, when present: the earlier build with its fixed "
        "0.5 s pause). %d run(s) per method, interleaved."
        % (" and ".join("%g" % r for r in RATES), CLIENT_TIMEOUT, LEAD, TAIL,
           c.KAHUA_WORKER_DELAY_MS, c.LOADED_REQUEST_MS, reps))
    sec.text(
        "Definitions. *failed*: not a complete 2xx response within %g s, split as "
        "5xx / timeout / connection error / other (malformed or short). "
        "*gap (done)*: the longest interval in which no successful response "
        "completed, over the window from the first request's due time to the last "
        "response (what a monitor polling the site sees). *gap (sent)*: the longest "
        "interval of due times containing no request that eventually succeeded "
        "(how long a visitor arriving then got only failures; 1/rate when nothing "
        "failed). Latency: due time to end of response, successful requests "
        "only, pooled over runs. Gaps: median and max over runs. *wall*: the "
        "restart command's own time under that load."
        % CLIENT_TIMEOUT)
    summary = c.Table(["workers", "req/s", "method", "runs", "wall s", "requests",
                       "failed (5xx/timeout/conn/other)", "gap done med/max s",
                       "gap sent med/max s", "latency p50 ms", "p99 ms", "max ms"],
                      align=list("lrlrrrrrrrrr"))
    detail = c.Table(["workers", "req/s", "method", "run", "wall s", "requests", "failed",
                      "gap done s", "gap sent s", "p50 ms", "p99 ms", "max lag ms", "restart error"],
                     align=list("lrlrrrlrrrrrl"))
    d = c.harness.tempdir()
    try:
        for nworkers, types in sites:
            site = c.harness.Site(d, types=types, name="avail%d" % nworkers)
            c.log("availability: starting a %d-worker site" % nworkers)
            sim = c.harness.Sim(site, worker_delay=c.KAHUA_WORKER_DELAY_MS,
                                extra=["--request-ms", str(c.LOADED_REQUEST_MS)])
            try:
                for rate in RATES:
                    outs = {m: [] for m in methods}
                    for rep in range(reps):
                        order = methods[rep % len(methods):] + methods[:rep % len(methods)]
                        for method in order:
                            time.sleep(0.3)
                            o = scenario(sim, site, method, rate)
                            outs[method].append(o)
                            if o.why:
                                c.log("availability: %d workers, %g/s, %s: restart failed: %s"
                                      % (nworkers, rate, method, o.why))
                            c.log("availability: %d workers, %g/s, %s run %d: %d requests, "
                                  "%d failed, gap %.2f s" % (nworkers, rate, method, rep + 1,
                                                             o.n, len(o.failed), o.gap_done))
                    add_rows(summary, detail, nworkers, rate, methods, outs)
            finally:
                sim.stop()
    finally:
        c.harness.rmtree(d)
    sec.table(summary)
    sec.text("Per run (max lag: the load generator's worst delay between a "
             "request's due time and its send; small means the schedule held):")
    sec.table(detail)
    sec.text(
        "Reading the table. All requests queue on the supervisor's one lock while "
        "it restarts or starts a worker (0.55 s each), so `raw` and `all` hold "
        "every request for the whole restart (timeouts once it exceeds the 2 s "
        "client limit), while `rolling` and `surge` release the queue between "
        "workers. Requests released from the lock reach the workers over the next "
        "moments, some the worker to be terminated next; with `--drain-timeout 0` "
        "that worker is terminated while some are still queued on its socket, and "
        "each of those fails with HTTP 500, as on real Kahua. Draining waits until "
        "/proc/net/unix shows the worker's socket idle and nothing held by the "
        "supervisor, then terminates it.")
    sec.text("Context: under 20 requests/s during `kahua-admin 'restart *'` of 3 "
             "workers, real Kahua held most requests (up to ~2 s) rather than "
             "refusing them, failed a request already handed to a terminating "
             "worker with HTTP 500, lost 4 requests to a 2 s client timeout, and "
             "went 0.8-2.2 s without a successful response.")
    return sec


def add_rows(summary, detail, nworkers, rate, methods, outs):
    for method in methods:
        os_ = outs[method]
        kinds = {"5xx": 0, "timeout": 0, "conn": 0, "other": 0}
        for o in os_:
            for k, v in o.kinds().items():
                kinds[k] += v
        lat = [x for o in os_ for x in o.lat]
        gd = [o.gap_done for o in os_]
        gs = [o.gap_sent for o in os_]
        summary.add(nworkers, "%g" % rate, method, len(os_),
                    c.s3(c.median([o.restart_secs for o in os_])),
                    sum(o.n for o in os_),
                    "%d (%s)" % (sum(kinds.values()), fmt_kinds(kinds)),
                    "%.2f / %.2f" % (c.median(gd), max(gd)),
                    "%.2f / %.2f" % (c.median(gs), max(gs)),
                    c.ms(c.pct(lat, 50), 0), c.ms(c.pct(lat, 99), 0),
                    c.ms(max(lat, default=float("nan")), 0))
        for i, o in enumerate(os_):
            detail.add(nworkers, "%g" % rate, method, i + 1, c.s3(o.restart_secs), o.n,
                       "%d: %s" % (len(o.failed), describe(o.failed)),
                       "%.2f" % o.gap_done, "%.2f" % o.gap_sent,
                       c.ms(c.pct(o.lat, 50), 0), c.ms(c.pct(o.lat, 99), 0),
                       c.ms(o.lag, 0), o.why or "")


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
