#!/usr/bin/env python3
"""Benchmark 2: wall time of a restart of every worker, per strategy,
against the simulator's own (restart *) sent raw on the control socket."""

import sys

import common as c

SITES = [
    (3, c.harness.DEFAULT_TYPES),
    (8, [("hello", [], 4), ("leaky", ["--leak-mb", "5"], 2), ("wiki", [], 2)]),
]
METHODS = ["raw (restart *)", "rolling", "rolling --drain-timeout 0", "surge", "all"]
OLD = ["old rolling --settle 0.5"]


def one(sim, site, method, nworkers):
    """Seconds of one restart of every worker, or (None, why)."""
    before = sim.counts()
    if method.startswith("raw"):
        reply, secs = c.raw_call(sim, "(restart *)")
        ok = c.raw_ok(reply) and reply.split("\n", 1)[1].count('"') == 2 * nworkers
        why = None if ok else "reply %r" % reply[:200]
        m = None
    else:
        m = c.method_restarter(method, ["-S", site.root, "restart"])
        secs = m.wall
        why = None if m.ok else "exit %s: %s" % (m.status, m.err.strip()[-300:])
    after = sim.counts()
    if why is None and after != before:
        why = "worker counts %r -> %r" % (before, after)
    return secs, m, why


def run(quick=False):
    methods = c.with_old(METHODS, OLD)
    runs = 2 if quick else 5
    sites = SITES[:1] if quick else SITES
    sec = c.Section("2. restart of every worker")
    sec.text("Wall time to restart every worker of a simulator site with worker "
             "start-up %d ms (Kahua's measured 0.55 s). `raw (restart *)` is the "
             "simulator's own synchronous restart, sent on the control socket the "
             "way kahua-admin sends it (connect to reply), i.e. what `kahua-admin "
             "'restart *'` costs minus gosh start-up. The strategies are "
             "`kahua-restarter -S SITE --strategy S restart` with default settings: "
             "each replacement probed on its own socket, the site checked over "
             "HTTP (URLs derived from the simulator's kahua-httpd, started with -H; "
             "after each replacement for rolling and surge), the history line "
             "appended, and rolling and surge draining each worker before it is "
             "terminated (--drain-timeout 5; on an idle site a drain is a 5 ms quiet "
             "window; the `--drain-timeout 0` row does not drain, section 3 shows "
             "what draining buys; `old` rows, when present, are the earlier build "
             "with its fixed --settle 0.5 s pause). The HTTP front is idle. Methods run "
             "interleaved, %d rounds; median, min and max per method; overhead is "
             "the median's excess over the raw median. CPU and max RSS are those "
             "of the kahua-restarter process." % (c.KAHUA_WORKER_DELAY_MS, runs))
    t = c.Table(["workers", "method", "runs", "median s", "min s", "max s", "overhead",
                 "CPU median ms", "max RSS MiB", "failed"], align=list("llrrrrrrrr"))
    d = c.harness.tempdir()
    raw3 = None
    try:
        for nworkers, types in sites:
            site = c.harness.Site(d, types=types, name="restart%d" % nworkers)
            c.log("restart: starting a %d-worker site" % nworkers)
            sim = c.harness.Sim(site, worker_delay=c.KAHUA_WORKER_DELAY_MS)
            res = {m: [] for m in methods}
            fails = {m: 0 for m in methods}
            try:
                for rnd in range(runs):
                    order = methods[rnd % len(methods):] + methods[:rnd % len(methods)]
                    for method in order:
                        secs, m, why = one(sim, site, method, nworkers)
                        if why:
                            fails[method] += 1
                            c.log("restart: %d workers, %s failed: %s" % (nworkers, method, why))
                        else:
                            res[method].append((secs, m))
                    c.log("restart: %d workers, round %d/%d done" % (nworkers, rnd + 1, runs))
            finally:
                sim.stop()
            raw = c.median([s for s, _ in res[methods[0]]])
            if nworkers == 3:
                raw3 = raw
            for method in methods:
                walls = [s for s, _ in res[method]]
                ms_ = [m for _, m in res[method] if m is not None]
                med = c.median(walls)
                if nworkers == 3:
                    sec.facts[method] = med
                over = "-" if method == methods[0] else "%+.1f%%" % (100.0 * (med - raw) / raw)
                t.add(nworkers, method, len(walls) + fails[method], c.s3(med),
                      c.s3(min(walls, default=float("nan"))), c.s3(max(walls, default=float("nan"))),
                      over, c.ms(c.median([m.cpu for m in ms_])) if ms_ else "-",
                      c.mib_from_kb(max(m.maxrss_kb for m in ms_)) if ms_ else "-", fails[method])
    finally:
        c.harness.rmtree(d)
    sec.table(t)
    if raw3 is not None:
        sec.text("Context: real Kahua 1.1_pre19 took %.2f s for `(restart *)` of 3 "
                 "workers on a 2-core machine; the simulator took %.3f s here."
                 % (c.REAL_KAHUA["restart_all_3"], raw3))
    return sec


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
