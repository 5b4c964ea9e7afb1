#!/usr/bin/env python3
"""History line sizes of real runs: the JSON report of each run (what a
version 1 line was, printed compactly) beside the line the run appended,
for restart runs and for runs a memory gate held back, on the simulator
and on a real Kahua when one is at hand (test/real/kahua.py finds it).

    python3 bench/bench_linesize.py [--runs N]

Figures only; bench_bounded.py puts them in section 7."""

import json
import os
import sys

import common as c

sys.path.insert(0, os.path.join(c.TOP, "test", "integration"))
sys.path.insert(0, os.path.join(c.TOP, "test", "real"))
import harness  # noqa: E402
import histfmt  # noqa: E402

SIM_TYPES = [("hello", [], 2), ("leaky", ["--leak-mb", "5"], 1), ("wiki", [], 2)]
GATE = ["--when-available-below", "1K"]     # no host is that short: always held back


def last_line(site):
    with open(site.path("logs", "kahua-restarter.jsonl"), "rb") as f:
        return f.read().splitlines()[-1]


def one(site, args):
    """(report bytes, line bytes, the line reads back as the report) of one run."""
    res = harness.run(["--json"] + args, site)
    if res.rc != 0:
        raise RuntimeError("exit %d: %s" % (res.rc, res.err.strip()[-300:]))
    rep = json.loads(res.out)
    raw = last_line(site)
    same = histfmt.expand(json.loads(raw)) == histfmt.expand(histfmt.compact(rep))
    v2 = len(json.dumps(histfmt.compact(rep, 2), separators=(",", ":")))
    return len(json.dumps(rep, separators=(",", ":"))), len(raw), same, v2


def sizes(site, runs, load):
    """Median report and line bytes per kind of run, and lines read back alike."""
    out = {}
    for kind, args in (("restart", []), ("gated", GATE)):
        got = []
        for _ in range(runs):
            load()
            got.append(one(site, args))
        out[kind] = (c.median([g[0] for g in got]), c.median([g[1] for g in got]),
                     sum(g[2] for g in got), len(got), c.median([g[3] for g in got]))
    return out


def on_simulator(runs):
    d = harness.tempdir()
    site, sim = harness.start(d, types=SIM_TYPES)
    try:
        def load():
            for path in ("/hello/", "/leaky/", "/wiki/"):
                sim.get(path)
        return sum(n for _, _, n in SIM_TYPES), sizes(site, runs, load)
    finally:
        sim.stop()
        harness.rmtree(d)


def on_real_kahua(runs):
    """(workers, sizes, version) or (None, why not, None)."""
    import kahua
    try:
        prefix, why = kahua.find_prefix()
    except SystemExit as e:
        return None, str(e), None
    if prefix is None:
        return None, why, None
    d = harness.tempdir()
    site = kahua.RealSite(prefix, d, name="linesize").start()
    try:
        def load():
            for path in ("/leaky/", "/wiki/", "/hello/"):
                site.get(path)
        return sum(site.want.values()), sizes(site, runs, load), prefix
    finally:
        site.stop()
        harness.rmtree(d)


def table(rows):
    t = c.Table(["where", "workers", "run", "report = v1 line, bytes", "v2 line, bytes",
                 "v3 line, bytes", "v3 / v1", "read back alike"])
    for where, n, s in rows:
        for kind in ("restart", "gated"):
            rep, line, same, total, v2 = s[kind]
            t.add(where, n, kind, "%.0f" % rep, "%.0f" % v2, "%.0f" % line,
                  "%.2f" % (line / rep), "%d/%d" % (same, total))
    return t


def measure(runs=5):
    rows = []
    c.log("linesize: %d runs of each kind on the simulator" % runs)
    n, s = on_simulator(runs)
    rows.append(("simulator", n, s))
    c.log("linesize: the same on a real Kahua")
    n, s, prefix = on_real_kahua(runs)
    note = None
    if n is None:
        note = "real Kahua skipped: %s" % s
    else:
        rows.append(("real Kahua", n, s))
    return table(rows), note


if __name__ == "__main__":
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    t, note = measure(runs)
    print(t.markdown())
    if note:
        print(note)
