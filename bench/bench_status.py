#!/usr/bin/env python3
"""Benchmark 1: `kahua-restarter status` on simulator sites of 3, 16 and
64 workers: wall time, CPU time and max RSS of the process."""

import sys

import common as c

# (label, app-servers types); worker start-up does not matter for status.
SITES = [
    ("3 (hello 2, leaky 1)", c.harness.DEFAULT_TYPES),
    ("16 (4 types x 4)", [("t%d" % i, [], 4) for i in range(4)]),
    ("64 (8 types x 8)", [("t%d" % i, [], 8) for i in range(8)]),
]
# (label, extra arguments): the metric, and the eval exchange left out.
VARIANTS = [("rss", []), ("pss", []), ("rss, --no-eval", ["--no-eval"])]


def run(quick=False):
    runs = 5 if quick else 30
    sec = c.Section("1. status")
    sec.text("`kahua-restarter -S SITE status [--memory pss]` against a running "
             "simulator site (worker start-up 5 ms: it does not matter for status). "
             "%d measured runs per row after 2 warm-up runs; each run is a fresh "
             "process, forked by a 1 MB C helper and reaped with wait4 (so max RSS is "
             "the program's own, not inherited from Python). Wall = fork to reap. "
             "CPU = user+sys of the child (rusage). Max RSS = ru_maxrss of the "
             "child. One status run = one `(ls)` on the control socket, "
             "/proc reads for every worker (status, stat; smaps_rollup for pss) "
             "and one eval exchange per worker, all at once (rows `--no-eval`: "
             "without it). "
             "The first row is `kahua-restarter --version`: process start-up "
             "alone (dynamic linking of libcurl, libcjson). Rows `raw (ls)`: "
             "the simulator's own `(ls)` sent from the benchmark process "
             "(connect to reply, no process start-up), the supervisor's share "
             "of a status run." % runs)
    t = c.Table(["workers", "memory", "runs", "wall median ms", "wall p95 ms",
                 "CPU median ms", "max RSS MiB", "failed"], align=list("llrrrrrr"))
    base = [c.restarter(["--version"]) for _ in range(runs)]
    walls = [r.wall for r in base]
    t.add("(none: `--version`)", "-", runs, c.ms(c.median(walls)), c.ms(c.pct(walls, 95)),
          c.ms(c.median([r.cpu for r in base])), c.mib_from_kb(max(r.maxrss_kb for r in base)),
          sum(not r.ok for r in base))
    d = c.harness.tempdir()
    try:
        for label, types in SITES:
            nworkers = sum(n for _, _, n in types)
            site = c.harness.Site(d, types=types, name="status%d" % nworkers)
            c.log("status: starting a %d-worker site" % nworkers)
            sim = c.harness.Sim(site, http=False, worker_delay=5)
            try:
                lss = [c.raw_call(sim, "(ls)") for _ in range(runs + 2)][2:]
                walls = [secs for _, secs in lss]
                t.add(label, "raw `(ls)`", len(lss), c.ms(c.median(walls)), c.ms(c.pct(walls, 95)),
                      "-", "-", sum(not c.raw_ok(reply) for reply, _ in lss))
                for label_m, extra in VARIANTS:
                    metric = label_m.split(",")[0]
                    args = ["-S", site.root, "status", "--memory", metric] + extra
                    for _ in range(2):
                        c.restarter(args)
                    res = [c.restarter(args) for _ in range(runs)]
                    good = [r for r in res if r.ok and _rows(r.out) == nworkers]
                    bad = len(res) - len(good)
                    if bad:
                        r = next(r for r in res if r not in good)
                        c.log("status: %d-worker %s run failed: exit %s, %d rows, stderr %r"
                              % (nworkers, label_m, r.status, _rows(r.out), r.err[-300:]))
                    walls = [r.wall for r in good]
                    if nworkers == 3 and label_m == "rss":
                        sec.facts["status3"] = (c.median(walls),
                                                max((r.maxrss_kb for r in good), default=0))
                    t.add(label, label_m, len(res), c.ms(c.median(walls)), c.ms(c.pct(walls, 95)),
                          c.ms(c.median([r.cpu for r in good])),
                          c.mib_from_kb(max((r.maxrss_kb for r in good), default=0)), bad)
            finally:
                sim.stop()
    finally:
        c.harness.rmtree(d)
    sec.table(t)
    return sec


def _rows(out):
    """Worker rows in a status table (lines after the header, notes aside)."""
    lines = [l for l in out.splitlines() if l.strip() and not l.startswith("#")]
    return max(0, len(lines) - 1)


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
