#!/usr/bin/env python3
"""Benchmark 4: `kahua-restarter history` and `history --svg` over a year
of hourly runs (8,760 lines written by bench/gen_history.py)."""

import os
import subprocess
import sys

import common as c

HOURS = 8760
TYPES = "hello:2:20,leaky:1:48,wiki:2:5"   # 3 types, 5 workers
CHART_SLOTS = 512                          # chart.h


def run(quick=False):
    runs = 2 if quick else 5
    sec = c.Section("4. history")
    d = c.harness.tempdir()
    try:
        path = os.path.join(d, "kahua-restarter.jsonl")
        gen = [sys.executable, os.path.join(c.BENCH, "gen_history.py"), path,
               "--hours", str(HOURS), "--types", TYPES, "--failures", "12"]
        c.log("history: generating %d lines" % HOURS)
        subprocess.run(gen, check=True)
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
        sec.text("`kahua-restarter history --history FILE` (and with `--json`, and "
                 "`--svg FILE` for the chart) on a "
                 "file written by `bench/gen_history.py FILE --hours %d --types %s "
                 "--failures 12`: %d lines (one restart run per hour for a year, "
                 "3 types, 5 workers, 12 failed runs), %.1f MiB. %d runs each after "
                 "one warm-up run (page cache warm); wall median and max, CPU "
                 "median, max RSS." % (HOURS, TYPES, lines, size / 1048576.0, runs))
        t = c.Table(["command", "runs", "wall median ms", "wall max ms", "CPU median ms",
                     "max RSS MiB", "MB/s", "failed"], align=list("lrrrrrrr"))
        svg = os.path.join(d, "year.svg")
        for extra in ([], ["--json"], ["--svg", svg]):
            args = ["history", "--history", path] + extra
            c.restarter(args)
            res = [c.restarter(args, timeout=300) for _ in range(runs)]
            good = [r for r in res if r.ok and (r.out.strip() or "--svg" in extra)]
            for r in res:
                if r not in good:
                    c.log("history: run failed: exit %s: %r" % (r.status, r.err[-300:]))
            walls = [r.wall for r in good]
            med = c.median(walls)
            shown = ["history"] + (extra if "--svg" not in extra else ["--svg FILE"])
            t.add("`%s`" % " ".join(shown), len(res), c.ms(med, 0),
                  c.ms(max(walls, default=float("nan")), 0),
                  c.ms(c.median([r.cpu for r in good]), 0),
                  c.mib_from_kb(max((r.maxrss_kb for r in good), default=0)),
                  "%.0f" % (size / 1e6 / med) if walls else "-", len(res) - len(good))
            if not extra and good:
                summary = good[-1].out
        sec.table(t)
        sec.text("The chart (`--svg`): %.0f KiB of SVG (the bound is 1 MB), %d slots of "
                 "runs at most, so each type's band holds at most twice as many points."
                 % (os.path.getsize(svg) / 1024.0, CHART_SLOTS))
        sec.text("Its output (plain):\n\n```\n%s```" % summary)
    finally:
        c.harness.rmtree(d)
    return sec


if __name__ == "__main__":
    print(run("--quick" in sys.argv).markdown())
